package wal

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// Crash tests run the Log on a crashable in-memory filesystem, take a
// CrashClone (what the disk could hold if the machine died at that moment:
// everything synced, plus a random share of what was not) and reopen the clone.

func crashClone(fs *vfs.MemFS, unsyncedPercent int, seed uint64) *vfs.MemFS {
	cfg := vfs.CrashCloneCfg{UnsyncedDataPercent: unsyncedPercent}
	if unsyncedPercent > 0 {
		cfg.RNG = rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	}
	return fs.CrashClone(cfg)
}

type ackedEvent struct {
	ev  AppendEvent
	res AppendResult
}

// TestCrashKeepsAcknowledgedAppends: publishers append concurrently while the
// machine "crashes"; every event whose Append returned before the crash is
// on the clone, whole, with its queue entries and its idempotency key.
//
// Under DurabilityOS the crash is a kill -9 of the process: the OS keeps
// what was written (unsyncedPercent 100); a power loss (less than 100)
// keeps what was acknowledged once the syncer has made a pass after it.
func TestCrashKeepsAcknowledgedAppends(t *testing.T) {
	for _, d := range []Durability{DurabilityFsync, DurabilityOS} {
		t.Run(d.String(), func(t *testing.T) { testCrashKeepsAcknowledgedAppends(t, d) })
	}
}

func testCrashKeepsAcknowledgedAppends(t *testing.T, durability Durability) {
	a, b := testEndpoint(1), testEndpoint(2)
	f := func(unsyncedPercent int, seed uint64, flush bool) {
		t.Helper()
		fs := vfs.NewCrashableMem()
		l, err := Open("db", &Options{FS: fs, CompressAbove: 512, Durability: durability})
		require_NoError(t, err)
		defer l.Close()

		var mu sync.Mutex
		var acked []ackedEvent
		var stop atomic.Bool
		var wg sync.WaitGroup
		errs := make(chan error, 4)
		for w := 0; w < 4; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var res [1]AppendResult
				for i := 0; !stop.Load(); i++ {
					body := fmt.Appendf(nil, "event %d/%d ", w, i)
					if i%4 == 0 {
						body = append(body, compressible(2000)...) // compressed
					}
					ev := AppendEvent{Tenant: fmt.Sprintf("t%d", w), Type: "x", TimeMs: int64(i), Body: body, Endpoints: []ID{a, b}}
					if i%3 == 0 {
						ev.IdempotencyKey = fmt.Sprintf("key-%d", i)
					}
					if err := l.Append([]AppendEvent{ev}, res[:]); err != nil {
						errs <- err
						return
					}
					mu.Lock()
					acked = append(acked, ackedEvent{ev, res[0]})
					mu.Unlock()
				}
			}()
		}
		waitFor := func(n int) {
			for {
				mu.Lock()
				got := len(acked)
				mu.Unlock()
				if got >= n {
					return
				}
				select {
				case err := <-errs:
					t.Fatalf("append failed: %v", err)
				default:
				}
				time.Sleep(time.Millisecond)
			}
		}
		waitFor(100)
		if flush {
			require_NoError(t, l.db.Flush()) // some events in sstables, some in the WAL
		}
		waitFor(200)
		mu.Lock()
		before := append([]ackedEvent(nil), acked...)
		mu.Unlock()
		if durability == DurabilityOS && unsyncedPercent < 100 {
			// Everything acknowledged so far is fsynced by the pass after
			// the next one to start (appends keep running meanwhile).
			for p := l.syncer.passCount(); l.syncer.passCount() < p+2; {
				time.Sleep(time.Millisecond)
			}
		}
		clone := crashClone(fs, unsyncedPercent, seed) // appends keep running meanwhile
		stop.Store(true)
		wg.Wait()
		close(errs)
		for err := range errs {
			require_NoError(t, err)
		}

		cl, err := Open("db", &Options{FS: clone})
		require_NoError(t, err)
		defer cl.Close()

		qa, qb := queued(t, cl, a), queued(t, cl, b)
		inA := make(map[ID]bool, len(qa))
		for _, id := range qa {
			inA[id] = true
		}
		require_DeepEqual(t, qa, qb) // no event lost one of its queue entries
		c := counts(t, cl)
		require_Equal(t, c.Events, len(qa))
		require_Equal(t, c.Queued, 2*len(qa))
		t.Logf("unsynced=%d%% flush=%v: %d acknowledged, %d on the clone", unsyncedPercent, flush, len(before), len(qa))
		require_True(t, len(qa) >= len(before), "clone holds %d events, %d were acknowledged", len(qa), len(before))

		var r EventRecord
		var buf EventBuf
		for _, ae := range before {
			id := ae.res.ID
			if ae.res.Duplicate {
				continue
			}
			require_True(t, inA[id], "acknowledged event %s is not queued after the crash", id)
			require_NoError(t, cl.ReadEvent(id, &r, &buf))
			require_Equal(t, string(r.Tenant), ae.ev.Tenant)
			require_Equal(t, r.TimeMs, ae.ev.TimeMs)
			require_True(t, bytes.Equal(r.Body, ae.ev.Body), "body of %s differs after the crash", id)
		}
		// Idempotency keys of acknowledged events survived with them.
		for _, ae := range before {
			if ae.ev.IdempotencyKey == "" {
				continue
			}
			res := appendOne(t, cl, ae.ev)
			require_Equal(t, res, AppendResult{ID: ae.res.ID, Duplicate: true})
		}
		// New IDs sort after everything that survived, acknowledged or not.
		id := appendOne(t, cl, mkEvent("t", []byte("after"), a)).ID
		requireSorted(t, append(qa, id))
	}
	f(0, 1, false)
	f(0, 2, true)
	f(50, 3, false)
	f(50, 4, true)
	f(100, 5, false)
	f(90, 6, false)
}

