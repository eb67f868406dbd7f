package engine_test

import (
	"strings"
	"testing"
	"time"

	"hookline/engine"
)

// TestCircuitHalfOpenTriesSeveralDeliveries: a receiver that answers 503 to
// the first two attempts of every event and 200 to the third is up, but its
// 20 first attempts open the circuit. With one probe per half-open state
// each probe was a second attempt, which failed and opened the circuit
// again: 21 openings, 630 s at the default open_for. Half-open now tries up
// to half_open_probes (5) distinct deliveries and opens again only when all
// of them fail, so the 20 second attempts take 4 openings, a third attempt
// closes the circuit, and the rest follow.
func TestCircuitHalfOpenTriesSeveralDeliveries(t *testing.T) {
	t.Parallel()
	opts := testOptions()
	opts.Circuit = engine.CircuitOptions{OpenFor: 200 * time.Millisecond}
	h := newHarness(t, opts)
	h.tenant("acme")
	rc := newReceiver(t, recvConfig{failTimes: 2})
	ep := h.endpoint("acme", engine.EndpointInput{URL: ptr(rc.URL()), MaxInFlight: ptr(4)})
	h.publish("acme", events("a", 20)...)

	waitFor(t, 60*time.Second, "the 20 events delivered", func() bool {
		c := h.counts()
		return len(rc.ids()) == 20 && c.Queued == 0 && c.Retries == 0
	})
	h.requireSettled()
	require_Equal(t, h.get(ep).Circuit.State, "closed")

	// Each event was sent three times, in attempt order, and nothing more:
	// no attempt was spent while the circuit was open.
	ds := rc.deliveries()
	require_Equal(t, len(ds), 60)
	seen := map[string]int{}
	for _, d := range ds {
		seen[d.id]++
		require_Equal(t, d.attempt, seen[d.id])
	}

	// Every opening after the first needs five failed probes, or in the
	// closed state at least 10 failures (half of min_requests); the first
	// needs 10 too. 40 attempts fail in all, so the circuit opens at most
	// 1 + 30/5 = 7 times (5 in the run this test was written from); with
	// one probe per half-open state it opened 21 times.
	opens := h.metric(`hookline_circuit_transitions_total{to="open"}`)
	t.Logf("the circuit opened %v times", opens)
	require_True(t, opens >= 1 && opens <= 7, "the circuit opened %v times for 20 events; want at most 7", opens)

	// Each opening is logged as a warning, and the closing at the end.
	opened := logLines(h, "endpoint circuit open")
	require_Equal(t, float64(len(opened)), opens)
	require_True(t, strings.Contains(opened[0], "level=WARN") && strings.Contains(opened[0], "endpoint="+ep.ID) && strings.Contains(opened[0], "from=closed"), "open line %q", opened[0])
	closed := logLines(h, "endpoint circuit closed")
	require_True(t, len(closed) >= 1 && strings.Contains(closed[len(closed)-1], "from=half_open"), "closed lines %q", closed)
}

// TestCircuitHalfOpenProbesOneAtATime: an endpoint that never recovers gets
// half_open_probes (5) requests per half-open state, one at a time, each a
// different delivery; then the circuit opens again.
func TestCircuitHalfOpenProbesOneAtATime(t *testing.T) {
	t.Parallel()
	opts := circuitOptions()
	opts.Circuit.OpenFor = 200 * time.Millisecond
	h := newHarness(t, opts)
	h.tenant("acme")
	rc := newReceiver(t, recvConfig{replies: []reply{{status: 500, delay: 20 * time.Millisecond}}})
	h.endpoint("acme", engine.EndpointInput{URL: ptr(rc.URL()), MaxInFlight: ptr(4), RetrySchedule: ptr(fastRetries(8))})
	h.publish("acme", events("a", 20)...)
	waitFor(t, 30*time.Second, "the circuit to open 4 times", func() bool {
		return h.metric(`hookline_circuit_transitions_total{to="open"}`) >= 4
	})
	h.stop(5 * time.Second)
	opens := int(h.metric(`hookline_circuit_transitions_total{to="open"}`))
	ds := rc.deliveries()

	// The first opening comes after a run of 16 failures (4 x max_in_flight),
	// with at most 3 more requests in flight; each later one after 5 failed
	// probes; the half-open state the stop cut short sent at most 4.
	first := 16
	require_True(t, len(ds) >= first+5*(opens-1) && len(ds) <= first+3+5*(opens-1)+4,
		"%d requests for %d openings; want %d probes per half-open state", len(ds), opens, 5)
	// From the 20th request on, all are probes: each starts after the one
	// before it was answered, and any 5 in a row are 5 deliveries.
	for i := 20; i < len(ds); i++ {
		require_True(t, !ds[i].at.Before(ds[i-1].repliedAt), "probe %d started at %s, before probe %d was answered at %s", i, ds[i].at, i-1, ds[i-1].repliedAt)
	}
	for i := 20; i+5 <= len(ds); i++ {
		ids := map[string]bool{}
		for _, d := range ds[i : i+5] {
			ids[d.id] = true
		}
		require_Equal(t, len(ids), 5)
	}
}

