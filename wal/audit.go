package wal

import (
	"fmt"

	"github.com/cockroachdb/pebble/v2"
)

// kindAudit keys the audit log: l <id>, ids from NewConfigID, so the log is
// in time order.
const kindAudit = 'l'

// AppendAudit stores one audit record (opaque to the wal) durably and
// returns its ID.
func (l *Log) AppendAudit(rec []byte) (ID, error) {
	if !l.enter() {
		return ID{}, ErrClosed
	}
	defer l.exit()
	id := l.NewConfigID()
	if err := l.setOne(append([]byte{kindAudit}, id[:]...), rec); err != nil {
		return ID{}, fmt.Errorf("cannot store audit record: %w", err)
	}
	return id, nil
}

// ScanAudit calls fn with audit records below before (all when zero),
// newest first, until fn returns false. rec is valid only during fn.
func (l *Log) ScanAudit(before ID, fn func(id ID, rec []byte) bool) error {
	if !l.enter() {
		return ErrClosed
	}
	defer l.exit()
	upper := []byte{kindAudit + 1}
	if !before.IsZero() {
		upper = append([]byte{kindAudit}, before[:]...)
	}
	return l.reverse([]byte{kindAudit}, upper, func(it *pebble.Iterator) bool {
		var id ID
		copy(id[:], it.Key()[1:])
		return fn(id, it.Value())
	})
}
