package engine_test

import (
	"context"
	"testing"
	"time"

	"hookline/engine"
)

// TestFeed: a tenant's events in order from a cursor; a long poll returns
// the next event when it comes (not another tenant's); "now" skips the
// past; bad arguments get codes.
func TestFeed(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testOptions())
	h.tenant("acme")
	h.tenant("other")
	res := h.publish("acme", engine.PublishEvent{Type: "a.1", Payload: []byte(`{"n":1}`)}, engine.PublishEvent{Type: "a.2", Payload: []byte(`{"n":2}`)})
	h.publish("other", engine.PublishEvent{Type: "o.1", Payload: []byte(`{}`)})
	ctx := context.Background()

	evs, next, err := h.e.Feed(ctx, "acme", "", 10, 0)
	require_NoError(t, err)
	require_Equal(t, len(evs), 2)
	require_Equal(t, evs[0].ID, engine.FormatEventID(res[0].ID))
	require_Equal(t, evs[0].Type, "a.1")
	require_Equal(t, string(evs[1].Payload), `{"n":2}`)
	require_Equal(t, next, evs[1].ID)
	evs, next2, err := h.e.Feed(ctx, "acme", evs[0].ID, 1, 0)
	require_NoError(t, err)
	require_Equal(t, len(evs), 1)
	require_Equal(t, next2, next)

	// Caught up: a long poll waits for the next event of its tenant.
	type answer struct {
		evs  []engine.FeedEvent
		next string
		err  error
	}
	done := make(chan answer, 1)
	go func() {
		evs, n, err := h.e.Feed(ctx, "acme", next, 10, 20*time.Second)
		done <- answer{evs, n, err}
	}()
	time.Sleep(50 * time.Millisecond)
	h.publish("other", engine.PublishEvent{Type: "o.2", Payload: []byte(`{}`)})
	select {
	case a := <-done:
		t.Fatalf("the poll returned on another tenant's event: %+v", a)
	case <-time.After(100 * time.Millisecond):
	}
	third := h.publish("acme", engine.PublishEvent{Type: "a.3", Payload: []byte(`{"n":3}`)})
	a := <-done
	require_NoError(t, a.err)
	require_Equal(t, len(a.evs), 1)
	require_Equal(t, a.evs[0].ID, engine.FormatEventID(third[0].ID))
	require_Equal(t, a.next, a.evs[0].ID)

	// "now" starts after everything so far; wait 0 answers at once.
	evs, next, err = h.e.Feed(ctx, "acme", "now", 10, 0)
	require_NoError(t, err)
	require_Equal(t, len(evs), 0)
	require_True(t, next != "", "a now cursor names a position")
	fourth := h.publish("acme", engine.PublishEvent{Type: "a.4", Payload: []byte(`{}`)})
	evs, _, err = h.e.Feed(ctx, "acme", next, 10, 0)
	require_NoError(t, err)
	require_Equal(t, len(evs), 1)
	require_Equal(t, evs[0].ID, engine.FormatEventID(fourth[0].ID))

	for _, c := range []struct {
		after string
		limit int
		wait  time.Duration
		kind  engine.Kind
		code  string
	}{
		{"bogus", 10, 0, engine.KindInvalid, "invalid_cursor"},
		{"", 0, 0, engine.KindInvalid, "invalid_limit"},
		{"", 1001, 0, engine.KindInvalid, "invalid_limit"},
		{"", 10, 31 * time.Second, engine.KindInvalid, "invalid_wait"},
		{"", 10, -time.Second, engine.KindInvalid, "invalid_wait"},
	} {
		_, _, err := h.e.Feed(ctx, "acme", c.after, c.limit, c.wait)
		require_ErrorCode(t, err, c.kind, c.code)
	}
	_, _, err = h.e.Feed(ctx, "nobody", "", 10, 0)
	require_ErrorCode(t, err, engine.KindNotFound, "tenant_not_found")
}

// TestFeedStopEndsPolls: shutting the engine down answers waiting polls
// at once, empty.
func TestFeedStopEndsPolls(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testOptions())
	h.tenant("acme")
	done := make(chan int, 1)
	go func() {
		evs, _, err := h.e.Feed(context.Background(), "acme", "now", 10, engine.MaxFeedWait)
		if err != nil {
			t.Error(err)
		}
		done <- len(evs)
	}()
	// A poll that started after the stop would find the log closed: wait
	// until it waits (a fixed 50 ms can pass before it starts on a loaded
	// machine).
	waitFor(t, time.Second, "the poll to wait", func() bool { return engine.FeedWaiting(h.e) == 1 })
	h.stop(5 * time.Second)
	// Not ended by the stop, the poll would answer at the end of its 30 s
	// wait, which began just before the stop: a deadline of 20 s is one only
	// a poll left waiting misses, and generous for one the stop wakes.
	select {
	case n := <-done:
		require_Equal(t, n, 0)
	case <-time.After(engine.MaxFeedWait - 10*time.Second):
		t.Fatal("a waiting poll outlived the engine's stop")
	}
}