// TestCircuitHalfOpenFIFO: a fifo endpoint at the receiver that fails every
// event twice still sends one request at a time, in publish order, and
// delivers all 20 events.
func TestCircuitHalfOpenFIFO(t *testing.T) {
	t.Parallel()
	opts := testOptions()
	opts.Circuit = engine.CircuitOptions{OpenFor: 200 * time.Millisecond}
	h := newHarness(t, opts)
	h.tenant("acme")
	rc := newReceiver(t, recvConfig{failTimes: 2})
	ep := h.endpoint("acme", engine.EndpointInput{URL: ptr(rc.URL()), Ordering: ptr(engine.OrderingFIFO)})
	res := h.publish("acme", events("a", 20)...)

	waitFor(t, 60*time.Second, "the 20 events delivered", func() bool {
		c := h.counts()
		return len(rc.ids()) == 20 && c.Queued == 0 && c.Retries == 0
	})
	h.requireSettled()
	require_Equal(t, h.get(ep).Circuit.State, "closed")
	require_Equal(t, rc.peak.Load(), int32(1))
	ds := rc.deliveries()
	require_Equal(t, len(ds), 60)
	for i, d := range ds {
		require_Equal(t, d.id, engine.FormatEventID(res[i/3].ID))
		require_Equal(t, d.attempt, i%3+1)
	}
	t.Logf("the circuit opened %v times", h.metric(`hookline_circuit_transitions_total{to="open"}`))
}

// TestCircuitFailedProbeDisables: disable_after is checked on every failed
// probe, not only when the circuit opens again: with more probes than the
// test lets fail, the circuit opens once and stays half open, and the
// endpoint is still disabled once it has failed for disable_after.
func TestCircuitFailedProbeDisables(t *testing.T) {
	t.Parallel()
	opts := circuitOptions()
	opts.Circuit.OpenFor = 100 * time.Millisecond
	opts.Circuit.HalfOpenProbes = 1_000_000
	opts.DisableAfter = 1500 * time.Millisecond
	h := newHarness(t, opts)
	h.tenant("acme")
	rc := newReceiver(t, recvConfig{replies: []reply{{status: 500, delay: 20 * time.Millisecond}}})
	ep := h.endpoint("acme", engine.EndpointInput{URL: ptr(rc.URL()), MaxInFlight: ptr(1), RetrySchedule: ptr(fastRetries(30))})
	h.publish("acme", events("a", 8)...)
	waitFor(t, 5*time.Second, "failing_since to be recorded", func() bool { return h.get(ep).FailingSince != nil })
	since := *h.get(ep).FailingSince
	waitFor(t, 30*time.Second, "the endpoint to be disabled", func() bool { return h.get(ep).Disabled })
	v := h.get(ep)
	require_Equal(t, v.DisabledReason, "failing")
	require_True(t, v.DisabledAt.Sub(since) >= 1500*time.Millisecond, "disabled %s after failing began; disable_after is 1.5s", v.DisabledAt.Sub(since))
	require_Equal(t, h.metric(`hookline_circuit_transitions_total{to="open"}`), 1.0)
	require_True(t, rc.count() > 5, "%d requests: no probe failed", rc.count())
}
