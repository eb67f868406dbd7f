package engine_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"hookline/engine"
	"hookline/wal"
)

// TestRestartResumesRetries: a retry recorded before a restart is made after
// it, once, no earlier than scheduled, with the next attempt number, the same
// webhook-id and a signature that still verifies.
func TestRestartResumesRetries(t *testing.T) {
	t.Parallel()
	opts := testOptions()
	opts.RetrySchedule = []time.Duration{1500 * time.Millisecond}
	h := newHarness(t, opts)
	h.tenant("acme")
	rc1 := newReceiver(t, recvConfig{replies: []reply{{status: 503}}})
	ep := h.endpoint("acme", engine.EndpointInput{URL: ptr(rc1.URL())})
	ev := h.publish("acme", engine.PublishEvent{Type: "invoice.paid", Payload: []byte(`{"a":1}`)})[0].ID

	waitFor(t, 10*time.Second, "the first attempt to be logged", func() bool { return len(h.attempts(ep, ev)) == 1 })
	h.stop(5 * time.Second)
	addr := rc1.addr()
	rc1.close()
	require_Equal(t, rc1.count(), 1)

	// Same URL, new server answering 200; same data directory.
	rc2 := newReceiver(t, recvConfig{addr: addr, prefix: rc1.prefix})
	require_Equal(t, rc2.URL(), rc1.URL())
	h.start()
	got, err := h.e.GetEndpoint("acme", ep.ID)
	require_NoError(t, err)
	require_Equal(t, got.URL, ep.URL)

	// A loaded run once waited a minute for this retry with nothing in the
	// engine's log: should it happen again, say where the retry was (on
	// disk, loaded into the wheel, fired, in flight, recorded).
	restarted := time.Now()
	for deadline := restarted.Add(eventually); rc2.count() < 1; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			var state strings.Builder
			for _, a := range h.attempts(ep, ev) {
				fmt.Fprintf(&state, "attempt %d %c status %d %s at %s next %s; ", a.Attempt, a.Outcome, a.Status, a.ErrClass,
					time.UnixMilli(a.TimeMs).Format(time.StampMilli), time.UnixMilli(a.NextMs).Format(time.StampMilli))
			}
			for _, m := range []string{"hookline_retry_loaded_from_disk_total", "hookline_retry_wheel_pending", "hookline_retry_fire_delay_seconds_count", "hookline_delivery_in_flight_attempts"} {
				fmt.Fprintf(&state, "%s %v; ", m, h.metric(m))
			}
			t.Fatalf("no retry at the new receiver %s after the restart at %s: %scounts %+v",
				eventually, restarted.Format(time.StampMilli), state.String(), h.counts())
		}
	}
	waitFor(t, 5*time.Second, "the retry to be logged", func() bool { return len(h.attempts(ep, ev)) >= 2 })
	time.Sleep(quiet)
	require_Equal(t, rc1.count(), 1)
	require_Equal(t, rc2.count(), 1)

	first, retry := rc1.deliveries()[0], rc2.deliveries()[0]
	require_Equal(t, retry.id, engine.FormatEventID(ev))
	require_Equal(t, retry.id, first.id)
	require_Equal(t, retry.attempt, 2)
	gap := retry.at.Sub(first.at)
	require_True(t, gap >= 1350*time.Millisecond-msSlack, "the retry came %s after the first attempt; the schedule says 1.5s ±10%%", gap)
	wh, err := standardwebhooks.NewWebhook(ep.Secret)
	require_NoError(t, err)
	require_NoError(t, wh.Verify(retry.body, retry.header))

	as := h.attempts(ep, ev)
	require_Equal(t, outcomes(as), "rs")
	h.requireSettled()
}

