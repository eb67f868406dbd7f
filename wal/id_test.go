package wal

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// TestIDLess: Less agrees with the byte order of the keys, including IDs
// that differ only in their last byte or only in their first.
func TestIDLess(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	f := func(a, b ID) {
		t.Helper()
		if got, want := a.Less(b), bytes.Compare(a[:], b[:]) < 0; got != want {
			t.Fatalf("%x.Less(%x) = %v; want %v", a, b, got, want)
		}
	}
	var a, b ID
	f(a, b)
	b[15] = 1
	f(a, b)
	f(b, a)
	a[0] = 1
	f(a, b)
	f(b, a)
	for range 10000 {
		for i := range a {
			a[i], b[i] = byte(rng.IntN(3)), byte(rng.IntN(3))
		}
		f(a, b)
	}
}

func TestIDsIncreaseSequentially(t *testing.T) {
	l, _ := openLog(t, nil)
	ep := testEndpoint(1)
	var ids []ID
	for i := 0; i < 200; i++ {
		ids = append(ids, appendOne(t, l, mkEvent("t", []byte("x"), ep)).ID)
	}
	// Batches: IDs inside one call and across calls keep increasing.
	for i := 0; i < 10; i++ {
		evs := make([]AppendEvent, 50)
		for j := range evs {
			evs[j] = mkEvent("t", []byte("y"), ep)
		}
		res := make([]AppendResult, len(evs))
		require_NoError(t, l.Append(evs, res))
		for _, r := range res {
			ids = append(ids, r.ID)
		}
	}
	requireSorted(t, ids)
	require_DeepEqual(t, queued(t, l, ep), ids)
	// IDs carry the commit time.
	now := time.Now()
	for _, id := range []ID{ids[0], ids[len(ids)-1]} {
		d := now.Sub(id.Time())
		require_True(t, d >= 0 && d < time.Minute, "id %s has time %v, now is %v", id, id.Time(), now)
	}
}

func TestConcurrentAppends(t *testing.T) {
	const workers, perWorker = 16, 500
	l, _ := openLog(t, nil)
	ep := testEndpoint(7)
	ids := make([][]ID, workers)
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var res [1]AppendResult
			for i := 0; i < perWorker; i++ {
				ev := mkEvent(fmt.Sprintf("w%d", w), fmt.Appendf(nil, "body %d/%d", w, i), ep)
				if err := l.Append([]AppendEvent{ev}, res[:]); err != nil {
					errs <- err
					return
				}
				ids[w] = append(ids[w], res[0].ID)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require_NoError(t, err)
	}

	all := make(map[ID]string, workers*perWorker)
	for w := range ids {
		require_Equal(t, len(ids[w]), perWorker)
		// One goroutine's appends are ordered, so its IDs must be too.
		requireSorted(t, ids[w])
		for i, id := range ids[w] {
			_, dup := all[id]
			require_True(t, !dup, "id %s handed out twice", id)
			all[id] = fmt.Sprintf("body %d/%d", w, i)
		}
	}
	require_Equal(t, counts(t, l), Counts{Events: workers * perWorker, Queued: workers * perWorker})

	q := queued(t, l, ep)
	require_Equal(t, len(q), workers*perWorker)
	requireSorted(t, q)
	var r EventRecord
	var buf EventBuf
	for _, id := range q {
		want, ok := all[id]
		require_True(t, ok, "queued id %s was never returned by Append", id)
		require_NoError(t, l.ReadEvent(id, &r, &buf))
		require_Equal(t, string(r.Body), want)
	}
}

func TestConcurrentAppendsSmallGroups(t *testing.T) {
	f := func(maxGroup int) {
		t.Helper()
		l, _ := openLog(t, &Options{MaxGroupRequests: maxGroup})
		var wg sync.WaitGroup
		var failed sync.Map
		for w := 0; w < 8; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < 25; i++ {
					evs := []AppendEvent{mkEvent("t", []byte("a"), testEndpoint(1)), mkEvent("t", []byte("b"), testEndpoint(1))}
					if err := l.Append(evs, make([]AppendResult, 2)); err != nil {
						failed.Store(w, err)
					}
				}
			}()
		}
		wg.Wait()
		failed.Range(func(_, v any) bool { t.Fatalf("append failed: %v", v); return false })
		require_Equal(t, counts(t, l), Counts{Events: 400, Queued: 400})
		requireSorted(t, queued(t, l, testEndpoint(1)))
	}
	f(1)
	f(2)
	f(1024)
}

