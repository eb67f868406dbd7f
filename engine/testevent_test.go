package engine_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"hookline/engine"
	"hookline/wal"
)

// testEventID parses the event ID of a TestResult.
func testEventID(t testing.TB, res engine.TestResult) wal.ID {
	t.Helper()
	rest, ok := strings.CutPrefix(res.EventID, "evt_")
	require_True(t, ok, "event_id %q has no evt_ prefix", res.EventID)
	id, err := wal.ParseID(rest)
	require_NoError(t, err)
	return id
}

// requireTestDelivery checks that d is the signed hookline.test request of
// res carrying data, as any Standard Webhooks receiver would verify it.
func requireTestDelivery(t testing.TB, d delivery, secret string, res engine.TestResult, data string) {
	t.Helper()
	wh, err := standardwebhooks.NewWebhook(secret)
	require_NoError(t, err)
	require_NoError(t, wh.Verify(d.body, d.header))
	require_Equal(t, d.id, res.EventID)
	require_Equal(t, d.attempt, 1)
	require_Equal(t, d.header.Get("Content-Type"), "application/json")
	var body struct {
		Type      string          `json:"type"`
		Timestamp time.Time       `json:"timestamp"`
		Data      json.RawMessage `json:"data"`
	}
	require_NoError(t, json.Unmarshal(d.body, &body))
	require_Equal(t, body.Type, engine.EventTest)
	require_Equal(t, string(body.Data), data)
	require_True(t, time.Since(body.Timestamp) < time.Minute, "body timestamp %s is not now", body.Timestamp)
}

// TestEndpointTestSuccess: a test sends the one endpoint exactly one signed
// hookline.test request, whatever it subscribes to; no other endpoint (of the
// tenant, subscribed to everything, or of another tenant) gets anything;
// the event is in the log, the attempt in the attempt log, and nothing is
// left queued, retrying or dead.
func TestEndpointTestSuccess(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testOptions())
	h.tenant("acme")
	h.tenant("other")
	rc := newReceiver(t, recvConfig{replies: []reply{{status: 200, body: `{"received":true}`}}})
	ep := h.endpoint("acme", engine.EndpointInput{URL: ptr(rc.URL()), EventTypes: &[]string{"invoice.*"}})
	rcAll := newReceiver(t, recvConfig{})
	h.endpoint("acme", engine.EndpointInput{URL: ptr(rcAll.URL()), EventTypes: &[]string{"*"}})
	rcOther := newReceiver(t, recvConfig{})
	h.endpoint("other", engine.EndpointInput{URL: ptr(rcOther.URL()), EventTypes: &[]string{"*"}})

	before := time.Now()
	payload := `{"hello":"wörld","n":[1,2.5,null]}`
	res, err := h.e.TestEndpoint(context.Background(), "acme", ep.ID, []byte(payload))
	took := time.Since(before)
	require_NoError(t, err)
	require_True(t, res.Success, "test failed: %+v", res)
	require_Equal(t, res.Status, 200)
	require_Equal(t, res.ErrorClass, "")
	require_Equal(t, res.EndpointID, ep.ID)
	require_Equal(t, res.ResponseBody, `{"received":true}`)
	// The attempt lies within the call: a latency in milliseconds is above
	// 0 and at most the call's duration, however slow the machine.
	require_True(t, res.LatencyMs > 0 && res.LatencyMs <= float64(took)/float64(time.Millisecond), "latency_ms %v for a call of %s", res.LatencyMs, took)
	require_True(t, !res.AttemptedAt.Before(before.Truncate(time.Second)) && !res.AttemptedAt.After(time.Now()), "attempted_at %s outside the test", res.AttemptedAt)
	require_Equal(t, res.AttemptedAt.Location(), time.UTC)

	// The answer comes after the attempt: the request is already there.
	ds := rc.deliveries()
	require_Equal(t, len(ds), 1)
	requireTestDelivery(t, ds[0], ep.Secret, res, payload)

	time.Sleep(quiet) // the lane must not send it again, nor anyone else
	require_Equal(t, rc.count(), 1)
	require_Equal(t, rcAll.count(), 0)
	require_Equal(t, rcOther.count(), 0)

	id := testEventID(t, res)
	as := h.attempts(ep, id)
	require_Equal(t, len(as), 1)
	require_Equal(t, outcomes(as), "s")
	require_Equal(t, as[0].Attempt, 1)
	require_Equal(t, as[0].Status, 200)
	require_Equal(t, string(as[0].Response), `{"received":true}`)
	c := h.counts()
	require_Equal(t, c.Events, 1)
	require_Equal(t, c.Attempts, 1)
	h.requireSettled()
	h.requireMetrics(map[string]float64{
		`hookline_ingest_events_total{source="test"}`:                 1,
		`hookline_ingest_events_total{source="api"}`:                  0,
		`hookline_endpoint_test_attempts_total{status_class="2xx"}`:   1,
		attemptsMetric("success", "2xx"):                              0,
		`hookline_ingest_deliveries_queued_total`:                     0,
		`hookline_queue_depth_deliveries`:                             0,
		`hookline_delivery_attempt_duration_seconds_count`:            0,
		`hookline_endpoint_test_attempts_total{status_class="error"}`: 0,
	})

	// Without a payload the data names the endpoint.
	res, err = h.e.TestEndpoint(context.Background(), "acme", ep.ID, nil)
	require_NoError(t, err)
	require_True(t, res.Success, "test failed: %+v", res)
	ds = rc.deliveries()
	require_Equal(t, len(ds), 2)
	requireTestDelivery(t, ds[1], ep.Secret, res, `{"message":"test event from hookline","endpoint_id":"`+ep.ID+`"}`)

	// Ordinary deliveries still work next to tests.
	h.publish("acme", engine.PublishEvent{Type: "invoice.paid", Payload: []byte(`{}`)})
	waitFor(t, 5*time.Second, "the published event", func() bool { return rc.count() == 3 && rcAll.count() == 1 })
	time.Sleep(quiet)
	require_Equal(t, rc.count(), 3)
	require_Equal(t, rcAll.count(), 1)
	h.requireSettled()
}

