package engine_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"hookline/engine"
	"hookline/wal"
)

// configRecords counts the tenant and endpoint records in the wal.
func (h *harness) configRecords() (tenants, endpoints int) {
	h.t.Helper()
	require_NoError(h.t, h.log.Tenants(func(string, []byte) error { tenants++; return nil }))
	require_NoError(h.t, h.log.Endpoints(func(wal.ID, []byte) error { endpoints++; return nil }))
	return tenants, endpoints
}

// TestConfigErrors: bad input gets an *engine.Error with a stable code and
// kind, and writes nothing.
func TestConfigErrors(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testOptions())
	h.tenant("acme")
	rc := newReceiver(t, recvConfig{})
	ep := h.endpoint("acme", engine.EndpointInput{URL: ptr(rc.URL()), EventTypes: &[]string{"invoice.*"}})
	h.publish("acme", engine.PublishEvent{Type: "invoice.paid"})
	waitFor(t, 10*time.Second, "the first delivery", func() bool { return h.counts().Queued == 0 && rc.count() == 1 })

	countsBefore := h.counts()
	tenantsBefore, endpointsBefore := h.configRecords()

	// Tenants.
	tf := func(id *string, kind engine.Kind, code string) {
		t.Helper()
		_, err := h.e.CreateTenant(context.Background(), engine.TenantInput{ID: id})
		require_ErrorCode(t, err, kind, code)
	}
	tf(nil, engine.KindInvalid, "invalid_tenant_id")
	tf(ptr(""), engine.KindInvalid, "invalid_tenant_id")
	tf(ptr("Acme"), engine.KindInvalid, "invalid_tenant_id")
	tf(ptr("-acme"), engine.KindInvalid, "invalid_tenant_id")
	tf(ptr("ac me"), engine.KindInvalid, "invalid_tenant_id")
	tf(ptr(strings.Repeat("a", 65)), engine.KindInvalid, "invalid_tenant_id")
	tf(ptr("acme"), engine.KindConflict, "tenant_exists")
	_, err := h.e.CreateTenant(context.Background(), engine.TenantInput{ID: ptr("beta"), Name: ptr(strings.Repeat("n", 201))})
	require_ErrorCode(t, err, engine.KindInvalid, "invalid_name")
	_, err = h.e.GetTenant("nope")
	require_ErrorCode(t, err, engine.KindNotFound, "tenant_not_found")
	_, err = h.e.UpdateTenant(context.Background(), "nope", engine.TenantInput{Name: ptr("x")})
	require_ErrorCode(t, err, engine.KindNotFound, "tenant_not_found")
	_, err = h.e.UpdateTenant(context.Background(), "acme", engine.TenantInput{ID: ptr("other")})
	require_ErrorCode(t, err, engine.KindInvalid, "immutable_field")
	require_ErrorCode(t, h.e.DeleteTenant(context.Background(), "nope"), engine.KindNotFound, "tenant_not_found")

	// Endpoints.
	good := func() engine.EndpointInput { return engine.EndpointInput{URL: ptr(rc.URL())} }
	ef := func(tenant string, in engine.EndpointInput, kind engine.Kind, code string) {
		t.Helper()
		_, err := h.e.CreateEndpoint(context.Background(), tenant, in)
		require_ErrorCode(t, err, kind, code)
	}
	with := func(f func(in *engine.EndpointInput)) engine.EndpointInput {
		in := good()
		f(&in)
		return in
	}
	ef("nope", good(), engine.KindNotFound, "tenant_not_found")
	ef("acme", engine.EndpointInput{}, engine.KindInvalid, "missing_url")
	for _, u := range []string{"", "not a url", "ftp://127.0.0.1/x", "//127.0.0.1/x", "http://", "http://user:pw@127.0.0.1/", "http://127.0.0.1:99999/", "http://[::1/"} {
		ef("acme", with(func(in *engine.EndpointInput) { in.URL = ptr(u) }), engine.KindInvalid, "invalid_url")
	}
	// Characters a URL cannot hold raw are refused, not sent as they are
	// (a space once reached the request line) nor encoded behind the
	// user's back.
	for _, u := range []string{rc.URL() + "/a b", rc.URL() + "?q=a b", rc.URL() + "/a\tb", rc.URL() + "/a\r\nX: 1", rc.URL() + "/café", rc.URL() + "#frag", rc.URL() + "/a|b", rc.URL() + "/a%zz"} {
		ef("acme", with(func(in *engine.EndpointInput) { in.URL = ptr(u) }), engine.KindInvalid, "invalid_url")
	}
	for _, u := range []string{"http://10.0.0.1/", "https://192.168.1.1/hook", "http://169.254.169.254/latest/meta-data", "http://[::1]/", "http://0x7f000001/", "http://2130706433/"} {
		ef("acme", with(func(in *engine.EndpointInput) { in.URL = ptr(u) }), engine.KindInvalid, "url_not_allowed")
	}
	for _, types := range [][]string{{}, {""}, {"invoice."}, {".x"}, {"a b"}, {"in*voice"}, {"**"}, {"invoice.paid", "bad type"}} {
		ef("acme", with(func(in *engine.EndpointInput) { in.EventTypes = &types }), engine.KindInvalid, "invalid_event_types")
	}
	tooMany := make([]string, 101)
	for i := range tooMany {
		tooMany[i] = "t"
	}
	ef("acme", with(func(in *engine.EndpointInput) { in.EventTypes = &tooMany }), engine.KindInvalid, "invalid_event_types")
	for _, n := range []int{0, -1, 1001} {
		ef("acme", with(func(in *engine.EndpointInput) { in.MaxInFlight = ptr(n) }), engine.KindInvalid, "invalid_max_in_flight")
	}
	for _, s := range [][]string{{"5x"}, {"0s"}, {"5s", ""}, {"169h"}} {
		ef("acme", with(func(in *engine.EndpointInput) { in.RetrySchedule = &s }), engine.KindInvalid, "invalid_retry_schedule")
	}
	for _, s := range []string{"", "nope", "whsec_", "whsec_dG9vc2hvcnQ=", "whsec_!!!!", "whsec_" + strings.Repeat("A", 200)} {
		ef("acme", with(func(in *engine.EndpointInput) { in.Secret = ptr(s) }), engine.KindInvalid, "invalid_secret")
	}
	ef("acme", with(func(in *engine.EndpointInput) { in.Description = ptr(strings.Repeat("d", 1001)) }), engine.KindInvalid, "invalid_description")

	_, err = h.e.GetEndpoint("acme", "ep_nope")
	require_ErrorCode(t, err, engine.KindNotFound, "endpoint_not_found")
	_, err = h.e.GetEndpoint("nope", ep.ID)
	require_ErrorCode(t, err, engine.KindNotFound, "tenant_not_found")
	_, err = h.e.UpdateEndpoint(context.Background(), "acme", ep.ID, engine.EndpointInput{MaxInFlight: ptr(0)})
	require_ErrorCode(t, err, engine.KindInvalid, "invalid_max_in_flight")
	_, err = h.e.UpdateEndpoint(context.Background(), "acme", ep.ID, engine.EndpointInput{URL: ptr("http://10.0.0.1/")})
	require_ErrorCode(t, err, engine.KindInvalid, "url_not_allowed")
	_, err = h.e.ListEndpoints("nope", "", 10, false)
	require_ErrorCode(t, err, engine.KindNotFound, "tenant_not_found")
	require_ErrorCode(t, h.e.DeleteEndpoint(context.Background(), "acme", "ep_nope"), engine.KindNotFound, "endpoint_not_found")
	// An endpoint is found only under its own tenant.
	h.tenant("beta")
	tenantsBefore++
	require_ErrorCode(t, h.e.DeleteEndpoint(context.Background(), "beta", ep.ID), engine.KindNotFound, "endpoint_not_found")

	// Publish.
	pf := func(tenant string, evs []engine.PublishEvent, kind engine.Kind, code string) {
		t.Helper()
		err := h.e.Publish(tenant, evs, make([]wal.AppendResult, len(evs)))
		require_ErrorCode(t, err, kind, code)
	}
	pf("nope", []engine.PublishEvent{{Type: "invoice.paid"}}, engine.KindNotFound, "tenant_not_found")
	for _, typ := range []string{"", "a b", "invoice.", ".invoice", "invoice.*", "*", `a"b`, strings.Repeat("a", 129)} {
		pf("acme", []engine.PublishEvent{{Type: typ}}, engine.KindInvalid, "invalid_type")
	}
	// One bad event fails the whole batch: nothing of it is written.
	pf("acme", []engine.PublishEvent{{Type: "invoice.paid"}, {Type: "invoice.paid"}, {Type: "bad type"}}, engine.KindInvalid, "invalid_type")

	// Nothing was written, nothing changed.
	require_Equal(t, h.counts(), countsBefore)
	tenants, endpoints := h.configRecords()
	require_Equal(t, tenants, tenantsBefore)
	require_Equal(t, endpoints, endpointsBefore)
	got, err := h.e.GetEndpoint("acme", ep.ID)
	require_NoError(t, err)
	require_Equal(t, got.URL, rc.URL())
	require_Equal(t, got.MaxInFlight, 16)
	require_DeepEqual(t, got.EventTypes, []string{"invoice.*"})
	list, err := h.e.ListEndpoints("acme", "", 100, false)
	require_NoError(t, err)
	require_Equal(t, len(list), 1)
	time.Sleep(100 * time.Millisecond)
	require_Equal(t, rc.count(), 1)
}

