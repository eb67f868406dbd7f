package engine_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"hookline/engine"
	"hookline/httpout"
	"hookline/wal"
)

// TestRetryBeyondWheelHorizon: a retry due after the timer wheel's horizon
// waits in the on-disk retry index and is loaded and made on time.
func TestRetryBeyondWheelHorizon(t *testing.T) {
	t.Parallel()
	opts := testOptions()
	opts.WheelSlots = 32 // 32 × 10ms: a 320ms horizon
	opts.RetrySchedule = []time.Duration{time.Second}
	h := newHarness(t, opts)
	h.tenant("acme")
	rc := newReceiver(t, recvConfig{replies: []reply{{status: 503}, {status: 200}}})
	ep := h.endpoint("acme", engine.EndpointInput{URL: ptr(rc.URL())})
	ev := h.publish("acme", engine.PublishEvent{Type: "a"})[0].ID

	waitFor(t, 10*time.Second, "2 logged attempts", func() bool { return len(h.attempts(ep, ev)) >= 2 })
	time.Sleep(quiet)
	ds := rc.deliveries()
	require_Equal(t, len(ds), 2)
	gap := ds[1].at.Sub(ds[0].repliedAt)
	require_True(t, gap >= 900*time.Millisecond-msSlack, "the retry came %s after the first answer; the schedule says 1s ±10%%", gap)
	require_Equal(t, outcomes(h.attempts(ep, ev)), "rs")
	require_True(t, h.metric("hookline_retry_loaded_from_disk_total") >= 1, "the retry was not loaded from disk")
	require_Equal(t, h.counts().Retries, 0)
}

// TestRestartWithOverdueRetry: a retry that fell due while the engine was
// down is made promptly after the restart, once.
func TestRestartWithOverdueRetry(t *testing.T) {
	t.Parallel()
	opts := testOptions()
	opts.RetrySchedule = []time.Duration{200 * time.Millisecond}
	h := newHarness(t, opts)
	h.tenant("acme")
	rc := newReceiver(t, recvConfig{replies: []reply{{status: 503}, {status: 200}}})
	ep := h.endpoint("acme", engine.EndpointInput{URL: ptr(rc.URL())})
	ev := h.publish("acme", engine.PublishEvent{Type: "a"})[0].ID
	waitFor(t, 10*time.Second, "the first attempt to be logged", func() bool { return len(h.attempts(ep, ev)) == 1 })
	h.stop(5 * time.Second)
	time.Sleep(400 * time.Millisecond) // the retry falls due while down

	h.start()
	waitFor(t, 10*time.Second, "the retry after restart", func() bool { return len(h.attempts(ep, ev)) >= 2 })
	time.Sleep(quiet)
	require_Equal(t, rc.count(), 2)
	require_Equal(t, rc.deliveries()[1].attempt, 2)
	require_Equal(t, outcomes(h.attempts(ep, ev)), "rs")
	require_Equal(t, h.counts().Retries, 0)
}

// TestUpdateEndpoint: disabling pauses a lane (queued deliveries wait, new
// events are not queued), enabling resumes it; URL, event_types and secret
// changes apply to the next deliveries.
func TestUpdateEndpoint(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testOptions())
	h.tenant("acme")
	rc := newReceiver(t, recvConfig{blocked: true})
	ep := h.endpoint("acme", engine.EndpointInput{URL: ptr(rc.URL()), MaxInFlight: ptr(1), EventTypes: &[]string{"invoice.*"}})
	h.publish("acme", engine.PublishEvent{Type: "invoice.a"}, engine.PublishEvent{Type: "invoice.b"}, engine.PublishEvent{Type: "invoice.c"})
	waitFor(t, 10*time.Second, "one request hanging", func() bool { return rc.cur.Load() == 1 })

	upd, err := h.e.UpdateEndpoint(context.Background(), "acme", ep.ID, engine.EndpointInput{Disabled: ptr(true)})
	require_NoError(t, err)
	require_True(t, upd.Disabled, "update did not disable")
	rc.release()
	h.publish("acme", engine.PublishEvent{Type: "invoice.d"}) // not queued: disabled
	time.Sleep(quiet)
	require_Equal(t, rc.count(), 1)
	require_Equal(t, h.queued(ep), 2)

	_, err = h.e.UpdateEndpoint(context.Background(), "acme", ep.ID, engine.EndpointInput{Disabled: ptr(false)})
	require_NoError(t, err)
	waitFor(t, 10*time.Second, "the queued deliveries after enabling", func() bool { return rc.count() == 3 })
	waitFor(t, 5*time.Second, "an empty queue", func() bool { return h.queued(ep) == 0 })

	// New URL, types and secret.
	rc2 := newReceiver(t, recvConfig{})
	secret, err := httpout.NewSecret()
	require_NoError(t, err)
	_, err = h.e.UpdateEndpoint(context.Background(), "acme", ep.ID, engine.EndpointInput{URL: ptr(rc2.URL()), EventTypes: &[]string{"lead.won"}, Secret: &secret})
	require_NoError(t, err)
	res := h.publish("acme", engine.PublishEvent{Type: "invoice.e"}, engine.PublishEvent{Type: "lead.won"})
	waitFor(t, 10*time.Second, "the delivery to the new URL", func() bool { return rc2.count() == 1 })
	time.Sleep(quiet)
	require_Equal(t, rc.count(), 3)
	require_Equal(t, rc2.count(), 1)
	d := rc2.deliveries()[0]
	require_Equal(t, d.id, engine.FormatEventID(res[1].ID))
	whNew, err := standardwebhooks.NewWebhook(secret)
	require_NoError(t, err)
	require_NoError(t, whNew.Verify(d.body, d.header))
	whOld, err := standardwebhooks.NewWebhook(ep.Secret)
	require_NoError(t, err)
	require_True(t, whOld.Verify(d.body, d.header) != nil, "the old secret still verifies after rotation")
}

