package wal

import (
	"bytes"
	"context"
	"crypto/rand"
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