// TestConfigSurvivesRestart: tenants and endpoints (with their settings and
// secret) are reloaded from the wal.
func TestConfigSurvivesRestart(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testOptions())
	h.tenant("acme")
	rc := newReceiver(t, recvConfig{})
	ep := h.endpoint("acme", engine.EndpointInput{
		URL:           ptr(rc.URL()),
		Description:   ptr("billing"),
		EventTypes:    &[]string{"invoice.*", "lead.won"},
		MaxInFlight:   ptr(7),
		RetrySchedule: &[]string{"1s", "2s"},
	})
	upd, err := h.e.UpdateEndpoint(context.Background(), "acme", ep.ID, engine.EndpointInput{Description: ptr("billing v2")})
	require_NoError(t, err)
	require_Equal(t, upd.Secret, "")
	require_Equal(t, upd.Description, "billing v2")
	before, err := h.e.GetEndpoint("acme", ep.ID)
	require_NoError(t, err)

	h.stop(5 * time.Second)
	h.start()
	after, err := h.e.GetEndpoint("acme", ep.ID)
	require_NoError(t, err)
	require_Equal(t, after.ID, before.ID)
	require_Equal(t, after.URL, before.URL)
	require_Equal(t, after.Description, "billing v2")
	require_DeepEqual(t, after.EventTypes, before.EventTypes)
	require_DeepEqual(t, after.RetrySchedule, before.RetrySchedule)
	require_Equal(t, after.MaxInFlight, 7)
	require_Equal(t, after.Secret, "")
	_, err = h.e.CreateTenant(context.Background(), engine.TenantInput{ID: ptr("acme")})
	require_ErrorCode(t, err, engine.KindConflict, "tenant_exists")
}

