package wal

import (
	"fmt"
	"testing"
)

// deliveryLog builds one endpoint's history of 40 events (with a second
// endpoint's beside it): event i is pending (i%4==0), succeeded after one
// attempt (1), retrying after two (2) or dead after three (3).
func deliveryLog(t *testing.T) (*Log, ID, []ID) {
	l, _ := openLog(t, nil)
	ep, other := testEndpoint(1), testEndpoint(2)
	var ids []ID
	for i := range 40 {
		ids = append(ids, appendOne(t, l, mkEvent("t", fmt.Appendf(nil, "%d", i), ep, other)).ID)
	}
	move := func(ev ID, from int64, a Attempt) {
		t.Helper()
		require_NoError(t, l.RecordAttempt(&Move{Endpoint: ep, Event: ev, FromDueMs: from, Attempt: a}))
	}
	for i, ev := range ids {
		switch i % 4 {
		case 1:
			move(ev, 0, Attempt{Attempt: 1, Outcome: OutcomeSuccess, Status: 200, TimeMs: 10})
		case 2:
			move(ev, 0, Attempt{Attempt: 1, Outcome: OutcomeRetry, Status: 503, TimeMs: 10, NextMs: 100})
			move(ev, 100, Attempt{Attempt: 2, Outcome: OutcomeRetry, ErrClass: "timeout", TimeMs: 100, NextMs: 200})
		case 3:
			move(ev, 0, Attempt{Attempt: 1, Outcome: OutcomeRetry, Status: 500, TimeMs: 10, NextMs: 100})
			move(ev, 100, Attempt{Attempt: 2, Outcome: OutcomeRetry, Status: 500, TimeMs: 100, NextMs: 200})
			move(ev, 200, Attempt{Attempt: 3, Outcome: OutcomeDead, Status: 500, TimeMs: 200})
		}
	}
	// The other endpoint: everything succeeded; it must never show up.
	for _, ev := range ids {
		require_NoError(t, l.RecordAttempt(&Move{Endpoint: other, Event: ev, Attempt: Attempt{Attempt: 1, Outcome: OutcomeSuccess, Status: 200, TimeMs: 10}}))
	}
	return l, ep, ids
}

func listDeliveries(t *testing.T, l *Log, q DeliveryQuery, limit int) []Delivery {
	t.Helper()
	var out []Delivery
	_, err := l.ListDeliveries(q, func(d *Delivery) bool {
		out = append(out, *d)
		return len(out) < limit
	})
	require_NoError(t, err)
	return out
}

