package wal

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestAppendWritesOneQueueEntryPerEndpoint(t *testing.T) {
	l, _ := openLog(t, nil)
	a, b, c := testEndpoint(1), testEndpoint(2), testEndpoint(3)
	f := func(eps []ID, wantQueued int) {
		t.Helper()
		before := counts(t, l)
		id := appendOne(t, l, mkEvent("t", []byte("x"), eps...)).ID
		after := counts(t, l)
		require_Equal(t, after.Events, before.Events+1)
		require_Equal(t, after.Queued, before.Queued+wantQueued)
		for _, ep := range eps {
			q := queued(t, l, ep)
			require_True(t, len(q) > 0 && q[len(q)-1] == id, "event %s is not last in the queue of %s: %v", id, ep, q)
		}
	}
	f(nil, 0)
	f([]ID{a}, 1)
	f([]ID{a, b}, 2)
	f([]ID{b, c, a}, 3)
	require_Equal(t, len(queued(t, l, a)), 3)
	require_Equal(t, len(queued(t, l, b)), 2)
	require_Equal(t, len(queued(t, l, c)), 1)
	require_Equal(t, len(queued(t, l, testEndpoint(4))), 0)
}

func TestScanQueue(t *testing.T) {
	l, _ := openLog(t, nil)
	a, b := testEndpoint(1), testEndpoint(2)
	var ids []ID
	for i := 0; i < 10; i++ {
		// Interleave another endpoint's entries: they must never show up.
		appendOne(t, l, mkEvent("t", []byte("other"), b))
		ids = append(ids, appendOne(t, l, mkEvent("t", []byte("mine"), a)).ID)
	}
	// ids[4]+1 as a 128-bit number sorts after ids[4] and before ids[5]
	// (the writer hands out ids[4]+1 or a later millisecond to the b event
	// in between). The carry matters: a plain byte++ wraps on 0xff.
	between := ids[4]
	for i := len(between) - 1; i >= 0; i-- {
		between[i]++
		if between[i] != 0 {
			break
		}
	}

	f := func(after ID, max int, want []ID) {
		t.Helper()
		var got []ID
		n, err := l.ScanQueue(a, after, max, func(ev ID) { got = append(got, ev) })
		require_NoError(t, err)
		require_Equal(t, n, len(want))
		require_DeepEqual(t, got, want)
	}
	f(ID{}, 100, ids)
	f(ID{}, 10, ids)
	f(ID{}, 3, ids[:3])
	f(ID{}, 1, ids[:1])
	f(ID{}, 0, nil)
	f(ids[2], 100, ids[3:]) // after is exclusive
	f(ids[2], 2, ids[3:5])
	f(between, 100, ids[5:])
	f(ids[9], 100, nil)
	f(maxID(), 100, nil)
}

func TestScanQueueEdgeEndpoints(t *testing.T) {
	// Endpoint IDs of all 0x00 and all 0xff bytes: their queue prefix is at
	// the edges of the kind, so prefixEnd and range bounds get exercised.
	l, _ := openLog(t, nil)
	lo, hi, mid := ID{}, maxID(), testEndpoint(5)
	ids := []ID{
		appendOne(t, l, mkEvent("t", []byte("x"), lo, hi, mid)).ID,
		appendOne(t, l, mkEvent("t", []byte("y"), hi)).ID,
	}
	require_DeepEqual(t, queued(t, l, lo), ids[:1])
	require_DeepEqual(t, queued(t, l, hi), ids)
	require_DeepEqual(t, queued(t, l, mid), ids[:1])

	require_NoError(t, l.DeleteEndpoint(hi))
	require_Equal(t, len(queued(t, l, hi)), 0)
	require_DeepEqual(t, queued(t, l, lo), ids[:1])
	require_DeepEqual(t, queued(t, l, mid), ids[:1])
	// Events ('e' sorts right after 'd') survive deleting the last dead-letter range.
	require_Equal(t, counts(t, l), Counts{Events: 2, Queued: 2})
}

// location says where a delivery is: it must be in exactly one of q, r, d,
// or nowhere once it succeeded.
func location(t testing.TB, l *Log, ep, ev ID) string {
	t.Helper()
	var where []string
	_, err := l.ScanQueue(ep, ID{}, math.MaxInt, func(id ID) {
		if id == ev {
			where = append(where, "q")
		}
	})
	require_NoError(t, err)
	for _, r := range retries(t, l) {
		if r.Endpoint == ep && r.Event == ev {
			where = append(where, fmt.Sprintf("r@%d#%d", r.DueMs, r.Attempts))
		}
	}
	for _, d := range dead(t, l, ep) {
		if d.Event == ev {
			where = append(where, fmt.Sprintf("d#%d@%d", d.Attempts, d.TimeMs))
		}
	}
	if len(where) == 0 {
		return "done"
	}
	require_True(t, len(where) == 1, "delivery of %s to %s is in %d places: %v", ev, ep, len(where), where)
	return where[0]
}