// TestDeleteEndpointWithQueuedEvents: deleting an endpoint drops its queue;
// its attempt in flight ends harmlessly, other endpoints are unaffected.
func TestDeleteEndpointWithQueuedEvents(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testOptions())
	h.tenant("acme")
	hung := newReceiver(t, recvConfig{blocked: true, replies: []reply{{status: 503}}})
	fast := newReceiver(t, recvConfig{})
	epHung := h.endpoint("acme", engine.EndpointInput{URL: ptr(hung.URL()), MaxInFlight: ptr(1)})
	epFast := h.endpoint("acme", engine.EndpointInput{URL: ptr(fast.URL())})

	const n = 20
	evs := make([]engine.PublishEvent, n)
	for i := range evs {
		evs[i] = engine.PublishEvent{Type: "invoice.paid"}
	}
	h.publish("acme", evs...)
	waitFor(t, 10*time.Second, "all deliveries to the fast endpoint", func() bool { return fast.count() >= n })
	waitFor(t, 10*time.Second, "one request hanging", func() bool { return hung.cur.Load() == 1 })
	waitFor(t, 5*time.Second, "the fast endpoint's queue to drain", func() bool { return h.queued(epFast) == 0 })
	require_Equal(t, h.queued(epHung), n)
	require_Equal(t, h.counts().Queued, n)

	require_NoError(t, h.e.DeleteEndpoint(context.Background(), "acme", epHung.ID))
	require_Equal(t, h.queued(epHung), 0)
	require_Equal(t, h.counts().Queued, 0)
	got, err := h.e.GetEndpoint("acme", epHung.ID)
	require_NoError(t, err)
	require_True(t, got.DeletedAt != nil, "a deleted endpoint reads without deleted_at: %+v", got)
	list, err := h.e.ListEndpoints("acme", "", 10, false)
	require_NoError(t, err)
	require_Equal(t, len(list), 1)
	require_Equal(t, list[0].ID, epFast.ID)

	// The attempt in flight answers 503 after the deletion: it may record a
	// retry, which is dropped when it comes due; nothing is sent again.
	hung.release()
	more := h.publish("acme", engine.PublishEvent{Type: "invoice.paid"}, engine.PublishEvent{Type: "lead.won"})
	waitFor(t, 10*time.Second, "new deliveries to the fast endpoint", func() bool { return fast.count() >= n+2 })
	waitFor(t, 5*time.Second, "no retries left", func() bool { return h.counts().Retries == 0 })
	time.Sleep(quiet)
	require_Equal(t, hung.count(), 1)
	require_Equal(t, fast.count(), n+2)
	ids := fast.ids()
	for _, r := range more {
		require_Equal(t, ids[engine.FormatEventID(r.ID)], 1)
	}
	h.requireSettled()
}

