package engine_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"hookline/engine"
)

func repeat(r reply, n int) []reply {
	out := make([]reply, n)
	for i := range out {
		out[i] = r
	}
	return out
}

func events(typ string, n int) []engine.PublishEvent {
	evs := make([]engine.PublishEvent, n)
	for i := range evs {
		evs[i] = engine.PublishEvent{Type: typ, Payload: []byte(strconv.Itoa(i))}
	}
	return evs
}

func (h *harness) get(ep engine.Endpoint) engine.Endpoint {
	h.t.Helper()
	got, err := h.e.GetEndpoint(ep.Tenant, ep.ID)
	require_NoError(h.t, err)
	return got
}

func circuitOptions() engine.Options {
	opts := testOptions()
	opts.Circuit = engine.CircuitOptions{ConsecutiveFailures: 5, OpenFor: 400 * time.Millisecond}
	return opts
}

// TestCircuitOpensStopsAndRecovers: five failures in a row open the circuit;
// while open nothing is sent (no attempt is spent); after OpenFor one probe
// goes out, succeeds, closes the circuit, and the backlog is delivered.
func TestCircuitOpensStopsAndRecovers(t *testing.T) {
	t.Parallel()
	h := newHarness(t, circuitOptions())
	h.tenant("acme")
	rc := newReceiver(t, recvConfig{replies: append(repeat(reply{status: 503}, 5), reply{status: 200})})
	ep := h.endpoint("acme", engine.EndpointInput{URL: ptr(rc.URL()), MaxInFlight: ptr(1)})
	require_Equal(t, ep.Circuit.State, "closed")
	h.publish("acme", events("invoice.paid", 10)...)

	waitFor(t, 5*time.Second, "the circuit to open", func() bool { return h.get(ep).Circuit.State == "open" })
	v := h.get(ep)
	require_True(t, v.Circuit.OpenedAt != nil && v.Circuit.NextProbeAt != nil, "open circuit without times: %+v", v.Circuit)
	require_Equal(t, v.Circuit.NextProbeAt.Sub(*v.Circuit.OpenedAt), 400*time.Millisecond)
	require_Equal(t, h.metric("hookline_circuit_open_endpoints"), 1.0)
	require_Equal(t, rc.count(), 5)
	waitFor(t, 2*time.Second, "failing_since to be recorded", func() bool { return h.get(ep).FailingSince != nil })

	// The five failed deliveries' retries (100ms) come due while the circuit
	// is open: none of them is sent. The first request after the fifth
	// failure, the probe, comes at next_probe_at or later; an attempt spent
	// while open would come before it. (This used to sleep until 50ms
	// before next_probe_at and count, which a late wake-up on a loaded
	// machine turns into a false failure.)
	waitFor(t, 10*time.Second, "10 delivered", func() bool { return len(rc.ids()) == 10 && h.counts().Queued == 0 && h.counts().Retries == 0 })
	ds := rc.deliveries()
	require_True(t, !ds[5].at.Before(*v.Circuit.NextProbeAt), "the probe came at %s, before next_probe_at %s", ds[5].at, v.Circuit.NextProbeAt)
	require_True(t, ds[5].at.Sub(ds[4].repliedAt) >= 390*time.Millisecond, "the probe came %s after the fifth failure; open_for is 400ms", ds[5].at.Sub(ds[4].repliedAt))
	require_Equal(t, len(ds), 15) // 5 failures, then 10 successes: no attempt spent while open
	waitFor(t, 2*time.Second, "failing_since to be cleared", func() bool { return h.get(ep).FailingSince == nil })
	require_Equal(t, h.get(ep).Circuit.State, "closed")
	require_Equal(t, h.metric("hookline_endpoints_failing"), 0.0)
	require_Equal(t, h.metric("hookline_endpoints_failing_longest_seconds"), 0.0)
	require_Equal(t, h.metric(`hookline_circuit_transitions_total{to="open"}`), 1.0)
	require_Equal(t, h.metric(`hookline_circuit_transitions_total{to="closed"}`), 1.0)
	h.requireSettled()
}