func attempts(t testing.TB, l *Log, ep, ev ID) []Attempt {
	t.Helper()
	var as []Attempt
	require_NoError(t, l.ScanAttempts(ep, ev, func(a *Attempt) error {
		c := *a
		c.Response = nil
		if len(a.Response) > 0 {
			c.Response = bytes.Clone(a.Response)
		}
		as = append(as, c)
		return nil
	}))
	return as
}

func TestRecordAttemptSuccessFromQueue(t *testing.T) {
	l, _ := openLog(t, nil)
	a, b := testEndpoint(1), testEndpoint(2)
	ev := appendOne(t, l, mkEvent("t", []byte("x"), a, b)).ID
	att := Attempt{TimeMs: 1_700_000_000_500, Attempt: 1, Outcome: OutcomeSuccess, Status: 204, LatencyUs: 12_345, Response: []byte("HTTP/1.1 204 No Content\r\n")}
	require_NoError(t, l.RecordAttempt(&Move{Endpoint: a, Event: ev, Attempt: att}))

	require_Equal(t, location(t, l, a, ev), "done")
	require_Equal(t, location(t, l, b, ev), "q") // the other endpoint's delivery is untouched
	require_DeepEqual(t, attempts(t, l, a, ev), []Attempt{att})
	require_Equal(t, len(attempts(t, l, b, ev)), 0)
	require_Equal(t, counts(t, l), Counts{Events: 1, Queued: 1, Attempts: 1})
}

func TestRecordAttemptLifecycle(t *testing.T) {
	l, _ := openLog(t, nil)
	ep := testEndpoint(1)
	ev := appendOne(t, l, mkEvent("t", []byte("x"), ep)).ID
	require_Equal(t, location(t, l, ep, ev), "q")

	var logged []Attempt
	f := func(from int64, att Attempt, wantLoc string, want Counts) {
		t.Helper()
		require_NoError(t, l.RecordAttempt(&Move{Endpoint: ep, Event: ev, FromDueMs: from, Attempt: att}))
		logged = append(logged, att)
		require_Equal(t, location(t, l, ep, ev), wantLoc)
		require_Equal(t, counts(t, l), want)
		require_DeepEqual(t, attempts(t, l, ep, ev), logged)
	}
	f(0, Attempt{TimeMs: 1000, Attempt: 1, Outcome: OutcomeRetry, Status: 503, LatencyUs: 900, NextMs: 5000, Response: []byte("busy")},
		"r@5000#1", Counts{Events: 1, Retries: 1, Attempts: 1})
	f(5000, Attempt{TimeMs: 5001, Attempt: 2, Outcome: OutcomeRetry, ErrClass: "timeout", LatencyUs: 30_000_000, NextMs: 65_000},
		"r@65000#2", Counts{Events: 1, Retries: 1, Attempts: 2})
	f(65_000, Attempt{TimeMs: 65_002, Attempt: 3, Outcome: OutcomeDead, Status: 410, LatencyUs: 77},
		"d#3@65002", Counts{Events: 1, Dead: 1, Attempts: 3})
	require_DeepEqual(t, dead(t, l, ep), []DeadLetter{{Event: ev, Attempts: 3, TimeMs: 65_002}})
}

