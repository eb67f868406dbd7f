package engine_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"hookline/engine"
)

// notice is an operational event as an ops receiver got it; Data holds the
// fields of every type (see docs/notifications.md).
type notice struct {
	Type string `json:"type"`
	Data struct {
		EndpointID     string     `json:"endpoint_id"`
		URL            string     `json:"url"`
		At             time.Time  `json:"at"`
		Reason         string     `json:"reason"`
		FailingSince   *time.Time `json:"failing_since"`
		FailingSeconds float64    `json:"failing_seconds"`
		LastHour       *struct {
			Attempts uint64 `json:"attempts"`
			Failed   uint64 `json:"failed"`
		} `json:"last_hour"`

		Summary    bool   `json:"summary"`
		EventID    string `json:"event_id"`
		EventType  string `json:"event_type"`
		Attempts   int    `json:"attempts"`
		Status     int    `json:"status"`
		ErrorClass string `json:"error_class"`

		Count        int       `json:"count"`
		FirstEventID string    `json:"first_event_id"`
		LastEventID  string    `json:"last_event_id"`
		WindowStart  time.Time `json:"window_start"`
		WindowEnd    time.Time `json:"window_end"`
		Sample       *struct {
			EventID   string `json:"event_id"`
			EventType string `json:"event_type"`
			Status    int    `json:"status"`
			Reason    string `json:"reason"`
		} `json:"sample"`
	} `json:"data"`
}

// notices decodes the requests rc got of type typ ("" for all), in arrival
// order; every delivery names its type in hookline-event-type.
func notices(t *testing.T, rc *receiver, typ string) []notice {
	t.Helper()
	var out []notice
	for _, d := range rc.deliveries() {
		if typ != "" && d.header.Get("hookline-event-type") != typ {
			continue
		}
		var n notice
		require_NoError(t, json.Unmarshal(d.body, &n))
		out = append(out, n)
	}
	return out
}

// waitNotice waits until rc got at least n requests of type typ and
// returns them.
func waitNotice(t *testing.T, rc *receiver, typ string, n int) []delivery {
	t.Helper()
	var got []delivery
	waitFor(t, 10*time.Second, "the "+typ+" events", func() bool {
		got = got[:0]
		for _, d := range rc.deliveries() {
			if d.header.Get("hookline-event-type") == typ {
				got = append(got, d)
			}
		}
		return len(got) >= n
	})
	return got
}

// opsAll is an ops endpoint subscribed to all of hookline's events,
// delivering them one at a time in order.
func opsAll(t *testing.T, h *harness, tenant string, cfg recvConfig) (*receiver, engine.Endpoint) {
	t.Helper()
	rc := newReceiver(t, cfg)
	ep := h.endpoint(tenant, engine.EndpointInput{URL: ptr(rc.URL()), EventTypes: ptr([]string{"hookline.*"}), Ordering: ptr("fifo")})
	return rc, ep
}

// flipReceiver answers 500 while down and 200 while up: a customer's
// receiver that an outage takes down and a fix brings back.
type flipReceiver struct {
	srv  *httptest.Server
	down atomic.Bool
	n    atomic.Int64
}