// TestCircuitHalfOpenSendsOneProbe: with half_open_probes 1, an endpoint
// that never recovers gets one request per open period, never several at
// once, though max_in_flight is 4: each probe comes at least open_for after
// the previous one failed. (The default, 5 one at a time, is
// TestCircuitHalfOpenProbesOneAtATime.)
func TestCircuitHalfOpenSendsOneProbe(t *testing.T) {
	t.Parallel()
	const openFor = 200 * time.Millisecond
	opts := circuitOptions()
	opts.Circuit.OpenFor = openFor
	opts.Circuit.HalfOpenProbes = 1
	h := newHarness(t, opts)
	h.tenant("acme")
	rc := newReceiver(t, recvConfig{replies: []reply{{status: 500, delay: 20 * time.Millisecond}}})
	ep := h.endpoint("acme", engine.EndpointInput{URL: ptr(rc.URL()), MaxInFlight: ptr(4), RetrySchedule: ptr(fastRetries(8))})
	h.publish("acme", events("a", 20)...)
	waitFor(t, 5*time.Second, "the circuit to open", func() bool { return h.get(ep).Circuit.State == "open" })
	// Attempts in flight at the opening finish first; once none is in
	// flight, every request is a probe (a count, not a sleep: a loaded
	// machine may take longer than a quiet one).
	waitFor(t, 5*time.Second, "the attempts in flight at the opening to end", func() bool {
		return h.metric("hookline_delivery_in_flight_attempts") == 0
	})
	start := rc.count()
	rc.peak.Store(0)
	waitFor(t, 5*time.Second, "5 probes", func() bool { return rc.count() >= start+5 })
	ds := rc.deliveries()[start:]
	for i := 1; i < len(ds); i++ {
		gap := ds[i].at.Sub(ds[i-1].repliedAt)
		require_True(t, gap >= openFor-msSlack, "probe %d came %s after the previous one failed; open_for is %s", i, gap, openFor)
	}
	require_Equal(t, rc.peak.Load(), int32(1))
}

// TestRateLimit: rate_limit 20 never lets more than 20 requests (+5%) reach
// the receiver within any one-second window, and lifting a limit releases
// the deliveries waiting on it at once. How close to 20/s the limiter runs
// is logged, not judged: a loaded machine only makes it slower.
func TestRateLimit(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testOptions())
	h.tenant("acme")
	rc := newReceiver(t, recvConfig{})
	ep := h.endpoint("acme", engine.EndpointInput{URL: ptr(rc.URL()), MaxInFlight: ptr(8), RateLimit: ptr(20)})
	require_Equal(t, ep.RateLimit, 20)
	h.publish("acme", events("a", 70)...)
	waitFor(t, 10*time.Second, "70 deliveries", func() bool { return rc.count() >= 70 })
	ds := rc.deliveries()
	most := 0
	for i := range ds {
		n := 0
		for j := i; j < len(ds) && ds[j].at.Sub(ds[i].at) < time.Second; j++ {
			n++
		}
		most = max(most, n)
	}
	require_True(t, most <= 21, "%d requests within one second; rate_limit is 20", most)
	span := ds[len(ds)-1].at.Sub(ds[0].at)
	// 69 gaps of 50ms: 3.45s at exactly 20/s.
	require_True(t, span >= 3300*time.Millisecond, "70 requests took %s at rate_limit 20", span)
	t.Logf("70 requests at rate_limit 20 took %s (%.1f/s)", span, 69/span.Seconds())

	// Lifting the limit takes effect at once, also for deliveries already
	// waiting on it: at rate_limit 1, 100 deliveries take 99 s; lifted after
	// the first, the rest arrive long before that (in well under a second
	// on a quiet machine). The deadline is half the limited time, so only a
	// limit still in force can miss it.
	const n = 100
	_, err := h.e.UpdateEndpoint(context.Background(), "acme", ep.ID, engine.EndpointInput{RateLimit: ptr(1)})
	require_NoError(t, err)
	h.publish("acme", events("a", n)...)
	waitFor(t, 10*time.Second, "the first delivery at rate_limit 1", func() bool { return rc.count() > 70 })
	_, err = h.e.UpdateEndpoint(context.Background(), "acme", ep.ID, engine.EndpointInput{RateLimit: ptr(0)})
	require_NoError(t, err)
	lifted := time.Now()
	for rc.count() < 70+n {
		require_True(t, time.Since(lifted) < n/2*time.Second, "%d of %d deliveries %s after the limit was lifted", rc.count()-70, n, time.Since(lifted))
		time.Sleep(5 * time.Millisecond)
	}
}

