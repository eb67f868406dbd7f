package engine_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"hookline/engine"
	"hookline/httpout"
	"hookline/wal"
)

// TestRetryThenSuccess: 503, 503, 200 -> three requests with the same
// webhook-id and attempts 1, 2, 3; the wal logs r, r, s and holds nothing
// queued or retrying.
func TestRetryThenSuccess(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testOptions())
	h.tenant("acme")
	rc := newReceiver(t, recvConfig{replies: []reply{{status: 503}, {status: 503}, {status: 200}}})
	ep := h.endpoint("acme", engine.EndpointInput{URL: ptr(rc.URL())})
	ev := h.publish("acme", engine.PublishEvent{Type: "invoice.paid", Payload: []byte(`{}`)})[0].ID

	waitFor(t, 10*time.Second, "3 logged attempts", func() bool { return len(h.attempts(ep, ev)) >= 3 })
	time.Sleep(quiet)
	ds := rc.deliveries()
	require_Equal(t, len(ds), 3)
	for i, d := range ds {
		require_Equal(t, d.id, engine.FormatEventID(ev))
		require_Equal(t, d.attempt, i+1)
		if i > 0 {
			// The schedule is 100ms with ±10% jitter: the retry never comes
			// before 90ms (a little slack: the engine times the attempt
			// just before sending).
			gap := d.at.Sub(ds[i-1].at)
			require_True(t, gap >= 85*time.Millisecond, "attempt %d came %s after attempt %d; the schedule says 100ms ±10%%", i+1, gap, i)
		}
	}
	as := h.attempts(ep, ev)
	require_Equal(t, outcomes(as), "rrs")
	for i, a := range as {
		require_Equal(t, a.Attempt, i+1)
		require_Equal(t, a.Status, []int{503, 503, 200}[i])
		require_Equal(t, a.ErrClass, "")
		if a.Outcome == wal.OutcomeRetry {
			// Due 100ms ±10% after the answer, which came after the
			// attempt's start. How long the request and its recording took
			// is the machine's business: the ceiling only tells the
			// endpoint's schedule from the default one (5s -10%).
			gap := a.NextMs - a.TimeMs
			require_True(t, gap >= 90, "attempt %d: next attempt due %dms later, want 100ms ±10%% after the answer", i+1, gap)
			require_True(t, gap < engine.DefaultRetrySchedule[0].Milliseconds()*9/10, "attempt %d: next attempt due %dms later: not the endpoint's 100ms schedule", i+1, gap)
		} else {
			require_Equal(t, a.NextMs, int64(0))
		}
	}
	h.requireSettled()
	c := h.counts()
	require_Equal(t, c.Attempts, 3)
	require_Equal(t, c.Events, 1)
}

// TestFinalFailureDeadLetters: a 404 (and other final statuses) is one
// attempt and a dead letter, never a retry.
func TestFinalFailureDeadLetters(t *testing.T) {
	t.Parallel()
	f := func(status int) {
		t.Helper()
		h := newHarness(t, testOptions())
		h.tenant("acme")
		rc := newReceiver(t, recvConfig{replies: []reply{{status: status, body: "no such hook"}, {status: 200}}})
		ep := h.endpoint("acme", engine.EndpointInput{URL: ptr(rc.URL())})
		ev := h.publish("acme", engine.PublishEvent{Type: "invoice.paid"})[0].ID

		waitFor(t, 10*time.Second, "a dead letter", func() bool { return len(h.dead(ep)) == 1 })
		time.Sleep(quiet) // several retry periods: no second attempt may come
		require_Equal(t, rc.count(), 1)
		d := h.dead(ep)
		require_Equal(t, len(d), 1)
		require_Equal(t, d[0].Event, ev)
		require_Equal(t, d[0].Attempts, 1)
		as := h.attempts(ep, ev)
		require_Equal(t, outcomes(as), "d")
		require_Equal(t, as[0].Status, status)
		require_Equal(t, string(as[0].Response), "no such hook")
		c := h.counts()
		require_Equal(t, c.Queued, 0)
		require_Equal(t, c.Retries, 0)
		require_Equal(t, c.Dead, 1)
	}
	f(http.StatusNotFound)
	f(http.StatusGone)
	f(http.StatusMovedPermanently)
}

// msSlack allows for due times being stored in whole milliseconds.
const msSlack = 5 * time.Millisecond

