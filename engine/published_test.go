package engine_test

import (
	"context"
	"testing"
	"time"

	"hookline/engine"
)

// TestStatsPublished: stats count the events a tenant had accepted, from
// the API and an endpoint test, each once (a repeated idempotency key adds
// none), whether or not an endpoint takes them; not another tenant's; and
// the 24 h and 7 d counts survive a restart, when the 1 h one starts again.
func TestStatsPublished(t *testing.T) {
	h := newHarness(t, testOptions())
	h.tenant("acme")
	h.tenant("other")
	rc := newReceiver(t, recvConfig{})
	ep := h.endpoint("acme", engine.EndpointInput{URL: ptr(rc.URL()), EventTypes: &[]string{"sub"}})
	published := func(tenant string, w engine.StatsWindow) (total, series uint64) {
		t.Helper()
		st := tenantStats(t, h, tenant, w)
		for _, b := range st.Series {
			series += b.Published
		}
		return st.Total.Published, series
	}
	require := func(name string, tenant string, w engine.StatsWindow, want uint64) {
		t.Helper()
		total, series := published(tenant, w)
		require_True(t, total == want && series == want, "%s %s: published %d, series sum %d; want %d", name, w, total, series, want)
	}

	h.publish("acme", engine.PublishEvent{Type: "sub", Payload: []byte(`1`), IdempotencyKey: "k1"}, engine.PublishEvent{Type: "unsub", Payload: []byte(`2`)})
	h.publish("acme", engine.PublishEvent{Type: "sub", Payload: []byte(`1`), IdempotencyKey: "k1"})
	h.publish("other", engine.PublishEvent{Type: "sub", Payload: []byte(`1`), IdempotencyKey: "k1"})
	_, err := h.e.TestEndpoint(context.Background(), "acme", ep.ID, nil)
	require_NoError(t, err)
	for _, w := range []engine.StatsWindow{engine.StatsHour, engine.StatsDay, engine.StatsWeek} {
		require("before restart", "acme", w, 3)
	}
	require("other tenant", "other", engine.StatsDay, 1)

	h.stop(5 * time.Second)
	h.start()
	require("after restart", "acme", engine.StatsHour, 0)
	require("after restart", "acme", engine.StatsDay, 3)
	require("after restart", "acme", engine.StatsWeek, 3)
	h.publish("acme", engine.PublishEvent{Type: "sub", Payload: []byte(`1`), IdempotencyKey: "k1"}, engine.PublishEvent{Type: "sub", Payload: []byte(`3`)})
	require("after restart and a publish", "acme", engine.StatsDay, 4)
	require("after restart and a publish", "acme", engine.StatsHour, 1)
}
