package wal

import (
	"testing"
)

// TestScanEventHeads: events come oldest first with tenant and type,
// bounded by after/before (exclusive), and a scan cut by maxScan resumes
// where it stopped.
func TestScanEventHeads(t *testing.T) {
	l, _ := openLog(t, nil)
	var ids []ID
	for i := range 5 {
		ev := mkEvent([]string{"a", "b"}[i%2], []byte(`{}`))
		ids = append(ids, appendOne(t, l, ev).ID)
	}
	var got []ID
	var tenants string
	res, err := l.ScanEventHeads(ID{}, ID{}, 0, func(id ID, tenant, typ []byte) bool {
		got = append(got, id)
		tenants += string(tenant)
		require_Equal(t, string(typ), "order.created")
		return true
	})
	require_NoError(t, err)
	require_True(t, res.Resume.IsZero(), "a full scan has no resume point")
	require_Equal(t, len(got), 5)
	require_Equal(t, tenants, "ababa")
	for i := range ids {
		require_Equal(t, got[i], ids[i])
	}

	got = got[:0]
	res, err = l.ScanEventHeads(ids[0], ids[4], 2, func(id ID, _, _ []byte) bool {
		got = append(got, id)
		return true
	})
	require_NoError(t, err)
	require_Equal(t, len(got), 2)
	require_Equal(t, got[0], ids[1])
	require_Equal(t, res.Resume, ids[2])
	got = got[:0]
	res, err = l.ScanEventHeads(res.Resume, ids[4], 2, func(id ID, _, _ []byte) bool {
		got = append(got, id)
		return true
	})
	require_NoError(t, err)
	require_Equal(t, len(got), 1)
	require_Equal(t, got[0], ids[3])
	require_True(t, res.Resume.IsZero(), "the scan reached before")
}

// TestScanAttempted: each attempted delivery once, oldest first, with the
// status its last record gives; a scan cut by maxScan resumes after the
// last delivery it passed.
func TestScanAttempted(t *testing.T) {
	l, _ := openLog(t, nil)
	ep := testEndpoint(1)
	var evs []ID
	for range 4 {
		evs = append(evs, appendOne(t, l, mkEvent("t", []byte(`{}`), ep)).ID)
	}
	record := func(ev ID, n int, outcome byte) {
		t.Helper()
		require_NoError(t, l.RecordAttempt(&Move{Endpoint: ep, Event: ev, Attempt: Attempt{Attempt: n, Outcome: outcome, NextMs: 1}}))
	}
	record(evs[0], 1, OutcomeSuccess)
	record(evs[1], 1, OutcomeRetry)
	record(evs[2], 1, OutcomeRetry)
	record(evs[2], 2, OutcomeDead)
	// evs[3] is still queued: no attempt, not listed.
	var got []Delivery
	res, err := l.ScanAttempted(ep, ID{}, ID{}, 0, func(d *Delivery) bool {
		got = append(got, *d)
		return true
	})
	require_NoError(t, err)
	require_True(t, res.Resume.IsZero(), "a full scan has no resume point")
	require_Equal(t, len(got), 3)
	want := []struct {
		status   string
		attempts int
	}{{StatusSucceeded, 1}, {StatusRetrying, 1}, {StatusDead, 2}}
	for i, w := range want {
		require_Equal(t, got[i].Event, evs[i])
		require_Equal(t, got[i].Status, w.status)
		require_Equal(t, got[i].Attempts, w.attempts)
	}

	got = got[:0]
	res, err = l.ScanAttempted(ep, ID{}, ID{}, 1, func(d *Delivery) bool {
		got = append(got, *d)
		return true
	})
	require_NoError(t, err)
	require_Equal(t, len(got), 1)
	require_Equal(t, res.Resume, evs[0])
	got = got[:0]
	_, err = l.ScanAttempted(ep, res.Resume, evs[2], 0, func(d *Delivery) bool {
		got = append(got, *d)
		return true
	})
	require_NoError(t, err)
	require_Equal(t, len(got), 1)
	require_Equal(t, got[0].Event, evs[1])
	// Another endpoint's range is empty.
	n := 0
	_, err = l.ScanAttempted(testEndpoint(2), ID{}, ID{}, 0, func(*Delivery) bool { n++; return true })
	require_NoError(t, err)
	require_Equal(t, n, 0)
}

// TestReplayedPending: a replayed delivery lists as pending (merged with
// the queue, newest first) until its attempt is recorded; its retry entry
// carries the replay mark; deleting the endpoint removes the mark.
func TestReplayedPending(t *testing.T) {
	l, _ := openLog(t, nil)
	ep := testEndpoint(1)
	var evs []ID
	for range 3 {
		evs = append(evs, appendOne(t, l, mkEvent("t", []byte(`{}`), ep)).ID)
	}
	// evs[0] is dead after one attempt and replayed; evs[1] and evs[2]
	// are still queued.
	require_NoError(t, l.RecordAttempt(&Move{Endpoint: ep, Event: evs[0], Attempt: Attempt{Attempt: 1, Outcome: OutcomeDead}}))
	require_NoError(t, l.Replay(ep, evs[0], 1, 1000, true, false, nil))
	pending := func() []Delivery {
		t.Helper()
		var out []Delivery
		_, err := l.ListDeliveries(DeliveryQuery{Endpoint: ep, Status: StatusPending}, func(d *Delivery) bool {
			out = append(out, *d)
			return true
		})
		require_NoError(t, err)
		return out
	}
	got := pending()
	require_Equal(t, len(got), 3)
	require_Equal(t, got[2].Event, evs[0])
	require_Equal(t, got[2].Attempts, 1)
	require_Equal(t, got[2].Last.Outcome, byte(OutcomeQueued))
	require_Equal(t, got[0].Event, evs[2])

	var retries []Retry
	require_NoError(t, l.ScanRetries(0, 2000, func(r Retry) bool { retries = append(retries, r); return true }))
	require_Equal(t, len(retries), 1)
	require_True(t, retries[0].Replayed, "a replay's retry entry is marked")
	require_Equal(t, retries[0].Attempts, 1)

	// The replay's attempt (a retry) clears the mark; an ordinary retry
	// entry carries none.
	require_NoError(t, l.RecordAttempt(&Move{Endpoint: ep, Event: evs[0], FromDueMs: 1000, Replayed: true,
		Attempt: Attempt{Attempt: 2, Outcome: OutcomeRetry, NextMs: 1500}}))
	require_Equal(t, len(pending()), 2)
	retries = retries[:0]
	require_NoError(t, l.ScanRetries(0, 2000, func(r Retry) bool { retries = append(retries, r); return true }))
	require_Equal(t, len(retries), 1)
	require_True(t, !retries[0].Replayed, "an ordinary retry is not marked")

	require_NoError(t, l.Replay(ep, evs[1], 0, 1000, false, false, nil))
	require_NoError(t, l.DeleteEndpoint(ep))
	require_Equal(t, len(pending()), 0)
}