func TestRecordAttemptOutcomes(t *testing.T) {
	l, _ := openLog(t, nil)
	ep := testEndpoint(1)
	f := func(moves []Attempt, wantLoc string) {
		t.Helper()
		ev := appendOne(t, l, mkEvent("t", []byte("x"), ep)).ID
		var from int64
		for _, att := range moves {
			require_NoError(t, l.RecordAttempt(&Move{Endpoint: ep, Event: ev, FromDueMs: from, Attempt: att}))
			from = att.NextMs
		}
		require_Equal(t, location(t, l, ep, ev), wantLoc)
		require_Equal(t, len(attempts(t, l, ep, ev)), len(moves))
	}
	f([]Attempt{{Attempt: 1, Outcome: OutcomeSuccess}}, "done")
	f([]Attempt{{Attempt: 1, TimeMs: 7, Outcome: OutcomeDead, ErrClass: "ssrf"}}, "d#1@7")
	f([]Attempt{{Attempt: 1, Outcome: OutcomeRetry, NextMs: 10}, {Attempt: 2, Outcome: OutcomeSuccess}}, "done")
	f([]Attempt{{Attempt: 1, Outcome: OutcomeRetry, NextMs: 10}, {Attempt: 2, Outcome: OutcomeRetry, NextMs: 10}}, "r@10#2") // same due
	f([]Attempt{{Attempt: 1, Outcome: OutcomeRetry, NextMs: 20}, {Attempt: 2, Outcome: OutcomeRetry, NextMs: 40}, {Attempt: 3, TimeMs: 41, Outcome: OutcomeDead}}, "d#3@41")
	f([]Attempt{{Attempt: 300, Outcome: OutcomeRetry, NextMs: 1 << 50}}, fmt.Sprintf("r@%d#300", int64(1)<<50))

	// Each delivery is somewhere exactly once.
	c := counts(t, l)
	require_Equal(t, c.Events, 6)
	require_Equal(t, c.Queued+c.Retries+c.Dead, 4)
}

func TestRecordAttemptUnknownOutcomePanics(t *testing.T) {
	l, _ := openLog(t, nil)
	defer func() {
		r := recover()
		require_True(t, r != nil && strings.HasPrefix(fmt.Sprint(r), "BUG:"), "want a BUG panic, got %v", r)
	}()
	_ = l.RecordAttempt(&Move{Endpoint: testEndpoint(1), Event: NewID(), Attempt: Attempt{Outcome: 'x'}})
}

func TestScanAttemptsOrderAndError(t *testing.T) {
	l, _ := openLog(t, nil)
	ep := testEndpoint(1)
	ev := appendOne(t, l, mkEvent("t", []byte("x"), ep)).ID
	other := appendOne(t, l, mkEvent("t", []byte("x"), ep)).ID
	var from int64
	// Attempt numbers past 255 check that the big-endian suffix sorts right.
	for _, n := range []int{1, 2, 255, 256, 1000} {
		next := int64(n * 10)
		require_NoError(t, l.RecordAttempt(&Move{Endpoint: ep, Event: ev, FromDueMs: from, Attempt: Attempt{Attempt: n, Outcome: OutcomeRetry, NextMs: next}}))
		from = next
	}
	require_NoError(t, l.RecordAttempt(&Move{Endpoint: ep, Event: other, Attempt: Attempt{Attempt: 1, Outcome: OutcomeSuccess}}))

	var nums []int
	for _, a := range attempts(t, l, ep, ev) {
		nums = append(nums, a.Attempt)
	}
	require_DeepEqual(t, nums, []int{1, 2, 255, 256, 1000})
	require_Equal(t, len(attempts(t, l, ep, other)), 1)

	stop := errors.New("stop")
	calls := 0
	err := l.ScanAttempts(ep, ev, func(*Attempt) error { calls++; return stop })
	require_Error(t, err, stop)
	require_Equal(t, calls, 1)
}

func TestScanRetries(t *testing.T) {
	l, _ := openLog(t, nil)
	a, b := testEndpoint(1), testEndpoint(2)
	type entry struct {
		ep  ID
		due int64
	}
	var all []Retry
	for i, e := range []entry{{a, 300}, {a, 100}, {b, 200}, {a, 200}, {b, 50}, {a, 1 << 40}} {
		ev := appendOne(t, l, mkEvent("t", []byte("x"), e.ep)).ID
		require_NoError(t, l.RecordAttempt(&Move{Endpoint: e.ep, Event: ev, Attempt: Attempt{Attempt: i + 1, Outcome: OutcomeRetry, NextMs: e.due}}))
		all = append(all, Retry{DueMs: e.due, Endpoint: e.ep, Event: ev, Attempts: i + 1})
	}
	// Due order, then endpoint, then event.
	byDue := []Retry{all[4], all[1], all[3], all[2], all[0], all[5]}

	f := func(from, to int64, limit int, want []Retry) {
		t.Helper()
		var got []Retry
		require_NoError(t, l.ScanRetries(from, to, func(r Retry) bool {
			got = append(got, r)
			return len(got) < limit
		}))
		require_DeepEqual(t, got, want)
	}
	f(0, math.MaxInt64, 100, byDue)
	f(100, 300, 100, byDue[1:4])      // [from, to)
	f(101, 301, 100, byDue[2:5])      // to is exclusive, from inclusive
	f(200, 201, 100, byDue[2:4])      // both entries due at 200
	f(0, 50, 100, nil)                // nothing due before 50
	f(0, math.MaxInt64, 2, byDue[:2]) // fn returning false stops the scan
	f(200, 200, 100, nil)
	f(300, 100, 100, nil) // an empty, inverted range

	require_NoError(t, l.DeleteRetry(all[3]))
	f(0, math.MaxInt64, 100, []Retry{all[4], all[1], all[2], all[0], all[5]})
	require_Equal(t, counts(t, l).Retries, 5)
}