// TestDeleteEndpointDropsDueRetries: a retry that came due while the lane
// was busy waits in the lane; deleting the endpoint must drop it from the
// retry index, not leave it there until the next restart.
func TestDeleteEndpointDropsDueRetries(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testOptions())
	h.tenant("acme")
	// Request 1 (event 1) fails at once; request 2 (event 2) hangs, holding
	// the endpoint's only slot while event 1's retry comes due.
	rc := newReceiver(t, recvConfig{replies: []reply{{status: 503}, {status: 200, block: true}}})
	ep := h.endpoint("acme", engine.EndpointInput{URL: ptr(rc.URL()), MaxInFlight: ptr(1)})
	res := h.publish("acme", engine.PublishEvent{Type: "a"}, engine.PublishEvent{Type: "a"})
	waitFor(t, 10*time.Second, "event 1's retry to be recorded", func() bool { return outcomes(h.attempts(ep, res[0].ID)) == "r" })
	waitFor(t, 10*time.Second, "event 2 to hang", func() bool { return rc.count() == 2 && rc.cur.Load() == 1 })
	due := h.attempts(ep, res[0].ID)[0].NextMs
	waitFor(t, 10*time.Second, "the retry to come due and leave the timer wheel", func() bool {
		return time.Now().UnixMilli() > due+50 && h.metric("hookline_retry_wheel_pending") == 0
	})
	require_Equal(t, h.counts().Retries, 1)

	require_NoError(t, h.e.DeleteEndpoint(context.Background(), "acme", ep.ID))
	rc.release() // event 2's attempt ends (200) and the lane exits
	waitFor(t, 5*time.Second, "the attempt in flight to end", func() bool { return h.metric("hookline_delivery_in_flight_attempts") == 0 })
	waitFor(t, 3*time.Second, "the deleted endpoint's retry to leave the retry index", func() bool { return h.counts().Retries == 0 })
	require_Equal(t, rc.count(), 2)
}

// TestDeleteTenant: a deleted tenant's endpoints stop, its queues and
// idempotency keys go; the same ID can be created again from scratch.
func TestDeleteTenant(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testOptions())
	h.tenant("acme")
	h.tenant("acme2")
	hung := newReceiver(t, recvConfig{blocked: true})
	other := newReceiver(t, recvConfig{})
	h.endpoint("acme", engine.EndpointInput{URL: ptr(hung.URL()), MaxInFlight: ptr(1)})
	epOther := h.endpoint("acme2", engine.EndpointInput{URL: ptr(other.URL())})
	first := h.publish("acme", engine.PublishEvent{Type: "a", IdempotencyKey: "k"}, engine.PublishEvent{Type: "a"})
	h.publish("acme2", engine.PublishEvent{Type: "a", IdempotencyKey: "k"})
	waitFor(t, 10*time.Second, "one request hanging", func() bool { return hung.cur.Load() == 1 })
	waitFor(t, 10*time.Second, "acme2's delivery", func() bool { return other.count() == 1 && h.queued(epOther) == 0 })

	require_NoError(t, h.e.DeleteTenant(context.Background(), "acme"))
	hung.release()
	_, err := h.e.GetTenant("acme")
	require_ErrorCode(t, err, engine.KindNotFound, "tenant_not_found")
	err = h.e.Publish("acme", []engine.PublishEvent{{Type: "a"}}, make([]wal.AppendResult, 1))
	require_ErrorCode(t, err, engine.KindNotFound, "tenant_not_found")
	c := h.counts()
	require_Equal(t, c.Queued, 0)
	require_Equal(t, c.IdempotencyKeys, 1) // acme2's

	// Re-created, the tenant starts empty: the old key is free again.
	h.tenant("acme")
	again := h.publish("acme", engine.PublishEvent{Type: "a", IdempotencyKey: "k"})[0]
	require_True(t, !again.Duplicate && again.ID != first[0].ID, "idempotency key survived its tenant: %+v", again)
	time.Sleep(quiet)
	require_Equal(t, hung.count(), 1)
	require_Equal(t, other.count(), 1)
	tenants := h.e.ListTenants("", 10)
	require_Equal(t, len(tenants), 2)
	require_Equal(t, tenants[0].ID, "acme")
	require_Equal(t, tenants[1].ID, "acme2")
}

