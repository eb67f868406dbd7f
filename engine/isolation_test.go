package engine_test

import (
	"fmt"
	"testing"
	"time"

	"hookline/engine"
)

// TestIsolation: of 10 endpoints one hangs and one answers 500; the other 8
// get every event while the hung one holds only its own max_in_flight
// requests, and the failing one never has more than its own open either.
// Throughput and latency of the 8 are measured by hookline bench
// (slow-endpoint scenario), not here.
func TestIsolation(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testOptions())
	h.tenant("acme")
	hung := newReceiver(t, recvConfig{blocked: true})
	t.Cleanup(hung.release)
	failing := newReceiver(t, recvConfig{replies: []reply{{status: 500}}})
	h.endpoint("acme", engine.EndpointInput{URL: ptr(hung.URL()), MaxInFlight: ptr(4)})
	h.endpoint("acme", engine.EndpointInput{URL: ptr(failing.URL()), MaxInFlight: ptr(3)})
	fast := make([]*receiver, 8)
	for i := range fast {
		fast[i] = newReceiver(t, recvConfig{})
		h.endpoint("acme", engine.EndpointInput{URL: ptr(fast[i].URL()), MaxInFlight: ptr(8)})
	}
	const n = 300
	for i := 0; i < n; i += 50 {
		h.publish("acme", events("order.created", 50)...)
	}
	for i, rc := range fast {
		waitFor(t, 10*time.Second, fmt.Sprintf("fast endpoint %d to get all %d events", i, n), func() bool { return len(rc.ids()) == n })
	}
	// Its count grows past 4 once the attempts time out (2 s) and retry,
	// which a loaded machine reaches before the fast endpoints are done:
	// what max_in_flight bounds is how many are open at once.
	require_True(t, hung.peak.Load() <= 4, "the hung endpoint had %d requests open; max_in_flight is 4", hung.peak.Load())
	require_True(t, failing.peak.Load() <= 3, "the failing endpoint had %d requests open; max_in_flight is 3", failing.peak.Load())
	for i, rc := range fast {
		require_True(t, rc.peak.Load() <= 8, "fast endpoint %d had %d requests open; max_in_flight is 8", i, rc.peak.Load())
	}
}
