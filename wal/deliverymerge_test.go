package wal

import (
	"fmt"
	"slices"
	"testing"
)

// mergedLog builds three endpoints' histories over 30 events, with a
// fourth endpoint (another tenant's) beside them: event i goes to every
// endpoint when i%3 == 0 (ties) and to endpoint i%3 otherwise, and each
// delivery's status follows (i+endpoint)%5: pending, succeeded, retrying,
// dead, and one replayed after it died (pending again).
func mergedLog(t *testing.T) (*Log, []ID, []ID) {
	l, _ := openLog(t, nil)
	eps := []ID{testEndpoint(1), testEndpoint(2), testEndpoint(3)}
	noise := testEndpoint(4)
	var ids []ID
	for i := range 30 {
		to := []ID{eps[i%3]}
		if i%3 == 0 {
			to = eps
		}
		ids = append(ids, appendOne(t, l, mkEvent("t", fmt.Appendf(nil, "%d", i), append(to, noise)...)).ID)
	}
	move := func(ep, ev ID, from int64, a Attempt) {
		t.Helper()
		require_NoError(t, l.RecordAttempt(&Move{Endpoint: ep, Event: ev, FromDueMs: from, Attempt: a}))
	}
	for i, ev := range ids {
		for n, ep := range eps {
			if i%3 != 0 && i%3 != n {
				continue
			}
			switch (i + n) % 5 {
			case 1:
				move(ep, ev, 0, Attempt{Attempt: 1, Outcome: OutcomeSuccess, Status: 200, TimeMs: 10})
			case 2:
				move(ep, ev, 0, Attempt{Attempt: 1, Outcome: OutcomeRetry, Status: 503, TimeMs: 10, NextMs: 100})
			case 3, 4:
				move(ep, ev, 0, Attempt{Attempt: 1, Outcome: OutcomeDead, Status: 500, TimeMs: 10})
			}
			if (i+n)%5 == 4 {
				require_NoError(t, l.Replay(ep, ev, 1, 1000, true, true, nil))
			}
		}
		move(noise, ev, 0, Attempt{Attempt: 1, Outcome: OutcomeDead, Status: 500, TimeMs: 10})
	}
	return l, eps, ids
}

// mergedWant lists each endpoint on its own and sorts the union by
// position, greatest first: what a merged listing must return.
func mergedWant(t *testing.T, l *Log, q MergedQuery) []Position {
	t.Helper()
	var out []Position
	for _, ep := range q.Endpoints {
		_, err := l.ListDeliveries(DeliveryQuery{Endpoint: ep, Status: q.Status, After: q.After}, func(d *Delivery) bool {
			require_Equal(t, d.Endpoint, ep)
			if p := (Position{d.Event, ep}); q.Before.IsZero() || p.Less(q.Before) {
				out = append(out, p)
			}
			return true
		})
		require_NoError(t, err)
	}
	slices.SortFunc(out, func(a, b Position) int {
		switch {
		case b.Less(a):
			return -1
		case a.Less(b):
			return 1
		}
		return 0
	})
	return out
}

// mergedPages reads q to its end in pages of size, following each page's
// last position or the listing's Resume, and returns every position.
func mergedPages(t *testing.T, l *Log, q MergedQuery, size int) []Position {
	t.Helper()
	var out []Position
	for pages := 0; ; pages++ {
		require_True(t, pages <= 1000, "no end after %d pages", pages)
		n := 0
		res, err := l.ListMergedDeliveries(q, func(d *Delivery) bool {
			out = append(out, Position{d.Event, d.Endpoint})
			q.Before = out[len(out)-1]
			n++
			return n < size
		})
		require_NoError(t, err)
		switch {
		case !res.Resume.IsZero():
			q.Before = res.Resume
		case n < size:
			return out
		}
	}
}

func TestListMergedDeliveries(t *testing.T) {
	l, eps, ids := mergedLog(t)
	f := func(q MergedQuery) {
		t.Helper()
		want := mergedWant(t, l, q)
		for _, size := range []int{1, 2, 7, 1000} {
			for _, maxScan := range []int{0, 1, 3} {
				q.MaxScan = maxScan
				require_DeepEqual(t, mergedPages(t, l, q, size), want)
			}
		}
	}
	for _, st := range []string{"", StatusPending, StatusSucceeded, StatusRetrying, StatusDead} {
		f(MergedQuery{Endpoints: eps, Status: st})
		f(MergedQuery{Endpoints: eps[1:], Status: st})
		f(MergedQuery{Endpoints: eps, Status: st, After: ids[5], Before: Position{Event: ids[20]}})
		// A cursor in the middle of a tie: endpoint 2 of event 12 was
		// listed, endpoints 1 and 0 are still to come.
		f(MergedQuery{Endpoints: eps, Status: st, Before: Position{ids[12], eps[2]}})
	}

	// Newest first, ties by endpoint, greatest first; the other endpoint
	// never shows up.
	got := mergedPages(t, l, MergedQuery{Endpoints: eps}, 5)
	require_Equal(t, len(got), 50)
	require_DeepEqual(t, got[:4], []Position{{ids[29], eps[2]}, {ids[28], eps[1]}, {ids[27], eps[2]}, {ids[27], eps[1]}})
	require_Equal(t, got[4], Position{ids[27], eps[0]})

	// Statuses as each endpoint's listing gives them, the replayed ones
	// pending with their attempt.
	var ds []Delivery
	_, err := l.ListMergedDeliveries(MergedQuery{Endpoints: eps, Status: StatusPending}, func(d *Delivery) bool {
		ds = append(ds, *d)
		return true
	})
	require_NoError(t, err)
	replayed := 0
	for _, d := range ds {
		require_Equal(t, d.Status, StatusPending)
		if d.Attempts == 1 {
			replayed++
		}
	}
	require_True(t, replayed > 0 && replayed < len(ds), "%d of %d pending deliveries replayed", replayed, len(ds))

	// Bounds that leave nothing; no endpoints; an unknown status.
	f(MergedQuery{Endpoints: eps, After: ids[20], Before: Position{Event: ids[20], Endpoint: eps[2]}})
	require_Equal(t, len(mergedPages(t, l, MergedQuery{Endpoints: eps, Before: Position{Endpoint: eps[2]}}, 10)), 0)
	require_Equal(t, len(mergedPages(t, l, MergedQuery{}, 10)), 0)
	_, err = l.ListMergedDeliveries(MergedQuery{Endpoints: eps, Status: "lost"}, func(*Delivery) bool { return true })
	require_Error(t, err)

	// The scan budget: a resume point where it ran out, none within it.
	res, err := l.ListMergedDeliveries(MergedQuery{Endpoints: eps, Status: StatusSucceeded, MaxScan: 4}, func(*Delivery) bool { return true })
	require_NoError(t, err)
	require_Equal(t, res.Resume, got[3])
	res, err = l.ListMergedDeliveries(MergedQuery{Endpoints: eps, MaxScan: 50}, func(*Delivery) bool { return true })
	require_NoError(t, err)
	require_True(t, res.Resume.IsZero(), "a listing within its budget reports a resume point")
}

func TestIDNext(t *testing.T) {
	f := func(id, want ID) {
		t.Helper()
		require_Equal(t, id.Next(), want)
	}
	f(ID{}, ID{15: 1})
	f(ID{14: 1, 15: 0xff}, ID{14: 2})
	var top ID
	for i := range top {
		top[i] = 0xff
	}
	f(top, ID{})
}