// TestFIFOFailingHeadHoldsTheLane: with ordering fifo the third event fails
// twice; nothing after it is sent until it succeeds, and every request goes
// out alone, in publish order.
func TestFIFOFailingHeadHoldsTheLane(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testOptions())
	h.tenant("acme")
	rc := newReceiver(t, recvConfig{replies: []reply{{status: 200}, {status: 200}, {status: 503}, {status: 503}, {status: 200}}})
	ep := h.endpoint("acme", engine.EndpointInput{URL: ptr(rc.URL()), Ordering: ptr("fifo"), MaxInFlight: ptr(16)})
	require_Equal(t, ep.Ordering, "fifo")
	var want []string
	for _, r := range h.publish("acme", events("a", 10)...) {
		want = append(want, engine.FormatEventID(r.ID))
	}
	for range 10 {
		want = append(want, engine.FormatEventID(h.publish("acme", engine.PublishEvent{Type: "a"})[0].ID))
	}
	waitFor(t, 10*time.Second, "22 requests", func() bool { return rc.count() >= 22 })
	time.Sleep(quiet)
	var got []string
	for _, d := range rc.deliveries() {
		got = append(got, d.id)
	}
	wantSeq := append(append(append([]string{}, want[:3]...), want[2], want[2]), want[3:]...)
	require_DeepEqual(t, got, wantSeq)
	require_Equal(t, rc.peak.Load(), int32(1))
	h.requireSettled()
}

// TestFIFODeadHeadReleasesTheLane: a final failure dead-letters the head and
// the lane goes on with the next event.
func TestFIFODeadHeadReleasesTheLane(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testOptions())
	h.tenant("acme")
	rc := newReceiver(t, recvConfig{replies: []reply{{status: 200}, {status: 422}, {status: 200}}})
	ep := h.endpoint("acme", engine.EndpointInput{URL: ptr(rc.URL()), Ordering: ptr("fifo")})
	res := h.publish("acme", events("a", 5)...)
	waitFor(t, 5*time.Second, "5 requests", func() bool { return rc.count() >= 5 })
	time.Sleep(quiet)
	ds := rc.deliveries()
	require_Equal(t, len(ds), 5)
	for i, d := range ds {
		require_Equal(t, d.id, engine.FormatEventID(res[i].ID))
	}
	require_Equal(t, len(h.dead(ep)), 1)
}

// TestFIFOHeadRetryHoldsAcrossRestart: the head waiting for its retry still
// holds the lane after a restart.
func TestFIFOHeadRetryHoldsAcrossRestart(t *testing.T) {
	t.Parallel()
	opts := testOptions()
	opts.RetrySchedule = []time.Duration{time.Second}
	h := newHarness(t, opts)
	h.tenant("acme")
	rc := newReceiver(t, recvConfig{replies: []reply{{status: 503}, {status: 200}}})
	h.endpoint("acme", engine.EndpointInput{URL: ptr(rc.URL()), Ordering: ptr("fifo")})
	first := h.publish("acme", engine.PublishEvent{Type: "a"})[0].ID
	waitFor(t, 5*time.Second, "the first attempt", func() bool { return h.counts().Retries == 1 })
	h.stop(5 * time.Second)
	h.start()
	second := h.publish("acme", engine.PublishEvent{Type: "a"})[0].ID
	waitFor(t, 10*time.Second, "3 requests", func() bool { return rc.count() >= 3 })
	ds := rc.deliveries()
	require_Equal(t, ds[1].id, engine.FormatEventID(first))
	require_Equal(t, ds[2].id, engine.FormatEventID(second))
}