func TestIDsIncreaseAcrossReopen(t *testing.T) {
	l, dir := openLog(t, nil)
	ep := testEndpoint(1)
	var before []ID
	for i := 0; i < 20; i++ {
		before = append(before, appendOne(t, l, mkEvent("t", []byte("x"), ep)).ID)
	}
	require_NoError(t, l.Close())

	l = reopenLog(t, dir, nil)
	require_Equal(t, l.ids.last, before[len(before)-1])
	after := append([]ID(nil), before...)
	for i := 0; i < 20; i++ {
		after = append(after, appendOne(t, l, mkEvent("t", []byte("y"), ep)).ID)
	}
	requireSorted(t, after)
	require_DeepEqual(t, queued(t, l, ep), after)
}

func TestIDsIncreaseAfterClockWentBackAcrossReopen(t *testing.T) {
	l, dir := openLog(t, nil)
	// An event committed while the clock read 2100: after a restart with a
	// correct clock, new IDs must still sort after it.
	var g idGen
	future := g.next(time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC))
	require_NoError(t, l.db.Set(eventKey(nil, future), l.codec.appendEvent(nil, 1, "t", "x", nil), pebble.Sync))
	require_NoError(t, l.Close())

	l = reopenLog(t, dir, nil)
	id := appendOne(t, l, mkEvent("t", []byte("x"))).ID
	requireSorted(t, []ID{future, id})
	require_Equal(t, id.Time().Year(), 2100)
}

func TestIDGen(t *testing.T) {
	base := time.UnixMilli(1_700_000_000_000)
	f := func(last ID, now time.Time, wantMs int64) {
		t.Helper()
		g := idGen{last: last}
		id := g.next(now)
		require_Equal(t, g.last, id)
		require_Equal(t, id.Time().UnixMilli(), wantMs)
		requireSorted(t, []ID{last, id})
		// A second call in the same millisecond still increases.
		id2 := g.next(now)
		requireSorted(t, []ID{id, id2})
		require_Equal(t, id2.Time().UnixMilli(), wantMs)
	}
	var g idGen
	atBase := g.next(base)
	require_Equal(t, atBase[6]&0x80, byte(0)) // headroom for increments
	maxLo := atBase
	for i := 8; i < 16; i++ {
		maxLo[i] = 0xff
	}

	f(ID{}, base, base.UnixMilli())                           // first ID
	f(atBase, base, base.UnixMilli())                         // same millisecond
	f(atBase, base.Add(time.Millisecond), base.UnixMilli()+1) // clock moved on
	f(atBase, base.Add(-time.Hour), base.UnixMilli())         // clock went back an hour
	f(atBase, base.Add(-time.Millisecond), base.UnixMilli())  // clock went back 1 ms
	f(maxLo, base, base.UnixMilli())                          // low 64 bits carry into the high 16
	f(maxLo, time.UnixMilli(0), base.UnixMilli())             // clock at the epoch

	// The carry really carried.
	g = idGen{last: maxLo}
	id := g.next(base)
	require_Equal(t, binary.BigEndian.Uint16(id[6:8]), binary.BigEndian.Uint16(maxLo[6:8])+1)
	require_Equal(t, binary.BigEndian.Uint64(id[8:]), 0)

	// Many calls with a clock that jumps around stay strictly increasing.
	g = idGen{}
	ids := make([]ID, 0, 5000)
	for i := 0; i < 5000; i++ {
		ms := base.UnixMilli() + int64((i*7919)%13) - 6
		ids = append(ids, g.next(time.UnixMilli(ms)))
	}
	requireSorted(t, ids)
}

func TestIDStringParse(t *testing.T) {
	f := func(id ID) {
		t.Helper()
		s := id.String()
		require_Equal(t, len(s), 26)
		got, err := ParseID(s)
		require_NoError(t, err)
		require_Equal(t, got, id)
	}
	f(ID{})
	f(NewID())
	var g idGen
	f(g.next(time.Now()))

	for _, bad := range []string{"", "short", "01ARZ3NDEKTSV4RRFFQ69G5FA!", "81ARZ3NDEKTSV4RRFFQ69G5FAV0", "8ZZZZZZZZZZZZZZZZZZZZZZZZZ"} {
		_, err := ParseID(bad)
		require_Error(t, err)
	}
	require_True(t, ID{}.IsZero() && !NewID().IsZero(), "IsZero")

	// AppendString matches String, appends, and does not allocate.
	id := NewID()
	require_Equal(t, string(id.AppendString([]byte("id="))), "id="+id.String())
	dst := make([]byte, 0, 64)
	if !raceEnabled {
		require_Equal(t, testing.AllocsPerRun(100, func() { dst = id.AppendString(dst[:0]) }), 0.0)
	}
}
