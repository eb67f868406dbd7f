package wal

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/cockroachdb/pebble/v2/vfs/errorfs"
)

func TestAppendReadEventRoundTrip(t *testing.T) {
	random64k := make([]byte, 64<<10)
	_, _ = rand.Read(random64k)

	f := func(compressAbove int, body []byte, wantZstd bool) {
		t.Helper()
		l, _ := openLog(t, &Options{CompressAbove: compressAbove})
		ev := AppendEvent{Tenant: "acme", Type: "invoice.paid", TimeMs: 1_712_345_678_901, Body: body}
		res := appendOne(t, l, ev)
		require_True(t, !res.ID.IsZero(), "zero id")
		require_Equal(t, res.Duplicate, false)

		r := readEvent(t, l, res.ID)
		require_Equal(t, r.ID, res.ID)
		require_Equal(t, string(r.Tenant), "acme")
		require_Equal(t, string(r.Type), "invoice.paid")
		require_Equal(t, r.TimeMs, int64(1_712_345_678_901))
		require_Bytes(t, r.Body, body)

		// Look at the stored value itself: the flag byte and, for a
		// compressible body, that it is really smaller on disk.
		raw, closer, err := l.db.Get(eventKey(nil, res.ID))
		require_NoError(t, err)
		defer closer.Close()
		require_Equal(t, raw[0], byte(recordVersion))
		require_Equal(t, raw[1]&flagZstd != 0, wantZstd)
		if !wantZstd {
			require_True(t, bytes.HasSuffix(raw, body), "uncompressed record does not end with the body")
		}
	}
	// Default threshold is 4096: bodies up to and including it stay plain.
	f(0, nil, false)
	f(0, []byte(`{"a":1}`), false)
	f(0, compressible(4096), false)
	f(0, compressible(4097), true)
	f(0, compressible(64<<10), true)
	f(0, random64k, true)
	// A custom threshold.
	f(100, compressible(100), false)
	f(100, compressible(101), true)
	// Negative disables compression whatever the size.
	f(-1, compressible(64<<10), false)
	f(-1, random64k, false)
}

func TestAppendCompressedIsSmallerOnDisk(t *testing.T) {
	f := func(compressAbove int, wantSmaller bool) {
		t.Helper()
		l, _ := openLog(t, &Options{CompressAbove: compressAbove})
		body := compressible(64 << 10)
		res := appendOne(t, l, mkEvent("acme", body))
		raw, closer, err := l.db.Get(eventKey(nil, res.ID))
		require_NoError(t, err)
		n := len(raw)
		_ = closer.Close()
		if wantSmaller {
			require_True(t, n < len(body)/4, "compressed record of %d bytes for a %d-byte compressible body", n, len(body))
		} else {
			require_True(t, n > len(body), "plain record of %d bytes for a %d-byte body", n, len(body))
		}
		require_Bytes(t, readEvent(t, l, res.ID).Body, body)
	}
	f(0, true)
	f(-1, false)
}

func TestAppendManyEventsInOneCall(t *testing.T) {
	l, _ := openLog(t, nil)
	a, b := testEndpoint(1), testEndpoint(2)
	evs := []AppendEvent{
		{Tenant: "t1", Type: "a", TimeMs: 1, Body: []byte("one"), Endpoints: []ID{a}},
		{Tenant: "t2", Type: "bb", TimeMs: 2, Body: compressible(10 << 10), Endpoints: []ID{a, b}},
		{Tenant: "", Type: "", TimeMs: -5, Body: nil},
		{Tenant: "t3", Type: strings.Repeat("x", 300), TimeMs: math.MaxInt64, Body: []byte{0, 1, 2}, Endpoints: []ID{b}},
	}
	res := make([]AppendResult, len(evs))
	require_NoError(t, l.Append(evs, res))
	ids := make([]ID, len(res))
	for i, r := range res {
		require_Equal(t, r.Duplicate, false)
		ids[i] = r.ID
		got := readEvent(t, l, r.ID)
		require_Equal(t, string(got.Tenant), evs[i].Tenant)
		require_Equal(t, string(got.Type), evs[i].Type)
		require_Equal(t, got.TimeMs, evs[i].TimeMs)
		require_Bytes(t, got.Body, evs[i].Body)
	}
	requireSorted(t, ids)
	require_DeepEqual(t, queued(t, l, a), []ID{ids[0], ids[1]})
	require_DeepEqual(t, queued(t, l, b), []ID{ids[1], ids[3]})
	require_Equal(t, counts(t, l), Counts{Events: 4, Queued: 4})
}