// TestRetryAfter: 429 with Retry-After: 2 then 200 -> the second request comes
// at least 2s after the first, although the schedule says 100ms.
func TestRetryAfter(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testOptions())
	h.tenant("acme")
	rc := newReceiver(t, recvConfig{replies: []reply{{status: 429, retryAfter: "2"}, {status: 200}}})
	ep := h.endpoint("acme", engine.EndpointInput{URL: ptr(rc.URL())})
	ev := h.publish("acme", engine.PublishEvent{Type: "invoice.paid"})[0].ID

	waitFor(t, 10*time.Second, "2 logged attempts", func() bool { return len(h.attempts(ep, ev)) >= 2 })
	time.Sleep(quiet)
	ds := rc.deliveries()
	require_Equal(t, len(ds), 2)
	require_Equal(t, ds[1].attempt, 2)
	require_Equal(t, ds[1].id, ds[0].id)
	// Due times are whole milliseconds: allow that rounding, nothing more.
	gap := ds[1].at.Sub(ds[0].at)
	require_True(t, gap >= 2*time.Second-msSlack, "the retry came %s after the first request; Retry-After asked for 2s", gap)
	as := h.attempts(ep, ev)
	require_Equal(t, outcomes(as), "rs")
	require_Equal(t, as[0].Status, 429)
	require_True(t, as[0].NextMs-as[0].TimeMs >= 2000, "next attempt due %dms after the first; Retry-After asked for 2s", as[0].NextMs-as[0].TimeMs)
}

// TestRetryAfterCountsFromResponse: Retry-After delay-seconds count from when
// the response is received (RFC 9110, 10.2.3), not from when the request was
// sent: a receiver that answers 429 after 700ms with Retry-After: 2 must not
// see the retry 1.3s after its answer.
func TestRetryAfterCountsFromResponse(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testOptions())
	h.tenant("acme")
	rc := newReceiver(t, recvConfig{replies: []reply{{status: 429, retryAfter: "2", delay: 700 * time.Millisecond}, {status: 200}}})
	ep := h.endpoint("acme", engine.EndpointInput{URL: ptr(rc.URL())})
	ev := h.publish("acme", engine.PublishEvent{Type: "invoice.paid"})[0].ID

	waitFor(t, 10*time.Second, "2 logged attempts", func() bool { return len(h.attempts(ep, ev)) >= 2 })
	ds := rc.deliveries()
	require_Equal(t, len(ds), 2)
	gap := ds[1].at.Sub(ds[0].repliedAt)
	require_True(t, gap >= 2*time.Second-msSlack, "the retry came %s after the 429 was sent; Retry-After asked for 2s after the response", gap)
}

// TestRetriesExhausted: always 500 with a schedule of two delays -> exactly
// three attempts, then a dead letter; from the server-wide schedule and from
// an endpoint's own.
func TestRetriesExhausted(t *testing.T) {
	t.Parallel()
	f := func(engineSchedule []time.Duration, endpointSchedule []string) {
		t.Helper()
		opts := testOptions()
		opts.RetrySchedule = engineSchedule
		h := newHarness(t, opts)
		h.tenant("acme")
		rc := newReceiver(t, recvConfig{replies: []reply{{status: 500, body: "boom"}}})
		in := engine.EndpointInput{URL: ptr(rc.URL())}
		if endpointSchedule != nil {
			in.RetrySchedule = &endpointSchedule
		}
		ep := h.endpoint("acme", in)
		ev := h.publish("acme", engine.PublishEvent{Type: "invoice.paid"})[0].ID

		waitFor(t, 10*time.Second, "a dead letter", func() bool { return len(h.dead(ep)) == 1 })
		time.Sleep(quiet)
		ds := rc.deliveries()
		require_Equal(t, len(ds), 3)
		for i, d := range ds {
			require_Equal(t, d.attempt, i+1)
			require_Equal(t, d.id, engine.FormatEventID(ev))
		}
		as := h.attempts(ep, ev)
		require_Equal(t, outcomes(as), "rrd")
		for _, a := range as {
			require_Equal(t, a.Status, 500)
			require_Equal(t, string(a.Response), "boom")
		}
		d := h.dead(ep)
		require_Equal(t, d[0].Event, ev)
		require_Equal(t, d[0].Attempts, 3)
		c := h.counts()
		require_Equal(t, c.Queued, 0)
		require_Equal(t, c.Retries, 0)
		require_Equal(t, c.Dead, 1)
		require_Equal(t, c.Attempts, 3)
	}
	f([]time.Duration{100 * time.Millisecond, 100 * time.Millisecond}, nil)
	// The endpoint's schedule overrides the server's longer one.
	f([]time.Duration{100 * time.Millisecond, 100 * time.Millisecond, 100 * time.Millisecond, 100 * time.Millisecond, 100 * time.Millisecond}, []string{"50ms", "100ms"})
}

