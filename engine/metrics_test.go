package engine_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"hookline/engine"
)

// scrape returns what /metrics would show of the engine's set.
func (h *harness) scrape() string {
	var b bytes.Buffer
	h.metrics.WritePrometheus(&b)
	return b.String()
}

// requireMetrics waits until every named metric has its value (a delivery's
// outcome is counted just after the receiver answers), and fails if they do
// not settle within eventually.
func (h *harness) requireMetrics(want map[string]float64) {
	h.t.Helper()
	deadline := time.Now().Add(eventually)
	for {
		var wrong []string
		for name, v := range want {
			if got := h.metric(name); got != v {
				wrong = append(wrong, fmt.Sprintf("%s = %v, want %v", name, got, v))
			}
		}
		if len(wrong) == 0 {
			return
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("metrics did not settle:\n%s", strings.Join(wrong, "\n"))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func attemptsMetric(outcome, class string) string {
	return fmt.Sprintf(`hookline_delivery_attempts_total{outcome=%q,status_class=%q}`, outcome, class)
}

// TestMetricsOutcomes: each way a delivery ends is counted under its own
// outcome, and the queue gauges come back to 0.
func TestMetricsOutcomes(t *testing.T) {
	t.Parallel()
	f := func(name string, replies []int, want map[string]float64) {
		t.Helper()
		opts := testOptions()
		opts.RetrySchedule = []time.Duration{50 * time.Millisecond}
		h := newHarness(t, opts)
		h.tenant("acme")
		var rs []reply
		for _, s := range replies {
			rs = append(rs, reply{status: s})
		}
		rc := newReceiver(t, recvConfig{replies: rs})
		h.endpoint("acme", engine.EndpointInput{URL: ptr(rc.URL())})
		h.publish("acme", engine.PublishEvent{Type: "invoice.paid", Payload: []byte(`{}`)})
		want[`hookline_ingest_events_total{source="api"}`] = 1
		want[`hookline_ingest_deliveries_queued_total`] = 1
		want[`hookline_queue_depth_deliveries`] = 0
		want[`hookline_retry_backlog_deliveries`] = 0
		want[`hookline_delivery_in_flight_attempts`] = 0
		for _, o := range []string{"success", "retry", "dead", "final"} {
			for _, c := range []string{"2xx", "3xx", "4xx", "5xx", "error"} {
				if _, ok := want[attemptsMetric(o, c)]; !ok {
					want[attemptsMetric(o, c)] = 0
				}
			}
		}
		h.requireMetrics(want)
		time.Sleep(100 * time.Millisecond) // no late attempt changes the picture
		h.requireMetrics(want)
		if s := h.scrape(); strings.Contains(s, "hookline_queue_endpoint_depth_deliveries") {
			t.Fatalf("%s: an empty queue shows a per-endpoint depth:\n%s", name, s)
		}
	}
	f("success", []int{200}, map[string]float64{
		attemptsMetric("success", "2xx"):                   1,
		`hookline_delivery_latency_seconds_count`:          1,
		`hookline_delivery_attempt_duration_seconds_count`: 1,
	})
	f("retry then success", []int{503, 204}, map[string]float64{
		attemptsMetric("retry", "5xx"):            1,
		attemptsMetric("success", "2xx"):          1,
		`hookline_delivery_latency_seconds_count`: 1,
	})
	f("final", []int{404}, map[string]float64{
		attemptsMetric("final", "4xx"):            1,
		`hookline_delivery_latency_seconds_count`: 0,
	})
	f("retries exhausted", []int{503}, map[string]float64{
		attemptsMetric("retry", "5xx"):            1,
		attemptsMetric("dead", "5xx"):             1,
		`hookline_delivery_latency_seconds_count`: 0,
	})
	f("final after a retry", []int{429, 301}, map[string]float64{
		attemptsMetric("retry", "4xx"): 1,
		attemptsMetric("final", "3xx"): 1,
	})
}

// TestMetricsQueueDepth follows the queue gauges through retries, a
// duplicate, a disabled endpoint and a restart, which seeds them from disk.
func TestMetricsQueueDepth(t *testing.T) {
	t.Parallel()
	opts := testOptions()
	opts.RetrySchedule = []time.Duration{time.Hour}
	h := newHarness(t, opts)
	h.tenant("acme")
	rcA := newReceiver(t, recvConfig{replies: []reply{{status: 503}}})
	epA := h.endpoint("acme", engine.EndpointInput{URL: ptr(rcA.URL()), EventTypes: &[]string{"a.*"}})
	rcB := newReceiver(t, recvConfig{blocked: true})
	epB := h.endpoint("acme", engine.EndpointInput{URL: ptr(rcB.URL()), EventTypes: &[]string{"b.*"}, MaxInFlight: ptr(1)})
	line := func(ep engine.Endpoint, n int) string {
		return fmt.Sprintf("hookline_queue_endpoint_depth_deliveries{endpoint=%q} %d\n", ep.ID, n)
	}

	// A: three deliveries, each answered 503 and waiting an hour to retry.
	for range 3 {
		h.publish("acme", engine.PublishEvent{Type: "a.x"})
	}
	h.requireMetrics(map[string]float64{
		attemptsMetric("retry", "5xx"):         3,
		`hookline_queue_depth_deliveries`:      3,
		`hookline_retry_backlog_deliveries`:    3,
		`hookline_circuit_open_endpoints`:      0,
		`hookline_endpoints`:                   2,
		`hookline_endpoints_disabled`:          0,
		`hookline_delivery_in_flight_attempts`: 0,
	})

	// B: one attempt hangs, five wait behind it; a repeated idempotency key
	// adds nothing.
	for range 5 {
		h.publish("acme", engine.PublishEvent{Type: "b.x"})
	}
	keyed := engine.PublishEvent{Type: "b.x", IdempotencyKey: "k1"}
	h.publish("acme", keyed)
	require_True(t, h.publish("acme", keyed)[0].Duplicate, "the repeated key was not a duplicate")
	waitFor(t, 5*time.Second, "B's attempt to hang", func() bool { return rcB.cur.Load() == 1 })
	h.requireMetrics(map[string]float64{
		`hookline_queue_depth_deliveries`:                      9,
		`hookline_retry_backlog_deliveries`:                    3,
		`hookline_ingest_events_total{source="api"}`:           9,
		`hookline_ingest_duplicate_events_total{source="api"}`: 1,
		`hookline_delivery_in_flight_attempts`:                 1,
	})
	require_True(t, strings.Contains(h.scrape(), line(epB, 6)+line(epA, 3)), "per-endpoint depths missing or out of order:\n%s", h.scrape())

	// Disabled, B sends nothing more: the hung attempt ends, five stay queued.
	_, err := h.e.UpdateEndpoint(context.Background(), "acme", epB.ID, engine.EndpointInput{Disabled: ptr(true)})
	require_NoError(t, err)
	rcB.release()
	h.requireMetrics(map[string]float64{
		`hookline_queue_depth_deliveries`:         8,
		`hookline_endpoints_disabled`:             1,
		`hookline_delivery_latency_seconds_count`: 1,
		`hookline_delivery_in_flight_attempts`:    0,
	})

	// After a restart the gauges start from what is on disk.
	h.stop(5 * time.Second)
	h.start()
	h.requireMetrics(map[string]float64{
		`hookline_queue_depth_deliveries`:   8,
		`hookline_retry_backlog_deliveries`: 3,
		`hookline_endpoints_disabled`:       1,
	})
	require_True(t, strings.Contains(h.scrape(), line(epB, 5)+line(epA, 3)), "per-endpoint depths after restart:\n%s", h.scrape())

	// Enabled again, B drains; A's retries are still an hour away.
	_, err = h.e.UpdateEndpoint(context.Background(), "acme", epB.ID, engine.EndpointInput{Disabled: ptr(false)})
	require_NoError(t, err)
	h.requireMetrics(map[string]float64{
		`hookline_queue_depth_deliveries`:         3,
		`hookline_retry_backlog_deliveries`:       3,
		attemptsMetric("success", "2xx"):          5,
		`hookline_delivery_latency_seconds_count`: 5,
		`hookline_endpoints_disabled`:             0,
	})
	require_Equal(t, strings.Count(h.scrape(), "hookline_queue_endpoint_depth_deliveries{"), 1)

	// Deleting A takes its deliveries out of the gauges.
	require_NoError(t, h.e.DeleteEndpoint(context.Background(), "acme", epA.ID))
	h.requireMetrics(map[string]float64{
		`hookline_queue_depth_deliveries`:   0,
		`hookline_retry_backlog_deliveries`: 0,
		`hookline_endpoints`:                1,
	})
	require_Equal(t, strings.Count(h.scrape(), "hookline_queue_endpoint_depth_deliveries{"), 0)
}

// TestMetricsEndpointsFailing: an endpoint whose circuit opened is failing
// from then on, and the longest failing time grows while it keeps failing
// (TestCircuitOpensStopsAndRecovers sees both back at 0 on recovery).
func TestMetricsEndpointsFailing(t *testing.T) {
	t.Parallel()
	h := newHarness(t, circuitOptions())
	h.tenant("acme")
	down := newReceiver(t, recvConfig{replies: repeat(reply{status: 503}, 1000)})
	up := newReceiver(t, recvConfig{})
	ep := h.endpoint("acme", engine.EndpointInput{URL: ptr(down.URL()), MaxInFlight: ptr(1)})
	h.endpoint("acme", engine.EndpointInput{URL: ptr(up.URL())})
	require_Equal(t, h.metric("hookline_endpoints_failing"), 0.0)
	require_Equal(t, h.metric("hookline_endpoints_failing_longest_seconds"), 0.0)
	h.publish("acme", events("invoice.paid", 10)...)
	waitFor(t, eventually, "failing_since to be recorded", func() bool { return h.get(ep).FailingSince != nil })
	require_Equal(t, h.metric("hookline_endpoints_failing"), 1.0)
	first := h.metric("hookline_endpoints_failing_longest_seconds")
	require_True(t, first >= 0, "longest failing %v", first)
	waitFor(t, eventually, "the failing time to grow", func() bool {
		return h.metric("hookline_endpoints_failing_longest_seconds") >= first+0.2
	})
	require_Equal(t, h.metric("hookline_endpoints_failing"), 1.0)
}
