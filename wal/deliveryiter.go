package wal

import (
	"encoding/binary"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
)

// deliveryIter walks one endpoint's deliveries backwards, newest event
// first, one delivery passed over per step: the pull form of a listing, so
// that a merge can interleave several endpoints (ListMergedDeliveries).
// Which keys it reads depends on the status asked for:
//
//   - pending: the queue and the replayed marks of deliveries queued again
//     in the retry index, merged; every delivery matches.
//   - dead: the dead letters, and each one's last attempt record; every
//     delivery matches.
//   - all, succeeded, retrying, cancelled: the queue (for all only) and the
//     attempt log, merged. The first attempt key met of a delivery is its
//     last attempt, after which a seek skips the delivery's earlier
//     attempts. A delivery of another status is passed over with match
//     false, so the caller can bound what it passes over (MaxScan).
//
// d is valid until the next step.
type deliveryIter struct {
	r     pebble.Reader // the store, or one snapshot of it
	q     DeliveryQuery
	d     Delivery
	match bool
	// qi walks the queue (nil when the status needs none), xi the other
	// range: replayed marks, dead letters or attempts.
	qi, xi   *pebble.Iterator
	qok, xok bool
	key      []byte
	err      error
}

func (l *Log) newDeliveryIter(q DeliveryQuery) (*deliveryIter, error) {
	return newDeliveryIterOn(l.db, q)
}

func newDeliveryIterOn(r pebble.Reader, q DeliveryQuery) (*deliveryIter, error) {
	var kind byte
	switch q.Status {
	case StatusPending:
		kind = kindReplayed
	case StatusDead:
		kind = kindDead
	case "", StatusSucceeded, StatusRetrying, StatusCancelled:
		kind = kindAttempt
	default:
		return nil, fmt.Errorf("unknown delivery status %q", q.Status)
	}
	it := &deliveryIter{r: r, q: q}
	var err error
	if q.Status == "" || q.Status == StatusPending {
		lower, upper := q.bounds(kindQueue)
		if it.qi, err = r.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper}); err != nil {
			return nil, fmt.Errorf("cannot list deliveries: %w", err)
		}
		it.qok = it.qi.Last()
	}
	lower, upper := q.bounds(kind)
	if it.xi, err = r.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper}); err != nil {
		_ = it.close()
		return nil, fmt.Errorf("cannot list deliveries: %w", err)
	}
	it.xok = it.xi.Last()
	return it, nil
}

// next steps to the next delivery; false at the end or on an error, which
// close returns.
func (it *deliveryIter) next() bool {
	if it.err != nil {
		return false
	}
	if !it.qok && !it.xok {
		if it.qi != nil {
			it.err = it.qi.Error()
		}
		if it.err == nil {
			it.err = it.xi.Error()
		}
		return false
	}
	it.d = Delivery{Endpoint: it.q.Endpoint}
	it.match = true
	switch it.q.Status {
	case StatusPending:
		it.nextPending()
	case StatusDead:
		it.nextDead()
	default:
		it.nextAttempted()
	}
	return it.err == nil
}

// headEvent returns the event of iterator i's key, whose endpoint ID ends
// at byte 17.
func headEvent(i *pebble.Iterator) (ev ID) {
	copy(ev[:], i.Key()[17:33])
	return ev
}

// heads returns the events at the queue's and the other range's
// positions, and whether the queue's comes first: a delivery newer than
// the other range's head.
func (it *deliveryIter) heads() (qEv, xEv ID, queueFirst bool) {
	if it.qok {
		qEv = headEvent(it.qi)
	}
	if it.xok {
		xEv = headEvent(it.xi)
	}
	return qEv, xEv, it.qok && (!it.xok || xEv.Less(qEv))
}

// fromMark takes the delivery of event ev from the other range's entry, a
// replayed mark or a dead letter, whose value is the attempts made, with
// attempt record attempts+next as its last, and steps past it.
func (it *deliveryIter) fromMark(ev ID, next int) {
	it.d.Event = ev
	n, _ := binary.Uvarint(it.xi.Value())
	it.d.Attempts = int(n)
	it.key = attemptKey(it.key[:0], it.q.Endpoint, ev, it.d.Attempts+next)
	it.err = getAttempt(it.r, it.key, &it.d.Last)
	it.xok = it.xi.Prev()
}

func (it *deliveryIter) nextPending() {
	it.d.Status = StatusPending
	qEv, pEv, queued := it.heads()
	if queued {
		it.d.Event = qEv
		it.qok = it.qi.Prev()
		return
	}
	// A replay's placeholder record is the delivery's last.
	it.fromMark(pEv, 1)
}

func (it *deliveryIter) nextDead() {
	it.d.Status = StatusDead
	it.fromMark(headEvent(it.xi), 0)
}

func (it *deliveryIter) nextAttempted() {
	qEv, aEv, queued := it.heads()
	if queued {
		it.d.Event, it.d.Status = qEv, StatusPending
		it.qok = it.qi.Prev()
		return
	}
	it.d.Event = aEv
	if err := DecodeAttempt(it.xi.Value(), &it.d.Last); err != nil {
		it.err = fmt.Errorf("delivery of event %s: %w", aEv, err)
		return
	}
	it.d.Last.Response = nil
	it.d.Attempts = int(binary.BigEndian.Uint16(it.xi.Key()[33:35]))
	if it.qok && qEv == aEv {
		// Queued again after attempts: pending.
		it.d.Status = StatusPending
		it.qok = it.qi.Prev()
	} else {
		it.d.Status = statusOf(&it.d)
	}
	it.key = append(append(it.key[:0], kindAttempt), it.q.Endpoint[:]...)
	it.key = append(it.key, aEv[:]...)
	it.xok = it.xi.SeekLT(it.key)
	it.match = it.q.Status == "" || it.q.Status == it.d.Status
}

func (it *deliveryIter) close() error {
	err := it.err
	for _, i := range []*pebble.Iterator{it.qi, it.xi} {
		if i == nil {
			continue
		}
		if cerr := i.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("cannot list deliveries: %w", cerr)
		}
	}
	return err
}

func getAttempt(r pebble.Reader, key []byte, a *Attempt) error {
	v, closer, err := r.Get(key)
	if err == pebble.ErrNotFound {
		*a = Attempt{}
		return nil // a dead letter for an event that could not be read
	}
	if err != nil {
		return fmt.Errorf("cannot read attempt record: %w", err)
	}
	defer closer.Close()
	if err := DecodeAttempt(v, a); err != nil {
		return err
	}
	a.Response = nil
	return nil
}

// deliveryWalk is what walkDeliveries steps through: one endpoint's
// deliveryIter, or a merge of several.
type deliveryWalk interface {
	next() bool
	current() (d *Delivery, match bool)
}

func (it *deliveryIter) current() (*Delivery, bool) { return &it.d, it.match }

// walkDeliveries calls fn with each matching delivery w yields until fn
// returns false or w ends. When maxScan is positive and that many
// deliveries were passed over (matching or not) with more to come, it
// stops and returns the position of the last one passed over, to go on
// from; otherwise the zero Position. w's errors are its own to return.
func walkDeliveries(w deliveryWalk, maxScan int, fn func(d *Delivery) bool) Position {
	var last Position
	for scanned := 0; w.next(); scanned++ {
		if maxScan > 0 && scanned == maxScan {
			return last
		}
		d, match := w.current()
		last = Position{Event: d.Event, Endpoint: d.Endpoint}
		if match && !fn(d) {
			break
		}
	}
	return Position{}
}
