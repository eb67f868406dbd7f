package engine_test

import (
	"context"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"hookline/engine"
)

// TestDeliveryLog: deliveries of one endpoint are listed newest first with
// their state and last attempt, filtered by status, type and time, paged by
// cursor; one delivery shows every attempt with its response.
func TestDeliveryLog(t *testing.T) {
	t.Parallel()
	opts := testOptions()
	opts.RetrySchedule = []time.Duration{time.Hour}
	h := newHarness(t, opts)
	h.tenant("acme")
	// One request at a time: the replies go to the events in publish order.
	rc := newReceiver(t, recvConfig{replies: []reply{
		{status: 200, body: "first"}, {status: 503, body: "busy", retryAfter: "120"}, {status: 404, body: "no such hook"}, {status: 200}, {status: 200},
	}})
	ep := h.endpoint("acme", engine.EndpointInput{URL: ptr(rc.URL()), MaxInFlight: ptr(1)})
	other := h.endpoint("acme", engine.EndpointInput{URL: ptr(rc.URL()), EventTypes: ptr([]string{"nothing"})})
	t0 := time.Now()
	evs := h.publish("acme",
		engine.PublishEvent{Type: "invoice.paid", Payload: []byte(`1`)},
		engine.PublishEvent{Type: "invoice.failed", Payload: []byte(`2`)},
		engine.PublishEvent{Type: "lead.won", Payload: []byte(`3`)})
	waitFor(t, 5*time.Second, "3 outcomes", func() bool { c := h.counts(); return c.Queued == 0 && c.Dead == 1 })
	// Paused, the endpoint keeps the next two pending.
	_, err := h.e.UpdateEndpoint(context.Background(), "acme", ep.ID, engine.EndpointInput{Paused: ptr(true)})
	require_NoError(t, err)
	time.Sleep(5 * time.Millisecond)
	later := h.publish("acme", engine.PublishEvent{Type: "invoice.paid"}, engine.PublishEvent{Type: "lead.won"})
	id := func(i int) string {
		if i < 3 {
			return engine.FormatEventID(evs[i].ID)
		}
		return engine.FormatEventID(later[i-3].ID)
	}

	list := func(f engine.DeliveryFilter) ([]engine.Delivery, string) {
		t.Helper()
		if f.Limit == 0 {
			f.Limit = 100
		}
		ds, next, err := h.e.ListDeliveries("acme", ep.ID, f)
		require_NoError(t, err)
		return ds, next
	}
	ids := func(ds []engine.Delivery) []string {
		var out []string
		for _, d := range ds {
			out = append(out, d.EventID)
		}
		return out
	}
	waitFor(t, 5*time.Second, "the first three outcomes", func() bool {
		ds, _ := list(engine.DeliveryFilter{})
		return len(ds) == 5 && ds[2].Status != "pending" && ds[3].Status != "pending" && ds[4].Status != "pending"
	})
	ds, next := list(engine.DeliveryFilter{})
	require_DeepEqual(t, ids(ds), []string{id(4), id(3), id(2), id(1), id(0)})
	require_Equal(t, next, "")
	for i, want := range []string{"pending", "pending", "dead", "retrying", "succeeded"} {
		require_Equal(t, ds[i].Status, want)
		require_Equal(t, ds[i].EndpointID, ep.ID)
	}
	require_Equal(t, ds[0].EventType, "lead.won")
	require_Equal(t, ds[0].Attempts, 0)
	require_True(t, ds[0].LastAttempt == nil, "a pending delivery has a last attempt")
	require_Equal(t, ds[2].LastAttempt.Status, 404)
	require_Equal(t, ds[2].LastAttempt.Outcome, "dead")
	require_Equal(t, ds[3].LastAttempt.Status, 503)
	require_True(t, ds[3].NextAttemptAt != nil && ds[3].NextAttemptAt.After(t0.Add(50*time.Minute)), "retrying delivery next at %v", ds[3].NextAttemptAt)
	require_Equal(t, ds[4].LastAttempt.Outcome, "succeeded")

	for st, want := range map[string][]string{
		"pending": {id(4), id(3)}, "dead": {id(2)}, "retrying": {id(1)}, "succeeded": {id(0)},
	} {
		got, _ := list(engine.DeliveryFilter{Status: st})
		require_DeepEqual(t, ids(got), want)
	}
	got, _ := list(engine.DeliveryFilter{Type: "invoice.*"})
	require_DeepEqual(t, ids(got), []string{id(3), id(1), id(0)})
	got, _ = list(engine.DeliveryFilter{Type: "lead.won", Status: "pending"})
	require_DeepEqual(t, ids(got), []string{id(4)})

	// Pages of two.
	page, next := list(engine.DeliveryFilter{Limit: 2})
	require_DeepEqual(t, ids(page), []string{id(4), id(3)})
	page, next = list(engine.DeliveryFilter{Limit: 2, Cursor: next})
	require_DeepEqual(t, ids(page), []string{id(2), id(1)})
	page, _ = list(engine.DeliveryFilter{Limit: 2, Cursor: next})
	require_DeepEqual(t, ids(page), []string{id(0)})

	// Time range: the later two were published after the first three.
	cut := later[0].ID.Time()
	got, _ = list(engine.DeliveryFilter{Since: cut})
	require_DeepEqual(t, ids(got), []string{id(4), id(3)})
	got, _ = list(engine.DeliveryFilter{Until: cut})
	require_DeepEqual(t, ids(got), []string{id(2), id(1), id(0)})

	// One delivery, every attempt, with the response.
	var d engine.Delivery
	d, err = h.e.GetDelivery("acme", ep.ID, id(1))
	require_NoError(t, err)
	require_Equal(t, d.Status, "retrying")
	require_Equal(t, len(d.AttemptLog), 1)
	require_Equal(t, d.AttemptLog[0].Status, http.StatusServiceUnavailable)
	require_Equal(t, d.AttemptLog[0].ResponseBody, "busy")
	require_Equal(t, d.AttemptLog[0].ResponseHeaders["Retry-After"], "120")
	require_True(t, strings.HasPrefix(d.AttemptLog[0].ResponseHeaders["Content-Type"], "text/plain"), "headers %v", d.AttemptLog[0].ResponseHeaders)
	ok, err := h.e.GetDelivery("acme", ep.ID, id(0))
	require_NoError(t, err)
	require_True(t, ok.AttemptLog[0].ResponseHeaders == nil, "a success keeps headers: %v", ok.AttemptLog[0].ResponseHeaders)
	require_Equal(t, d.EventType, "invoice.failed")

	// The other endpoint has none of them.
	ods, _, err := h.e.ListDeliveries("acme", other.ID, engine.DeliveryFilter{Limit: 10})
	require_NoError(t, err)
	require_Equal(t, len(ods), 0)

	bad := func(f engine.DeliveryFilter, code string) {
		t.Helper()
		_, _, err := h.e.ListDeliveries("acme", ep.ID, f)
		require_ErrorCode(t, err, engine.KindInvalid, code)
	}
	bad(engine.DeliveryFilter{Limit: 10, Status: "lost"}, "invalid_status")
	bad(engine.DeliveryFilter{Limit: 10, Type: "a b"}, "invalid_type")
	bad(engine.DeliveryFilter{Limit: 0}, "invalid_limit")
	bad(engine.DeliveryFilter{Limit: 10, Cursor: "nope"}, "invalid_cursor")
	_, _, err = h.e.ListDeliveries("acme", "ep_nope", engine.DeliveryFilter{Limit: 10})
	require_ErrorCode(t, err, engine.KindNotFound, "endpoint_not_found")
	_, err = h.e.GetDelivery("acme", other.ID, id(1))
	require_ErrorCode(t, err, engine.KindNotFound, "delivery_not_found")
	_, err = h.e.GetDelivery("acme", ep.ID, "evt_nope")
	require_ErrorCode(t, err, engine.KindNotFound, "delivery_not_found")
}

