package engine_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"hookline/engine"
)

func endpointHealth(t testing.TB, h *harness, ep engine.Endpoint) engine.EndpointHealth {
	t.Helper()
	got, err := h.e.EndpointHealth(ep.Tenant, ep.ID)
	require_NoError(t, err)
	return got
}

// waitAttempts waits until ep's health counts n attempts in the last day.
func waitAttempts(t testing.TB, h *harness, ep engine.Endpoint, n uint64) engine.EndpointHealth {
	t.Helper()
	var got engine.EndpointHealth
	waitFor(t, 20*time.Second, fmt.Sprintf("%d attempts in the health of %s", n, ep.ID), func() bool {
		got = endpointHealth(t, h, ep)
		return got.Windows.Day.Attempts >= n
	})
	require_Equal(t, got.Windows.Day.Attempts, n)
	return got
}

func requireCounts(t testing.TB, name string, w engine.HealthWindow, attempts, succeeded uint64, failures string) {
	t.Helper()
	if w.Attempts != attempts || w.Succeeded != succeeded || w.Failed != attempts-succeeded || fmt.Sprint(w.Failures) != failures {
		t.Fatalf("%s: %d attempts, %d succeeded, %d failed, failures %v; want %d, %d, %s",
			name, w.Attempts, w.Succeeded, w.Failed, w.Failures, attempts, succeeded, failures)
	}
}

// requireAtLeast checks a latency quantile against the receiver's sleep,
// a floor the bins (within 19%) keep. How far above the floor it is
// depends on the machine's load and is not judged; the quantile
// arithmetic has exact tests of its own (TestLatBinQuantile).
func requireAtLeast(t testing.TB, name string, got *float64, floor float64) {
	t.Helper()
	if got == nil || *got < floor/1.2 {
		t.Fatalf("%s = %v ms; want at least %v ms", name, got, floor)
	}
}

// TestEndpointHealth: deliveries that succeed, answer 503, time out and
// are refused show in the endpoint's health with the right counts, kinds,
// rate, latency quantiles and times.
func TestEndpointHealth(t *testing.T) {
	// A 2 s timeout, which one reply (2.5 s) outlasts on purpose.
	h := newHarnessTimeout(t, testOptions(), 2*time.Second)
	h.tenant("acme")
	ok := reply{status: 200}
	rc := newReceiver(t, recvConfig{sleep: 20 * time.Millisecond, replies: []reply{
		ok, ok, ok, ok, ok, // events 1-5
		{status: 503}, {status: 503}, {status: 503}, {status: 200, delay: 2500 * time.Millisecond}, ok, // event 6: the 4th attempt times out
		ok, {status: 200, delay: 150 * time.Millisecond}, // events 7 and 8
	}})
	// One request at a time, in order, so the replies above go where
	// their comments say.
	ep := h.endpoint("acme", engine.EndpointInput{URL: ptr(rc.URL()), Ordering: ptr(engine.OrderingFIFO)})
	got := endpointHealth(t, h, ep)
	require_True(t, got.EndpointID == ep.ID && got.LastSuccessAt == nil && got.LastFailureAt == nil, "new endpoint's health %+v", got)
	requireCounts(t, "new endpoint", got.Windows.Week, 0, 0, "map[]")
	require_True(t, got.Windows.Week.SuccessRate == nil && got.Windows.Week.LatencyMs.P50 == nil, "empty window %+v", got.Windows.Week)

	start := time.Now()
	for i := range 8 {
		h.publish("acme", engine.PublishEvent{Type: "invoice.paid", Payload: []byte(fmt.Sprint(i))})
	}
	got = waitAttempts(t, h, ep, 12)
	lastOK := time.Now()
	for name, w := range map[string]engine.HealthWindow{"1h": got.Windows.Hour, "24h": got.Windows.Day, "7d": got.Windows.Week} {
		requireCounts(t, name, w, 12, 8, "map[503:3 timeout:1]")
	}
	require_Equal(t, *got.Windows.Hour.SuccessRate, 0.6667)
	// 11 responses: ten in 20 ms or more, the last in 170 ms or more (the
	// timeout has no latency): p50 is one of the ten, p95 the last.
	p50, p95 := got.Windows.Hour.LatencyMs.P50, got.Windows.Hour.LatencyMs.P95
	requireAtLeast(t, "p50", p50, 20)
	requireAtLeast(t, "p95", p95, 170)
	require_True(t, *p50 <= *p95, "p50 %v ms is above p95 %v ms", *p50, *p95)
	require_True(t, got.LastSuccessAt != nil && !got.LastSuccessAt.Before(start.Truncate(time.Millisecond)) && !got.LastSuccessAt.After(lastOK),
		"last success %v; want between %v and %v", got.LastSuccessAt, start, lastOK)
	require_True(t, got.LastFailureAt != nil && got.LastFailureAt.Before(*got.LastSuccessAt), "last failure %v after last success %v", got.LastFailureAt, got.LastSuccessAt)

	// Nothing listens at the new URL: five refused attempts, then a dead letter.
	_, err := h.e.UpdateEndpoint(context.Background(), "acme", ep.ID, engine.EndpointInput{URL: ptr(closedPortURL(t))})
	require_NoError(t, err)
	h.publish("acme", engine.PublishEvent{Type: "invoice.paid", Payload: []byte(`9`)})
	got = waitAttempts(t, h, ep, 17)
	requireCounts(t, "1h", got.Windows.Hour, 17, 8, "map[503:3 refused:5 timeout:1]")
	require_Equal(t, *got.Windows.Day.SuccessRate, 0.4706)
	require_True(t, got.LastFailureAt.After(*got.LastSuccessAt), "last failure %v before last success %v", got.LastFailureAt, got.LastSuccessAt)
	requireAtLeast(t, "p50 after refusals", got.Windows.Hour.LatencyMs.P50, 20)
	require_True(t, *got.Windows.Hour.LatencyMs.P50 <= *got.Windows.Hour.LatencyMs.P95, "after refusals p50 %v ms is above p95 %v ms",
		*got.Windows.Hour.LatencyMs.P50, *got.Windows.Hour.LatencyMs.P95)
}

