package wal

import (
	"encoding/binary"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
)

// kindJob keys the bulk jobs (replay, backfill, cancel): j <job id> ->
// record (JSON, owned by the engine), rewritten as the job progresses so a
// restarted server resumes it where it was.
const kindJob = 'j'

func jobKey(id ID) []byte {
	return append([]byte{kindJob}, id[:]...)
}

// PutJob stores job id's record. A replica writes it through the
// replicated log, so the node that takes a tenant over resumes its jobs.
func (l *Log) PutJob(id ID, val []byte) error {
	if !l.enter() {
		return ErrClosed
	}
	defer l.exit()
	if err := l.setOne(jobKey(id), val); err != nil {
		return fmt.Errorf("cannot store job %s: %w", id, err)
	}
	return nil
}

// DeleteJob removes job id's record.
func (l *Log) DeleteJob(id ID) error {
	if !l.enter() {
		return ErrClosed
	}
	defer l.exit()
	if err := l.deleteOne(jobKey(id)); err != nil {
		return fmt.Errorf("cannot delete job %s: %w", id, err)
	}
	return nil
}

// ScanJobs calls fn with every job record, oldest first, for start-up.
func (l *Log) ScanJobs(fn func(id ID, val []byte)) error {
	if !l.enter() {
		return ErrClosed
	}
	defer l.exit()
	return l.scan([]byte{kindJob}, func(k, v []byte) {
		if len(k) == 17 {
			var id ID
			copy(id[:], k[1:])
			fn(id, v)
		}
	})
}

// ScanAttempted calls fn, oldest event first, for each delivery of
// endpoint ep with an event ID strictly between after and before (zero:
// unbounded) that has an attempt record, with its status as its last
// record tells it, until fn returns false. It passes over at most maxScan
// attempt records; when it stops there, the result's Resume is the last
// delivery fully passed, to go on from as after. Bulk jobs use it: they
// walk forward, in short calls, so no iterator stays open while they wait
// for their rate limit.
func (l *Log) ScanAttempted(ep, after, before ID, maxScan int, fn func(d *Delivery) bool) (ListResult, error) {
	var res ListResult
	if !l.enter() {
		return res, ErrClosed
	}
	defer l.exit()
	q := DeliveryQuery{Endpoint: ep, After: after, Before: before}
	lower, upper := q.bounds(kindAttempt)
	it, err := l.db.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return res, fmt.Errorf("cannot scan deliveries: %w", err)
	}
	defer it.Close()
	var (
		d       Delivery
		have    bool
		scanned int
	)
	// emit hands over the delivery whose records ended just now.
	emit := func() bool {
		if !have {
			return true
		}
		have = false
		d.Status = statusOf(&d)
		return fn(&d)
	}
	for ok := it.First(); ok; ok = it.Next() {
		k := it.Key()
		if len(k) != 35 {
			return res, fmt.Errorf("%w: attempt key of %d bytes", errCorrupt, len(k))
		}
		var ev ID
		copy(ev[:], k[17:33])
		if have && ev != d.Event {
			last := d.Event
			if !emit() {
				return res, nil
			}
			if maxScan > 0 && scanned >= maxScan {
				res.Resume = last
				return res, nil
			}
		}
		scanned++
		d = Delivery{Event: ev, Attempts: int(binary.BigEndian.Uint16(k[33:35]))}
		if err := DecodeAttempt(it.Value(), &d.Last); err != nil {
			return res, fmt.Errorf("delivery of event %s: %w", ev, err)
		}
		d.Last.Response, d.Last.Headers = nil, nil
		have = true
	}
	if err := it.Error(); err != nil {
		return res, fmt.Errorf("cannot scan deliveries: %w", err)
	}
	emit()
	return res, nil
}

// statusOf tells a delivery's status from its last attempt record, as
// listAttempted does for deliveries that are not in the queue.
func statusOf(d *Delivery) string {
	switch d.Last.Outcome {
	case OutcomeQueued:
		d.Attempts--
		return StatusPending
	case OutcomeCancelled:
		d.Attempts--
		return StatusCancelled
	case OutcomeSuccess:
		return StatusSucceeded
	case OutcomeRetry:
		return StatusRetrying
	}
	return StatusDead
}

// ScanEventHeads calls fn, oldest first, with the tenant and type of each
// event with an ID strictly between after and before (zero: unbounded),
// without decoding bodies, until fn returns false. Like ScanAttempted it
// stops after maxScan events with a Resume to go on from. tenant and typ
// are valid only during fn.
func (l *Log) ScanEventHeads(after, before ID, maxScan int, fn func(id ID, tenant, typ []byte) bool) (ListResult, error) {
	var res ListResult
	if !l.enter() {
		return res, ErrClosed
	}
	defer l.exit()
	lower := eventKey(nil, after)
	if !after.IsZero() {
		lower = append(lower, 0)
	}
	upper := []byte{kindEvent + 1}
	if !before.IsZero() {
		upper = eventKey(nil, before)
	}
	it, err := l.db.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return res, fmt.Errorf("cannot scan events: %w", err)
	}
	defer it.Close()
	scanned := 0
	for ok := it.First(); ok; ok = it.Next() {
		var id ID
		copy(id[:], it.Key()[1:])
		if maxScan > 0 && scanned == maxScan {
			return res, nil
		}
		scanned++
		res.Resume = id
		tenant, typ, err := eventHead(it.Value())
		if err != nil {
			return res, fmt.Errorf("event %s: %w", id, err)
		}
		if !fn(id, tenant, typ) {
			res.Resume = ID{}
			return res, nil
		}
	}
	res.Resume = ID{}
	if err := it.Error(); err != nil {
		return res, fmt.Errorf("cannot scan events: %w", err)
	}
	return res, nil
}

// eventHead reads the tenant and type of an event record.
func eventHead(v []byte) (tenant, typ []byte, err error) {
	if len(v) < 2 || v[0] != recordVersion {
		return nil, nil, fmt.Errorf("%w: event record version %v", errCorrupt, firstByte(v))
	}
	_, n := binary.Uvarint(v[2:])
	if n <= 0 {
		return nil, nil, fmt.Errorf("%w: event time", errCorrupt)
	}
	tenant, rest, ok := readBytes(v[2+n:])
	if !ok {
		return nil, nil, fmt.Errorf("%w: event tenant", errCorrupt)
	}
	if typ, _, ok = readBytes(rest); !ok {
		return nil, nil, fmt.Errorf("%w: event type", errCorrupt)
	}
	return tenant, typ, nil
}
