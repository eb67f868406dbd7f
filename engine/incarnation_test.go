package engine_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"hookline/engine"
	"hookline/wal"
)

// TestRecreatedTenant is issue 12's repro: DELETE tenant acme, create a new
// acme, and nothing of the old one is reachable: not its events by ID, not
// its feed, not its idempotency keys, not through a backfill to the new
// tenant's endpoint. It holds across a restart, and the old events are
// then removed in the background.
func TestRecreatedTenant(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testOptions())
	// Until the restart below the old events stay on disk: what hides
	// them is the incarnation, not their removal.
	engine.HoldPurge(h.e)
	ctx := context.Background()
	h.tenant("acme")
	since := time.Now().Add(-time.Minute)
	old := h.publish("acme",
		engine.PublishEvent{Type: "invoice.paid", Payload: []byte(`{"secret":"old"}`), IdempotencyKey: "k1"},
		engine.PublishEvent{Type: "invoice.paid", Payload: []byte(`{"secret":"old2"}`)})
	require_NoError(t, h.e.DeleteTenant(ctx, "acme"))
	h.tenant("acme")

	oldGone := func() {
		t.Helper()
		for _, r := range old {
			_, err := h.e.GetEvent("acme", engine.FormatEventID(r.ID))
			require_ErrorCode(t, err, engine.KindNotFound, "event_not_found")
		}
		feed, _, err := h.e.Feed(ctx, "acme", "", 100, 0)
		require_NoError(t, err)
		require_Equal(t, len(feed), 0)
	}
	oldGone()
	oldRemoved := func() bool {
		for _, r := range old {
			var (
				rec wal.EventRecord
				buf wal.EventBuf
			)
			if err := h.log.ReadEvent(r.ID, &rec, &buf); !errors.Is(err, wal.ErrNotFound) {
				return false
			}
		}
		return true
	}

	rc := newReceiver(t, recvConfig{})
	ep := h.endpoint("acme", engine.EndpointInput{URL: ptr(rc.URL())})
	// The old tenant's idempotency key names nothing of the new tenant.
	fresh := h.publish("acme", engine.PublishEvent{Type: "invoice.paid", Payload: []byte(`{"secret":"new"}`), IdempotencyKey: "k1"})
	require_True(t, !fresh[0].Duplicate, "the new tenant's first publish with key k1 is a duplicate of the old tenant's event %s", fresh[0].ID)
	waitFor(t, 5*time.Second, "the live delivery", func() bool { return rc.count() == 1 })

	j, err := h.e.CreateJob(ctx, "acme", ep.ID, engine.JobInput{Kind: engine.JobBackfill, Since: since})
	require_NoError(t, err)
	j = waitJob(t, h, "acme", j.ID, 5*time.Second)
	require_Equal(t, j.State, engine.JobCompleted)
	require_Equal(t, j.Progress.Done, int64(0))
	time.Sleep(quiet)
	ids := rc.ids()
	require_Equal(t, len(ids), 1)
	require_Equal(t, ids[engine.FormatEventID(fresh[0].ID)], 1)

	ev, err := h.e.GetEvent("acme", engine.FormatEventID(fresh[0].ID))
	require_NoError(t, err)
	require_Equal(t, string(ev.Payload), `{"secret":"new"}`)
	require_True(t, !oldRemoved(), "the old events were removed with the purge held")
	feed, _, err := h.e.Feed(ctx, "acme", "", 100, 0)
	require_NoError(t, err)
	require_Equal(t, len(feed), 1)
	require_Equal(t, feed[0].ID, engine.FormatEventID(fresh[0].ID))

	h.stop(5 * time.Second)
	h.start()
	for _, r := range old {
		_, err := h.e.GetEvent("acme", engine.FormatEventID(r.ID))
		require_ErrorCode(t, err, engine.KindNotFound, "event_not_found")
	}
	waitFor(t, 10*time.Second, "the old tenant's events removed", oldRemoved)
	ev, err = h.e.GetEvent("acme", engine.FormatEventID(fresh[0].ID))
	require_NoError(t, err)
	require_Equal(t, string(ev.Payload), `{"secret":"new"}`)
}

