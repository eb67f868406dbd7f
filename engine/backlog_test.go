package engine_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"hookline/engine"
)

// TestBacklogDrainedFromDisk: a backlog far past what a lane holds in
// memory, with no body left in the recent ring, is read back from the wal
// (its queue, then its events in one pass per read-ahead) and each
// delivery carries its own event's body, once.
func TestBacklogDrainedFromDisk(t *testing.T) {
	t.Parallel()
	opts := testOptions()
	opts.RecentBodyBytes = 4096 // a few bodies: the backlog's are read from disk
	h := newHarness(t, opts)
	h.tenant("acme")
	rc := newReceiver(t, recvConfig{})
	ep := h.endpoint("acme", engine.EndpointInput{URL: ptr(rc.URL()), Paused: ptr(true)})
	// Every 17th body is large enough to be stored compressed.
	const n = 3000
	want := map[string]string{} // webhook-id -> marker in its body
	for i := 0; i < n; i += 100 {
		evs := make([]engine.PublishEvent, 100)
		for j := range evs {
			pad := ""
			if (i+j)%17 == 0 {
				pad = strings.Repeat("x", 6000)
			}
			evs[j] = engine.PublishEvent{Type: "invoice.paid", Payload: fmt.Appendf(nil, `{"n":%d,"pad":%q}`, i+j, pad)}
		}
		for j, r := range h.publish("acme", evs...) {
			want[engine.FormatEventID(r.ID)] = fmt.Sprintf(`"n":%d,`, i+j)
		}
	}
	_, err := h.e.SetPaused(context.Background(), "acme", ep.ID, false)
	require_NoError(t, err)
	waitFor(t, eventually, "the backlog's deliveries", func() bool { return rc.count() >= n })
	h.requireSettled()
	got := map[string]bool{}
	for _, d := range rc.deliveries() {
		marker, ok := want[d.id]
		require_True(t, ok, "a delivery of an unknown event %s", d.id)
		require_True(t, !got[d.id], "event %s delivered twice", d.id)
		got[d.id] = true
		require_True(t, strings.Contains(string(d.body), marker), "event %s has the body of another: %.80s", d.id, d.body)
	}
	require_Equal(t, len(got), n)
	time.Sleep(quiet)
	require_Equal(t, rc.count(), n)
}
