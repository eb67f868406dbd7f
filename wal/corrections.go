package wal

import (
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
)

// kindCorrection keys a delivery's corrected payload: one given with a
// replay, which that replay's attempts (and the retries that follow them)
// deliver instead of the event's own. Keyed by endpoint then event, like
// the attempt log, so an endpoint's deletion and retention remove it with
// the rest of the delivery.
const kindCorrection = 'o'

func correctionKey(dst []byte, ep, ev ID) []byte {
	dst = append(dst, kindCorrection)
	dst = append(dst, ep[:]...)
	return append(dst, ev[:]...)
}

// Correction appends to dst the corrected payload of the delivery of ev
// to ep, and reports whether there is one.
func (l *Log) Correction(ep, ev ID, dst []byte) ([]byte, bool, error) {
	if !l.enter() {
		return dst, false, ErrClosed
	}
	defer l.exit()
	v, closer, err := l.db.Get(correctionKey(nil, ep, ev))
	if errors.Is(err, pebble.ErrNotFound) {
		return dst, false, nil
	}
	if err != nil {
		return dst, false, fmt.Errorf("cannot read the correction of event %s to endpoint %s: %w", ev, ep, err)
	}
	dst = append(dst, v...)
	_ = closer.Close()
	return dst, true, nil
}

// AnyCorrection reports whether any delivery has a corrected payload, so
// that attempts can skip looking for one while none exists.
func (l *Log) AnyCorrection() (bool, error) {
	if !l.enter() {
		return false, ErrClosed
	}
	defer l.exit()
	it, err := l.db.NewIter(&pebble.IterOptions{LowerBound: []byte{kindCorrection}, UpperBound: []byte{kindCorrection + 1}})
	if err != nil {
		return false, fmt.Errorf("cannot scan corrections: %w", err)
	}
	ok := it.First()
	err = it.Error()
	if cerr := it.Close(); err == nil {
		err = cerr
	}
	return ok, err
}
