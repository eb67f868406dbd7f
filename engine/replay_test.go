package engine_test

import (
	"context"
	"testing"
	"time"

	"hookline/engine"
)

// TestReplayDelivery: a succeeded delivery is sent again when forced, a dead
// one is revived, a waiting one is refused; a replay survives a restart.
func TestReplayDelivery(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testOptions())
	h.tenant("acme")
	rc := newReceiver(t, recvConfig{replies: []reply{{status: 200}, {status: 404}, {status: 200}}})
	ep := h.endpoint("acme", engine.EndpointInput{URL: ptr(rc.URL()), MaxInFlight: ptr(1)})
	res := h.publish("acme", engine.PublishEvent{Type: "a"}, engine.PublishEvent{Type: "b"})
	ok, dead := engine.FormatEventID(res[0].ID), engine.FormatEventID(res[1].ID)
	waitFor(t, 5*time.Second, "two outcomes", func() bool { return rc.count() == 2 && len(h.dead(ep)) == 1 && h.counts().Queued == 0 })

	// Pause first, so the replays wait where the listing can see them.
	_, err := h.e.UpdateEndpoint(context.Background(), "acme", ep.ID, engine.EndpointInput{Paused: ptr(true)})
	require_NoError(t, err)
	d, err := h.e.ReplayDelivery(context.Background(), "acme", ep.ID, ok, nil)
	require_NoError(t, err)
	require_Equal(t, d.Status, "pending")
	require_Equal(t, d.Attempts, 1)
	_, err = h.e.ReplayDelivery(context.Background(), "acme", ep.ID, ok, nil)
	require_ErrorCode(t, err, engine.KindConflict, "delivery_pending")
	d, err = h.e.ReplayDelivery(context.Background(), "acme", ep.ID, dead, nil)
	require_NoError(t, err)
	require_Equal(t, d.Status, "pending")
	require_Equal(t, len(h.dead(ep)), 0)
	require_Equal(t, h.metric("hookline_retry_backlog_deliveries"), 2.0)
	// Replayed deliveries list as pending under the pending filter too.
	pending, _, err := h.e.ListDeliveries("acme", ep.ID, engine.DeliveryFilter{Status: "pending", Limit: 10})
	require_NoError(t, err)
	require_Equal(t, len(pending), 2)
	require_Equal(t, pending[0].EventID, dead)
	require_Equal(t, pending[0].Attempts, 1)
	require_Equal(t, pending[0].LastAttempt.Outcome, "replay_queued")

	// A restart in between: the replays are on disk.
	h.stop(5 * time.Second)
	h.start()
	_, err = h.e.UpdateEndpoint(context.Background(), "acme", ep.ID, engine.EndpointInput{Paused: ptr(false)})
	require_NoError(t, err)
	waitFor(t, 5*time.Second, "the two replays", func() bool { return rc.count() == 4 })
	ds := rc.deliveries()
	for _, dl := range ds[2:] {
		require_Equal(t, dl.attempt, 2)
	}
	waitFor(t, 5*time.Second, "both succeeded", func() bool {
		a, _ := h.e.GetDelivery("acme", ep.ID, ok)
		b, _ := h.e.GetDelivery("acme", ep.ID, dead)
		return a.Status == "succeeded" && b.Status == "succeeded"
	})
	pending, _, err = h.e.ListDeliveries("acme", ep.ID, engine.DeliveryFilter{Status: "pending", Limit: 10})
	require_NoError(t, err)
	require_Equal(t, len(pending), 0)
	d, err = h.e.GetDelivery("acme", ep.ID, dead)
	require_NoError(t, err)
	require_Equal(t, d.Attempts, 2)
	require_Equal(t, len(d.AttemptLog), 2)
	require_Equal(t, d.AttemptLog[0].Status, 404)
	require_Equal(t, d.AttemptLog[1].Outcome, "succeeded")
	h.requireSettled()

	_, err = h.e.ReplayDelivery(context.Background(), "acme", ep.ID, "evt_01JDZZZZZZZZZZZZZZZZZZZZZZ", nil)
	require_ErrorCode(t, err, engine.KindNotFound, "delivery_not_found")
	_, err = h.e.ReplayDelivery(context.Background(), "acme", "ep_nope", ok, nil)
	require_ErrorCode(t, err, engine.KindNotFound, "endpoint_not_found")
}