// TestRestartDeliversQueuedEvents: events queued behind a hung endpoint when
// the engine stops (with a short deadline, attempts still in flight) are all
// delivered after a restart, and the attempts abandoned at shutdown finish
// harmlessly once the log is closed.
//
// It runs in a child process: if an abandoned attempt crashes the process
// (e.g. by using the closed log), only this test fails.
func TestRestartDeliversQueuedEvents(t *testing.T) {
	t.Parallel()
	if !runInChild(t) {
		return
	}
	const n = 200
	h := newHarness(t, testOptions())
	h.tenant("acme")
	rc1 := newReceiver(t, recvConfig{blocked: true})
	h.endpoint("acme", engine.EndpointInput{URL: ptr(rc1.URL()), MaxInFlight: ptr(4)})

	want := map[string]bool{}
	for b := 0; b < 4; b++ {
		evs := make([]engine.PublishEvent, n/4)
		for i := range evs {
			evs[i] = engine.PublishEvent{Type: "invoice.paid", Payload: []byte(strconv.Itoa(b*n/4 + i))}
		}
		for _, r := range h.publish("acme", evs...) {
			want[engine.FormatEventID(r.ID)] = true
		}
	}
	require_Equal(t, len(want), n)
	waitFor(t, 10*time.Second, "4 requests hanging at the receiver", func() bool { return rc1.cur.Load() == 4 })
	require_Equal(t, h.counts().Queued, n)

	// Stop with a deadline the hung attempts cannot meet, then close the
	// log, as cmd/hookline does. Stop returns at its deadline, not when
	// they end: the receiver holds them until released (30 s at most), and
	// the delivery timeout is longer than that.
	oldMetrics := h.metrics
	h.stop(100 * time.Millisecond)
	require_Equal(t, metricValue(oldMetrics, "hookline_delivery_in_flight_attempts"), 4.0)

	addr := rc1.addr()
	rc1.closeListener()
	rc2 := newReceiver(t, recvConfig{addr: addr, prefix: rc1.prefix})
	h.start()
	waitFor(t, 20*time.Second, "all events after restart", func() bool { return len(rc2.ids()) >= n })
	for id := range rc2.ids() {
		require_True(t, want[id], "unknown webhook-id %q after restart", id)
	}
	waitFor(t, 5*time.Second, "an empty queue", func() bool { return h.counts().Queued == 0 })

	// Let the abandoned attempts of the old engine finish: they must not
	// touch the closed log in a way that crashes the process.
	rc1.release()
	waitFor(t, 10*time.Second, "the old engine's attempts to end", func() bool {
		return metricValue(oldMetrics, "hookline_delivery_in_flight_attempts") == 0
	})
	time.Sleep(100 * time.Millisecond)
	h.requireSettled()
}

// TestStopWaitsForAttempts: Stop with a generous deadline lets attempts in
// flight finish and record their outcome, so nothing is sent twice after a
// restart.
func TestStopWaitsForAttempts(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testOptions())
	h.tenant("acme")
	rc := newReceiver(t, recvConfig{sleep: 300 * time.Millisecond})
	ep := h.endpoint("acme", engine.EndpointInput{URL: ptr(rc.URL()), MaxInFlight: ptr(2)})
	res := h.publish("acme", engine.PublishEvent{Type: "a"}, engine.PublishEvent{Type: "a"})
	waitFor(t, 5*time.Second, "2 requests in flight", func() bool { return rc.cur.Load() == 2 })
	// Stop returns when the attempts end: its deadline only guards against
	// a hang, and a loaded machine may take seconds to finish them.
	ctx, cancel := context.WithTimeout(context.Background(), eventually)
	h.e.Stop(ctx)
	cancel()
	for _, r := range res {
		require_Equal(t, outcomes(h.attempts(ep, r.ID)), "s")
	}
	require_Equal(t, h.counts().Queued, 0)
	h.running = false
	require_NoError(t, h.log.Close())

	h.start()
	time.Sleep(quiet)
	require_Equal(t, rc.count(), 2)
	var zero wal.Counts
	c := h.counts()
	c.Events, c.Attempts = 0, 0
	require_Equal(t, c, zero)
}