// TestCrashDuringRecordAttempt: attempt outcomes are committed without fsync,
// so a crash may lose some, but never half a move: each delivery is in
// exactly one of q, r, d (or done), and its attempt records match that place.
// As the WAL is replayed in order, the moves that survive are a prefix of the
// moves made.
func TestCrashDuringRecordAttempt(t *testing.T) {
	const events = 60
	ep := testEndpoint(1)
	// Plans of moves, by event index modulo len(plans).
	plans := [][]Attempt{
		nil,
		{{Outcome: OutcomeSuccess, Status: 200}},
		{{Outcome: OutcomeRetry, Status: 500, NextMs: 1000}},
		{{Outcome: OutcomeRetry, ErrClass: "timeout", NextMs: 1000}, {Outcome: OutcomeRetry, Status: 429, NextMs: 5000}, {Outcome: OutcomeDead, Status: 500}},
		{{Outcome: OutcomeRetry, Status: 502, NextMs: 2000}, {Outcome: OutcomeSuccess, Status: 201}},
		{{Outcome: OutcomeDead, Status: 410}},
	}
	// place returns where a delivery is after the first k moves of plan p.
	place := func(p []Attempt, k int) string {
		if k == 0 {
			return "q"
		}
		a := p[k-1]
		switch a.Outcome {
		case OutcomeRetry:
			return fmt.Sprintf("r@%d#%d", a.NextMs, k)
		case OutcomeDead:
			return fmt.Sprintf("d#%d@%d", k, 100*k)
		}
		return "done"
	}

	f := func(unsyncedPercent int, seed uint64, syncAfter bool) {
		t.Helper()
		fs := vfs.NewCrashableMem()
		l, err := Open("db", &Options{FS: fs})
		require_NoError(t, err)
		defer l.Close()

		evs := make([]AppendEvent, events)
		for i := range evs {
			evs[i] = mkEvent("t", fmt.Appendf(nil, "%d", i), ep)
		}
		res := make([]AppendResult, events)
		require_NoError(t, l.Append(evs, res))

		type step struct{ ev, k int }
		var order []step // every move, in commit order
		type clone struct {
			fs     *vfs.MemFS
			moves  int  // len(order) when it was taken
			synced bool // taken after a synced append that followed every move
		}
		var clones []clone
		// Round-robin over events so consecutive moves touch different deliveries.
		for k := 1; k <= 3; k++ {
			for i := 0; i < events; i++ {
				p := plans[i%len(plans)]
				if k > len(p) {
					continue
				}
				a := p[k-1]
				a.Attempt = k
				a.TimeMs = int64(100 * k)
				// Response heads big enough that the WAL writer fills and writes
				// out blocks between syncs: partial crash states then exist.
				a.Response = bytes.Repeat([]byte{byte('a' + i%26)}, 3000)
				var from int64
				if k > 1 {
					from = p[k-2].NextMs
				}
				require_NoError(t, l.RecordAttempt(&Move{Endpoint: ep, Event: res[i].ID, FromDueMs: from, Attempt: a}))
				order = append(order, step{i, k})
				if len(order)%10 == 0 {
					clones = append(clones, clone{crashClone(fs, unsyncedPercent, seed+uint64(len(order))), len(order), false})
				}
			}
		}
		var syncID ID
		if syncAfter {
			// A synced append makes every earlier unsynced write durable.
			syncID = appendOne(t, l, mkEvent("t", []byte("sync"), testEndpoint(2))).ID
		}
		clones = append(clones, clone{crashClone(fs, unsyncedPercent, seed), len(order), syncAfter})
		for _, c := range clones {
			cl, err := Open("db", &Options{FS: c.fs})
			require_NoError(t, err)
			// Which moves of each event survived, judged by its attempt records;
			// its place must agree with them.
			applied := make([]int, events)
			for i := 0; i < events; i++ {
				p := plans[i%len(plans)]
				as := attempts(t, cl, ep, res[i].ID)
				k := len(as)
				require_True(t, k <= len(p), "event %d has %d attempt records, only %d moves were made", i, k, len(p))
				for j, a := range as {
					require_Equal(t, a.Attempt, j+1)
					require_Equal(t, a.Outcome, p[j].Outcome)
					require_Bytes(t, a.Response, bytes.Repeat([]byte{byte('a' + i%26)}, 3000))
				}
				require_Equal(t, location(t, cl, ep, res[i].ID), place(p, k))
				applied[i] = k
			}
			// The surviving moves are a prefix of the moves made before the clone.
			survived := 0
			for survived < len(order) && order[survived].k <= applied[order[survived].ev] {
				survived++
			}
			for _, s := range order[survived:] {
				require_True(t, s.k > applied[s.ev], "move %d of event %d survived although an earlier move was lost", s.k, s.ev)
			}
			t.Logf("unsynced=%d%% syncAfter=%v: %d of %d moves survived", unsyncedPercent, syncAfter, survived, c.moves)
			require_True(t, survived <= c.moves, "%d moves survived a crash taken after %d", survived, c.moves)
			if c.synced {
				// Everything before the synced append is durable, the append too.
				require_Equal(t, survived, c.moves)
				require_Equal(t, string(readEvent(t, cl, syncID).Body), "sync")
			}
			require_True(t, counts(t, cl).Events >= events, "synced events lost")
			require_NoError(t, cl.Close())
		}
	}
	f(0, 1, false)
	f(0, 2, true)
	f(30, 3, false)
	f(70, 4, false)
	f(100, 5, false)
	f(50, 6, true)
}

