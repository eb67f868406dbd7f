package engine_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"hookline/engine"
)

// TestTenantBacklogIsolated: a tenant whose deliveries pile up (its
// endpoint paused) is refused with 429 tenant_backlog_full past its own
// bound, naming only its own figures; another tenant publishes meanwhile,
// and the first is accepted again once its backlog drains.
func TestTenantBacklogIsolated(t *testing.T) {
	t.Parallel()
	opts := testOptions()
	opts.MaxTenantBacklog = 5
	h := newHarness(t, opts)
	h.tenant("acme")
	h.tenant("beta")
	rc := newReceiver(t, recvConfig{})
	ep := h.endpoint("acme", engine.EndpointInput{URL: ptr(rc.URL()), Paused: ptr(true)})
	h.endpoint("beta", engine.EndpointInput{URL: ptr(rc.URL()), Paused: ptr(true)})
	h.publish("acme", events("a", 6)...)
	h.publish("beta", events("b", 3)...)

	var err error
	waitFor(t, 10*time.Second, "acme's publishing to be refused", func() bool {
		err = h.tryPublish("acme", engine.PublishEvent{Type: "a"})
		return err != nil
	})
	require_ErrorCode(t, err, engine.KindTooMany, "tenant_backlog_full")
	ee := err.(*engine.Error)
	require_Equal(t, ee.RetryAfter, 5*time.Second)
	require_True(t, strings.Contains(ee.Message, `"acme"`) && !strings.Contains(ee.Message, "beta"), "message %q", ee.Message)
	require_True(t, h.metric(`hookline_ingest_refused_requests_total{reason="tenant_backlog_full"}`) >= 1, "refusal not counted")
	// beta is under its own bound: untouched.
	for range 2 {
		require_NoError(t, h.tryPublish("beta", engine.PublishEvent{Type: "b"}))
	}

	_, err = h.e.UpdateEndpoint(context.Background(), "acme", ep.ID, engine.EndpointInput{Paused: ptr(false)})
	require_NoError(t, err)
	waitFor(t, 20*time.Second, "acme's publishing to be accepted again", func() bool {
		return h.tryPublish("acme", engine.PublishEvent{Type: "a"}) == nil
	})
}

// TestTenantRate: past its events per second, a tenant gets 429
// tenant_rate_limited with the wait; another tenant does not.
func TestTenantRate(t *testing.T) {
	t.Parallel()
	opts := testOptions()
	opts.MaxTenantEventsPerSecond = 5
	h := newHarness(t, opts)
	h.tenant("acme")
	h.tenant("beta")
	// The burst is a full batch, so 1,000 pass at once and the next waits.
	require_NoError(t, h.tryPublish("acme", events("a", 1000)...))
	err := h.tryPublish("acme", engine.PublishEvent{Type: "a"})
	require_ErrorCode(t, err, engine.KindTooMany, "tenant_rate_limited")
	require_True(t, err.(*engine.Error).RetryAfter > 0, "no wait given")
	require_ErrorCode(t, h.tryPublish("beta", events("b", 1001)...), engine.KindTooMany, "tenant_rate_limited")
	require_NoError(t, h.tryPublish("beta", events("b", 1000)...))
	require_True(t, h.metric(`hookline_ingest_refused_requests_total{reason="tenant_rate_limited"}`) >= 2, "refusals not counted")
}

func TestTenantLimitOptions(t *testing.T) {
	o := engine.Options{MaxTenantEventsPerSecond: -1}
	o.EnsureDefaults()
	err := o.Validate()
	require_True(t, err != nil && strings.Contains(err.Error(), "MaxTenantEventsPerSecond is -1"), "error %v", err)
	o = engine.Options{}
	o.EnsureDefaults()
	require_Equal(t, o.MaxTenantBacklog, int64(5_000_000))
	require_Equal(t, o.MaxTenantEventsPerSecond, 0)
}