// TestEndpointTestFailure: a failed test is answered with the receiver's
// status and body, recorded as one final (dead-lettered) attempt, never
// retried (not even after a restart), and leaves the endpoint's state alone:
// a 410 does not disable it, and failures do not touch its circuit.
func TestEndpointTestFailure(t *testing.T) {
	t.Parallel()
	f := func(status int, body string) {
		t.Run(strconv.Itoa(status), func(t *testing.T) {
			t.Parallel()
			testEndpointTestFailure(t, status, body)
		})
	}
	f(http.StatusServiceUnavailable, "maintenance")
	f(http.StatusBadRequest, `{"error":"bad signature"}`)
	f(http.StatusGone, "")
	f(http.StatusMovedPermanently, "")
}

func testEndpointTestFailure(t *testing.T, status int, body string) {
	h := newHarness(t, testOptions())
	h.tenant("acme")
	rc := newReceiver(t, recvConfig{replies: []reply{{status: status, body: body, retryAfter: "1"}}})
	ep := h.endpoint("acme", engine.EndpointInput{URL: ptr(rc.URL())})

	res, err := h.e.TestEndpoint(context.Background(), "acme", ep.ID, []byte(`{"x":1}`))
	require_NoError(t, err)
	require_True(t, !res.Success, "status %d: test succeeded: %+v", status, res)
	require_Equal(t, res.Status, status)
	require_Equal(t, res.ErrorClass, "")
	require_Equal(t, res.ResponseBody, body)

	time.Sleep(quiet) // several retry periods: none may come
	require_Equal(t, rc.count(), 1)
	id := testEventID(t, res)
	as := h.attempts(ep, id)
	require_Equal(t, outcomes(as), "d")
	require_Equal(t, as[0].Status, status)
	require_Equal(t, as[0].NextMs, int64(0))
	c := h.counts()
	require_Equal(t, c.Queued, 0)
	require_Equal(t, c.Retries, 0)
	require_Equal(t, c.Dead, 1)
	require_Equal(t, c.Attempts, 1)
	require_Equal(t, len(h.dead(ep)), 1)
	v := h.get(ep)
	require_True(t, !v.Disabled && !v.Paused && v.FailingSince == nil, "status %d: the test changed the endpoint: %+v", status, v)
	require_Equal(t, v.Circuit.State, "closed")
	require_Equal(t, v.Circuit.Failures, uint32(0))
	require_Equal(t, h.metric(`hookline_endpoint_test_attempts_total{status_class="`+strconv.Itoa(status/100)+`xx"}`), 1.0)
	require_Equal(t, h.metric(attemptsMetric("final", strconv.Itoa(status/100)+"xx")), 0.0)

	h.stop(5 * time.Second)
	h.start()
	time.Sleep(quiet)
	require_Equal(t, rc.count(), 1)
	require_Equal(t, h.counts().Queued, 0)
}

