package wal

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// filterOpts plans the idempotency filter's first segments for 4 keys, so
// a test spans several.
func filterOpts() *Options { return &Options{idemSegmentKeys: 4} }

// keyedEvent is an event with an idempotency key and, if alt is not
// empty, a second one.
func keyedEvent(key, alt string) AppendEvent {
	ev := mkEvent("acme", []byte(key), testEndpoint(1))
	ev.IdempotencyKey, ev.AltIdempotencyKey = key, alt
	return ev
}

// requireDuplicate fails unless appending ev is answered as a duplicate of want.
func requireDuplicate(t *testing.T, l *Log, ev AppendEvent, want ID) {
	t.Helper()
	res := appendOne(t, l, ev)
	require_True(t, res.Duplicate, "key %q / %q made a new event %s, want a duplicate of %s", ev.IdempotencyKey, ev.AltIdempotencyKey, res.ID, want)
	require_Equal(t, res.ID, want)
}

// writeKeyed writes n events, each with a key and, every other one, a
// second key, in groups of one to three events. It returns the events' IDs
// by key (both keys name the same).
func writeKeyed(t *testing.T, l *Log, name string, n int) map[string]ID {
	t.Helper()
	ids := map[string]ID{}
	for i := 0; i < n; {
		var evs []AppendEvent
		for j := 0; j <= i%3 && i < n; i, j = i+1, j+1 {
			key := fmt.Sprintf("%s-%d", name, i)
			alt := ""
			if i%2 == 1 {
				alt = "sig-" + key
			}
			evs = append(evs, keyedEvent(key, alt))
		}
		res := make([]AppendResult, len(evs))
		require_NoError(t, l.Append(evs, res))
		for j, ev := range evs {
			require_True(t, !res[j].Duplicate, "fresh key %q answered as a duplicate", ev.IdempotencyKey)
			ids[ev.IdempotencyKey] = res[j].ID
			if ev.AltIdempotencyKey != "" {
				ids[ev.AltIdempotencyKey] = res[j].ID
			}
		}
	}
	return ids
}

// requireAllDuplicates checks every key written by writeKeyedPeriods, by
// itself as IdempotencyKey and as AltIdempotencyKey beside a fresh key.
func requireAllDuplicates(t *testing.T, l *Log, ids map[string]ID) {
	t.Helper()
	for key, id := range ids {
		requireDuplicate(t, l, keyedEvent(key, ""), id)
		requireDuplicate(t, l, keyedEvent("fresh-"+key+"-"+time.Now().String(), key), id)
	}
}

// TestIdemFilterDuplicates: a duplicate is found, whichever key form
// names it, in the same group, a later one, after the memtable is flushed
// and after a restart that rebuilds the filter from the x index, with the
// keys spread over several segments.
func TestIdemFilterDuplicates(t *testing.T) {
	opts := filterOpts()
	l, dir := openLog(t, opts)

	// The same group: one Append holding both events.
	evs := []AppendEvent{keyedEvent("same-1", "same-sig"), keyedEvent("same-2", "same-sig"), keyedEvent("same-1", "")}
	res := make([]AppendResult, len(evs))
	require_NoError(t, l.Append(evs, res))
	require_True(t, !res[0].Duplicate && res[1].Duplicate && res[2].Duplicate, "results %+v", res)
	require_Equal(t, res[1].ID, res[0].ID)
	require_Equal(t, res[2].ID, res[0].ID)

	ids := writeKeyed(t, l, "k", 40)
	ids["same-1"], ids["same-sig"] = res[0].ID, res[0].ID
	st := l.IdempotencyFilter()
	require_Equal(t, st.Keys, uint64(len(ids)))
	// 62 keys in segments planned for 4, 4, 4, 6, 9, 13, 20, 30.
	require_Equal(t, st.Segments, 8)

	requireAllDuplicates(t, l, ids) // later groups, keys in the memtable
	require_NoError(t, l.db.Flush())
	requireAllDuplicates(t, l, ids) // in an sstable

	require_NoError(t, l.Close())
	l = reopenLog(t, dir, opts)
	st = l.IdempotencyFilter()
	// Each key was written once: the fresh keys of requireAllDuplicates
	// were duplicates through their second key and stored nothing.
	require_Equal(t, st.Keys, uint64(len(ids)))
	require_Equal(t, st.Segments, 8)
	requireAllDuplicates(t, l, ids)
}

