package engine

import (
	"cmp"
	"fmt"
	"io"
	"iter"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/sony/gobreaker/v2"

	"hookline/httpout"
)

// Metrics are created once and kept here so the hot path only increments:
// no name is formatted and no map is looked up per event or delivery. Every
// metric is listed in docs/metrics.md.
//
// Queue depth and retry backlog are not counters of their own: each Lane
// keeps its endpoint's in atomics, and the gauges sum the lanes when scraped,
// so publishing and delivering touch no shared counter for them.
type Metrics struct {
	set *metrics.Set

	eventsIngested   [originCount]*metrics.Counter
	eventsDuplicate  [originCount]*metrics.Counter
	fanoutDeliveries *metrics.Counter
	attempts         [outcomeCount][classCount]*metrics.Counter
	attemptDuration  *metrics.PrometheusHistogram
	deliveryLatency  *metrics.PrometheusHistogram
	inFlight         *metrics.Counter // used as an up/down gauge
	retriesLoaded    *metrics.Counter
	retryFireDelay   *metrics.PrometheusHistogram
	// circuitTransitions is indexed by the gobreaker state entered.
	circuitTransitions    [3]*metrics.Counter
	endpointsAutoDisabled map[string]*metrics.Counter
	ingestRefused         [refusedCount]*metrics.Counter // by pressure, then the tenant reasons
	// testAttempts counts TestEndpoint's attempts by status class; they are
	// not deliveries, so attempts and the delivery histograms leave them out.
	testAttempts [classCount]*metrics.Counter

	retentionPasses   [passResults]*metrics.Counter
	retentionRanges   *metrics.Counter
	retentionIdemKeys *metrics.Counter
	retentionExpired  *metrics.Counter
	retentionDuration *metrics.PrometheusHistogram

	tenants *tenantMetrics // attempts by outcome per tenant, bounded series
}

// Origin is where an event came from: the label of the ingest counters.
// Per-tenant counts are left out on purpose: tenants are unbounded, and a
// label per tenant would grow the scrape with every customer (the one
// per-tenant metric, tenantMetrics, bounds its series).
type Origin int

const (
	OriginAPI     Origin = iota // the ingest API
	OriginSystem                // hookline's own operational events (hookline.endpoint.disabled)
	OriginTest                  // hookline.test events of TestEndpoint
	OriginInbound               // events made from requests to inbound sources
	originCount
)

var originNames = [originCount]string{"api", "system", "test", "inbound"}

// outcome is what an attempt did to its delivery, as counted by
// hookline_delivery_attempts_total. The wal stores dead and final alike as a
// dead letter; the metric tells them apart.
type outcome int

const (
	outcomeSuccess outcome = iota
	outcomeRetry           // a retry is scheduled
	outcomeDead            // retryable, but the schedule is used up
	outcomeFinal           // a final failure (3xx, most 4xx, SSRF refusal): dead-lettered at once
	outcomeCount
)

var outcomeNames = [outcomeCount]string{"success", "retry", "dead", "final"}

// Status classes of an attempt's result; see classOf.
const (
	class2xx = iota
	class3xx
	class4xx
	class5xx
	classError // no HTTP response
	classCount
)

var classNames = [classCount]string{"2xx", "3xx", "4xx", "5xx", "error"}

// Histogram buckets (upper bounds, seconds), chosen for each quantity's range.
// Prometheus-style "le" buckets, so histogram_quantile works in Prometheus as
// well as in VictoriaMetrics.
var (
	// One HTTP request to an endpoint: up to the request timeout (15s default).
	attemptBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 15, 30}
	// Publish to successful delivery: milliseconds when all is well, up to
	// the ~27 hours of the default retry schedule when not.
	latencyBuckets = []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 3600, 7200, 18000, 36000, 86400, 172800}
	// A retry's due time to the wheel firing it: one tick (100ms) when all is
	// well; the target is under a second.
	fireDelayBuckets = []float64{.01, .05, .1, .2, .3, .5, .75, 1, 2, 5, 10, 60}
	// A retention pass: milliseconds when little expired, longer with many
	// idempotency keys to delete one by one.
	retentionBuckets = []float64{.001, .01, .1, .5, 1, 5, 10, 30, 60, 300, 900}
)