// TestEndpointTestRefused: with nothing listening the result has no status
// and error_class refused, and the attempt is logged so.
func TestEndpointTestRefused(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testOptions())
	h.tenant("acme")
	ep := h.endpoint("acme", engine.EndpointInput{URL: ptr(closedPortURL(t))})
	res, err := h.e.TestEndpoint(context.Background(), "acme", ep.ID, nil)
	require_NoError(t, err)
	require_True(t, !res.Success, "test succeeded: %+v", res)
	require_Equal(t, res.Status, 0)
	require_Equal(t, res.ErrorClass, "refused")
	require_Equal(t, res.ResponseBody, "")
	as := h.attempts(ep, testEventID(t, res))
	require_Equal(t, outcomes(as), "d")
	require_Equal(t, as[0].ErrClass, "refused")
	c := h.counts()
	require_Equal(t, c.Queued, 0)
	require_Equal(t, c.Retries, 0)
	require_Equal(t, h.metric(`hookline_endpoint_test_attempts_total{status_class="error"}`), 1.0)
}

// TestEndpointTestPausedDisabledOpen: paused and disabled endpoints are
// tested, and so is one with an open circuit; the test sends only itself
// (not the paused endpoint's queue) and leaves each state as it was.
func TestEndpointTestPausedDisabledOpen(t *testing.T) {
	t.Parallel()
	opts := testOptions()
	opts.Circuit = engine.CircuitOptions{ConsecutiveFailures: 4, OpenFor: time.Minute}
	h := newHarness(t, opts)
	h.tenant("acme")

	rcPaused := newReceiver(t, recvConfig{})
	paused := h.endpoint("acme", engine.EndpointInput{URL: ptr(rcPaused.URL()), Paused: ptr(true)})
	rcDisabled := newReceiver(t, recvConfig{})
	disabled := h.endpoint("acme", engine.EndpointInput{URL: ptr(rcDisabled.URL()), Disabled: ptr(true)})
	h.publish("acme", engine.PublishEvent{Type: "invoice.paid", Payload: []byte(`{}`)})
	require_Equal(t, h.queued(paused), 1)

	for _, c := range []struct {
		ep engine.Endpoint
		rc *receiver
	}{{paused, rcPaused}, {disabled, rcDisabled}} {
		res, err := h.e.TestEndpoint(context.Background(), "acme", c.ep.ID, []byte(`"ping"`))
		require_NoError(t, err)
		require_True(t, res.Success, "test of %s failed: %+v", c.ep.ID, res)
		ds := c.rc.deliveries()
		require_Equal(t, len(ds), 1)
		requireTestDelivery(t, ds[0], c.ep.Secret, res, `"ping"`)
	}
	time.Sleep(quiet)
	require_Equal(t, rcPaused.count(), 1)
	require_Equal(t, rcDisabled.count(), 1)
	require_Equal(t, h.queued(paused), 1) // the backlog waits for resume
	require_True(t, h.get(paused).Paused, "the test resumed the paused endpoint")
	require_True(t, h.get(disabled).Disabled, "the test enabled the disabled endpoint")

	// Four failures open the circuit (max_in_flight 1: the run is 4); the test still goes out (and
	// succeeds) but does not close it: the lane's own probe does that.
	rcOpen := newReceiver(t, recvConfig{replies: append(repeat(reply{status: 503}, 4), reply{status: 200})})
	open := h.endpoint("acme", engine.EndpointInput{URL: ptr(rcOpen.URL()), MaxInFlight: ptr(1), EventTypes: &[]string{"lead.*"}})
	h.publish("acme", events("lead.won", 4)...)
	waitFor(t, 5*time.Second, "the circuit to open", func() bool { return h.get(open).Circuit.State == "open" })
	require_Equal(t, rcOpen.count(), 4)
	res, err := h.e.TestEndpoint(context.Background(), "acme", open.ID, nil)
	require_NoError(t, err)
	require_True(t, res.Success, "test of an open-circuit endpoint failed: %+v", res)
	require_Equal(t, rcOpen.count(), 5)
	time.Sleep(quiet)
	require_Equal(t, rcOpen.count(), 5)
	require_Equal(t, h.get(open).Circuit.State, "open")
}