func newFlipReceiver(t *testing.T) *flipReceiver {
	f := &flipReceiver{}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		f.n.Add(1)
		if f.down.Load() {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

// TestNotifyEndpointDownAndUp is the "done when": an endpoint that
// goes down tells the ops endpoint of its dead deliveries and that it is
// failing; across a restart it stays one failing period; when it comes
// back up, the ops endpoint hears it recovered, once.
func TestNotifyEndpointDownAndUp(t *testing.T) {
	t.Parallel()
	opts := testOptions()
	opts.Circuit = engine.CircuitOptions{ConsecutiveFailures: 3, OpenFor: 200 * time.Millisecond}
	// Only the circuit starts the period here; the rate has its own test.
	opts.Notify = engine.NotifyOptions{FailureMinAttempts: -1}
	h := newHarness(t, opts)
	h.tenant("acme")
	ops, _ := opsAll(t, h, "acme", recvConfig{})
	cust := newFlipReceiver(t)
	cust.down.Store(true)
	ep := h.endpoint("acme", engine.EndpointInput{URL: ptr(cust.srv.URL + "/hook"), EventTypes: ptr([]string{"invoice.*"}), MaxInFlight: ptr(1), RetrySchedule: ptr([]string{"50ms"})})
	res := h.publish("acme", events("invoice.paid", 2)...)
	published := []string{engine.FormatEventID(res[0].ID), engine.FormatEventID(res[1].ID)}

	// Down: both deliveries die after their two attempts, and the third
	// failure in a row opens the circuit.
	waitFor(t, 10*time.Second, "2 dead letters", func() bool { return len(h.dead(ep)) == 2 })
	for _, d := range waitNotice(t, ops, engine.EventDeliveryExhausted, 2) {
		var n notice
		require_NoError(t, json.Unmarshal(d.body, &n))
		x := n.Data
		require_True(t, x.EndpointID == ep.ID && x.URL == ep.URL && !x.Summary, "exhausted event %s", d.body)
		require_True(t, slices.Contains(published, x.EventID), "exhausted event names event %q, not one of %v", x.EventID, published)
		require_Equal(t, x.EventType, "invoice.paid")
		require_Equal(t, x.Attempts, 2)
		require_Equal(t, x.Status, 500)
		require_Equal(t, x.ErrorClass, "")
		require_Equal(t, x.Reason, "retries_exhausted")
		require_True(t, !x.At.IsZero(), "exhausted event without at: %s", d.body)
	}
	waitNotice(t, ops, engine.EventEndpointFailing, 1)
	f := notices(t, ops, engine.EventEndpointFailing)[0].Data
	require_True(t, f.EndpointID == ep.ID && f.URL == ep.URL && f.Reason == "circuit_open", "failing event %+v", f)
	require_True(t, f.FailingSince != nil && f.FailingSince.Equal(*h.get(ep).FailingSince), "failing_since %v, endpoint's %v", f.FailingSince, h.get(ep).FailingSince)
	require_True(t, f.LastHour != nil && f.LastHour.Attempts >= 3 && f.LastHour.Failed >= 3, "failing event's last hour %+v", f.LastHour)

	// A restart in the outage: the failing period carries on from the
	// endpoint record; the circuit opens again without a second event.
	h.stop(5 * time.Second)
	h.start()
	h.publish("acme", engine.PublishEvent{Type: "invoice.paid"})
	waitFor(t, 10*time.Second, "3 dead letters", func() bool { return len(h.dead(ep)) == 3 })

	// Up: the next delivery succeeds and the ops endpoint hears it.
	cust.down.Store(false)
	h.publish("acme", engine.PublishEvent{Type: "invoice.paid"})
	waitNotice(t, ops, engine.EventEndpointRecovered, 1)
	r := notices(t, ops, engine.EventEndpointRecovered)[0].Data
	require_True(t, r.EndpointID == ep.ID && r.URL == ep.URL, "recovered event %+v", r)
	require_True(t, r.FailingSince != nil && r.FailingSince.Equal(*f.FailingSince), "recovered failing_since %v, failing event's %v", r.FailingSince, f.FailingSince)
	require_True(t, r.FailingSeconds > 0 && !r.At.Before(*f.FailingSince), "recovered %+v", r)
	require_True(t, h.get(ep).FailingSince == nil, "failing_since left after recovery")

	// Once per period: more successes make no more events.
	h.publish("acme", events("invoice.paid", 3)...)
	waitFor(t, 10*time.Second, "the deliveries after recovery", func() bool { return cust.n.Load() >= 10 })
	time.Sleep(quiet)
	var types []string
	for _, n := range notices(t, ops, "") {
		if n.Type != engine.EventDeliveryExhausted {
			types = append(types, n.Type)
		}
	}
	require_DeepEqual(t, types, []string{engine.EventEndpointFailing, engine.EventEndpointRecovered})
	require_Equal(t, len(notices(t, ops, engine.EventDeliveryExhausted)), 3)
}

// TestNotifyExhaustedAggregates: per endpoint and window, the first
// ExhaustedSingles deaths are announced one by one and the rest in one
// summary at the window's end; the next window has only a summary while
// deaths go on; a window without deaths ends that, and singles come again.
func TestNotifyExhaustedAggregates(t *testing.T) {
	t.Parallel()
	opts := testOptions()
	opts.Notify = engine.NotifyOptions{ExhaustedWindow: time.Hour, ExhaustedSingles: 3}
	h := newHarness(t, opts)
	h.tenant("acme")
	ops, _ := opsAll(t, h, "acme", recvConfig{})
	// 400 is final: each delivery dies at its first attempt.
	dead := newReceiver(t, recvConfig{replies: []reply{{status: 400}}})
	ep := h.endpoint("acme", engine.EndpointInput{URL: ptr(dead.URL()), EventTypes: ptr([]string{"invoice.*"})})
	dies := func(n, total int) []string {
		t.Helper()
		res := h.publish("acme", events("invoice.paid", n)...)
		waitFor(t, 10*time.Second, "the dead letters", func() bool { return len(h.dead(ep)) == total })
		ids := make([]string, n)
		for i := range res {
			ids[i] = engine.FormatEventID(res[i].ID)
		}
		return ids
	}
	first := dies(20, 20)
	waitNotice(t, ops, engine.EventDeliveryExhausted, 3)
	time.Sleep(quiet)
	require_Equal(t, len(notices(t, ops, engine.EventDeliveryExhausted)), 3)
	for _, n := range notices(t, ops, engine.EventDeliveryExhausted) {
		require_True(t, !n.Data.Summary && n.Data.Reason == "not_retryable" && n.Data.Status == 400 && n.Data.Attempts == 1, "single %+v", n.Data)
	}
	announced := map[string]bool{}
	for _, n := range notices(t, ops, engine.EventDeliveryExhausted) {
		announced[n.Data.EventID] = true
	}
	require_Equal(t, len(announced), 3)

	// The window ends: one summary of the other 17.
	engine.EndExhaustedWindows(h.e)
	waitNotice(t, ops, engine.EventDeliveryExhausted, 4)
	s := notices(t, ops, engine.EventDeliveryExhausted)[3].Data
	require_True(t, s.Summary && s.Count == 17 && s.EndpointID == ep.ID && s.URL == ep.URL, "summary %+v", s)
	require_True(t, slices.Contains(first, s.FirstEventID) && slices.Contains(first, s.LastEventID) && !announced[s.FirstEventID] && !announced[s.LastEventID], "summary names %s..%s", s.FirstEventID, s.LastEventID)
	require_True(t, s.Sample != nil && s.Sample.EventID == s.LastEventID && s.Sample.EventType == "invoice.paid" && s.Sample.Status == 400, "summary sample %+v", s.Sample)
	require_True(t, s.WindowEnd.After(s.WindowStart) && s.At.Equal(s.WindowEnd), "summary window %v..%v at %v", s.WindowStart, s.WindowEnd, s.At)

	// Still dying: the next window sums up every death, no singles.
	dies(5, 25)
	time.Sleep(quiet)
	require_Equal(t, len(notices(t, ops, engine.EventDeliveryExhausted)), 4)
	engine.EndExhaustedWindows(h.e)
	waitNotice(t, ops, engine.EventDeliveryExhausted, 5)
	s2 := notices(t, ops, engine.EventDeliveryExhausted)[4].Data
	require_True(t, s2.Summary && s2.Count == 5 && !s2.WindowStart.Before(s.WindowEnd), "second summary %+v after %v", s2, s.WindowEnd)

	// A window without deaths closes quietly; the next deaths are singles.
	engine.EndExhaustedWindows(h.e)
	time.Sleep(quiet)
	require_Equal(t, len(notices(t, ops, engine.EventDeliveryExhausted)), 5)
	dies(2, 27)
	waitNotice(t, ops, engine.EventDeliveryExhausted, 7)
	for _, n := range notices(t, ops, engine.EventDeliveryExhausted)[5:] {
		require_True(t, !n.Data.Summary, "after a quiet window: %+v", n.Data)
	}
}

// TestNotifyExhaustedWindowTimer: with a short window the summaries come
// from the windows' own timers, and every death is told exactly once,
// singly or in a summary's count.
func TestNotifyExhaustedWindowTimer(t *testing.T) {
	t.Parallel()
	opts := testOptions()
	opts.Notify = engine.NotifyOptions{ExhaustedWindow: 200 * time.Millisecond, ExhaustedSingles: 2}
	h := newHarness(t, opts)
	h.tenant("acme")
	ops, _ := opsAll(t, h, "acme", recvConfig{})
	dead := newReceiver(t, recvConfig{replies: []reply{{status: 422}}})
	h.endpoint("acme", engine.EndpointInput{URL: ptr(dead.URL()), EventTypes: ptr([]string{"invoice.*"})})
	h.publish("acme", events("invoice.paid", 12)...)
	told := func() (singles, summed int) {
		for _, n := range notices(t, ops, engine.EventDeliveryExhausted) {
			if n.Data.Summary {
				summed += n.Data.Count
			} else {
				singles++
			}
		}
		return singles, summed
	}
	waitFor(t, 10*time.Second, "every death told", func() bool { s, c := told(); return s+c == 12 })
	time.Sleep(quiet)
	s, c := told()
	require_Equal(t, s+c, 12)
}

// TestNotifyExhaustedSurvivesGracefulStop: a graceful stop publishes the
// open window's summary at once; it is delivered after the restart.
func TestNotifyExhaustedSurvivesGracefulStop(t *testing.T) {
	t.Parallel()
	opts := testOptions()
	opts.Notify = engine.NotifyOptions{ExhaustedWindow: time.Hour}
	h := newHarness(t, opts)
	h.tenant("acme")
	ops, _ := opsAll(t, h, "acme", recvConfig{})
	dead := newReceiver(t, recvConfig{replies: []reply{{status: 400}}})
	ep := h.endpoint("acme", engine.EndpointInput{URL: ptr(dead.URL()), EventTypes: ptr([]string{"invoice.*"})})
	h.publish("acme", events("invoice.paid", 10)...)
	waitFor(t, 10*time.Second, "10 dead letters", func() bool { return len(h.dead(ep)) == 10 })
	waitNotice(t, ops, engine.EventDeliveryExhausted, 3)
	h.stop(5 * time.Second)
	h.start()
	waitNotice(t, ops, engine.EventDeliveryExhausted, 4)
	s := notices(t, ops, engine.EventDeliveryExhausted)[3].Data
	require_True(t, s.Summary && s.Count == 7, "summary after restart %+v", s)
}

// TestNotifyNoLoopThroughOpsEndpoint: an ops endpoint that is down itself
// gets no exhausted events about its own dead notifications, which would
// feed themselves forever: only the customer endpoint's deaths are told.
func TestNotifyNoLoopThroughOpsEndpoint(t *testing.T) {
	t.Parallel()
	opts := testOptions()
	opts.Notify = engine.NotifyOptions{ExhaustedWindow: 100 * time.Millisecond, ExhaustedSingles: 3}
	h := newHarness(t, opts)
	h.tenant("acme")
	ops, opsEp := opsAll(t, h, "acme", recvConfig{replies: []reply{{status: 400}}})
	dead := newReceiver(t, recvConfig{replies: []reply{{status: 400}}})
	ep := h.endpoint("acme", engine.EndpointInput{URL: ptr(dead.URL())})
	h.publish("acme", events("invoice.paid", 2)...)
	waitFor(t, 10*time.Second, "the 2 exhausted events dead at the ops endpoint", func() bool {
		return len(h.dead(opsEp)) == 2
	})
	// Several windows pass: nothing more is made of the notifications'
	// own deaths, at either endpoint.
	time.Sleep(5 * quiet)
	for _, n := range notices(t, ops, "") {
		require_True(t, n.Type == engine.EventDeliveryExhausted && n.Data.EndpointID == ep.ID && n.Data.EventType == "invoice.paid", "ops endpoint got %+v", n)
	}
	require_Equal(t, ops.count(), 2)
	require_Equal(t, len(h.dead(opsEp)), 2)
	// The customer endpoint, subscribed to "*", got the 2 events and none
	// of hookline's: "*" leaves them out.
	require_Equal(t, dead.count(), 2)
	require_Equal(t, len(h.dead(ep)), 2)
}

// TestNotifyFailureRate: an endpoint failing half of an hour's attempts
// without opening its circuit is failing too; it recovers when the hour's
// failures fall under half the threshold.
func TestNotifyFailureRate(t *testing.T) {
	t.Parallel()
	opts := testOptions()
	opts.Circuit = engine.CircuitOptions{ConsecutiveFailures: 1000, MinRequests: 1000}
	opts.Notify = engine.NotifyOptions{FailureMinAttempts: 10, FailureRatio: 0.5, RateCheckEvery: 20 * time.Millisecond}
	h := newHarness(t, opts)
	h.tenant("acme")
	ops := newReceiver(t, recvConfig{})
	h.endpoint("acme", engine.EndpointInput{URL: ptr(ops.URL()), EventTypes: ptr([]string{"hookline.endpoint.*"}), Ordering: ptr("fifo")})
	rc := newReceiver(t, recvConfig{replies: append(repeat(reply{status: 400}, 10), reply{status: 200})})
	ep := h.endpoint("acme", engine.EndpointInput{URL: ptr(rc.URL()), EventTypes: ptr([]string{"invoice.*"}), MaxInFlight: ptr(1)})

	// 9 failures are not enough attempts; the 10th is.
	h.publish("acme", events("invoice.paid", 9)...)
	waitFor(t, 10*time.Second, "9 dead letters", func() bool { return len(h.dead(ep)) == 9 })
	time.Sleep(quiet)
	require_Equal(t, ops.count(), 0)
	h.publish("acme", engine.PublishEvent{Type: "invoice.paid"})
	waitNotice(t, ops, engine.EventEndpointFailing, 1)
	f := notices(t, ops, engine.EventEndpointFailing)[0].Data
	require_True(t, f.EndpointID == ep.ID && f.Reason == "failure_rate" && f.LastHour != nil && f.LastHour.Attempts == 10 && f.LastHour.Failed == 10, "failing event %+v", f)
	require_True(t, h.get(ep).FailingSince == nil, "the rate set failing_since, the circuit's")

	// 20 successes: 10 of 30 failed, above a quarter; 21: 10 of 31... the
	// ratio passes under 25% at 41 attempts.
	h.publish("acme", events("invoice.paid", 29)...)
	waitFor(t, 10*time.Second, "29 successes", func() bool { return rc.count() == 39 })
	time.Sleep(quiet)
	require_Equal(t, len(notices(t, ops, engine.EventEndpointRecovered)), 0)
	h.publish("acme", events("invoice.paid", 2)...)
	waitNotice(t, ops, engine.EventEndpointRecovered, 1)
	r := notices(t, ops, engine.EventEndpointRecovered)[0].Data
	require_True(t, r.EndpointID == ep.ID && r.FailingSince != nil && r.FailingSince.Equal(*f.FailingSince), "recovered %+v after failing %+v", r, f)
	time.Sleep(quiet)
	require_Equal(t, ops.count(), 2)
}

// TestNotifyGoneReachesOpsEndpoint: a 410 tells an ops endpoint subscribed
// to hookline.* of the dead delivery and of the disabling, with the same
// endpoint_id, url and at fields.
func TestNotifyGoneReachesOpsEndpoint(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testOptions())
	h.tenant("acme")
	ops, _ := opsAll(t, h, "acme", recvConfig{})
	gone := newReceiver(t, recvConfig{replies: []reply{{status: http.StatusGone}}})
	ep := h.endpoint("acme", engine.EndpointInput{URL: ptr(gone.URL()), EventTypes: ptr([]string{"invoice.*"})})
	res := h.publish("acme", engine.PublishEvent{Type: "invoice.paid"})
	waitNotice(t, ops, engine.EventEndpointDisabled, 1)
	waitNotice(t, ops, engine.EventDeliveryExhausted, 1)
	x := notices(t, ops, engine.EventDeliveryExhausted)[0].Data
	require_True(t, x.EndpointID == ep.ID && x.URL == ep.URL && x.EventID == engine.FormatEventID(res[0].ID), "exhausted %+v", x)
	require_True(t, x.Status == http.StatusGone && x.Attempts == 1 && x.Reason == "not_retryable" && !x.At.IsZero(), "exhausted %+v", x)
	d := notices(t, ops, engine.EventEndpointDisabled)[0].Data
	require_True(t, d.EndpointID == ep.ID && d.URL == ep.URL && d.Reason == "gone" && !d.At.Before(x.At), "disabled %+v after exhausted at %v", d, x.At)
	require_True(t, d.FailingSince == nil, "a 410 is no failing period: %+v", d)
}
