package wal

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
)

// EventBuf holds the buffers a ReadEvent decodes into; reuse one per reader
// to avoid allocating per delivery.
type EventBuf struct {
	raw, plain []byte
	key        [17]byte // lives here because a key on the stack escapes into Pebble
}

// ReadEvent reads event id into r. r's slices alias buf.
func (l *Log) ReadEvent(id ID, r *EventRecord, buf *EventBuf) error {
	if !l.enter() {
		return ErrClosed
	}
	defer l.exit()
	v, closer, err := l.db.Get(eventKey(buf.key[:0], id))
	if errors.Is(err, pebble.ErrNotFound) {
		return ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("cannot read event %s: %w", id, err)
	}
	buf.raw = append(buf.raw[:0], v...)
	_ = closer.Close()
	return l.DecodeEvent(id, buf.raw, r, buf)
}

// ScanQueue calls fn with up to max event IDs queued for endpoint ep whose ID
// is greater than after, in ID order. It returns how many it passed to fn.
func (l *Log) ScanQueue(ep, after ID, max int, fn func(ev ID)) (int, error) {
	if !l.enter() {
		return 0, ErrClosed
	}
	defer l.exit()
	lower := queueKey(nil, ep, after)
	upper := prefixEnd(lower[:17])
	it, err := l.db.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return 0, fmt.Errorf("cannot scan queue of endpoint %s: %w", ep, err)
	}
	n := 0
	for ok := it.First(); ok && n < max; ok = it.Next() {
		k := it.Key()
		if len(k) != 33 {
			continue
		}
		var ev ID
		copy(ev[:], k[17:])
		if ev == after {
			continue
		}
		fn(ev)
		n++
	}
	err = it.Error()
	if cerr := it.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return n, fmt.Errorf("cannot scan queue of endpoint %s: %w", ep, err)
	}
	return n, nil
}

// Retry is one entry of the retry index.
type Retry struct {
	DueMs    int64
	Endpoint ID
	Event    ID
	Attempts int // attempts made so far
	// Replayed marks a replay's entry: its attempt also clears the
	// delivery's replayed mark.
	Replayed bool
}

// retryReplayed follows the attempts count in a replay's retry value.
const retryReplayed = 1

// ScanRetries calls fn for retry entries due in [fromMs, toMs), in due order,
// until fn returns false.
func (l *Log) ScanRetries(fromMs, toMs int64, fn func(r Retry) bool) error {
	if !l.enter() {
		return ErrClosed
	}
	defer l.exit()
	lower := binary.BigEndian.AppendUint64([]byte{kindRetry}, uint64(fromMs))
	upper := binary.BigEndian.AppendUint64([]byte{kindRetry}, uint64(toMs))
	it, err := l.db.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return fmt.Errorf("cannot scan retries: %w", err)
	}
	for ok := it.First(); ok; ok = it.Next() {
		k := it.Key()
		if len(k) != 41 {
			continue
		}
		r := Retry{DueMs: int64(binary.BigEndian.Uint64(k[1:9]))}
		copy(r.Endpoint[:], k[9:25])
		copy(r.Event[:], k[25:41])
		v := it.Value()
		n, w := binary.Uvarint(v)
		r.Attempts = int(n)
		r.Replayed = w > 0 && len(v) > w && v[w] == retryReplayed
		if !fn(r) {
			break
		}
	}
	err = it.Error()
	if cerr := it.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("cannot scan retries: %w", err)
	}
	return nil
}

// Move records the outcome of one attempt: the delivery leaves where it was
// (the queue, or the retry index at FromDueMs) and, by Attempt.Outcome, is
// done (success), goes to the retry index at Attempt.NextMs, or becomes a dead
// letter. The attempt record is written in the same batch.
type Move struct {
	Endpoint  ID
	Event     ID
	FromDueMs int64 // 0: the delivery came from the queue
	// Replayed is set when the retry entry at FromDueMs was a replay's.
	Replayed bool
	Attempt  Attempt
}

// RecordAttempt applies m in one batch, without fsync (see the package comment).
func (l *Log) RecordAttempt(m *Move) error {
	if !l.enter() {
		return ErrClosed
	}
	defer l.exit()
	if err := checkMove(m); err != nil {
		return err
	}
	req := moveReqPool.Get().(*moveReq)
	req.m, req.err = m, nil
	l.moves.reqs <- req
	<-req.done
	err := req.err
	req.m = nil
	moveReqPool.Put(req)
	if err != nil {
		return fmt.Errorf("cannot record attempt %d of event %s to endpoint %s: %w", m.Attempt.Attempt, m.Event, m.Endpoint, err)
	}
	return nil
}

// DeadLetter is a delivery that exhausted its attempts or failed for good.
type DeadLetter struct {
	Event    ID
	Attempts int
	TimeMs   int64
}