func TestAppendEmptyAndShortResults(t *testing.T) {
	l, _ := openLog(t, nil)
	require_NoError(t, l.Append(nil, nil))
	require_Equal(t, counts(t, l), Counts{})

	defer func() {
		r := recover()
		require_True(t, r != nil && strings.HasPrefix(fmt.Sprint(r), "BUG:"), "want a BUG panic, got %v", r)
	}()
	_ = l.Append(make([]AppendEvent, 2), make([]AppendResult, 1))
}

func TestReadEventReusesBuffers(t *testing.T) {
	l, _ := openLog(t, nil)
	small, large := []byte("small body"), compressible(20<<10)
	ids := []ID{appendOne(t, l, mkEvent("a", large)).ID, appendOne(t, l, mkEvent("b", small)).ID, appendOne(t, l, mkEvent("c", large)).ID}
	want := [][]byte{large, small, large}
	var r EventRecord
	var buf EventBuf
	for round := 0; round < 2; round++ {
		for i, id := range ids {
			require_NoError(t, l.ReadEvent(id, &r, &buf))
			require_Bytes(t, r.Body, want[i])
			require_Equal(t, string(r.Tenant), string([]byte{'a' + byte(i)}))
		}
	}
}

func TestReadEventNotFound(t *testing.T) {
	l, _ := openLog(t, nil)
	var r EventRecord
	var buf EventBuf
	require_Error(t, l.ReadEvent(NewID(), &r, &buf), ErrNotFound)
	id := appendOne(t, l, mkEvent("t", []byte("x"))).ID
	require_NoError(t, l.ReadEvent(id, &r, &buf))
	other := id
	other[15] ^= 0xff
	require_Error(t, l.ReadEvent(other, &r, &buf), ErrNotFound)
}

