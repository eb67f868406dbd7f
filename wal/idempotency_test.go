package wal

// Idempotency keys: one or two an event, found within a group and across
// groups, concurrent publishers, durable across a reopen.

import (
	"context"
	"fmt"
	"sync"
	"testing"
)

func TestIdempotency(t *testing.T) {
	l, _ := openLog(t, nil)
	ep := testEndpoint(1)
	withKey := func(tenant, key string, body string) AppendEvent {
		ev := mkEvent(tenant, []byte(body), ep)
		ev.IdempotencyKey = key
		return ev
	}

	// Separate calls: the second is a duplicate that writes nothing.
	first := appendOne(t, l, withKey("acme", "k1", "first"))
	require_Equal(t, first.Duplicate, false)
	before := counts(t, l)
	require_Equal(t, before, Counts{Events: 1, Queued: 1, IdempotencyKeys: 1, IdempotencyIndex: 1})
	dup := appendOne(t, l, withKey("acme", "k1", "second"))
	require_Equal(t, dup, AppendResult{ID: first.ID, Duplicate: true})
	require_Equal(t, counts(t, l), before)
	require_Equal(t, string(readEvent(t, l, first.ID).Body), "first")

	// Twice within one call: the second is a duplicate of the first.
	evs := []AppendEvent{withKey("acme", "k2", "a"), withKey("acme", "k2", "b"), withKey("acme", "", "c"), withKey("acme", "", "d")}
	res := make([]AppendResult, len(evs))
	require_NoError(t, l.Append(evs, res))
	require_Equal(t, res[0].Duplicate, false)
	require_Equal(t, res[1], AppendResult{ID: res[0].ID, Duplicate: true})
	// Events without a key are never duplicates of each other.
	require_Equal(t, res[2].Duplicate || res[3].Duplicate, false)
	require_True(t, res[2].ID != res[3].ID, "two keyless events got one id")
	require_Equal(t, counts(t, l), Counts{Events: 4, Queued: 4, IdempotencyKeys: 2, IdempotencyIndex: 2})

	// The same key in another tenant is another event.
	other := appendOne(t, l, withKey("globex", "k1", "globex"))
	require_Equal(t, other.Duplicate, false)
	require_True(t, other.ID != first.ID, "tenants share idempotency keys")
	require_Equal(t, counts(t, l), Counts{Events: 5, Queued: 5, IdempotencyKeys: 3, IdempotencyIndex: 3})

	// A key that is a prefix of another key is a different key.
	require_Equal(t, appendOne(t, l, withKey("acme", "k", "p")).Duplicate, false)
	require_Equal(t, appendOne(t, l, withKey("acme", "k10", "p")).Duplicate, false)
	require_Equal(t, counts(t, l).IdempotencyKeys, 5)
}