func newMetrics(set *metrics.Set, tenantSeries int) *Metrics {
	m := &Metrics{
		set:              set,
		tenants:          newTenantMetrics(tenantSeries),
		fanoutDeliveries: set.NewCounter(`hookline_ingest_deliveries_queued_total`),
		attemptDuration:  set.NewPrometheusHistogramExt(`hookline_delivery_attempt_duration_seconds`, attemptBuckets),
		deliveryLatency:  set.NewPrometheusHistogramExt(`hookline_delivery_latency_seconds`, latencyBuckets),
		inFlight:         set.NewCounter(`hookline_delivery_in_flight_attempts`),
		retriesLoaded:    set.NewCounter(`hookline_retry_loaded_from_disk_total`),
		retryFireDelay:   set.NewPrometheusHistogramExt(`hookline_retry_fire_delay_seconds`, fireDelayBuckets),

		retentionRanges:   set.NewCounter(`hookline_retention_ranges_deleted_total`),
		retentionIdemKeys: set.NewCounter(`hookline_retention_idempotency_keys_deleted_total`),
		retentionExpired:  set.NewCounter(`hookline_retention_expired_deliveries_total`),
		retentionDuration: set.NewPrometheusHistogramExt(`hookline_retention_pass_duration_seconds`, retentionBuckets),
	}
	for r, name := range passResultNames {
		m.retentionPasses[r] = set.NewCounter(fmt.Sprintf(`hookline_retention_passes_total{result=%q}`, name))
	}
	for st, name := range map[gobreaker.State]string{gobreaker.StateClosed: "closed", gobreaker.StateHalfOpen: "half_open", gobreaker.StateOpen: "open"} {
		m.circuitTransitions[st] = set.NewCounter(fmt.Sprintf(`hookline_circuit_transitions_total{to=%q}`, name))
	}
	m.ingestRefused[pressureBacklog] = set.NewCounter(`hookline_ingest_refused_requests_total{reason="backlog_full"}`)
	m.ingestRefused[pressureDisk] = set.NewCounter(`hookline_ingest_refused_requests_total{reason="disk_full"}`)
	m.ingestRefused[refusedTenantBacklog] = set.NewCounter(`hookline_ingest_refused_requests_total{reason="tenant_backlog_full"}`)
	m.ingestRefused[refusedTenantRate] = set.NewCounter(`hookline_ingest_refused_requests_total{reason="tenant_rate_limited"}`)
	m.endpointsAutoDisabled = map[string]*metrics.Counter{}
	for _, reason := range []string{disabledGone, disabledFailing} {
		m.endpointsAutoDisabled[reason] = set.NewCounter(fmt.Sprintf(`hookline_endpoints_auto_disabled_total{reason=%q}`, reason))
	}
	for s, sn := range originNames {
		m.eventsIngested[s] = set.NewCounter(fmt.Sprintf(`hookline_ingest_events_total{source=%q}`, sn))
		m.eventsDuplicate[s] = set.NewCounter(fmt.Sprintf(`hookline_ingest_duplicate_events_total{source=%q}`, sn))
	}
	for c, cn := range classNames {
		m.testAttempts[c] = set.NewCounter(fmt.Sprintf(`hookline_endpoint_test_attempts_total{status_class=%q}`, cn))
	}
	for o, on := range outcomeNames {
		for c, cn := range classNames {
			m.attempts[o][c] = set.NewCounter(fmt.Sprintf(`hookline_delivery_attempts_total{outcome=%q,status_class=%q}`, on, cn))
		}
	}
	return m
}

// countAttempt counts one delivery attempt of tenant's by outcome and
// status class.
func (m *Metrics) countAttempt(tenant string, o outcome, class int) {
	m.attempts[o][class].Inc()
	m.tenants.count(tenant, o)
}

// registerGauges adds the metrics computed from the engine's state when
// /metrics is scraped. Each walks the lanes once under cfgMu's read lock:
// O(endpoints) per scrape, nothing on the hot path.
func (e *Engine) registerGauges(set *metrics.Set) {
	set.NewGauge(`hookline_retry_wheel_pending`, func() float64 { return float64(e.sched.pending()) })
	set.NewGauge(`hookline_endpoints`, func() float64 {
		e.cfgMu.RLock()
		defer e.cfgMu.RUnlock()
		return float64(len(e.lanes))
	})
	set.NewGauge(`hookline_endpoints_disabled`, func() float64 {
		return e.sumLanes(func(ln *Lane) int64 {
			if ln.config().ep.Disabled {
				return 1
			}
			return 0
		})
	})
	set.NewGauge(`hookline_queue_depth_deliveries`, func() float64 {
		return e.sumLanes(func(ln *Lane) int64 { return ln.depth.Load() })
	})
	set.NewGauge(`hookline_retry_backlog_deliveries`, func() float64 {
		return e.sumLanes(func(ln *Lane) int64 { return ln.retrying.Load() })
	})
	set.NewGauge(`hookline_circuit_open_endpoints`, func() float64 {
		return e.sumLanes(func(ln *Lane) int64 {
			if ln.circuit.Load().isOpen() {
				return 1
			}
			return 0
		})
	})
	set.NewGauge(`hookline_ingest_backpressure`, func() float64 { return float64(e.pressure.state.Load()) })
	set.NewGauge(`hookline_wal_disk_free_bytes`, func() float64 { return float64(e.pressure.freeDisk.Load()) })
	set.NewGauge(`hookline_endpoints_paused`, func() float64 {
		return e.sumLanes(func(ln *Lane) int64 {
			if ln.config().ep.Paused {
				return 1
			}
			return 0
		})
	})
	// An endpoint failing for a day is what an operator alerts on; the
	// longest time answers that without a series per endpoint.
	set.NewGauge(`hookline_endpoints_failing`, func() float64 {
		return e.sumLanes(func(ln *Lane) int64 {
			if ep := ln.config().ep; ep.FailingSince != nil && !ep.Disabled {
				return 1
			}
			return 0
		})
	})
	set.NewGauge(`hookline_endpoints_failing_longest_seconds`, func() float64 {
		e.cfgMu.RLock()
		defer e.cfgMu.RUnlock()
		var oldest time.Time
		for _, ln := range e.lanes {
			if ep := ln.config().ep; ep.FailingSince != nil && !ep.Disabled && (oldest.IsZero() || ep.FailingSince.Before(oldest)) {
				oldest = *ep.FailingSince
			}
		}
		if oldest.IsZero() {
			return 0
		}
		return max(time.Since(oldest).Seconds(), 0)
	})
	set.RegisterMetricsWriter(e.writeEndpointDepths)
	set.RegisterMetricsWriter(e.m.tenants.write)
}