// TestPauseQueuesAndResumeDelivers: a paused endpoint gets nothing but keeps
// its events; resuming delivers them all.
func TestPauseQueuesAndResumeDelivers(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testOptions())
	h.tenant("acme")
	rc := newReceiver(t, recvConfig{})
	ep := h.endpoint("acme", engine.EndpointInput{URL: ptr(rc.URL())})
	v, err := h.e.UpdateEndpoint(context.Background(), "acme", ep.ID, engine.EndpointInput{Paused: ptr(true)})
	require_NoError(t, err)
	require_True(t, v.Paused, "endpoint not paused: %+v", v)
	require_Equal(t, h.metric("hookline_endpoints_paused"), 1.0)
	h.publish("acme", events("a", 7)...)
	time.Sleep(quiet)
	require_Equal(t, rc.count(), 0)
	require_Equal(t, h.queued(ep), 7)

	_, err = h.e.UpdateEndpoint(context.Background(), "acme", ep.ID, engine.EndpointInput{Paused: ptr(false)})
	require_NoError(t, err)
	waitFor(t, 5*time.Second, "7 deliveries", func() bool { return len(rc.ids()) == 7 })
	waitFor(t, 5*time.Second, "an empty queue", func() bool { return h.queued(ep) == 0 })
}

// opsReceiver is an endpoint subscribed to hookline's operational events.
func opsReceiver(t *testing.T, h *harness, tenant string) *receiver {
	rc := newReceiver(t, recvConfig{})
	h.endpoint(tenant, engine.EndpointInput{URL: ptr(rc.URL()), EventTypes: ptr([]string{"hookline.endpoint.*"})})
	return rc
}

type disabledEvent struct {
	Type string `json:"type"`
	Data struct {
		EndpointID   string     `json:"endpoint_id"`
		URL          string     `json:"url"`
		Reason       string     `json:"reason"`
		At           time.Time  `json:"at"`
		FailingSince *time.Time `json:"failing_since"`
	} `json:"data"`
}

// requireDisabledEvent waits for the ops receiver's hookline.endpoint.disabled
// event (a failing event may come before it) and checks it names ep.
func requireDisabledEvent(t *testing.T, ops *receiver, ep engine.Endpoint, reason string) disabledEvent {
	t.Helper()
	d := waitNotice(t, ops, engine.EventEndpointDisabled, 1)[0]
	var ev disabledEvent
	require_NoError(t, json.Unmarshal(d.body, &ev))
	require_Equal(t, ev.Data.EndpointID, ep.ID)
	require_Equal(t, ev.Data.URL, ep.URL)
	require_Equal(t, ev.Data.Reason, reason)
	require_True(t, !ev.Data.At.IsZero(), "disabled event without at: %s", d.body)
	return ev
}

// TestGoneDisablesAtOnce: one 410 disables the endpoint, tells the tenant
// with hookline.endpoint.disabled, and later events are not queued to it.
func TestGoneDisablesAtOnce(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testOptions())
	h.tenant("acme")
	gone := newReceiver(t, recvConfig{replies: []reply{{status: http.StatusGone}}})
	ep := h.endpoint("acme", engine.EndpointInput{URL: ptr(gone.URL()), EventTypes: ptr([]string{"invoice.*"})})
	ops := opsReceiver(t, h, "acme")
	h.publish("acme", engine.PublishEvent{Type: "invoice.paid"})
	requireDisabledEvent(t, ops, ep, "gone")
	v := h.get(ep)
	require_True(t, v.Disabled && v.DisabledReason == "gone" && v.DisabledAt != nil, "endpoint after 410: %+v", v)
	require_Equal(t, h.metric(`hookline_endpoints_auto_disabled_total{reason="gone"}`), 1.0)
	// The dead delivery's hookline.delivery.exhausted, published before
	// the disabling, and hookline.endpoint.disabled.
	require_Equal(t, h.metric(`hookline_ingest_events_total{source="system"}`), 2.0)

	h.publish("acme", events("invoice.paid", 3)...)
	time.Sleep(quiet)
	require_Equal(t, gone.count(), 1)
	require_Equal(t, h.queued(ep), 0)
	require_Equal(t, len(h.dead(ep)), 1)

	// Enabled again by hand: the reason goes, deliveries resume.
	v, err := h.e.UpdateEndpoint(context.Background(), "acme", ep.ID, engine.EndpointInput{Disabled: ptr(false)})
	require_NoError(t, err)
	require_True(t, !v.Disabled && v.DisabledReason == "" && v.DisabledAt == nil, "endpoint after enabling: %+v", v)
}

