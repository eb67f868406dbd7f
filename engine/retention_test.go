package engine_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"hookline/engine"
	"hookline/wal"
)

// TestRetention: with a tiny retention age, an old event, its delivery log
// and its idempotency key go while deliveries keep flowing; a delivery held
// past the age by a paused endpoint is dead-lettered as event_expired when
// resumed, and a later pass removes that dead letter too.
func TestRetention(t *testing.T) {
	t.Parallel()
	const age = 2 * time.Second
	opts := testOptions()
	opts.Retention, opts.RetentionInterval = age, 100*time.Millisecond
	h := newHarness(t, opts)
	h.tenant("acme")
	rc := newReceiver(t, recvConfig{})
	live := h.endpoint("acme", engine.EndpointInput{URL: ptr(rc.URL())})
	paused := h.endpoint("acme", engine.EndpointInput{URL: ptr(rc.URL()), EventTypes: ptr([]string{"order.*"}), Paused: ptr(true)})

	old := h.publish("acme", engine.PublishEvent{Type: "order.created", Payload: []byte(`1`), IdempotencyKey: "order-1"})[0].ID
	oldID := engine.FormatEventID(old)
	waitFor(t, 5*time.Second, "the old event delivered", func() bool { return rc.ids()[oldID] == 1 })
	_, err := h.e.GetDelivery("acme", live.ID, oldID)
	require_NoError(t, err)

	// Publish all along; every one of these is delivered, passes or not,
	// unless its delivery waited past the age (a loaded machine): then it
	// is dead-lettered as expired, as retention must.
	var (
		wg    sync.WaitGroup
		stop  = make(chan struct{})
		mu    sync.Mutex
		ticks []string
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
			res := make([]wal.AppendResult, 1)
			if err := h.e.Publish("acme", []engine.PublishEvent{{Type: "tick"}}, res); err != nil {
				t.Errorf("publish during retention: %v", err)
				return
			}
			mu.Lock()
			ticks = append(ticks, engine.FormatEventID(res[0].ID))
			mu.Unlock()
		}
	}()

	waitFor(t, 10*time.Second, "the old delivery to expire", func() bool {
		_, err := h.e.GetDelivery("acme", live.ID, oldID)
		return err != nil
	})
	_, err = h.e.GetDelivery("acme", live.ID, oldID)
	require_ErrorCode(t, err, engine.KindNotFound, "delivery_not_found")
	_, err = h.e.GetEvent("acme", oldID)
	require_ErrorCode(t, err, engine.KindNotFound, "event_not_found")
	ds, _, err := h.e.ListDeliveries("acme", live.ID, engine.DeliveryFilter{Limit: 1000})
	require_NoError(t, err)
	for _, d := range ds {
		require_True(t, d.EventID != oldID, "the expired delivery is still listed")
	}
	// Publishing goes on until more than 20 events and 5 passes have run
	// side by side: counted, not timed, for a loaded machine publishes and
	// passes more slowly (11 events in the 2s age once).
	waitFor(t, 10*time.Second, "20 events published and 5 passes during the passes", func() bool {
		mu.Lock()
		n := len(ticks)
		mu.Unlock()
		return n > 20 && h.metric(`hookline_retention_passes_total{result="done"}`) > 5
	})
	close(stop)
	wg.Wait()
	// The paused endpoint takes no ticks, so every expiry so far is a
	// tick's. A tick lost otherwise (its event removed young, or its queue
	// entry) is neither delivered nor counted as expired.
	var delivered int
	var expired float64
	waitFor(t, 5*time.Second, "every tick delivered or expired", func() bool {
		got := rc.ids()
		delivered = 0
		for _, id := range ticks {
			if got[id] > 0 {
				delivered++
			}
		}
		expired = h.metric(`hookline_retention_expired_deliveries_total`)
		return float64(delivered)+expired == float64(len(ticks))
	})
	t.Logf("%d ticks delivered, %.0f expired undelivered", delivered, expired)
	require_True(t, len(ticks) > 20, "only %d events published during the passes", len(ticks))
	require_True(t, h.metric(`hookline_retention_passes_total{result="done"}`) > 5, "retention passes: %v", h.metric(`hookline_retention_passes_total{result="done"}`))
	require_True(t, h.metric(`hookline_retention_ranges_deleted_total`) > 0, "no range deleted")
	require_Equal(t, h.metric(`hookline_retention_idempotency_keys_deleted_total`), 1.0)

	// Its key expired with it: the same key makes a new event.
	// (Of a type the paused endpoint does not take: held in its queue, it
	// could expire too before the resume below on a loaded machine.)
	again := h.publish("acme", engine.PublishEvent{Type: "invoice.created", Payload: []byte(`1`), IdempotencyKey: "order-1"})[0]
	require_True(t, !again.Duplicate && again.ID != old, "an expired idempotency key was still a duplicate")
	require_True(t, h.publish("acme", engine.PublishEvent{Type: "invoice.created", IdempotencyKey: "order-1"})[0].Duplicate, "a young key was forgotten")

	// A pass runs at start; then none for an hour, so what the paused
	// endpoint records can be looked at.
	h.stop(5 * time.Second)
	h.opts.RetentionInterval = time.Hour
	h.start()
	// The start pass runs in the background: let it finish before the
	// dead letter it would remove is written.
	waitFor(t, 5*time.Second, "the pass at start", func() bool {
		return h.metric(`hookline_retention_passes_total{result="done"}`) >= 1
	})
	require_Equal(t, h.queued(paused), 1) // the old event
	_, err = h.e.UpdateEndpoint(context.Background(), "acme", paused.ID, engine.EndpointInput{Paused: ptr(false)})
	require_NoError(t, err)
	waitFor(t, 5*time.Second, "the paused endpoint's queue to drain", func() bool { return h.queued(paused) == 0 })
	d, err := h.e.GetDelivery("acme", paused.ID, oldID)
	require_NoError(t, err)
	require_Equal(t, d.Status, "dead")
	require_Equal(t, len(d.AttemptLog), 1)
	require_Equal(t, d.AttemptLog[0].ErrorClass, "event_expired")
	require_Equal(t, h.metric(`hookline_retention_expired_deliveries_total`), 1.0)
	require_Equal(t, rc.ids()[oldID], 1) // never sent to the paused endpoint
	waitFor(t, 5*time.Second, "the new event delivered", func() bool { return rc.ids()[engine.FormatEventID(again.ID)] == 1 })

	// The next pass removes the expired delivery's dead letter and attempt.
	h.stop(5 * time.Second)
	h.start()
	waitFor(t, 5*time.Second, "the pass at start", func() bool {
		return h.metric(`hookline_retention_passes_total{result="done"}`) == 1
	})
	_, err = h.e.GetDelivery("acme", paused.ID, oldID)
	require_ErrorCode(t, err, engine.KindNotFound, "delivery_not_found")
	require_Equal(t, len(h.dead(paused)), 0)
}

// TestRetentionOptions: a negative age would remove every event at once.
func TestRetentionOptions(t *testing.T) {
	l, err := wal.Open(t.TempDir(), nil)
	require_NoError(t, err)
	defer l.Close()
	f := func(age, interval time.Duration) {
		t.Helper()
		_, err := engine.New(l, nil, engine.Options{Retention: age, RetentionInterval: interval})
		require_True(t, err != nil && strings.Contains(err.Error(), "must be positive"), "retention %s, interval %s: error %v", age, interval, err)
	}
	f(-time.Hour, 0)
	f(0, -time.Second)
}