// TestTenantWithoutIncarnation: a tenant record written before
// incarnations existed loads as incarnation zero, and every event of the
// tenant stays readable; an update keeps it loading.
func TestTenantWithoutIncarnation(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testOptions())
	h.stop(5 * time.Second)
	l, err := wal.Open(h.dir, nil)
	require_NoError(t, err)
	require_NoError(t, l.PutTenant("legacy", []byte(`{"id":"legacy","name":"Legacy","created_at":"2026-01-01T00:00:00Z","updated_at":"2026-01-01T00:00:00Z"}`)))
	res := make([]wal.AppendResult, 1)
	require_NoError(t, l.Append([]wal.AppendEvent{{Tenant: "legacy", Type: "a", TimeMs: time.Now().UnixMilli(),
		Body: []byte(`{"type":"a","timestamp":"2026-01-01T00:00:00.000Z","data":{"x":1}}`)}}, res))
	require_NoError(t, l.Close())
	h.start()

	check := func() {
		t.Helper()
		ev, err := h.e.GetEvent("legacy", engine.FormatEventID(res[0].ID))
		require_NoError(t, err)
		require_Equal(t, string(ev.Payload), `{"x":1}`)
		feed, _, err := h.e.Feed(context.Background(), "legacy", "", 10, 0)
		require_NoError(t, err)
		require_Equal(t, len(feed), 1)
	}
	check()
	_, err = h.e.UpdateTenant(context.Background(), "legacy", engine.TenantInput{Name: ptr("Legacy 2")})
	require_NoError(t, err)
	h.stop(5 * time.Second)
	h.start()
	check()
	tn, err := h.e.GetTenant("legacy")
	require_NoError(t, err)
	require_Equal(t, tn.Name, "Legacy 2")
}

// TestRecreatedTenantJobs: a deleted tenant's job records that a crash left
// behind (DeleteTenant removes them after the tenant) are not the new
// tenant's after a restart: not when the tenant is created after the
// restart, nor when it was created again before it.
func TestRecreatedTenantJobs(t *testing.T) {
	t.Parallel()
	f := func(recreateBeforeRestart bool) {
		t.Helper()
		h := newHarness(t, testOptions())
		h.tenant("acme")
		ep := h.endpoint("acme", engine.EndpointInput{URL: ptr("http://127.0.0.1:9/"), Paused: ptr(true)})
		j, err := h.e.CreateJob(context.Background(), "acme", ep.ID, engine.JobInput{Kind: engine.JobBackfill, Since: time.Now().Add(-time.Hour)})
		require_NoError(t, err)
		waitJob(t, h, "acme", j.ID, 5*time.Second)
		h.stop(5 * time.Second)

		// What DeleteTenant had written when the crash came.
		l, err := wal.Open(h.dir, nil)
		require_NoError(t, err)
		require_NoError(t, l.DeleteEndpoint(walID(t, ep)))
		require_NoError(t, l.DeleteTenant("acme"))
		if recreateBeforeRestart {
			inc, err := l.Fence()
			require_NoError(t, err)
			require_NoError(t, l.PutTenant("acme", []byte(`{"id":"acme","name":"New","created_at":"2026-01-01T00:00:00Z","updated_at":"2026-01-01T00:00:00Z","incarnation":"`+inc.String()+`"}`)))
		}
		require_NoError(t, l.Close())
		h.start()
		if !recreateBeforeRestart {
			h.tenant("acme")
		}
		jobs, err := h.e.ListJobs("acme")
		require_NoError(t, err)
		require_Equal(t, len(jobs), 0)
		_, err = h.e.GetJob("acme", j.ID)
		require_ErrorCode(t, err, engine.KindNotFound, "job_not_found")
	}
	f(false)
	f(true)
}
