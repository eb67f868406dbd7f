package engine

import (
	"cmp"
	"math"
	"slices"
	"time"
)

// Tenant stats: the numbers a delivery log page shows at its top, per
// endpoint and in total over a window, summed from endpoint health (the
// 10-minute buckets and hourly records of health.go) and the tenant's
// published counts (published.go, in the same buckets), never from the
// delivery or event log: a request costs O(endpoints × hours in the window) reads
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
	Since time.Time  `json:"since"`
	Total TotalStats `json:"total"`
	// Series is Total bucket by bucket, oldest first: the window's six
	// 10-minute buckets for 1h, its 24 or 168 hours for 24h and 7d, each
	// there with or without deliveries, so a chart's time axis is regular.
	Series []StatsBucket `json:"series"`
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

// TotalStats are a tenant's numbers over a window: its endpoints'
// deliveries summed, and its events.
type TotalStats struct {
	// Published counts the events the tenant had accepted into its stream
	// (API, inbound sources, hookline's own), each once: a publish
	// answered for a repeated idempotency key made no new event.
	Published uint64 `json:"published"`
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

// StatsBucket is one bucket of a stats series: the tenant's numbers over
// [Start, Start + 10 minutes or an hour): its events published, and its
// deliveries summed over its endpoints. It
// leaves out the failure reasons and the rate, which a chart can do
// without (the rate is FirstAttemptSucceeded/Sent), to keep 168 of them
// small.
type StatsBucket struct {
	Start                 time.Time     `json:"start"`
	Published             uint64        `json:"published"`
	Sent                  uint64        `json:"sent"`
	FirstAttemptSucceeded uint64        `json:"first_attempt_succeeded"`
	Retried               uint64        `json:"retried"`
	Dead                  uint64        `json:"dead"`
	Attempts              uint64        `json:"attempts"`
	FailedAttempts        uint64        `json:"failed_attempts"`
	LatencyMs             HealthLatency `json:"latency_ms"`
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
	n, unit := span.buckets()
	series := make([]healthAgg, n)
	for _, ln := range lanes {
		sums := healthSums{series: series}
		if err := e.sumHealth(ln, now, span, &sums); err != nil {
			return TenantStats{}, err
		}
		a := &sums.w[span]
		total.add(a)
		ep := ln.config().ep
		out.Endpoints = append(out.Endpoints, EndpointStats{EndpointID: ep.ID, URL: ep.URL, DeliveryStats: a.stats()})
	}
	published := make([]uint64, n)
	pubTotal, err := e.sumPublished(tenant, ts, now, span, published)
	if err != nil {
		return TenantStats{}, err
	}
	_, since := windowStarts(now.UnixMilli())
	out.Since = time.UnixMilli(since[span]).UTC()
	out.Total = TotalStats{Published: pubTotal, DeliveryStats: total.stats()}
	out.Series = make([]StatsBucket, n)
	for i := range series {
		a := &series[i]
		b := &out.Series[i]
		b.Start = time.UnixMilli(since[span] + int64(i)*unit).UTC()
		b.Published = published[i]
		b.Sent, b.FirstAttemptSucceeded, b.Retried, b.Dead = a.first, a.firstOk, a.retried, a.dead
		b.Attempts, b.FailedAttempts = a.attempts, a.attempts-a.succeeded
		b.LatencyMs.P50, b.LatencyMs.P95 = a.quantile(0.5), a.quantile(0.95)
	}
	return out, nil
}

// buckets are how many buckets a window holds and how long each is (ms):
// the series' resolution is the health's own, so 7d has 168 hours rather
// than coarser buckets a viewer's time zone would cut across; a chart can
// merge them.
func (sp healthSpan) buckets() (n int, unitMs int64) {
	switch sp {
	case spanHour:
		return slotsPerHour, slotMs
	case spanWeek:
		return 7 * 24, hourMs
	}
	return 24, hourMs
}

// windowStarts are the first bucket of the 1 h window and the first hours
// of the 24 h and 7 d windows at nowMs, and where each starts (unix ms):
// each window is its last buckets(), the current one included,
// so every one started less than the window's name ago and a stats series
// always has as many.
func windowStarts(nowMs int64) (from [spanCount]uint32, sinceMs [spanCount]int64) {
	for sp := range spanCount {
		n, unit := sp.buckets()
		from[sp] = uint32(max(nowMs/unit-int64(n-1), 0))
		sinceMs[sp] = int64(from[sp]) * unit
	}
	return from, sinceMs
}

// seriesAdd adds a, of the window's i-th bucket, to the series, if one is
// being summed. A bucket past the last is an attempt that ended after the
// clock was read, in the bucket just started: it goes in the last one, so
// the series still sums to the window's total.
func (s *healthSums) seriesAdd(i uint32, a *healthAgg) {
	if len(s.series) > 0 {
		s.series[min(int(i), len(s.series)-1)].addCounts(a)
	}
}

// seriesAddSlot is seriesAdd for a 10-minute bucket, which the 1 h
// series is made of.
func (s *healthSums) seriesAddSlot(i uint32, slot *healthSlot) {
	if len(s.series) > 0 {
		s.series[min(int(i), len(s.series)-1)].addSlot(slot)
	}
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
