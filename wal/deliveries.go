package wal

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
	"github.com/oklog/ulid/v2"
)

// Delivery states as the wal can tell them from its keys. A delivery's state
// is where it is: a queue entry without attempts is pending; otherwise its
// last attempt record says (a success, a retry scheduled, a dead letter).
// Attempts in flight are only known to the engine.
const (
	StatusPending   = "pending"
	StatusSucceeded = "succeeded"
	StatusRetrying  = "retrying"
	StatusDead      = "dead"
)

// Delivery is one event to one endpoint, as listed.
type Delivery struct {
	Event    ID
	Endpoint ID
	Status   string
	Attempts int
	// Last is the last attempt (zero when pending); its Response is not
	// filled by ListDeliveries.
	Last Attempt
}

// DeliveryQuery selects deliveries of one endpoint, newest event first.
type DeliveryQuery struct {
	Endpoint ID
	Status   string // one of the Status constants; "" for all
	// Before and After bound the event IDs, both exclusive; zero means no
	// bound. A cursor is the last ID of the previous page as Before; a time
	// range is IDAt(from) as After and IDAt(to) as Before.
	Before, After ID
	// MaxScan, when positive, bounds the deliveries passed over (matching
	// or not) so a filter that matches little cannot walk a whole history.
	MaxScan int
}

// ListResult tells where a listing stopped early because of MaxScan:
// Resume is the last event passed over, to go on from as Before.
type ListResult struct {
	Resume ID
}

// IDAt returns the smallest ID of time ms: events at or after ms sort at or
// above it.
func IDAt(ms int64) ID {
	var u ulid.ULID
	_ = u.SetTime(uint64(max(ms, 0)))
	return ID(u)
}

// ListDeliveries calls fn for the deliveries q selects, newest first, until
// fn returns false. Its cost is proportional to the keys it passes over, not
// to the endpoint's history: a page of pending or dead deliveries reads
// their own indexes; all, succeeded and retrying walk the attempt log
// backwards one delivery per seek (see deliveryIter).
func (l *Log) ListDeliveries(q DeliveryQuery, fn func(d *Delivery) bool) (ListResult, error) {
	var res ListResult
	if !l.enter() {
		return res, ErrClosed
	}
	defer l.exit()
	it, err := l.newDeliveryIter(q)
	if err != nil {
		return res, err
	}
	res.Resume = walkDeliveries(it, q.MaxScan, fn).Event
	return res, it.close()
}

// ReadDelivery reads the delivery of event ev to endpoint ep, and calls fn
// for each of its logged attempts in order, from one snapshot of the
// store: the status and the attempts agree (never a 2xx attempt beside a
// status still pending). found is false when ep has no delivery of ev.
// a.Response aliases memory valid only during fn.
func (l *Log) ReadDelivery(ep, ev ID, fn func(a *Attempt) error) (d Delivery, found bool, err error) {
	if !l.enter() {
		return d, false, ErrClosed
	}
	defer l.exit()
	snap := l.db.NewSnapshot()
	defer snap.Close()
	// The listing's Before is exclusive: ev.Next() takes ev in.
	it, err := newDeliveryIterOn(snap, DeliveryQuery{Endpoint: ep, Before: ev.Next()})
	if err != nil {
		return d, false, err
	}
	walkDeliveries(it, 0, func(x *Delivery) bool {
		if x.Event == ev {
			d, found = *x, true
		}
		return false
	})
	if err := it.close(); err != nil || !found {
		return d, false, err
	}
	return d, true, scanAttempts(snap, ep, ev, fn)
}

// bounds returns the iterator bounds of kind's range for q's endpoint.
func (q *DeliveryQuery) bounds(kind byte) (lower, upper []byte) {
	p := append([]byte{kind}, q.Endpoint[:]...)
	lower = append(bytes.Clone(p), q.After[:]...)
	if !q.After.IsZero() {
		lower = append(lower, 0xff, 0xff, 0xff) // past every key of After itself
	}
	if q.Before.IsZero() {
		return lower, prefixEnd(p)
	}
	return lower, append(p, q.Before[:]...)
}

func (l *Log) reverse(lower, upper []byte, fn func(it *pebble.Iterator) bool) error {
	it, err := l.db.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return fmt.Errorf("cannot list deliveries: %w", err)
	}
	for ok := it.Last(); ok && fn(it); ok = it.Prev() {
	}
	err = it.Error()
	if cerr := it.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("cannot list deliveries: %w", err)
	}
	return nil
}

