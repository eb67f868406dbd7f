package engine

import (
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"hookline/wal"
)

// Per-tenant back-pressure: one tenant must not stop the others. The
// server-wide bounds (MaxBacklog, MinFreeDisk; pressure.go) protect the
// server; these protect tenants from each other:
//
//   - Backlog: the deliveries a tenant has waiting (queued or retrying) are
//     summed by the pressure monitor with the server's, every
//     pressureInterval; past Options.MaxTenantBacklog the tenant's
//     publishes answer 429 tenant_backlog_full until it is 5% under again.
//     Its endpoints keep delivering, which is what clears it.
//   - Rate: with Options.MaxTenantEventsPerSecond set, a token bucket per
//     tenant (a second's worth of burst, at least a full batch); past it
//     429 tenant_rate_limited, with the wait in Retry-After.
//
// Both count API and inbound events, not hookline's own. An error names the
// tenant's own figures only, never the server's or another tenant's.

// tenantRetryAfter is what a tenant over its backlog is told to wait.
const tenantRetryAfter = 5 * time.Second

// minTenantBurst lets a full batch (1,000 events by default) through a
// tenant's rate bound.
const minTenantBurst = 1000

// tenantLimits is one tenant's back-pressure state.
type tenantLimits struct {
	waiting atomic.Int64 // deliveries waiting at the last sample
	full    atomic.Bool  // over MaxTenantBacklog (with hysteresis)
	rate    *rate.Limiter
}

// newTenantState is the live state of tenant t, of incarnation inc.
func (e *Engine) newTenantState(t Tenant, inc wal.ID) *tenantState {
	ts := &tenantState{t: t, inc: inc}
	if r := e.opts.MaxTenantEventsPerSecond; r > 0 {
		ts.limits.rate = rate.NewLimiter(rate.Limit(r), max(r, minTenantBurst))
	}
	return ts
}

// sampleTenantBacklogs sums each tenant's waiting deliveries and sets its
// full flag; the pressure monitor calls it.
func (e *Engine) sampleTenantBacklogs() {
	bound := e.opts.MaxTenantBacklog
	e.cfgMu.RLock()
	defer e.cfgMu.RUnlock()
	for _, ts := range e.tenants {
		var n int64
		for _, ln := range ts.lanes {
			n += max(ln.depth.Load(), 0)
		}
		ts.limits.waiting.Store(n)
		if bound < 0 {
			continue
		}
		was := ts.limits.full.Load()
		full := n > bound || was && n > bound-bound/20
		if full != was {
			ts.limits.full.Store(full)
			e.logger.Info("tenant backlog bound", "tenant", ts.t.ID, "over", full, "waiting", n, "max_tenant_backlog", bound)
		}
	}
}

// checkTenantLimits is the publish path's check of n events for ts; the
// caller holds cfgMu for reading.
func (e *Engine) checkTenantLimits(ts *tenantState, n int) error {
	if ts.limits.full.Load() {
		e.m.ingestRefused[refusedTenantBacklog].Inc()
		err := TooMany("tenant_backlog_full", "tenant %q has %d deliveries waiting, over its bound of %d; they drain as its endpoints accept them: try again later",
			ts.t.ID, ts.limits.waiting.Load(), e.opts.MaxTenantBacklog)
		err.RetryAfter = tenantRetryAfter
		return err
	}
	lim := ts.limits.rate
	if lim == nil {
		return nil
	}
	now := time.Now()
	res := lim.ReserveN(now, n)
	if !res.OK() {
		e.m.ingestRefused[refusedTenantRate].Inc()
		return TooMany("tenant_rate_limited", "%d events in one request are over tenant %q's burst of %d", n, ts.t.ID, lim.Burst())
	}
	if d := res.DelayFrom(now); d > 0 {
		res.CancelAt(now)
		e.m.ingestRefused[refusedTenantRate].Inc()
		err := TooMany("tenant_rate_limited", "tenant %q publishes over its bound of %d events per second; try again in %s",
			ts.t.ID, e.opts.MaxTenantEventsPerSecond, d.Round(time.Millisecond))
		err.RetryAfter = d
		return err
	}
	return nil
}