func TestReadEventCorruptRecord(t *testing.T) {
	l, _ := openLog(t, nil)
	f := func(val []byte) {
		t.Helper()
		id := NewID()
		require_NoError(t, l.db.Set(eventKey(nil, id), val, pebble.Sync))
		var r EventRecord
		var buf EventBuf
		require_Error(t, l.ReadEvent(id, &r, &buf), errCorrupt)
	}
	f(nil)
	f([]byte{recordVersion})
	f([]byte{9, 0, 1, 0, 0})
	f([]byte{recordVersion, 0, 0x80})
	f([]byte{recordVersion, 0, 1, 5, 'a'})
	f([]byte{recordVersion, flagZstd, 1, 0, 0, 'n', 'o', 't', ' ', 'z', 's', 't', 'd'})
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

func TestCloseTwice(t *testing.T) {
	l, _ := openLog(t, nil)
	require_NoError(t, l.Close())
	require_Error(t, l.Close(), ErrClosed)
	require_Error(t, l.Append([]AppendEvent{mkEvent("t", nil)}, make([]AppendResult, 1)), ErrClosed)
}

// TestErrClosed checks the promise of ErrClosed ("returned by calls made after
// Close") for every method, not only Append: none may panic.
func TestErrClosed(t *testing.T) {
	l, _ := openLog(t, nil)
	id := appendOne(t, l, mkEvent("t", []byte("x"), testEndpoint(1))).ID
	require_NoError(t, l.Close())

	f := func(name string, call func() error) {
		t.Helper()
		var err error
		panicked := func() (p any) {
			defer func() { p = recover() }()
			err = call()
			return nil
		}()
		if panicked != nil {
			t.Errorf("%s after Close panicked: %v", name, panicked)
			return
		}
		if !errors.Is(err, ErrClosed) {
			t.Errorf("%s after Close returned %v, want ErrClosed", name, err)
		}
	}
	f("Append", func() error { return l.Append([]AppendEvent{mkEvent("t", nil)}, make([]AppendResult, 1)) })
	f("Close", l.Close)
	f("ReadEvent", func() error { var r EventRecord; var b EventBuf; return l.ReadEvent(id, &r, &b) })
	f("ScanQueue", func() error { _, err := l.ScanQueue(testEndpoint(1), ID{}, 10, func(ID) {}); return err })
	f("ScanRetries", func() error { return l.ScanRetries(0, math.MaxInt64, func(Retry) bool { return true }) })
	f("RecordAttempt", func() error {
		return l.RecordAttempt(&Move{Endpoint: testEndpoint(1), Event: id, Attempt: Attempt{Attempt: 1, Outcome: OutcomeSuccess}})
	})
	f("ScanDead", func() error { return l.ScanDead(testEndpoint(1), func(DeadLetter) {}) })
	f("ScanAttempts", func() error { return l.ScanAttempts(testEndpoint(1), id, func(*Attempt) error { return nil }) })
	f("Count", func() error { _, err := l.Count(); return err })
	f("PutTenant", func() error { return l.PutTenant("t", nil) })
	f("DeleteTenant", func() error { return l.DeleteTenant("t") })
	f("Fence", func() error { _, err := l.Fence(); return err })
	f("PendingPurges", func() error { return l.PendingPurges(func(string, ID) {}) })
	f("PurgeTenant", func() error { _, err := l.PurgeTenant(context.Background(), "t", id); return err })
	f("Tenants", func() error { return l.Tenants(func(string, []byte) error { return nil }) })
	f("PutEndpoint", func() error { return l.PutEndpoint(testEndpoint(1), nil) })
	f("DeleteEndpoint", func() error { return l.DeleteEndpoint(testEndpoint(1)) })
	f("SoftDeleteEndpoint", func() error { return l.SoftDeleteEndpoint(testEndpoint(1), nil) })
	f("CompactEndpoint", func() error { return l.CompactEndpoint(testEndpoint(1)) })
	f("Endpoints", func() error { return l.Endpoints(func(ID, []byte) error { return nil }) })
	f("DeleteRetry", func() error { return l.DeleteRetry(Retry{DueMs: 1, Endpoint: testEndpoint(1), Event: id}) })
	f("PutHealth", func() error { return l.PutHealth([]HealthHour{{Endpoint: testEndpoint(1), Hour: 1}}) })
	f("ScanHealth", func() error { return l.ScanHealth(testEndpoint(1), 0, 10, func(uint32, []byte) {}) })
	f("DeleteHealthBefore", func() error { _, err := l.DeleteHealthBefore(10); return err })
	f("DiskUsage", func() error {
		if n := l.DiskUsage(); n != 0 {
			return fmt.Errorf("DiskUsage after Close = %d", n)
		}
		return ErrClosed
	})
}

// TestAppendRacingClose: appends that race Close either return ErrClosed or
// are committed; none hangs, none is lost.
func TestAppendRacingClose(t *testing.T) {
	l, dir := openLog(t, nil)
	ep := testEndpoint(1)
	var mu sync.Mutex
	var ok []ID
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var res [1]AppendResult
			for {
				err := l.Append([]AppendEvent{mkEvent("t", []byte("x"), ep)}, res[:])
				if errors.Is(err, ErrClosed) {
					return
				}
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				ok = append(ok, res[0].ID)
				mu.Unlock()
			}
		}()
	}
	// Close once appends are committing: the writers go on appending, so
	// Close still races them. (A fixed 50 ms could pass before any append
	// finished on a loaded machine, and the test proved nothing.)
	waitFor(t, "an append to finish", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(ok) > 0
	})
	require_NoError(t, l.Close())
	wg.Wait()
	close(errs)
	for err := range errs {
		require_NoError(t, err)
	}

	l = reopenLog(t, dir, nil)
	require_Equal(t, counts(t, l).Events, len(ok))
	q := queued(t, l, ep)
	require_Equal(t, len(q), len(ok))
	set := make(map[ID]bool, len(q))
	for _, id := range q {
		set[id] = true
	}
	for _, id := range ok {
		require_True(t, set[id], "append of %s returned nil but the event is gone", id)
	}
}