// TestIdemFilterConsulted: fresh keys are answered by the filter without
// a read, and a key the filter lacks is not read at all: the test fails
// if lookups bypass the filter.
func TestIdemFilterConsulted(t *testing.T) {
	l, _ := openLog(t, nil)
	const n = 200
	ids := make([]ID, n)
	for i := range ids {
		ids[i] = appendOne(t, l, keyedEvent(fmt.Sprintf("order-%d", i), "")).ID
	}
	st := l.IdempotencyFilter()
	// One lookup per fresh key; a segment planned for 64 Ki keys and
	// holding 200 has a false-positive rate far below 1 in 200.
	require_Equal(t, st.Skipped, uint64(n))
	require_Equal(t, st.Gets, uint64(0))
	for i := range ids {
		requireDuplicate(t, l, keyedEvent(fmt.Sprintf("order-%d", i), ""), ids[i])
	}
	st = l.IdempotencyFilter()
	require_Equal(t, st.Gets, uint64(n))
	require_Equal(t, st.FalsePositives, uint64(0))

	// Empty the filter behind the writer's back: a stored key is then
	// taken for a fresh one, which only a lookup that trusts the filter
	// does.
	l.idem.mu.Lock()
	l.idem.segs = nil
	l.idem.mu.Unlock()
	res := appendOne(t, l, keyedEvent("order-0", ""))
	require_True(t, !res.Duplicate, "a key missing from the filter was read from the store")
}

// TestIdemFilterExpire: Expire drops the segments whose keys are all
// below its cutoff; an expired key then makes a new event, whether its
// segment was dropped or kept (a false positive), and a live one is still
// a duplicate, in the same run and after a restart.
func TestIdemFilterExpire(t *testing.T) {
	opts := filterOpts()
	l, dir := openLog(t, opts)
	old := writeKeyed(t, l, "old", 30)
	cutoff := cutoffBetween()
	young := writeKeyed(t, l, "young", 10)
	before := l.IdempotencyFilter()

	_, err := l.Expire(context.Background(), cutoff)
	require_NoError(t, err)
	after := l.IdempotencyFilter()
	require_True(t, after.Segments < before.Segments, "Expire left %d of %d segments", after.Segments, before.Segments)
	require_True(t, after.Keys < before.Keys && after.Keys >= uint64(len(young)), "Expire left %d of %d keys, %d of them live", after.Keys, before.Keys, len(young))

	requireAllDuplicates(t, l, young)
	// The old events' 45 keys end in the segment planned for keys 41-60,
	// which the young keys fill and keep.
	fp := l.IdempotencyFilter().FalsePositives
	for key, id := range old {
		res := appendOne(t, l, keyedEvent(key, ""))
		require_True(t, !res.Duplicate && res.ID != id, "expired key %q is still a duplicate of %s", key, id)
		old[key] = res.ID // live now
	}
	require_True(t, l.IdempotencyFilter().FalsePositives >= fp+5, "no expired key was found in a kept segment")

	require_NoError(t, l.Close())
	l = reopenLog(t, dir, opts)
	requireAllDuplicates(t, l, young)
	for key, id := range old {
		requireDuplicate(t, l, keyedEvent(key, ""), id)
	}
}

// TestIdemFilterSegments adds keys past many segments' plans and finds
// each; keys never added are mostly answered "absent", within the planned
// rate. Hashing is fixed, so the counts are too. expire drops exactly the
// segments whose newest event is below its cutoff.
func TestIdemFilterSegments(t *testing.T) {
	f := newIdemFilter(1000)
	const n = 100_000
	key := func(i int) []byte { return fmt.Appendf(nil, "acme\x00key-%d", i) }
	for i := 0; i < n; i++ {
		f.add(key(i), IDAt(int64(i)))
	}
	// Plans 1000, 1000, 1000, 1500, 2250, ...: each half the keys before it.
	f.mu.Lock()
	var live uint
	for i, s := range f.segs {
		require_Equal(t, s.plan, max(1000, live/2))
		require_True(t, s.keys == s.plan || i == len(f.segs)-1, "segment %d of %d holds %d keys, planned for %d", i, len(f.segs), s.keys, s.plan)
		live += s.keys
	}
	nsegs := len(f.segs)
	f.mu.Unlock()
	require_Equal(t, nsegs, 12)
	for i := 0; i < n; i++ {
		require_True(t, f.mayContain(key(i)), "key %q missing", key(i))
	}
	fp := 0
	const probes = 100_000
	for i := 0; i < probes; i++ {
		if f.mayContain(fmt.Appendf(nil, "acme\x00other-%d", i)) {
			fp++
		}
	}
	require_True(t, fp < probes*nsegs*82/10000, "%d false positives in %d", fp, probes)
	t.Logf("%d false positives in %d probes over %d segments", fp, probes, nsegs)

	// Each segment holds the keys (and event times) after the previous
	// one's: cut in the middle of the fourth.
	f.mu.Lock()
	cutoff := f.segs[2].newestMs + 2
	keep := f.segs[3]
	f.mu.Unlock()
	f.expire(cutoff)
	f.mu.Lock()
	require_Equal(t, len(f.segs), nsegs-3)
	require_True(t, f.segs[0] == keep, "expire kept the wrong segments")
	f.mu.Unlock()
	for i := int(cutoff); i < n; i++ {
		require_True(t, f.mayContain(key(i)), "key %q missing after expire", key(i))
	}
	f.expire(n)
	require_Equal(t, f.stats().Segments, 0)
}
