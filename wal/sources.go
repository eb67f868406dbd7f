package wal

import (
	"fmt"

	"github.com/cockroachdb/pebble/v2"
)

// Inbound sources and their request log:
//
//	s <source id>               -> source config record (JSON, owned by the engine)
//	g <source id> <request id>  -> inbound log record (owned by the engine): one request received
//
// Request IDs are ULIDs, so a source's log sorts by arrival and retention
// cuts it per source the way it cuts an endpoint's attempt log.
const (
	kindSource     = 's'
	kindInboundLog = 'g'
)

func sourceKey(id ID) []byte { return append([]byte{kindSource}, id[:]...) }

func inboundKey(dst []byte, src, req ID) []byte {
	dst = append(dst, kindInboundLog)
	dst = append(dst, src[:]...)
	return append(dst, req[:]...)
}

// PutSource stores source id's config record.
func (l *Log) PutSource(id ID, val []byte) error {
	if !l.enter() {
		return ErrClosed
	}
	defer l.exit()
	if err := l.db.Set(sourceKey(id), val, pebble.Sync); err != nil {
		return fmt.Errorf("cannot store source %s: %w", id, err)
	}
	return nil
}

// DeleteSource removes source id with its request log.
func (l *Log) DeleteSource(id ID) error {
	if !l.enter() {
		return ErrClosed
	}
	defer l.exit()
	b := l.db.NewBatch()
	defer b.Close()
	_ = b.Delete(sourceKey(id), nil)
	p := append([]byte{kindInboundLog}, id[:]...)
	_ = b.DeleteRange(p, prefixEnd(p), nil)
	if err := b.Commit(pebble.Sync); err != nil {
		return fmt.Errorf("cannot delete source %s: %w", id, err)
	}
	return nil
}

// Sources calls fn with every source record, for start-up.
func (l *Log) Sources(fn func(id ID, val []byte)) error {
	if !l.enter() {
		return ErrClosed
	}
	defer l.exit()
	return l.scan([]byte{kindSource}, func(k, v []byte) {
		if len(k) == 17 {
			var id ID
			copy(id[:], k[1:])
			fn(id, v)
		}
	})
}

// LogInbound appends one inbound log record without fsync: the event a
// request produced is durable on its own, and the next synced write (an
// append, or the outcome writer within outcomeSyncDelay) carries this one.
func (l *Log) LogInbound(src, req ID, rec []byte) error {
	if !l.enter() {
		return ErrClosed
	}
	defer l.exit()
	if err := l.db.Set(inboundKey(nil, src, req), rec, pebble.NoSync); err != nil {
		return fmt.Errorf("cannot log a request to source %s: %w", src, err)
	}
	return nil
}

// ScanInbound calls fn with source src's log records newest first, below
// before (zero: from the newest), until fn returns false.
func (l *Log) ScanInbound(src, before ID, fn func(req ID, rec []byte) bool) error {
	if !l.enter() {
		return ErrClosed
	}
	defer l.exit()
	q := DeliveryQuery{Endpoint: src, Before: before}
	lower, upper := q.bounds(kindInboundLog)
	return l.reverse(lower, upper, func(it *pebble.Iterator) bool {
		var req ID
		copy(req[:], it.Key()[17:])
		return fn(req, it.Value())
	})
}

// GetInbound reads one log record; ErrNotFound when it is not there.
func (l *Log) GetInbound(src, req ID) ([]byte, error) {
	if !l.enter() {
		return nil, ErrClosed
	}
	defer l.exit()
	v, closer, err := l.db.Get(inboundKey(nil, src, req))
	if err == pebble.ErrNotFound {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("cannot read request %s of source %s: %w", req, src, err)
	}
	defer closer.Close()
	return append([]byte(nil), v...), nil
}