// TestAttemptLogNamesTheURL: each attempt shows the URL it went to, also
// after the endpoint's URL changed.
func TestAttemptLogNamesTheURL(t *testing.T) {
	t.Parallel()
	opts := testOptions()
	opts.RetrySchedule = []time.Duration{200 * time.Millisecond}
	h := newHarness(t, opts)
	h.tenant("acme")
	old := newReceiver(t, recvConfig{replies: []reply{{status: 503}}})
	next := newReceiver(t, recvConfig{})
	ep := h.endpoint("acme", engine.EndpointInput{URL: ptr(old.URL())})
	ev := engine.FormatEventID(h.publish("acme", engine.PublishEvent{Type: "a"})[0].ID)
	waitFor(t, 5*time.Second, "the first attempt", func() bool { return h.counts().Retries == 1 })
	_, err := h.e.UpdateEndpoint(context.Background(), "acme", ep.ID, engine.EndpointInput{URL: ptr(next.URL())})
	require_NoError(t, err)
	waitFor(t, 5*time.Second, "the retry at the new URL", func() bool { return next.count() == 1 })
	var d engine.Delivery
	waitFor(t, 5*time.Second, "two logged attempts", func() bool {
		d, err = h.e.GetDelivery("acme", ep.ID, ev)
		return err == nil && len(d.AttemptLog) == 2
	})
	require_Equal(t, d.AttemptLog[0].URL, old.URL())
	require_Equal(t, d.AttemptLog[1].URL, next.URL())
	v := h.get(ep)
	require_True(t, v.PreviousURLs == nil, "the API shows previous URLs: %+v", v.PreviousURLs)
}