// TestLargeBody: a body larger than the zstd decoder's memory limit (64 MiB)
// is accepted by Append, so ReadEvent must give it back.
func TestLargeBody(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates ~200 MiB")
	}
	l, _ := openLog(t, nil)
	body := make([]byte, 65<<20)
	for i := range body {
		body[i] = byte(i / 4096)
	}
	res := appendOne(t, l, mkEvent("t", body))
	var r EventRecord
	var buf EventBuf
	require_NoError(t, l.ReadEvent(res.ID, &r, &buf))
	require_Equal(t, len(r.Body), len(body))
	require_True(t, bytes.Equal(r.Body, body), "large body differs")
}

// TestGroupCommit checks that concurrent Appends share fsyncs: the WAL's
// syncs are slowed to 2 ms and counted, and 16 concurrent publishers must
// need far fewer syncs than appends. MaxGroupRequests=1 turns grouping off,
// which also shows the counter sees every sync.
func TestGroupCommit(t *testing.T) {
	const workers, perWorker = 16, 10
	f := func(maxGroup int, wantGrouped bool) {
		t.Helper()
		var syncs atomic.Int64
		slowSync := errorfs.InjectorFunc(func(op errorfs.Op) error {
			switch op.Kind {
			case errorfs.OpFileSync, errorfs.OpFileSyncData, errorfs.OpFileSyncTo:
				if strings.HasSuffix(op.Path, ".log") {
					syncs.Add(1)
					time.Sleep(2 * time.Millisecond)
				}
			}
			return nil
		})
		fs := errorfs.Wrap(vfs.NewMem(), slowSync)
		l, err := Open("db", &Options{FS: fs, MaxGroupRequests: maxGroup})
		require_NoError(t, err)
		defer l.Close()

		before := syncs.Load()
		var wg sync.WaitGroup
		var failures atomic.Int64
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var res [1]AppendResult
				for i := 0; i < perWorker; i++ {
					if err := l.Append([]AppendEvent{mkEvent("t", []byte("x"), testEndpoint(1))}, res[:]); err != nil {
						failures.Add(1)
					}
				}
			}()
		}
		wg.Wait()
		n := syncs.Load() - before
		t.Logf("MaxGroupRequests=%d: %d WAL syncs for %d appends", maxGroup, n, workers*perWorker)
		require_Equal(t, failures.Load(), int64(0))
		require_Equal(t, counts(t, l).Events, workers*perWorker)
		if wantGrouped {
			require_True(t, n <= workers*perWorker/3, "%d WAL syncs for %d concurrent appends: no group commit", n, workers*perWorker)
		} else {
			require_True(t, n >= workers*perWorker, "%d WAL syncs for %d appends with MaxGroupRequests=1", n, workers*perWorker)
		}
	}
	f(1024, true)
	f(1, false)
}