// TestNetworkErrorRetried: nothing listens at the endpoint's port -> retried
// per schedule, then a dead letter, with error class "refused".
func TestNetworkErrorRetried(t *testing.T) {
	t.Parallel()
	opts := testOptions()
	opts.RetrySchedule = []time.Duration{100 * time.Millisecond, 200 * time.Millisecond}
	h := newHarness(t, opts)
	h.tenant("acme")
	ep := h.endpoint("acme", engine.EndpointInput{URL: ptr(closedPortURL(t))})
	ev := h.publish("acme", engine.PublishEvent{Type: "invoice.paid"})[0].ID

	waitFor(t, 10*time.Second, "a dead letter", func() bool { return len(h.dead(ep)) == 1 })
	time.Sleep(quiet)
	as := h.attempts(ep, ev)
	require_Equal(t, outcomes(as), "rrd")
	for i, a := range as {
		require_Equal(t, a.Attempt, i+1)
		require_Equal(t, a.Status, 0)
		require_Equal(t, a.ErrClass, httpout.ErrClassRefused)
		if i > 0 {
			want := opts.RetrySchedule[i-1].Milliseconds() * 9 / 10 // -10% jitter
			require_True(t, a.TimeMs >= as[i-1].NextMs && as[i-1].NextMs-as[i-1].TimeMs >= want,
				"attempt %d at %d, previous at %d due %d; the schedule says at least %dms", i+1, a.TimeMs, as[i-1].TimeMs, as[i-1].NextMs, want)
		}
	}
	require_Equal(t, h.dead(ep)[0].Attempts, 3)
	c := h.counts()
	require_Equal(t, c.Queued, 0)
	require_Equal(t, c.Retries, 0)
}

// TestBigResponseHeaders: a receiver answering 200 with ~8 KiB of headers
// (16 Set-Cookie of 500 bytes) gets one request, recorded as a success;
// one whose headers pass 64 KiB gets one request too, dead-lettered at once
// as response_headers_too_large (it did answer, and would answer the same
// way to every retry), which endpoint health names.
func TestBigResponseHeaders(t *testing.T) {
	t.Parallel()
	f := func(cookies int, wantOutcome, wantClass string) {
		t.Helper()
		var got atomic.Int32
		cookie := strings.Repeat("c", 500)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			got.Add(1)
			for i := range cookies {
				w.Header().Add("Set-Cookie", fmt.Sprintf("c%d=%s", i, cookie))
			}
			w.WriteHeader(http.StatusOK)
		}))
		t.Cleanup(srv.Close)
		h := newHarness(t, testOptions())
		h.tenant("acme")
		ep := h.endpoint("acme", engine.EndpointInput{URL: ptr(srv.URL + "/hook")})
		ev := h.publish("acme", engine.PublishEvent{Type: "invoice.paid"})[0].ID
		waitFor(t, 10*time.Second, "an attempt", func() bool { return len(h.attempts(ep, ev)) == 1 })
		time.Sleep(quiet) // several retry periods: no second attempt may come
		require_Equal(t, got.Load(), int32(1))
		as := h.attempts(ep, ev)
		require_Equal(t, outcomes(as), wantOutcome)
		require_Equal(t, as[0].ErrClass, wantClass)
		c := h.counts()
		require_Equal(t, c.Queued, 0)
		require_Equal(t, c.Retries, 0)
		health := waitAttempts(t, h, ep, 1)
		if wantClass != "" {
			requireCounts(t, "1h", health.Windows.Hour, 1, 0, "map["+wantClass+":1]")
		} else {
			requireCounts(t, "1h", health.Windows.Hour, 1, 1, "map[]")
		}
	}
	f(16, "s", "")
	f(140, "d", "response_headers_too_large")
}