func TestScanDead(t *testing.T) {
	l, _ := openLog(t, nil)
	a, b := testEndpoint(1), testEndpoint(2)
	var wantA []DeadLetter
	for i := 0; i < 5; i++ {
		ev := appendOne(t, l, mkEvent("t", []byte("x"), a, b)).ID
		require_NoError(t, l.RecordAttempt(&Move{Endpoint: a, Event: ev, Attempt: Attempt{Attempt: i + 1, TimeMs: int64(1000 + i), Outcome: OutcomeDead}}))
		wantA = append(wantA, DeadLetter{Event: ev, Attempts: i + 1, TimeMs: int64(1000 + i)})
	}
	require_DeepEqual(t, dead(t, l, a), wantA)
	require_Equal(t, len(dead(t, l, b)), 0)
}

func TestDeleteEndpoint(t *testing.T) {
	l, _ := openLog(t, nil)
	a, b := testEndpoint(1), testEndpoint(2)
	require_NoError(t, l.PutEndpoint(a, []byte(`{"url":"a"}`)))
	require_NoError(t, l.PutEndpoint(b, []byte(`{"url":"b"}`)))
	var evs []ID
	for i := 0; i < 6; i++ {
		evs = append(evs, appendOne(t, l, mkEvent("t", []byte("x"), a, b)).ID)
	}
	// evs[0]: dead for both; evs[1]: retrying for both; the rest queued.
	for _, ep := range []ID{a, b} {
		require_NoError(t, l.RecordAttempt(&Move{Endpoint: ep, Event: evs[0], Attempt: Attempt{Attempt: 1, Outcome: OutcomeDead}}))
		require_NoError(t, l.RecordAttempt(&Move{Endpoint: ep, Event: evs[1], Attempt: Attempt{Attempt: 1, Outcome: OutcomeRetry, NextMs: 99}}))
	}
	require_Equal(t, counts(t, l), Counts{Events: 6, Queued: 8, Retries: 2, Dead: 2, Attempts: 4})

	require_NoError(t, l.DeleteEndpoint(a))
	require_Equal(t, len(queued(t, l, a)), 0)
	require_Equal(t, len(dead(t, l, a)), 0)
	require_DeepEqual(t, queued(t, l, b), evs[2:])
	require_Equal(t, len(dead(t, l, b)), 1)
	// Retries of the deleted endpoint stay until they come due (documented).
	require_Equal(t, len(retries(t, l)), 2)
	// Its attempt log goes with it; b's two attempts stay.
	require_Equal(t, counts(t, l), Counts{Events: 6, Queued: 4, Retries: 2, Dead: 1, Attempts: 2})
	require_DeepEqual(t, endpointIDs(t, l), []ID{b})
	// Deleting an unknown endpoint is a no-op.
	require_NoError(t, l.DeleteEndpoint(testEndpoint(9)))
	require_Equal(t, counts(t, l).Queued, 4)
}

func endpointIDs(t testing.TB, l *Log) []ID {
	t.Helper()
	var ids []ID
	require_NoError(t, l.Endpoints(func(id ID, _ []byte) error { ids = append(ids, id); return nil }))
	return ids
}