// TestCancelRetry: a delivery waiting for its retry is cancelled: the retry
// is never made, in the wheel or after a restart; it lists as cancelled and
// can be replayed.
func TestCancelRetry(t *testing.T) {
	t.Parallel()
	// The cancel must come before the retry is due: 2s leaves a loaded
	// machine room (300ms did not). The checks wait on due times and
	// records, not on the delay.
	const delay = 2 * time.Second
	opts := testOptions()
	opts.RetrySchedule = []time.Duration{delay, delay}
	h := newHarness(t, opts)
	h.tenant("acme")
	rc := newReceiver(t, recvConfig{replies: []reply{{status: 503}, {status: 503}, {status: 200}}})
	ep := h.endpoint("acme", engine.EndpointInput{URL: ptr(rc.URL()), MaxInFlight: ptr(1)})
	res := h.publish("acme", engine.PublishEvent{Type: "a"}, engine.PublishEvent{Type: "b"})
	first, second := engine.FormatEventID(res[0].ID), engine.FormatEventID(res[1].ID)
	waitFor(t, 5*time.Second, "two retries pending", func() bool { return h.counts().Retries == 2 })
	due := time.UnixMilli(h.attempts(ep, res[0].ID)[0].NextMs)

	d, err := h.e.CancelDelivery(context.Background(), "acme", ep.ID, first)
	require_NoError(t, err)
	require_Equal(t, d.Status, "cancelled")
	require_Equal(t, d.Attempts, 1)
	_, err = h.e.CancelDelivery(context.Background(), "acme", ep.ID, first)
	require_ErrorCode(t, err, engine.KindConflict, "delivery_not_retrying")
	// Only the second one's retry waits, until it has been made (a retry
	// leaves the count when its outcome is recorded, after the receiver
	// got it).
	backlog := h.metric("hookline_retry_backlog_deliveries")
	if rc.count() == 2 {
		require_Equal(t, backlog, 1.0)
	} else {
		require_True(t, backlog <= 1, "retry backlog %v after the cancel", backlog)
	}

	// The second one's retry comes (and succeeds); the cancelled one's never,
	// also well past its due time.
	waitFor(t, 10*time.Second, "the second delivery's retry recorded", func() bool {
		d, err := h.e.GetDelivery("acme", ep.ID, second)
		return err == nil && d.Status == "succeeded"
	})
	time.Sleep(time.Until(due.Add(quiet)))
	ids := rc.ids()
	require_Equal(t, ids[first], 1)
	require_Equal(t, ids[second], 2)
	ds, _, err := h.e.ListDeliveries("acme", ep.ID, engine.DeliveryFilter{Status: "cancelled", Limit: 10})
	require_NoError(t, err)
	require_Equal(t, len(ds), 1)
	require_Equal(t, ds[0].EventID, first)
	_, err = h.e.CancelDelivery(context.Background(), "acme", ep.ID, second)
	require_ErrorCode(t, err, engine.KindConflict, "delivery_not_retrying")

	// A restart does not bring it back; a replay sends it.
	h.stop(5 * time.Second)
	h.start()
	time.Sleep(quiet)
	require_Equal(t, rc.ids()[first], 1)
	d, err = h.e.ReplayDelivery(context.Background(), "acme", ep.ID, first, nil)
	require_NoError(t, err)
	// Due at once: the lane may have taken it already, and on a loaded
	// machine made it before the answer was put together.
	require_True(t, d.Status == "pending" || d.Status == "in_flight" || d.Status == "succeeded", "replayed delivery is %s", d.Status)
	waitFor(t, 5*time.Second, "the replay", func() bool { return rc.ids()[first] == 2 })
	// The receiver answers before the outcome is recorded.
	waitFor(t, 5*time.Second, "the replay's outcome", func() bool {
		d, err := h.e.GetDelivery("acme", ep.ID, first)
		return err == nil && d.Status == "succeeded"
	})
	h.requireSettled()
}
