package engine_test

import (
	"testing"
	"time"

	"hookline/engine"
)

// TestLaneOverflowFallsBackToDisk: new deliveries reach a lane in memory,
// but only up to a bound; past it the lane reads them back from its queue on
// disk. With a receiver holding the only slot while 3,000 events (several
// times the in-memory bound) are published, every event must still arrive
// exactly once and, at max_in_flight 1, in publish order.
func TestLaneOverflowFallsBackToDisk(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testOptions())
	h.tenant("acme")
	rc := newReceiver(t, recvConfig{replies: []reply{{status: 200, block: true}, {status: 200}}})
	h.endpoint("acme", engine.EndpointInput{URL: ptr(rc.URL()), MaxInFlight: ptr(1)})

	const batches, per = 30, 100
	var want []string
	for b := 0; b < batches; b++ {
		evs := make([]engine.PublishEvent, per)
		for i := range evs {
			evs[i] = engine.PublishEvent{Type: "a", Payload: []byte(`{}`)}
		}
		for _, r := range h.publish("acme", evs...) {
			want = append(want, engine.FormatEventID(r.ID))
		}
		if b == 0 {
			waitFor(t, 10*time.Second, "the first request to hang", func() bool { return rc.count() == 1 })
		}
	}
	rc.release()
	waitFor(t, 30*time.Second, "all deliveries", func() bool { return rc.count() >= batches*per })
	time.Sleep(quiet)
	var got []string
	for _, d := range rc.deliveries() {
		got = append(got, d.id)
	}
	require_Equal(t, len(got), len(want))
	require_DeepEqual(t, got, want)
	h.requireSettled()
}