// sumLanes adds f over every lane, counting a negative value as 0 (a counter
// may dip below zero for an instant while an outcome races its publish).
func (e *Engine) sumLanes(f func(ln *Lane) int64) float64 {
	e.cfgMu.RLock()
	defer e.cfgMu.RUnlock()
	var n int64
	for _, ln := range e.lanes {
		n += max(f(ln), 0)
	}
	return float64(n)
}

const (
	endpointDepthMetric = `hookline_queue_endpoint_depth_deliveries`
	// endpointDepthSeries bounds the per-endpoint depth series: only the
	// deepest queues are shown, so the scrape does not grow with endpoints.
	endpointDepthSeries = 20
)

// writeEndpointDepths writes hookline_queue_endpoint_depth_deliveries for the
// endpointDepthSeries endpoints with the most deliveries waiting, computed
// from the lanes' counters at each scrape. Endpoints with nothing waiting are
// left out.
func (e *Engine) writeEndpointDepths(w io.Writer) {
	e.cfgMu.RLock()
	buf := appendTopEndpointDepths(nil, endpointDepthSeries, func(yield func(string, int64) bool) {
		for _, ln := range e.lanes {
			if d := ln.depth.Load(); d > 0 && !yield(ln.config().ep.ID, d) {
				return
			}
		}
	})
	e.cfgMu.RUnlock()
	if len(buf) == 0 {
		return
	}
	metrics.WriteMetadataIfNeeded(w, endpointDepthMetric, "gauge")
	_, _ = w.Write(buf)
}

type endpointDepth struct {
	id    string
	depth int64
}

// deeperFirst orders by depth, deepest first, then by endpoint ID.
func deeperFirst(a, b endpointDepth) int {
	if c := cmp.Compare(b.depth, a.depth); c != 0 {
		return c
	}
	return strings.Compare(a.id, b.id)
}

// appendTopEndpointDepths appends, in Prometheus text format, one line per
// endpoint for the n deepest of depths (depth above 0), deepest first. It
// keeps a sorted array of n entries: O(endpoints × log n), no sort of all.
func appendTopEndpointDepths(dst []byte, n int, depths iter.Seq2[string, int64]) []byte {
	if n <= 0 {
		return dst
	}
	top := make([]endpointDepth, 0, n)
	for id, d := range depths {
		c := endpointDepth{id: id, depth: d}
		if d <= 0 || len(top) == n && deeperFirst(c, top[n-1]) >= 0 {
			continue
		}
		i, _ := slices.BinarySearchFunc(top, c, deeperFirst)
		if len(top) < n {
			top = append(top, endpointDepth{})
		}
		copy(top[i+1:], top[i:len(top)-1])
		top[i] = c
	}
	for _, c := range top {
		dst = append(dst, endpointDepthMetric+`{endpoint="`...)
		dst = append(dst, c.id...)
		dst = append(dst, `"} `...)
		dst = strconv.AppendInt(dst, c.depth, 10)
		dst = append(dst, '\n')
	}
	return dst
}

// classOf sorts an attempt's result into a status class, the
// bounded-cardinality label of attempt metrics: an index into classNames,
// 2xx..5xx by status, error without a response.
func classOf(res *httpout.Result) int {
	switch s := res.Status; {
	case s == 0:
		return classError
	case s < 300:
		return class2xx
	case s < 400:
		return class3xx
	case s < 500:
		return class4xx
	default:
		return class5xx
	}
}