// TestAltIdempotencyKey: an event with two keys is the duplicate of the
// first event either names, in separate calls, within one call and after
// a reopen; a new one gets both, each with its x entry, and retention
// removes both with the event.
func TestAltIdempotencyKey(t *testing.T) {
	l, dir := openLog(t, nil)
	ep := testEndpoint(1)
	withKeys := func(key, alt, body string) AppendEvent {
		ev := mkEvent("acme", []byte(body), ep)
		ev.IdempotencyKey, ev.AltIdempotencyKey = key, alt
		return ev
	}
	first := appendOne(t, l, withKeys("d-1", "sig-a", "first"))
	require_Equal(t, first.Duplicate, false)
	require_Equal(t, counts(t, l), Counts{Events: 1, Queued: 1, IdempotencyKeys: 2, IdempotencyIndex: 2})
	f := func(key, alt string, want AppendResult) {
		t.Helper()
		before := counts(t, l)
		require_Equal(t, appendOne(t, l, withKeys(key, alt, "again")), want)
		if want.Duplicate {
			require_Equal(t, counts(t, l), before)
		}
	}
	dupOfFirst := AppendResult{ID: first.ID, Duplicate: true}
	f("d-2", "sig-a", dupOfFirst) // a replay under a new id
	f("d-1", "sig-b", dupOfFirst) // a retry, signed again
	f("d-1", "", dupOfFirst)
	f("", "sig-a", dupOfFirst)
	// The two keys are two key spaces' only by what the caller puts in
	// them: the wal compares bytes.
	require_Equal(t, appendOne(t, l, withKeys("sig-a", "", "x")), dupOfFirst)

	// Within one call.
	evs := []AppendEvent{withKeys("d-3", "sig-c", "a"), withKeys("d-4", "sig-c", "b"), withKeys("d-3", "sig-d", "c"), withKeys("", "sig-e", "d")}
	res := make([]AppendResult, len(evs))
	require_NoError(t, l.Append(evs, res))
	require_Equal(t, res[0].Duplicate, false)
	require_Equal(t, res[1], AppendResult{ID: res[0].ID, Duplicate: true})
	require_Equal(t, res[2], AppendResult{ID: res[0].ID, Duplicate: true})
	require_Equal(t, res[3].Duplicate, false)
	cutoff := cutoffBetween()
	young := appendOne(t, l, withKeys("d-9", "sig-z", "young"))

	require_NoError(t, l.Close())
	l = reopenLog(t, dir, nil)
	f("d-5", "sig-c", AppendResult{ID: res[0].ID, Duplicate: true})
	f("d-9", "", AppendResult{ID: young.ID, Duplicate: true})

	// Retention takes both keys of each expired event, and only those.
	st, err := l.Expire(context.Background(), cutoff)
	require_NoError(t, err)
	require_Equal(t, st.IdempotencyKeys, 5) // d-1, sig-a, d-3, sig-c, sig-e
	require_Equal(t, counts(t, l).IdempotencyKeys, 2)
	require_Equal(t, counts(t, l).IdempotencyIndex, 2)
	require_Equal(t, appendOne(t, l, withKeys("d-7", "sig-a", "new")).Duplicate, false)
	require_Equal(t, appendOne(t, l, withKeys("d-8", "sig-z", "new")), AppendResult{ID: young.ID, Duplicate: true})
}

func TestIdempotencyConcurrent(t *testing.T) {
	const n = 8
	l, _ := openLog(t, nil)
	f := func(key string) {
		t.Helper()
		var wg sync.WaitGroup
		results := make([]AppendResult, n)
		errs := make([]error, n)
		start := make(chan struct{})
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ev := mkEvent("acme", fmt.Appendf(nil, "from %d", i), testEndpoint(1))
				ev.IdempotencyKey = key
				<-start
				errs[i] = l.Append([]AppendEvent{ev}, results[i:i+1])
			}()
		}
		close(start)
		wg.Wait()
		fresh := 0
		for i := range results {
			require_NoError(t, errs[i])
			require_Equal(t, results[i].ID, results[0].ID)
			if !results[i].Duplicate {
				fresh++
			}
		}
		require_Equal(t, fresh, 1)
	}
	for i := 0; i < 20; i++ {
		f(fmt.Sprintf("key-%d", i))
	}
	require_Equal(t, counts(t, l), Counts{Events: 20, Queued: 20, IdempotencyKeys: 20, IdempotencyIndex: 20})
}

func TestIdempotencySurvivesReopen(t *testing.T) {
	l, dir := openLog(t, nil)
	ev := mkEvent("acme", []byte("x"), testEndpoint(1))
	ev.IdempotencyKey = "order-42"
	first := appendOne(t, l, ev)
	require_NoError(t, l.Close())

	l = reopenLog(t, dir, nil)
	dup := appendOne(t, l, ev)
	require_Equal(t, dup, AppendResult{ID: first.ID, Duplicate: true})
	require_Equal(t, counts(t, l), Counts{Events: 1, Queued: 1, IdempotencyKeys: 1, IdempotencyIndex: 1})
}