// TestCrashKeepsOutcomesAfterSyncDelay: with no append after them, recorded
// outcomes are still synced, outcomeSyncDelay later on a quiet machine, so a
// crash after that loses none (before, they waited for the next append's
// fsync, which never comes here). A loaded machine may run the sync late:
// crash clones are taken until one has them, for up to eventually.
func TestCrashKeepsOutcomesAfterSyncDelay(t *testing.T) {
	fs := vfs.NewCrashableMem()
	l, err := Open("db", &Options{FS: fs})
	require_NoError(t, err)
	defer l.Close()
	ep := testEndpoint(1)
	evs := []AppendEvent{mkEvent("t", []byte("1"), ep), mkEvent("t", []byte("2"), ep)}
	res := make([]AppendResult, len(evs))
	require_NoError(t, l.Append(evs, res))
	require_NoError(t, l.RecordAttempt(&Move{Endpoint: ep, Event: res[0].ID, Attempt: Attempt{Attempt: 1, Outcome: OutcomeSuccess, Status: 200, TimeMs: 1}}))
	require_NoError(t, l.RecordAttempt(&Move{Endpoint: ep, Event: res[1].ID, Attempt: Attempt{Attempt: 1, Outcome: OutcomeRetry, Status: 503, TimeMs: 1, NextMs: 5000}}))
	time.Sleep(outcomeSyncDelay)

	var c Counts
	waitFor(t, "the outcomes to be synced", func() bool {
		cl, err := Open("db", &Options{FS: crashClone(fs, 0, 0)}) // only what was synced
		require_NoError(t, err)
		defer cl.Close()
		c, err = cl.Count()
		require_NoError(t, err)
		return c.Attempts == 2
	})
	require_Equal(t, c.Queued, 0)
	require_Equal(t, c.Retries, 1)
	require_Equal(t, c.Attempts, 2)
}
