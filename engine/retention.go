package engine

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"hookline/wal"
)

// errClassExpired is the error class of a delivery dead-lettered because
// its event passed the retention age before it was delivered.
const errClassExpired = "event_expired"

// retention removes events, delivery logs, idempotency keys and audit
// records older than Options.Retention. How it works:
//  1. A goroutine runs a pass at start and every Options.RetentionInterval,
//     with cutoff = now - Options.Retention.
//  2. The pass first raises floor to the cutoff's smallest event ID: from
//     then on no attempt takes an event below it from the recent bodies,
//     so memory never delivers what the store is dropping.
//  3. wal.Log.Expire range-deletes below the cutoff. The pass holds no
//     engine lock: publishes, lanes and outcomes go on meanwhile.
//  4. Deliveries still queued or retrying are left alone (the lanes count
//     them); when one comes up, its event is gone and it is dead-lettered
//     as event_expired. That dead letter and its attempt record are below
//     the cutoff by event ID, so the next pass removes them.
//  5. Deleted endpoints whose deletion is older than the cutoff have no
//     history left: their records go too (endpoint_delete.go).
//  6. The feature packages' hooks (OnRetentionPass) run after the pass,
//     with its time, for what they expire on their own schedule.
type retention struct {
	floor  atomic.Pointer[wal.ID]
	cancel context.CancelFunc
	done   chan struct{}

	// hooks are registered after the loop has started (feature packages
	// are made after the engine), hence the lock.
	hooksMu sync.Mutex
	hooks   []func(ctx context.Context, now time.Time)
}

func (e *Engine) startRetention() {
	ctx, cancel := context.WithCancel(context.Background())
	e.ret.cancel, e.ret.done = cancel, make(chan struct{})
	go e.retentionLoop(ctx)
}

func (e *Engine) stopRetention() {
	e.ret.cancel()
	<-e.ret.done
}

func (e *Engine) retentionLoop(ctx context.Context) {
	defer close(e.ret.done)
	t := time.NewTicker(e.opts.RetentionInterval)
	defer t.Stop()
	for {
		now := time.Now()
		e.retentionPass(ctx, now)
		e.ret.hooksMu.Lock()
		hooks := e.ret.hooks
		e.ret.hooksMu.Unlock()
		for _, fn := range hooks {
			fn(ctx, now)
		}
		select {
		case <-t.C:
		case <-ctx.Done():
			return
		}
	}
}

func (e *Engine) retentionPass(ctx context.Context, now time.Time) {
	cutoffMs := now.Add(-e.opts.Retention).UnixMilli()
	floor := wal.IDAt(cutoffMs)
	e.ret.floor.Store(&floor)
	start := time.Now()
	st, err := e.log.Expire(ctx, cutoffMs)
	e.m.retentionRanges.Add(st.Ranges)
	e.m.retentionIdemKeys.Add(st.IdempotencyKeys)
	if err != nil {
		if errors.Is(err, wal.ErrClosed) || ctx.Err() != nil {
			return
		}
		e.m.retentionPasses[passFailed].Inc()
		e.logger.Error("retention pass failed; the next one retries it", "cutoff", time.UnixMilli(cutoffMs).UTC(), "err", err)
		return
	}
	e.purgeDeletedEndpoints(time.UnixMilli(cutoffMs))
	took := time.Since(start)
	e.m.retentionPasses[passDone].Inc()
	e.m.retentionDuration.Update(took.Seconds())
	if st.Ranges > 0 {
		e.logger.Debug("retention pass", "cutoff", time.UnixMilli(cutoffMs).UTC(), "ranges", st.Ranges, "idempotency_keys", st.IdempotencyKeys, "took", took)
	}
}

// Outcomes of a retention pass, as labels of hookline_retention_passes_total.
const (
	passDone = iota
	passFailed
	passResults
)

var passResultNames = [passResults]string{"done", "failed"}

// removedByRetention reports whether a retention pass has removed, or is
// removing, event id: one atomic load per attempt.
func (e *Engine) removedByRetention(id wal.ID) bool {
	f := e.ret.floor.Load()
	return f != nil && id.Less(*f)
}

// pastRetention reports whether event id is older than the retention age
// at now, so that its absence is expiry and not a fault.
func (e *Engine) pastRetention(id wal.ID, now time.Time) bool {
	return id.Less(wal.IDAt(now.Add(-e.opts.Retention).UnixMilli()))
}