// TestFailingEndpointDisabled: an endpoint whose circuit stays open for
// DisableAfter is disabled with reason failing; its failing time survives a
// restart and its queued deliveries are kept.
func TestFailingEndpointDisabled(t *testing.T) {
	t.Parallel()
	opts := circuitOptions()
	opts.Circuit.OpenFor = 100 * time.Millisecond
	opts.DisableAfter = 1500 * time.Millisecond
	h := newHarness(t, opts)
	h.tenant("acme")
	ep := h.endpoint("acme", engine.EndpointInput{URL: ptr(closedPortURL(t)), MaxInFlight: ptr(1), EventTypes: ptr([]string{"invoice.*"}), RetrySchedule: ptr(fastRetries(30))})
	ops := opsReceiver(t, h, "acme")
	h.publish("acme", events("invoice.paid", 8)...)
	waitFor(t, 5*time.Second, "failing_since to be recorded", func() bool { return h.get(ep).FailingSince != nil })
	since := *h.get(ep).FailingSince

	// A restart in between: the failing time carries on from the record.
	h.stop(5 * time.Second)
	h.start()
	require_Equal(t, *h.get(ep).FailingSince, since)
	h.publish("acme", engine.PublishEvent{Type: "invoice.paid"})

	ev := requireDisabledEvent(t, ops, ep, "failing")
	require_True(t, ev.Data.FailingSince != nil && ev.Data.FailingSince.Equal(since), "event failing_since %v, want %v", ev.Data.FailingSince, since)
	// The failing event came once, at the first opening, restart or not.
	// It may still be on its way: after the restart the ops endpoint reads
	// its queue again and sends it next to the disabled event.
	waitNotice(t, ops, engine.EventEndpointFailing, 1)
	fs := notices(t, ops, engine.EventEndpointFailing)
	require_Equal(t, len(fs), 1)
	require_True(t, fs[0].Data.EndpointID == ep.ID && fs[0].Data.FailingSince.Equal(since), "failing event %+v, failing since %v", fs[0].Data, since)
	v := h.get(ep)
	require_True(t, v.Disabled && v.DisabledReason == "failing", "endpoint: %+v", v)
	require_True(t, v.DisabledAt.Sub(since) >= 1500*time.Millisecond, "disabled %s after failing began; disable_after is 1.5s", v.DisabledAt.Sub(since))
	// The 9 deliveries are kept (the ops endpoint's one settles once its
	// outcome is recorded, just after the receiver saw it).
	waitFor(t, 5*time.Second, "the 9 deliveries of the disabled endpoint, and no other", func() bool {
		c := h.counts()
		return c.Queued+c.Retries > 0 && c.Queued+c.Retries+c.Dead == 9
	})
}

// fastRetries is a schedule of n retries 50ms apart: a failing endpoint
// keeps being tried, so its circuit keeps probing.
func fastRetries(n int) []string {
	s := make([]string, n)
	for i := range s {
		s[i] = "50ms"
	}
	return s
}

// TestDisableLogRedactsQuery: the log line of an auto-disabled endpoint
// names the URL's query parameters but not their values, which are often
// tokens; the tenant's own endpoint.disabled event keeps the whole URL.
func TestDisableLogRedactsQuery(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testOptions())
	h.tenant("acme")
	gone := newReceiver(t, recvConfig{replies: []reply{{status: http.StatusGone}}})
	ep := h.endpoint("acme", engine.EndpointInput{URL: ptr(gone.URL() + "?token=s3cr3t-t0ken&account=acme-4242"), EventTypes: ptr([]string{"invoice.*"})})
	ops := opsReceiver(t, h, "acme")
	h.publish("acme", engine.PublishEvent{Type: "invoice.paid"})
	requireDisabledEvent(t, ops, ep, "gone")
	waitFor(t, 10*time.Second, "the endpoint disabled log line", func() bool { return strings.Contains(h.logs.String(), "endpoint disabled") })
	logs := h.logs.String()
	for _, secret := range []string{"s3cr3t-t0ken", "acme-4242"} {
		require_True(t, !strings.Contains(logs, secret), "the log shows query value %q:\n%s", secret, logs)
	}
	require_True(t, strings.Contains(logs, "?token=[redacted]&account=[redacted]"), "the log does not name the query parameters:\n%s", logs)
}
