package engine_test

import (
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"hookline/engine"
)

// TestCircuitStaysClosedAtTwentyPercent: an endpoint failing one request in
// five, with its failures answered at once and its successes slowly, must
// not be cut off: with 100 requests in flight the first 20 to come back are
// failures, which a fixed run of 20 would take for an outage.
func TestCircuitStaysClosedAtTwentyPercent(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testOptions())
	h.tenant("acme")
	var n, ok atomic.Int64
	ln := listenOn(t, "127.0.0.1:0")
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1)%5 == 0 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		time.Sleep(50 * time.Millisecond)
		ok.Add(1)
	})}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	ep := h.endpoint("acme", engine.EndpointInput{URL: ptr("http://" + ln.Addr().String() + "/hook"), MaxInFlight: ptr(100)})
	for range 20 {
		h.publish("acme", events("a", 100)...)
	}
	waitFor(t, 15*time.Second, "every delivery settled", func() bool {
		c := h.counts()
		// A delivery that failed every attempt adds its
		// hookline.delivery.exhausted event to the 2000.
		return c.Events >= 2000 && c.Queued == 0 && c.Retries == 0
	})
	t.Logf("%d requests, %d answered 200; %d dead letters", n.Load(), ok.Load(), h.counts().Dead)
	require_Equal(t, h.metric(`hookline_circuit_transitions_total{to="open"}`), 0.0)
	require_Equal(t, h.get(ep).Circuit.State, "closed")
}