func TestDeleteTenant(t *testing.T) {
	l, _ := openLog(t, nil)
	appendKey := func(tenant, key string) AppendResult {
		ev := mkEvent(tenant, []byte(tenant+"/"+key))
		ev.IdempotencyKey = key
		return appendOne(t, l, ev)
	}
	// "acm" and "acme2" share a prefix with "acme": deleting acme must leave them.
	tenants := []string{"acm", "acme", "acme2", "globex"}
	first := map[string]ID{}
	for _, tn := range tenants {
		require_NoError(t, l.PutTenant(tn, []byte(`{"name":"`+tn+`"}`)))
		first[tn] = appendKey(tn, "k1").ID
		appendKey(tn, "k2")
	}
	require_Equal(t, counts(t, l).IdempotencyKeys, 8)

	require_NoError(t, l.DeleteTenant("acme"))
	require_Equal(t, counts(t, l).IdempotencyKeys, 6)
	require_DeepEqual(t, tenantIDs(t, l), []string{"acm", "acme2", "globex"})

	f := func(tenant string, wantDup bool) {
		t.Helper()
		res := appendKey(tenant, "k1")
		require_Equal(t, res.Duplicate, wantDup)
		if wantDup {
			require_Equal(t, res.ID, first[tenant])
		} else {
			require_True(t, res.ID != first[tenant], "reused id %s", res.ID)
			first[tenant] = res.ID
		}
	}
	f("acme", false) // its keys are gone: not a duplicate any more
	f("acme", true)  // and the new event's key is recorded again
	f("acm", true)
	f("acme2", true)
	f("globex", true)
	// Events stay: deleting a tenant is about config and keys.
	require_Equal(t, counts(t, l).Events, 9)
}

func tenantIDs(t testing.TB, l *Log) []string {
	t.Helper()
	var ids []string
	require_NoError(t, l.Tenants(func(id string, _ []byte) error { ids = append(ids, id); return nil }))
	return ids
}

func TestTenantsAndEndpoints(t *testing.T) {
	l, dir := openLog(t, nil)
	require_Equal(t, len(tenantIDs(t, l)), 0)
	require_Equal(t, len(endpointIDs(t, l)), 0)

	want := map[string]string{"b": `{"v":1}`, "a": `{"v":2}`, "c": ""}
	for id, v := range want {
		require_NoError(t, l.PutTenant(id, []byte(v)))
	}
	require_NoError(t, l.PutTenant("b", []byte(`{"v":3}`))) // overwrite
	want["b"] = `{"v":3}`
	eps := []ID{testEndpoint(3), testEndpoint(1), testEndpoint(2)}
	for i, ep := range eps {
		require_NoError(t, l.PutEndpoint(ep, fmt.Appendf(nil, "ep%d", i)))
	}

	check := func(l *Log) {
		t.Helper()
		got := map[string]string{}
		var order []string
		require_NoError(t, l.Tenants(func(id string, v []byte) error {
			got[id] = string(v)
			order = append(order, id)
			return nil
		}))
		require_DeepEqual(t, got, want)
		require_DeepEqual(t, order, []string{"a", "b", "c"})

		gotEps := map[ID]string{}
		require_NoError(t, l.Endpoints(func(id ID, v []byte) error { gotEps[id] = string(v); return nil }))
		require_DeepEqual(t, gotEps, map[ID]string{eps[0]: "ep0", eps[1]: "ep1", eps[2]: "ep2"})
		require_DeepEqual(t, endpointIDs(t, l), []ID{testEndpoint(1), testEndpoint(2), testEndpoint(3)})
	}
	check(l)
	require_NoError(t, l.Close())
	l = reopenLog(t, dir, nil)
	check(l)

	stop := errors.New("stop")
	calls := 0
	require_Error(t, l.Tenants(func(string, []byte) error { calls++; return stop }), stop)
	require_Equal(t, calls, 1)
	calls = 0
	require_Error(t, l.Endpoints(func(ID, []byte) error { calls++; return stop }), stop)
	require_Equal(t, calls, 1)
}

func maxID() ID {
	var id ID
	for i := range id {
		id[i] = 0xff
	}
	return id
}

// TestQueueCursorSeesEveryEvent checks the promise delivery lanes rely on: a
// reader that has seen event X in a queue has seen every committed event
// below X, so a plain "after" cursor never skips one while publishers append
// concurrently.
func TestQueueCursorSeesEveryEvent(t *testing.T) {
	const workers, perWorker = 8, 150
	l, _ := openLog(t, nil)
	ep := testEndpoint(1)
	var wg sync.WaitGroup
	errs := make(chan error, workers+1)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var res [2]AppendResult
			for i := 0; i < perWorker; i += 2 {
				evs := []AppendEvent{mkEvent("t", fmt.Appendf(nil, "%d/%d", w, i), ep), mkEvent("t", fmt.Appendf(nil, "%d/%d", w, i+1), ep)}
				if err := l.Append(evs, res[:]); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	stop := make(chan struct{})
	var seen []ID
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		var cursor ID
		var r EventRecord
		var buf EventBuf
		scan := func() {
			_, err := l.ScanQueue(ep, cursor, 64, func(ev ID) {
				if err := l.ReadEvent(ev, &r, &buf); err != nil {
					errs <- fmt.Errorf("queued event %s unreadable: %w", ev, err)
				}
				seen = append(seen, ev)
				cursor = ev
			})
			if err != nil {
				errs <- err
			}
		}
		for {
			select {
			case <-stop:
				for n := -1; n != len(seen); {
					n = len(seen)
					scan() // drain what is left
				}
				return
			default:
				scan()
			}
		}
	}()
	wg.Wait()
	close(stop)
	<-readerDone
	close(errs)
	for err := range errs {
		require_NoError(t, err)
	}
	all := queued(t, l, ep)
	require_Equal(t, len(all), workers*perWorker)
	require_Equal(t, len(seen), len(all)) // the cursor skipped nothing
	require_DeepEqual(t, seen, all)
}

