package wal

import (
	"fmt"
)

// kindEventType keys the event-type catalogue: c <tenant> 0x00 <type> ->
// record (JSON, owned by the engine). Tenant IDs cannot hold 0x00.
const kindEventType = 'c'

func eventTypeKey(tenant, typ string) []byte {
	k := append([]byte{kindEventType}, tenant...)
	k = append(k, 0)
	return append(k, typ...)
}

// PutEventType stores one catalogue entry.
func (l *Log) PutEventType(tenant, typ string, val []byte) error {
	if !l.enter() {
		return ErrClosed
	}
	defer l.exit()
	if err := l.setOne(eventTypeKey(tenant, typ), val); err != nil {
		return fmt.Errorf("cannot store event type %q: %w", typ, err)
	}
	return nil
}

// DeleteEventType removes one catalogue entry.
func (l *Log) DeleteEventType(tenant, typ string) error {
	if !l.enter() {
		return ErrClosed
	}
	defer l.exit()
	if err := l.deleteOne(eventTypeKey(tenant, typ)); err != nil {
		return fmt.Errorf("cannot delete event type %q: %w", typ, err)
	}
	return nil
}

// ScanEventTypes calls fn with every catalogue entry of every tenant, for
// start-up.
func (l *Log) ScanEventTypes(fn func(tenant, typ string, val []byte)) error {
	if !l.enter() {
		return ErrClosed
	}
	defer l.exit()
	return l.scan([]byte{kindEventType}, func(k, v []byte) {
		rest := k[1:]
		for i, c := range rest {
			if c == 0 {
				fn(string(rest[:i]), string(rest[i+1:]), v)
				return
			}
		}
	})
}