// TestDeleteEndpointLeavesNoDeadLetters: DeleteEndpoint removes the
// endpoint's dead letters (wal.DeleteEndpoint); an attempt in flight at the
// deletion that then fails for good must not create a new one, which no API
// could ever list or purge.
func TestDeleteEndpointLeavesNoDeadLetters(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testOptions())
	h.tenant("acme")
	rc := newReceiver(t, recvConfig{blocked: true, replies: []reply{{status: 410}}})
	ep := h.endpoint("acme", engine.EndpointInput{URL: ptr(rc.URL()), MaxInFlight: ptr(1)})
	h.publish("acme", engine.PublishEvent{Type: "a"}, engine.PublishEvent{Type: "a"})
	waitFor(t, 10*time.Second, "one request hanging", func() bool { return rc.cur.Load() == 1 })
	epID := walID(t, ep)

	require_NoError(t, h.e.DeleteEndpoint(context.Background(), "acme", ep.ID))
	rc.release()
	waitFor(t, 5*time.Second, "the attempt in flight to end", func() bool { return h.metric("hookline_delivery_in_flight_attempts") == 0 })
	var dead int
	require_NoError(t, h.log.ScanDead(epID, func(wal.DeadLetter) { dead++ }))
	require_Equal(t, dead, 0)
	require_Equal(t, h.counts().Dead, 0)
	require_Equal(t, rc.count(), 1)
}

// TestDeleteEndpointRacingAttempts: attempts that end while their endpoint is
// being deleted write no dead letter after the deletion. Each endpoint's hung request is
// released right before its DeleteEndpoint, so the 410 arrives while the
// deletion runs.
func TestDeleteEndpointRacingAttempts(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testOptions())
	h.tenant("acme")
	const n = 40
	gates := make([]chan struct{}, n)
	for i := range gates {
		gates[i] = make(chan struct{})
	}
	var (
		mu       sync.Mutex
		hanging  int
		released = make([]bool, n)
	)
	release := func(i int) {
		mu.Lock()
		defer mu.Unlock()
		if !released[i] {
			released[i] = true
			close(gates[i])
		}
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var i int
		if _, err := fmt.Sscanf(r.URL.Path, "/hook/%d", &i); err != nil || i < 0 || i >= n {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		mu.Lock()
		hanging++
		mu.Unlock()
		select {
		case <-gates[i]:
		case <-time.After(20 * time.Second):
		}
		w.WriteHeader(http.StatusGone)
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() {
		for i := range gates {
			release(i)
		}
	})
	eps := make([]engine.Endpoint, n)
	for i := range eps {
		eps[i] = h.endpoint("acme", engine.EndpointInput{URL: ptr(fmt.Sprintf("%s/hook/%d", srv.URL, i)), MaxInFlight: ptr(1)})
	}
	h.publish("acme", engine.PublishEvent{Type: "a"})
	waitFor(t, 10*time.Second, "all requests hanging", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return hanging == n
	})
	// A dead letter recorded before the deletion is kept as history (soft
	// delete); none may be written after it.
	atDelete := make([]int, n)
	kept := 0
	for i := range eps {
		release(i)
		require_NoError(t, h.e.DeleteEndpoint(context.Background(), "acme", eps[i].ID))
		atDelete[i] = len(h.dead(eps[i]))
		kept += atDelete[i]
	}
	waitFor(t, 10*time.Second, "the attempts to end", func() bool { return h.metric("hookline_delivery_in_flight_attempts") == 0 })
	orphans := 0
	for i := range eps {
		if len(h.dead(eps[i])) != atDelete[i] {
			orphans++
		}
	}
	require_True(t, orphans == 0, "%d of %d deleted endpoints have a dead letter written after their deletion", orphans, n)
	require_Equal(t, h.counts().Dead, kept)
}