// TestConcurrentPublish: publishers racing each other and endpoint creation:
// every event reaches each endpoint that existed when it was published,
// exactly once (the receivers answer 200); more than one queue scan's worth.
func TestConcurrentPublish(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testOptions())
	h.tenant("acme")
	rcA := newReceiver(t, recvConfig{})
	h.endpoint("acme", engine.EndpointInput{URL: ptr(rcA.URL())})
	rcB := newReceiver(t, recvConfig{})

	const workers, perWorker = 8, 50
	started := time.Now()
	var (
		mu     sync.Mutex
		all    = map[string]bool{}
		afterB = map[string]bool{} // published after B's creation returned
		bMade  = make(chan struct{})
		wg     sync.WaitGroup
		errs   = make(chan error, workers)
	)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// perWorker events, and at least 10 once B exists (bounded: the
			// test creates B right away).
			for i, postB := 0, 0; i < perWorker || postB < 10; i++ {
				var made bool
				select {
				case <-bMade:
					made = true
					postB++
				default:
				}
				// Bounded in time, not count: on a store that does not
				// fsync per group (HOOKLINE_TEST_STORE=replica), 500
				// publishes take less than B's creation.
				if i >= perWorker && time.Since(started) > time.Minute {
					errs <- fmt.Errorf("endpoint B was never created")
					return
				}
				evs := []engine.PublishEvent{{Type: "invoice.paid", Payload: []byte(fmt.Sprintf(`{"w":%d,"i":%d}`, w, i))}}
				res, err := publishErr(h, evs)
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				id := engine.FormatEventID(res[0].ID)
				all[id] = true
				if made {
					afterB[id] = true
				}
				mu.Unlock()
			}
		}()
	}
	time.Sleep(20 * time.Millisecond)
	h.endpoint("acme", engine.EndpointInput{URL: ptr(rcB.URL())})
	close(bMade)
	wg.Wait()
	close(errs)
	for err := range errs {
		require_NoError(t, err)
	}
	require_True(t, len(all) >= workers*perWorker && len(afterB) >= workers*10, "published %d events, %d after B", len(all), len(afterB))

	waitFor(t, 20*time.Second, "all deliveries to A", func() bool { return rcA.count() >= len(all) })
	waitFor(t, 10*time.Second, "an empty queue", func() bool { return h.counts().Queued == 0 })
	time.Sleep(100 * time.Millisecond)
	a := rcA.ids()
	require_Equal(t, len(a), len(all))
	require_Equal(t, rcA.count(), len(all))
	for id := range a {
		require_True(t, all[id], "A got unknown id %s", id)
	}
	b := rcB.ids()
	require_Equal(t, rcB.count(), len(b))
	for id := range afterB {
		require_True(t, b[id] == 1, "B missed %s, published after B was created", id)
	}
	for id := range b {
		require_True(t, all[id], "B got unknown id %s", id)
	}
}

// publishErr publishes from a goroutine other than the test's, where
// t.Fatal must not be called.
func publishErr(h *harness, evs []engine.PublishEvent) ([]wal.AppendResult, error) {
	res := make([]wal.AppendResult, len(evs))
	return res, h.e.Publish("acme", evs, res)
}
