package engine

import (
	"cmp"
	"math"
	"slices"
	"time"
)

// Tenant stats: the numbers a delivery log page shows at its top, per
// endpoint and in total over a window, summed from endpoint health (the
// 10-minute buckets and hourly records of health.go), never from the
// delivery log: a request costs O(endpoints × hours in the window) reads
// of small records, however many deliveries the window holds.

// StatsWindow is the span tenant stats cover: "1h", "24h" or "7d", as
// endpoint health shows them.
type StatsWindow string

// The stats windows; DefaultStatsWindow is taken when a request names none.
const (
	StatsHour          StatsWindow = "1h"
	StatsDay           StatsWindow = "24h"
	StatsWeek          StatsWindow = "7d"
	DefaultStatsWindow             = StatsDay
)

// topFailures is how many failure reasons stats list, most frequent first.
const topFailures = 5

// ParseStatsWindow checks a window's name: 400 invalid_window for anything
// but 1h, 24h and 7d.
func ParseStatsWindow(s string) (StatsWindow, error) {
	switch w := StatsWindow(s); w {
	case StatsHour, StatsDay, StatsWeek:
		return w, nil
	}
	return "", Invalid("invalid_window", "window %.32q is not one of 1h, 24h, 7d", s)
}

func (w StatsWindow) span() healthSpan {
	switch w {
	case StatsHour:
		return spanHour
	case StatsWeek:
		return spanWeek
	}
	return spanDay
}

// TenantStats are a tenant's delivery numbers over a window.
type TenantStats struct {
	Tenant string      `json:"tenant"`
	Window StatsWindow `json:"window"`
	// Since is where the window starts: whole 10-minute buckets for 1h,
	// whole hours for 24h and 7d, never older than the window's name.
	Since time.Time     `json:"since"`
	Total DeliveryStats `json:"total"`
	// Endpoints are every endpoint of the tenant, in ID order, with or
	// without deliveries in the window.
	Endpoints []EndpointStats `json:"endpoints"`
}

// EndpointStats are one endpoint's numbers.
type EndpointStats struct {
	EndpointID string `json:"endpoint_id"`
	URL        string `json:"url"`
	DeliveryStats
}

// DeliveryStats are the numbers over a window. A delivery is one event
// going to one endpoint; each number counts what happened within the
// window, so a delivery sent before it may die within it.
type DeliveryStats struct {
	// Sent counts deliveries started: first attempts made (a backfilled
	// delivery's included; a replay's attempts are not first ones).
	Sent uint64 `json:"sent"`
	// FirstAttemptSucceeded counts the first attempts that succeeded;
	// FirstAttemptSuccessRate is that over Sent, null when nothing was sent.
	FirstAttemptSucceeded   uint64   `json:"first_attempt_succeeded"`
	FirstAttemptSuccessRate *float64 `json:"first_attempt_success_rate"`
	// Retried counts deliveries whose first attempt failed and was given
	// another: scheduled for a retry. One that failed for good at once (a
	// final status, no retries configured) is dead, not retried.
	Retried uint64 `json:"retried"`
	// Dead counts deliveries dead-lettered: attempts exhausted, a final
	// failure, or no attempt possible (an unreadable or expired event, a
	// request that cannot be rendered). A replayed delivery that dies
	// again counts again.
	Dead uint64 `json:"dead"`
	// Attempts and FailedAttempts count every attempt, retries and
	// replays included.
	Attempts       uint64 `json:"attempts"`
	FailedAttempts uint64 `json:"failed_attempts"`
	// LatencyMs is over the attempts that got a response; a total's
	// comes from the endpoints' histograms merged.
	LatencyMs HealthLatency `json:"latency_ms"`
	// TopFailures are the most frequent kinds of failed attempts, at most
	// five, most first (ties by reason).
	TopFailures []FailureCount `json:"top_failures"`
}

// FailureCount is how many failed attempts had one reason: an HTTP status
// ("503"), an error class without a response ("timeout", "refused", ...),
// or "other" (kinds past the three a 10-minute bucket tells apart).
type FailureCount struct {
	Reason string `json:"reason"`
	Count  uint64 `json:"count"`
}

// TenantStats sums the health of tenant's endpoints over window.
func (e *Engine) TenantStats(tenant string, window StatsWindow) (TenantStats, error) {
	span := window.span()
	e.cfgMu.RLock()
	ts := e.tenants[tenant]
	var lanes []*Lane
	if ts != nil {
		lanes = ts.lanes // replaced, never mutated
	}
	e.cfgMu.RUnlock()
	if ts == nil {
		return TenantStats{}, NotFound("tenant_not_found", "tenant %q does not exist", tenant)
	}
	lanes = slices.Clone(lanes)
	slices.SortFunc(lanes, func(a, b *Lane) int { return cmp.Compare(a.config().ep.ID, b.config().ep.ID) })

	now := e.health.now()
	out := TenantStats{Tenant: tenant, Window: window, Endpoints: make([]EndpointStats, 0, len(lanes))}
	var total healthAgg
	for _, ln := range lanes {
		var sums healthSums
		if err := e.sumHealth(ln, now, span, &sums); err != nil {
			return TenantStats{}, err
		}
		a := &sums.w[span]
		total.add(a)
		ep := ln.config().ep
		out.Endpoints = append(out.Endpoints, EndpointStats{EndpointID: ep.ID, URL: ep.URL, DeliveryStats: a.stats()})
	}
	_, since := windowStarts(now.UnixMilli())
	out.Since = time.UnixMilli(since[span]).UTC()
	out.Total = total.stats()
	return out, nil
}

func (a *healthAgg) stats() DeliveryStats {
	s := DeliveryStats{
		Sent:                  a.first,
		FirstAttemptSucceeded: a.firstOk,
		Retried:               a.retried,
		Dead:                  a.dead,
		Attempts:              a.attempts,
		FailedAttempts:        a.attempts - a.succeeded,
		TopFailures:           make([]FailureCount, 0, topFailures),
	}
	if a.first > 0 {
		r := math.Round(float64(a.firstOk)/float64(a.first)*1e4) / 1e4
		s.FirstAttemptSuccessRate = &r
	}
	s.LatencyMs.P50, s.LatencyMs.P95 = a.quantile(0.5), a.quantile(0.95)
	fails := make([]FailureCount, 0, len(a.fails))
	for _, f := range a.fails {
		if f.n > 0 {
			fails = append(fails, FailureCount{failKeyName(f.key), f.n})
		}
	}
	slices.SortFunc(fails, func(x, y FailureCount) int {
		return cmp.Or(cmp.Compare(y.Count, x.Count), cmp.Compare(x.Reason, y.Reason))
	})
	s.TopFailures = append(s.TopFailures, fails[:min(len(fails), topFailures)]...)
	return s
}