// EventType appends event id's type to dst without decoding its body.
func (l *Log) EventType(id ID, dst []byte) ([]byte, error) {
	if !l.enter() {
		return dst, ErrClosed
	}
	defer l.exit()
	v, closer, err := l.db.Get(eventKey(nil, id))
	if err == pebble.ErrNotFound {
		return dst, ErrNotFound
	}
	if err != nil {
		return dst, fmt.Errorf("cannot read event %s: %w", id, err)
	}
	defer closer.Close()
	_, typ, err := eventHead(v)
	if err != nil {
		return dst, err
	}
	return append(dst, typ...), nil
}

// OutcomeQueued marks a delivery queued again by a replay: a placeholder in
// the attempt log at the number of the attempt to come, which that attempt's
// record then replaces. Listings show the delivery as pending meanwhile.
const OutcomeQueued = 'q'

// Replay queues a finished delivery (succeeded or dead) for one more
// attempt at dueMs: a retry entry, the placeholder record, and the dead
// letter removed if there was one, in one batch: synced unless noSync,
// which a bulk job may ask for because it syncs its own progress record
// after its replays (Pebble's log is sequential, so that sync makes them
// durable too) and does again what a crash lost. A correction, when not
// nil, is the payload the delivery's attempts carry from then on instead
// of the event's (see Correction); a replay without one removes an
// earlier one, so it delivers the event as published.
func (l *Log) Replay(ep, ev ID, attempts int, dueMs int64, wasDead, noSync bool, correction []byte) error {
	if !l.enter() {
		return ErrClosed
	}
	defer l.exit()
	if dueMs <= 0 {
		return fmt.Errorf("cannot replay event %s at %d: due time must be positive", ev, dueMs)
	}
	b := l.db.NewBatch()
	defer b.Close()
	if wasDead {
		_ = b.Delete(deadKey(nil, ep, ev), nil)
	}
	v := binary.AppendUvarint(nil, uint64(attempts))
	_ = b.Set(replayedKey(nil, ep, ev), v, nil)
	_ = b.Set(retryKey(nil, dueMs, ep, ev), append(v, retryReplayed), nil)
	if correction != nil {
		_ = b.Set(correctionKey(nil, ep, ev), correction, nil)
	} else {
		_ = b.Delete(correctionKey(nil, ep, ev), nil)
	}
	marker := Attempt{Attempt: attempts + 1, Outcome: OutcomeQueued, TimeMs: dueMs, Corrected: correction != nil}
	_ = b.Set(attemptKey(nil, ep, ev, attempts+1), appendAttempt(nil, &marker), nil)
	opts := pebble.Sync
	if noSync {
		opts = pebble.NoSync
	}
	if err := l.commit(b, opts); err != nil {
		return fmt.Errorf("cannot replay event %s: %w", ev, err)
	}
	return nil
}

// OutcomeCancelled marks a delivery whose pending retry was cancelled: a
// record at the number of the attempt that will not be made.
const OutcomeCancelled = 'c'

// StatusCancelled is a delivery whose retries were cancelled.
const StatusCancelled = "cancelled"

// CancelRetry removes the retry entry of a delivery due at dueMs and logs
// the cancellation as its attempt number attempts+1, in one batch, synced
// unless noSync (as for Replay). It reports false when the entry is not
// there (attempted or cancelled meanwhile).
func (l *Log) CancelRetry(ep, ev ID, dueMs int64, attempts int, nowMs int64, noSync bool) (bool, error) {
	if !l.enter() {
		return false, ErrClosed
	}
	defer l.exit()
	key := retryKey(nil, dueMs, ep, ev)
	_, closer, err := l.db.Get(key)
	if err == pebble.ErrNotFound {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("cannot cancel retry of event %s: %w", ev, err)
	}
	_ = closer.Close()
	opts := pebble.Sync
	if noSync {
		opts = pebble.NoSync
	}
	b := l.db.NewBatch()
	defer b.Close()
	_ = b.Delete(key, nil)
	marker := Attempt{Attempt: attempts + 1, Outcome: OutcomeCancelled, TimeMs: nowMs}
	_ = b.Set(attemptKey(nil, ep, ev, attempts+1), appendAttempt(nil, &marker), nil)
	if err := l.commit(b, opts); err != nil {
		return false, fmt.Errorf("cannot cancel retry of event %s: %w", ev, err)
	}
	return true, nil
}

// HasRetry reports whether the retry entry r is still in the index.
func (l *Log) HasRetry(r Retry) (bool, error) {
	if !l.enter() {
		return false, ErrClosed
	}
	defer l.exit()
	_, closer, err := l.db.Get(retryKey(nil, r.DueMs, r.Endpoint, r.Event))
	if err == pebble.ErrNotFound {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	_ = closer.Close()
	return true, nil
}