func TestListDeliveries(t *testing.T) {
	l, ep, ids := deliveryLog(t)
	want := func(i int) (string, int, int) { // status, attempts, last status
		switch i % 4 {
		case 0:
			return StatusPending, 0, 0
		case 1:
			return StatusSucceeded, 1, 200
		case 2:
			return StatusRetrying, 2, 0
		}
		return StatusDead, 3, 500
	}
	check := func(got []Delivery, idx []int) {
		t.Helper()
		require_Equal(t, len(got), len(idx))
		for n, i := range idx {
			st, attempts, last := want(i)
			d := got[n]
			require_Equal(t, d.Event, ids[i])
			require_Equal(t, d.Status, st)
			require_Equal(t, d.Attempts, attempts)
			require_Equal(t, d.Last.Status, last)
		}
	}
	newest := func(from int, keep func(i int) bool, n int) []int {
		var out []int
		for i := from; i >= 0 && len(out) < n; i-- {
			if keep(i) {
				out = append(out, i)
			}
		}
		return out
	}
	all := func(int) bool { return true }

	check(listDeliveries(t, l, DeliveryQuery{Endpoint: ep}, 100), newest(39, all, 100))
	check(listDeliveries(t, l, DeliveryQuery{Endpoint: ep}, 7), newest(39, all, 7))
	for st, r := range map[string]int{StatusPending: 0, StatusSucceeded: 1, StatusRetrying: 2, StatusDead: 3} {
		check(listDeliveries(t, l, DeliveryQuery{Endpoint: ep, Status: st}, 100), newest(39, func(i int) bool { return i%4 == r }, 100))
	}
	// Pages: Before is the last event of the previous page.
	page := listDeliveries(t, l, DeliveryQuery{Endpoint: ep, Before: ids[30]}, 5)
	check(page, newest(29, all, 5))
	page = listDeliveries(t, l, DeliveryQuery{Endpoint: ep, Status: StatusDead, Before: ids[30]}, 2)
	check(page, []int{27, 23})
	// A range: strictly between two events.
	check(listDeliveries(t, l, DeliveryQuery{Endpoint: ep, After: ids[10], Before: ids[15]}, 100), []int{14, 13, 12, 11})
	check(listDeliveries(t, l, DeliveryQuery{Endpoint: ep, Status: StatusPending, After: ids[10], Before: ids[15]}, 100), []int{12})
	// Nothing for an unknown endpoint; an unknown status is an error.
	require_Equal(t, len(listDeliveries(t, l, DeliveryQuery{Endpoint: testEndpoint(9)}, 100)), 0)
	_, err := l.ListDeliveries(DeliveryQuery{Endpoint: ep, Status: "lost"}, func(*Delivery) bool { return true })
	require_Error(t, err)

	// A scan budget: succeeded deliveries are one in four; pending ones
	// have no attempts to pass over, so a budget of 6 from the newest passes
	// 39, 38, 37, 35, 34, 33 and finds 37 and 33; the listing says where it
	// stopped.
	var got []ID
	res, err := l.ListDeliveries(DeliveryQuery{Endpoint: ep, Status: StatusSucceeded, MaxScan: 6}, func(d *Delivery) bool {
		got = append(got, d.Event)
		return true
	})
	require_NoError(t, err)
	require_DeepEqual(t, got, []ID{ids[37], ids[33]})
	require_Equal(t, res.Resume, ids[33])
	res, err = l.ListDeliveries(DeliveryQuery{Endpoint: ep, MaxScan: 100}, func(*Delivery) bool { return true })
	require_NoError(t, err)
	require_True(t, res.Resume.IsZero(), "a listing within its budget reports a resume point")
}

func TestIDAt(t *testing.T) {
	l, _ := openLog(t, nil)
	id := appendOne(t, l, mkEvent("t", []byte("x"), testEndpoint(1))).ID
	ms := id.Time().UnixMilli()
	require_True(t, !id.Less(IDAt(ms)), "IDAt(%d) is above an ID of that millisecond", ms)
	require_True(t, id.Less(IDAt(ms+1)), "IDAt(%d) is not above an ID of the millisecond before", ms+1)
}

func TestEventType(t *testing.T) {
	l, _ := openLog(t, &Options{CompressAbove: 10})
	ev := mkEvent("t", compressible(5000), testEndpoint(1))
	ev.Type = "invoice.paid"
	id := appendOne(t, l, ev).ID
	typ, err := l.EventType(id, nil)
	require_NoError(t, err)
	require_Equal(t, string(typ), "invoice.paid")
	_, err = l.EventType(testEndpoint(7), nil)
	require_Error(t, err, ErrNotFound)
}

func TestAuditLog(t *testing.T) {
	l, dir := openLog(t, nil)
	var ids []ID
	for i := range 5 {
		id, err := l.AppendAudit(fmt.Appendf(nil, "rec %d", i))
		require_NoError(t, err)
		ids = append(ids, id)
	}
	// Records around it must not show up.
	appendOne(t, l, mkEvent("t", []byte("x"), testEndpoint(1)))
	require_NoError(t, l.Close())
	l = reopenLog(t, dir, nil)
	var got []string
	require_NoError(t, l.ScanAudit(ID{}, func(_ ID, rec []byte) bool { got = append(got, string(rec)); return true }))
	require_DeepEqual(t, got, []string{"rec 4", "rec 3", "rec 2", "rec 1", "rec 0"})
	got = nil
	require_NoError(t, l.ScanAudit(ids[3], func(_ ID, rec []byte) bool { got = append(got, string(rec)); return len(got) < 2 }))
	require_DeepEqual(t, got, []string{"rec 2", "rec 1"})
}