// TestDeliveryInFlight: a delivery whose attempt is under way lists as
// in_flight, then as what its outcome made it.
func TestDeliveryInFlight(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testOptions())
	h.tenant("acme")
	rc := newReceiver(t, recvConfig{blocked: true})
	t.Cleanup(rc.release)
	ep := h.endpoint("acme", engine.EndpointInput{URL: ptr(rc.URL())})
	ev := engine.FormatEventID(h.publish("acme", engine.PublishEvent{Type: "a"})[0].ID)
	waitFor(t, 5*time.Second, "the request to arrive", func() bool { return rc.count() == 1 })
	ds, _, err := h.e.ListDeliveries("acme", ep.ID, engine.DeliveryFilter{Limit: 10})
	require_NoError(t, err)
	require_Equal(t, ds[0].Status, "in_flight")
	d, err := h.e.GetDelivery("acme", ep.ID, ev)
	require_NoError(t, err)
	require_Equal(t, d.Status, "in_flight")
	rc.release()
	waitFor(t, 5*time.Second, "the delivery to succeed", func() bool {
		d, err := h.e.GetDelivery("acme", ep.ID, ev)
		return err == nil && d.Status == "succeeded"
	})
}

// TestDeliveryReadAgrees: a delivery read while its attempts land shows a
// status that counts the attempts it shows (one snapshot for both): never
// a 2xx attempt beside a delivery still waiting.
func TestDeliveryReadAgrees(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testOptions())
	h.tenant("acme")
	rc := newReceiver(t, recvConfig{sleep: time.Millisecond})
	ep := h.endpoint("acme", engine.EndpointInput{URL: ptr(rc.URL()), MaxInFlight: ptr(4)})
	var evs []engine.PublishEvent
	for range 200 {
		evs = append(evs, engine.PublishEvent{Type: "a"})
	}
	var ids []string
	for _, ev := range h.publish("acme", evs...) {
		ids = append(ids, engine.FormatEventID(ev.ID))
	}
	done, reads := map[string]bool{}, 0
	waitFor(t, time.Minute, "every delivery read as succeeded", func() bool {
		for _, id := range ids {
			if done[id] {
				continue
			}
			d, err := h.e.GetDelivery("acme", ep.ID, id)
			require_NoError(t, err)
			reads++
			for _, a := range d.AttemptLog {
				if a.Outcome == "succeeded" {
					require_True(t, d.Status == "succeeded", "delivery %s is %s with a succeeded attempt in its log: %+v", id, d.Status, d.AttemptLog)
				}
			}
			require_True(t, len(d.AttemptLog) >= d.Attempts, "delivery %s counts %d attempts and logs %d", id, d.Attempts, len(d.AttemptLog))
			done[id] = d.Status == "succeeded"
		}
		return len(done) == len(ids) && !slices.Contains(slices.Collect(maps.Values(done)), false)
	})
	t.Logf("%d reads", reads)
}
