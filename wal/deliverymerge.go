package wal

import (
	"container/heap"
)

// Position is a delivery's place in a merged listing, which orders
// deliveries by event and, for one event, by endpoint, newest (greatest)
// first.
type Position struct {
	Event, Endpoint ID
}

// IsZero reports whether p is the zero Position: no bound.
func (p Position) IsZero() bool { return p == Position{} }

// Less reports whether p sorts before o: an older event, or the same event
// to an endpoint with a smaller ID.
func (p Position) Less(o Position) bool {
	if p.Event != o.Event {
		return p.Event.Less(o.Event)
	}
	return p.Endpoint.Less(o.Endpoint)
}

// MergedQuery selects the deliveries of several endpoints (a tenant's),
// greatest Position first.
type MergedQuery struct {
	Endpoints []ID   // distinct
	Status    string // one of the Status constants; "" for all
	// Before, when not zero, bounds the positions listed, exclusive: a
	// cursor is the last position of the previous page, an end time
	// Position{Event: IDAt(to)}. After bounds the event IDs, exclusive.
	Before Position
	After  ID
	// MaxScan, when positive, bounds the deliveries passed over (matching
	// or not, over all endpoints) as in DeliveryQuery.
	MaxScan int
}

// MergedResult tells where a merged listing stopped early because of
// MaxScan: Resume is the last position passed over, to go on from as
// Before.
type MergedResult struct {
	Resume Position
}

// ListMergedDeliveries calls fn for the deliveries q selects, greatest
// Position first, until fn returns false; d.Endpoint names each one's
// endpoint. It is a k-way merge of one deliveryIter per endpoint, each
// starting at the bound: a page costs about one seek per endpoint plus
// what one endpoint's listing of the page's deliveries costs, and writes
// nothing on the delivery path.
func (l *Log) ListMergedDeliveries(q MergedQuery, fn func(d *Delivery) bool) (MergedResult, error) {
	var res MergedResult
	if !l.enter() {
		return res, ErrClosed
	}
	defer l.exit()
	m := &deliveryMerge{}
	defer m.close()
	for _, ep := range q.Endpoints {
		dq := DeliveryQuery{Endpoint: ep, Status: q.Status, After: q.After}
		switch {
		case q.Before.IsZero():
		case ep.Less(q.Before.Endpoint):
			// Ties go by endpoint: a smaller endpoint still has the
			// bound's event to list (Next is zero, no bound, past the
			// largest ID).
			dq.Before = q.Before.Event.Next()
		case q.Before.Event.IsZero():
			continue // nothing below the smallest event
		default:
			dq.Before = q.Before.Event
		}
		if !dq.After.IsZero() && !dq.Before.IsZero() && !dq.After.Less(dq.Before) {
			continue // an empty range
		}
		it, err := l.newDeliveryIter(dq)
		if err != nil {
			return res, err
		}
		m.all = append(m.all, it)
		if it.next() {
			m.heads = append(m.heads, it)
		} else if it.err != nil {
			return res, it.err
		}
	}
	heap.Init(m)
	res.Resume = walkDeliveries(m, q.MaxScan, fn)
	return res, m.close()
}

// deliveryMerge merges deliveryIters: heads is a heap of those with a
// delivery left, the greatest position on top; the top is the current
// delivery until the next step advances it.
type deliveryMerge struct {
	all, heads []*deliveryIter
	started    bool
	err        error
}

func (m *deliveryMerge) next() bool {
	if m.err != nil || len(m.heads) == 0 {
		return false
	}
	if !m.started {
		m.started = true
		return true
	}
	if top := m.heads[0]; top.next() {
		heap.Fix(m, 0)
	} else {
		if top.err != nil {
			m.err = top.err
			return false
		}
		heap.Pop(m)
	}
	return len(m.heads) > 0
}

func (m *deliveryMerge) current() (*Delivery, bool) { return m.heads[0].current() }

func (m *deliveryMerge) close() error {
	err := m.err
	for _, it := range m.all {
		if cerr := it.close(); err == nil {
			err = cerr
		}
	}
	m.all = nil
	return err
}

// heap.Interface, for heap's use only.

func (m *deliveryMerge) Len() int { return len(m.heads) }
func (m *deliveryMerge) Less(i, j int) bool {
	a, b := &m.heads[i].d, &m.heads[j].d
	return Position{b.Event, b.Endpoint}.Less(Position{a.Event, a.Endpoint})
}
func (m *deliveryMerge) Swap(i, j int) { m.heads[i], m.heads[j] = m.heads[j], m.heads[i] }
func (m *deliveryMerge) Push(x any)    { m.heads = append(m.heads, x.(*deliveryIter)) }
func (m *deliveryMerge) Pop() any {
	n := len(m.heads) - 1
	it := m.heads[n]
	m.heads = m.heads[:n]
	return it
}