// TestEndpointTestErrors: unknown tenants and endpoints, and endpoints of
// another tenant, are refused with their codes, and nothing is written.
func TestEndpointTestErrors(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testOptions())
	h.tenant("acme")
	h.tenant("other")
	rc := newReceiver(t, recvConfig{})
	ep := h.endpoint("acme", engine.EndpointInput{URL: ptr(rc.URL())})
	f := func(tenant, id string, code string) {
		t.Helper()
		_, err := h.e.TestEndpoint(context.Background(), tenant, id, nil)
		require_ErrorCode(t, err, engine.KindNotFound, code)
	}
	f("nope", ep.ID, "tenant_not_found")
	f("other", ep.ID, "endpoint_not_found")
	f("acme", "ep_01ARZ3NDEKTSV4RRFFQ69G5FAV", "endpoint_not_found")
	f("acme", "not-an-id", "endpoint_not_found")
	f("acme", "", "endpoint_not_found")
	require_NoError(t, h.e.DeleteEndpoint(context.Background(), "acme", ep.ID))
	_, err := h.e.TestEndpoint(context.Background(), "acme", ep.ID, nil)
	require_ErrorCode(t, err, engine.KindConflict, "endpoint_deleted")
	require_Equal(t, h.counts(), wal.Counts{})
	require_Equal(t, rc.count(), 0)
}

// TestEndpointTestDeletedMidAttempt: an endpoint deleted while its test is
// in flight gets the answer to the caller but no attempt record left behind.
func TestEndpointTestDeletedMidAttempt(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testOptions())
	h.tenant("acme")
	rc := newReceiver(t, recvConfig{blocked: true})
	ep := h.endpoint("acme", engine.EndpointInput{URL: ptr(rc.URL())})
	type out struct {
		res engine.TestResult
		err error
	}
	done := make(chan out, 1)
	go func() {
		res, err := h.e.TestEndpoint(context.Background(), "acme", ep.ID, nil)
		done <- out{res, err}
	}()
	waitFor(t, 5*time.Second, "the test request", func() bool { return rc.count() == 1 })
	require_NoError(t, h.e.DeleteEndpoint(context.Background(), "acme", ep.ID))
	rc.release()
	o := <-done
	require_NoError(t, o.err)
	require_True(t, o.res.Success, "test failed: %+v", o.res)
	c := h.counts()
	require_Equal(t, c.Attempts, 0)
	require_Equal(t, c.Dead, 0)
	require_Equal(t, c.Queued, 0)
}