func TestNewConfigID(t *testing.T) {
	l, dir := openLog(t, nil)
	// Strictly increasing, also from concurrent callers.
	const workers, per = 8, 200
	ids := make([][]ID, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < per; i++ {
				ids[w] = append(ids[w], l.NewConfigID())
			}
		}()
	}
	wg.Wait()
	seen := map[ID]bool{}
	for _, s := range ids {
		requireSorted(t, s)
		for _, id := range s {
			require_True(t, !seen[id], "config id %s handed out twice", id)
			seen[id] = true
		}
	}

	// Endpoints listed in ID order come out in creation order, also across a
	// restart after which the clock reads earlier than when the last endpoint
	// was created (here: one created while the clock read 2100).
	var g idGen
	future := g.next(time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC))
	require_NoError(t, l.PutEndpoint(future, []byte("created first")))
	require_NoError(t, l.Close())
	l = reopenLog(t, dir, nil)
	next := l.NewConfigID()
	require_NoError(t, l.PutEndpoint(next, []byte("created second")))
	var order []string
	require_NoError(t, l.Endpoints(func(_ ID, v []byte) error { order = append(order, string(v)); return nil }))
	require_DeepEqual(t, order, []string{"created first", "created second"})
}

// TestQueueDepths: per endpoint, queued and retrying deliveries are counted
// as they move; done and dead-lettered ones are not.
func TestQueueDepths(t *testing.T) {
	l, _ := openLog(t, nil)
	a, b, c := testEndpoint(1), testEndpoint(2), testEndpoint(3)
	f := func(want map[ID]QueueDepth) {
		t.Helper()
		got, err := l.QueueDepths()
		require_NoError(t, err)
		require_DeepEqual(t, got, want)
	}
	f(map[ID]QueueDepth{})
	var evs []ID
	for i := 0; i < 3; i++ {
		evs = append(evs, appendOne(t, l, mkEvent("t", []byte("x"), a, b)).ID)
	}
	appendOne(t, l, mkEvent("t", []byte("y"), c))
	f(map[ID]QueueDepth{a: {Queued: 3}, b: {Queued: 3}, c: {Queued: 1}})

	move := func(ep, ev ID, from int64, att Attempt) {
		t.Helper()
		require_NoError(t, l.RecordAttempt(&Move{Endpoint: ep, Event: ev, FromDueMs: from, Attempt: att}))
	}
	move(a, evs[0], 0, Attempt{Attempt: 1, Outcome: OutcomeRetry, NextMs: 500})
	move(a, evs[1], 0, Attempt{Attempt: 1, Outcome: OutcomeRetry, NextMs: 100})
	move(b, evs[0], 0, Attempt{Attempt: 1, Outcome: OutcomeSuccess})
	move(b, evs[1], 0, Attempt{Attempt: 1, Outcome: OutcomeDead})
	f(map[ID]QueueDepth{a: {Queued: 1, Retrying: 2}, b: {Queued: 1}, c: {Queued: 1}})

	move(a, evs[1], 100, Attempt{Attempt: 2, Outcome: OutcomeRetry, NextMs: 900})
	move(a, evs[0], 500, Attempt{Attempt: 2, Outcome: OutcomeSuccess})
	f(map[ID]QueueDepth{a: {Queued: 1, Retrying: 1}, b: {Queued: 1}, c: {Queued: 1}})

	// A deleted endpoint's queue goes with it; its retry entries stay until due.
	require_NoError(t, l.DeleteEndpoint(a))
	f(map[ID]QueueDepth{a: {Retrying: 1}, b: {Queued: 1}, c: {Queued: 1}})

	require_NoError(t, l.Close())
	_, err := l.QueueDepths()
	require_Error(t, err, ErrClosed)
}