// ScanDead calls fn for each dead letter of endpoint ep, oldest event first.
func (l *Log) ScanDead(ep ID, fn func(d DeadLetter)) error {
	if !l.enter() {
		return ErrClosed
	}
	defer l.exit()
	lower := deadKey(nil, ep, ID{})
	return l.scan(lower[:17], func(k, v []byte) {
		var d DeadLetter
		copy(d.Event[:], k[17:])
		n, k1 := binary.Uvarint(v)
		t, _ := binary.Uvarint(v[max(k1, 0):])
		d.Attempts, d.TimeMs = int(n), int64(t)
		fn(d)
	})
}

// ScanAttempts calls fn for each logged attempt of event ev to endpoint ep,
// in attempt order. a.Response aliases memory valid only during fn.
func (l *Log) ScanAttempts(ep, ev ID, fn func(a *Attempt) error) error {
	if !l.enter() {
		return ErrClosed
	}
	defer l.exit()
	return scanAttempts(l.db, ep, ev, fn)
}

func scanAttempts(r pebble.Reader, ep, ev ID, fn func(a *Attempt) error) error {
	prefix := attemptKey(nil, ep, ev, 0)[:33]
	var ferr error
	err := scanRangeOn(r, prefix, prefixEnd(prefix), func(_, v []byte) {
		if ferr != nil {
			return
		}
		var a Attempt
		if ferr = DecodeAttempt(v, &a); ferr == nil {
			ferr = fn(&a)
		}
	})
	if err != nil {
		return fmt.Errorf("cannot scan attempts: %w", err)
	}
	return ferr
}

func (l *Log) scan(prefix []byte, fn func(k, v []byte)) error {
	if err := l.scanRange(prefix, prefixEnd(prefix), fn); err != nil {
		return fmt.Errorf("cannot scan prefix %q: %w", prefix, err)
	}
	return nil
}

// scanRange calls fn with every key in [lower, upper), in order.
func (l *Log) scanRange(lower, upper []byte, fn func(k, v []byte)) error {
	return scanRangeOn(l.db, lower, upper, fn)
}

func scanRangeOn(r pebble.Reader, lower, upper []byte, fn func(k, v []byte)) error {
	it, err := r.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return err
	}
	for ok := it.First(); ok; ok = it.Next() {
		fn(it.Key(), it.Value())
	}
	err = it.Error()
	if cerr := it.Close(); err == nil {
		err = cerr
	}
	return err
}

// QueueDepth is how many deliveries of one endpoint wait: in its queue, and
// in the retry index.
type QueueDepth struct {
	Queued, Retrying int
}

// QueueDepths counts the queue and retry-index entries of every endpoint that
// has any. It iterates over both key ranges once, reading keys only: meant
// for start-up, where the engine seeds its depth gauges, not request paths.
// Retry entries of deleted endpoints are counted too (they are dropped when
// they come due).
func (l *Log) QueueDepths() (map[ID]QueueDepth, error) {
	if !l.enter() {
		return nil, ErrClosed
	}
	defer l.exit()
	depths := make(map[ID]QueueDepth)
	// Queue keys are grouped by endpoint: count runs, one map update per run.
	var ep ID
	run := 0
	flush := func() {
		if run > 0 {
			d := depths[ep]
			d.Queued += run
			depths[ep] = d
		}
	}
	err := l.scan([]byte{kindQueue}, func(k, _ []byte) {
		if len(k) != 33 {
			return
		}
		if run > 0 && string(k[1:17]) == string(ep[:]) {
			run++
			return
		}
		flush()
		copy(ep[:], k[1:17])
		run = 1
	})
	if err != nil {
		return nil, err
	}
	flush()
	// Retry keys are ordered by due time: one map update per entry.
	err = l.scan([]byte{kindRetry}, func(k, _ []byte) {
		if len(k) != 41 {
			return
		}
		copy(ep[:], k[9:25])
		d := depths[ep]
		d.Retrying++
		depths[ep] = d
	})
	if err != nil {
		return nil, err
	}
	return depths, nil
}

// Counts are the number of records of each kind. Computing them scans the
// whole store: for tests and diagnostics, not for request paths.
type Counts struct {
	Events, Queued, Retries, Attempts, Dead, IdempotencyKeys int
	IdempotencyIndex, Audit                                  int
}

// Count scans the store and counts records by kind.
func (l *Log) Count() (Counts, error) {
	if !l.enter() {
		return Counts{}, ErrClosed
	}
	defer l.exit()
	var c Counts
	targets := map[byte]*int{
		kindEvent: &c.Events, kindQueue: &c.Queued, kindRetry: &c.Retries,
		kindAttempt: &c.Attempts, kindDead: &c.Dead, kindIdempotency: &c.IdempotencyKeys,
		kindIdemIndex: &c.IdempotencyIndex, kindAudit: &c.Audit,
	}
	for kind, n := range targets {
		if err := l.scan([]byte{kind}, func(_, _ []byte) { *n++ }); err != nil {
			return c, err
		}
	}
	return c, nil
}