// TestEndpointHealthRestart: the hours are on disk after a restart (the
// 1 h window starts again), and what comes after adds to them; a deleted
// endpoint's health goes with it.
func TestEndpointHealthRestart(t *testing.T) {
	h := newHarness(t, testOptions())
	h.tenant("acme")
	rc := newReceiver(t, recvConfig{replies: []reply{{status: 200}, {status: 500}, {status: 200}}})
	ep := h.endpoint("acme", engine.EndpointInput{URL: ptr(rc.URL()), Ordering: ptr(engine.OrderingFIFO)})
	h.publish("acme", engine.PublishEvent{Type: "a", Payload: []byte(`1`)}, engine.PublishEvent{Type: "a", Payload: []byte(`2`)})
	before := waitAttempts(t, h, ep, 3)

	h.stop(5 * time.Second)
	h.start()
	got := endpointHealth(t, h, ep)
	requireCounts(t, "24h after restart", got.Windows.Day, 3, 2, "map[500:1]")
	requireCounts(t, "7d after restart", got.Windows.Week, 3, 2, "map[500:1]")
	requireCounts(t, "1h after restart", got.Windows.Hour, 0, 0, "map[]")
	require_True(t, got.LastSuccessAt.Equal(*before.LastSuccessAt) && got.LastFailureAt.Equal(*before.LastFailureAt),
		"times after restart %v, %v; before %v, %v", got.LastSuccessAt, got.LastFailureAt, before.LastSuccessAt, before.LastFailureAt)

	h.publish("acme", engine.PublishEvent{Type: "a", Payload: []byte(`3`)})
	waitAttempts(t, h, ep, 4)
	h.stop(5 * time.Second)
	h.start()
	requireCounts(t, "24h after a second restart", endpointHealth(t, h, ep).Windows.Day, 4, 3, "map[500:1]")

	require_NoError(t, h.e.DeleteEndpoint(context.Background(), "acme", ep.ID))
	n := 0
	require_NoError(t, h.log.ScanHealth(walID(t, ep), 0, 1<<32-1, func(uint32, []byte) { n++ }))
	require_Equal(t, n, 0)
	_, err := h.e.EndpointHealth("acme", ep.ID)
	require_ErrorCode(t, err, engine.KindConflict, "endpoint_deleted")
}
