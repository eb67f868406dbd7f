package wal

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// filterOpts partitions the idempotency filter into periods of periodMs and
// segments planned for 4 keys, so a test spans several of each.
func filterOpts(periodMs int64) *Options {
	return &Options{idemPeriodMs: periodMs, idemSegmentKeys: 4}
}

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

// writeKeyedPeriods writes periods*perPeriod events, each with a key and,
// every other one, a second key, sleeping past a period boundary between
// periods. It returns the events' IDs by key (both keys name the same).
func writeKeyedPeriods(t *testing.T, l *Log, name string, periodMs int64, periods, perPeriod int) map[string]ID {
	t.Helper()
	ids := map[string]ID{}
	for p := 0; p < periods; p++ {
		for i := 0; i < perPeriod; i++ {
			key := fmt.Sprintf("%s-%d-%d", name, p, i)
			alt := ""
			if i%2 == 1 {
				alt = "sig-" + key
			}
			res := appendOne(t, l, keyedEvent(key, alt))
			require_True(t, !res.Duplicate, "fresh key %q answered as a duplicate", key)
			ids[key] = res.ID
			if alt != "" {
				ids[alt] = res.ID
			}
		}
		time.Sleep(time.Duration(periodMs+1) * time.Millisecond)
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
// keys spread over several periods and segments.
func TestIdemFilterDuplicates(t *testing.T) {
	const periodMs = 20
	opts := filterOpts(periodMs)
	l, dir := openLog(t, opts)

	// The same group: one Append holding both events.
	evs := []AppendEvent{keyedEvent("same-1", "same-sig"), keyedEvent("same-2", "same-sig"), keyedEvent("same-1", "")}
	res := make([]AppendResult, len(evs))
	require_NoError(t, l.Append(evs, res))
	require_True(t, !res[0].Duplicate && res[1].Duplicate && res[2].Duplicate, "results %+v", res)
	require_Equal(t, res[1].ID, res[0].ID)
	require_Equal(t, res[2].ID, res[0].ID)

	ids := writeKeyedPeriods(t, l, "k", periodMs, 4, 9)
	ids["same-1"], ids["same-sig"] = res[0].ID, res[0].ID
	st := l.IdempotencyFilter()
	require_Equal(t, st.Keys, uint64(len(ids)))
	// 4 periods, 13 or 14 keys each (and the first group's), segments of 4
	// then 8 or more: more than one segment per period.
	require_True(t, st.Segments > 4, "%d segments for 4 periods of 13 keys planned for 4", st.Segments)

	requireAllDuplicates(t, l, ids) // later groups, keys in the memtable
	require_NoError(t, l.db.Flush())
	requireAllDuplicates(t, l, ids) // in an sstable

	require_NoError(t, l.Close())
	l = reopenLog(t, dir, opts)
	st = l.IdempotencyFilter()
	// Each key was written once: the fresh keys of requireAllDuplicates
	// were duplicates through their second key and stored nothing.
	require_Equal(t, st.Keys, uint64(len(ids)))
	require_True(t, st.Segments > 4, "%d segments after the restart", st.Segments)
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

// TestIdemFilterExpire: Expire drops the segments of the periods below its
// cutoff; an expired key then makes a new event, and a live one, in a
// period that stays, is still a duplicate, in the same run and after a
// restart.
func TestIdemFilterExpire(t *testing.T) {
	const periodMs = 30
	opts := filterOpts(periodMs)
	l, dir := openLog(t, opts)
	old := writeKeyedPeriods(t, l, "old", periodMs, 3, 5)
	time.Sleep(periodMs * time.Millisecond) // the cutoff's period holds no old key
	cutoff := cutoffBetween()
	young := writeKeyedPeriods(t, l, "young", periodMs, 2, 5)
	before := l.IdempotencyFilter()

	_, err := l.Expire(context.Background(), cutoff)
	require_NoError(t, err)
	after := l.IdempotencyFilter()
	require_True(t, after.Segments < before.Segments, "Expire left %d of %d segments", after.Segments, before.Segments)
	require_Equal(t, after.Keys, uint64(len(young)))

	requireAllDuplicates(t, l, young)
	for key, id := range old {
		res := appendOne(t, l, keyedEvent(key, ""))
		require_True(t, !res.Duplicate && res.ID != id, "expired key %q is still a duplicate of %s", key, id)
		old[key] = res.ID // live now
	}

	require_NoError(t, l.Close())
	l = reopenLog(t, dir, opts)
	requireAllDuplicates(t, l, young)
	for key, id := range old {
		requireDuplicate(t, l, keyedEvent(key, ""), id)
	}
}

// TestIdemFilterExpireKeepsCutoffPeriod: the period the cutoff falls in
// keeps its segment, with keys below the cutoff in it: those are false
// positives, whose read finds them deleted.
func TestIdemFilterExpireKeepsCutoffPeriod(t *testing.T) {
	l, _ := openLog(t, filterOpts(int64(time.Hour/time.Millisecond)))
	old := appendOne(t, l, keyedEvent("old", "")).ID
	cutoff := cutoffBetween()
	young := appendOne(t, l, keyedEvent("young", "")).ID
	_, err := l.Expire(context.Background(), cutoff)
	require_NoError(t, err)
	// Unless the hour turned between the two appends, both keys share a
	// segment that Expire keeps.
	res := appendOne(t, l, keyedEvent("old", ""))
	require_True(t, !res.Duplicate && res.ID != old, "expired key is still a duplicate")
	requireDuplicate(t, l, keyedEvent("young", ""), young)
}

// TestIdemFilterNoFalseNegatives adds keys of many periods out of order,
// past their segments' plans, and finds each; keys never added are
// mostly answered "absent", within the planned rate. Hashing is fixed, so
// the counts are too.
func TestIdemFilterNoFalseNegatives(t *testing.T) {
	f := newIdemFilter(1000, 1000)
	const periods, perPeriod = 5, 20_000
	id := func(p, i int) ID {
		ev := IDAt(int64(p*1000 + i%1000))
		ev[15] = byte(i)
		return ev
	}
	for i := 0; i < perPeriod; i++ {
		for p := periods - 1; p >= 0; p-- {
			f.add(fmt.Appendf(nil, "acme\x00key-%d-%d", p, i), id(p, i))
		}
	}
	f.mu.Lock()
	nsegs := len(f.segs)
	for i := 1; i < nsegs; i++ {
		require_True(t, f.segs[i-1].period <= f.segs[i].period, "segments out of period order at %d", i)
	}
	f.mu.Unlock()
	// 1000, 2000, 4000, 8000, 16000 per period: five segments each.
	require_Equal(t, nsegs, periods*5)
	for p := 0; p < periods; p++ {
		for i := 0; i < perPeriod; i++ {
			k := fmt.Appendf(nil, "acme\x00key-%d-%d", p, i)
			require_True(t, f.mayContain(k), "key %q missing", k)
		}
	}
	fp := 0
	const probes = 100_000
	for i := 0; i < probes; i++ {
		if f.mayContain(fmt.Appendf(nil, "acme\x00other-%d", i)) {
			fp++
		}
	}
	// 25 segments of at most 0.82% each.
	require_True(t, fp < probes*25*82/10000, "%d false positives in %d", fp, probes)
	t.Logf("%d false positives in %d probes over %d segments", fp, probes, nsegs)

	f.expire(2999)
	f.mu.Lock()
	require_Equal(t, len(f.segs), (periods-2)*5)
	require_Equal(t, f.segs[0].period, int64(2))
	f.mu.Unlock()
	for i := 0; i < perPeriod; i++ {
		k := fmt.Appendf(nil, "acme\x00key-%d-%d", 2, i)
		require_True(t, f.mayContain(k), "key %q missing after expire", k)
	}
}