// TestOnCommit: the hook sees every group commit that wrote something, with
// the events written (duplicates excluded) and a positive duration.
func TestOnCommit(t *testing.T) {
	var mu sync.Mutex
	var commits, events int
	var minTook time.Duration = math.MaxInt64
	l, _ := openLog(t, &Options{OnCommit: func(n int, d time.Duration) {
		mu.Lock()
		defer mu.Unlock()
		commits++
		events += n
		minTook = min(minTook, d)
	}})
	// The writer calls the hook after it releases the appenders, so an
	// Append can return before its commit is counted (a loaded machine
	// showed it): got waits, up to a minute against a hang, until at least
	// want events were counted.
	got := func(want int) (int, int) {
		t.Helper()
		for deadline := time.Now().Add(time.Minute); ; time.Sleep(time.Millisecond) {
			mu.Lock()
			c, n := commits, events
			mu.Unlock()
			if n >= want || time.Now().After(deadline) {
				return c, n
			}
		}
	}
	appendOne(t, l, mkEvent("t", []byte("x"), testEndpoint(1)))
	c, n := got(1)
	require_Equal(t, c, 1)
	require_Equal(t, n, 1)

	evs := make([]AppendEvent, 10)
	for i := range evs {
		evs[i] = mkEvent("t", []byte("y"))
	}
	require_NoError(t, l.Append(evs, make([]AppendResult, len(evs))))
	c, n = got(11)
	require_Equal(t, c, 2)
	require_Equal(t, n, 11)

	// A duplicate writes nothing: no commit, no event.
	ev := mkEvent("t", []byte("z"))
	ev.IdempotencyKey = "k"
	appendOne(t, l, ev)
	require_True(t, appendOne(t, l, ev).Duplicate, "second append with key k is not a duplicate")
	c, n = got(12)
	require_Equal(t, c, 3)
	require_Equal(t, n, 12)
	mu.Lock()
	require_True(t, minTook > 0, "a commit took %s", minTook)
	mu.Unlock()

	// Concurrent appends share commits; every event is still counted once.
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				appendOne(t, l, mkEvent("t", []byte("w")))
			}
		}()
	}
	wg.Wait()
	c, n = got(12 + 8*20)
	require_Equal(t, n, 12+8*20)
	require_True(t, c > 3 && c <= 3+8*20, "%d commits", c)
}

// TestCloseWhileCallbackReenters: scan callbacks naturally call back into the
// Log (a lane reads the events it finds in its queue; the retry scheduler
// deletes retries whose endpoint is gone). If Close runs meanwhile, the inner
// call must return (ErrClosed is fine) rather than wait for Close, which
// waits for the outer call: that would hang shutdown for good.
func TestCloseWhileCallbackReenters(t *testing.T) {
	f := func(name string, scan func(l *Log, inner func(ev ID, r Retry)) error, inner func(l *Log, ev ID, r Retry) error) {
		t.Helper()
		// No Cleanup Close: if this deadlocks, Close would hang the cleanup too.
		l, err := Open(t.TempDir(), nil)
		require_NoError(t, err)
		ep := testEndpoint(1)
		ev := appendOne(t, l, mkEvent("t", []byte("x"), ep)).ID
		require_NoError(t, l.RecordAttempt(&Move{Endpoint: ep, Event: ev, Attempt: Attempt{Attempt: 1, Outcome: OutcomeRetry, NextMs: 10}}))
		appendOne(t, l, mkEvent("t", []byte("y"), ep))

		done := make(chan error, 3)
		go func() {
			done <- scan(l, func(ev ID, r Retry) {
				go func() { done <- l.Close() }()
				time.Sleep(50 * time.Millisecond) // let Close start waiting
				if err := inner(l, ev, r); err != nil && !errors.Is(err, ErrClosed) && !errors.Is(err, ErrNotFound) {
					done <- fmt.Errorf("inner call: %w", err)
				}
			})
		}()
		for i := 0; i < 2; i++ {
			select {
			case err := <-done:
				if err != nil && !errors.Is(err, ErrClosed) {
					t.Fatalf("%s: %v", name, err)
				}
			case <-time.After(eventually):
				t.Fatalf("%s: a Log call made from a scan callback hangs while Close waits (deadlock)", name)
			}
		}
	}
	f("ReadEvent inside ScanQueue",
		func(l *Log, inner func(ID, Retry)) error {
			_, err := l.ScanQueue(testEndpoint(1), ID{}, 1, func(ev ID) { inner(ev, Retry{}) })
			return err
		},
		func(l *Log, ev ID, _ Retry) error { var r EventRecord; var b EventBuf; return l.ReadEvent(ev, &r, &b) })
	f("DeleteRetry inside ScanRetries",
		func(l *Log, inner func(ID, Retry)) error {
			return l.ScanRetries(0, math.MaxInt64, func(r Retry) bool { inner(r.Event, r); return false })
		},
		func(l *Log, _ ID, r Retry) error { return l.DeleteRetry(r) })
}
