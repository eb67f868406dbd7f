package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// customerReceiver answers every request with the status it is set to.
type customerReceiver struct {
	srv    *httptest.Server
	status atomic.Int32
	n      atomic.Int64
}

func newCustomerReceiver(t *testing.T) *customerReceiver {
	r := &customerReceiver{}
	r.status.Store(http.StatusOK)
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		_, _ = io.Copy(io.Discard, req.Body)
		r.n.Add(1)
		w.WriteHeader(int(r.status.Load()))
	}))
	t.Cleanup(r.srv.Close)
	return r
}

// opsReceiver keeps the hookline.* events an ops endpoint receives.
type opsReceiver struct {
	srv    *httptest.Server
	mu     sync.Mutex
	events []opsEvent
}

type opsEvent struct {
	Type string `json:"type"`
	Data struct {
		EndpointID string `json:"endpoint_id"`
		EventID    string `json:"event_id"`
		Reason     string `json:"reason"`
		Attempts   int    `json:"attempts"`
		Status     int    `json:"status"`
	} `json:"data"`
}

func newOpsReceiver(t *testing.T) *opsReceiver {
	o := &opsReceiver{}
	o.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		var ev opsEvent
		b, err := io.ReadAll(req.Body)
		if err == nil {
			err = json.Unmarshal(b, &ev)
		}
		if err != nil {
			t.Errorf("ops endpoint got %q: %v", b, err)
		}
		o.mu.Lock()
		o.events = append(o.events, ev)
		o.mu.Unlock()
	}))
	t.Cleanup(o.srv.Close)
	return o
}

// of returns the events of type typ about endpoint ep.
func (o *opsReceiver) of(typ, ep string) []opsEvent {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []opsEvent
	for _, e := range o.events {
		if e.Type == typ && e.Data.EndpointID == ep {
			out = append(out, e)
		}
	}
	return out
}

// TestCustomerAPI is issue 14's "done when", on the real binary: a tenant
// key with endpoints:write, deliveries:read and deliveries:replay does
// what a customer-facing page needs (create, update, pause, rotate, test,
// list the tenant's deliveries, replay) and nothing outside its tenant; a
// portal session does the same within its scopes and stops working when
// it expires; an ops endpoint subscribed to hookline.* hears an endpoint
// go down (exhausted, failing), come back up (recovered) and, answering
// 410, get disabled.
func TestCustomerAPI(t *testing.T) {
	const token = testAdminToken
	dir := t.TempDir()
	cfg := filepath.Join(dir, "hookline.yaml")
	require_NoError(t, os.WriteFile(cfg, []byte(`delivery:
  circuit_breaker:
    consecutive_failures: 3
    open_for: 300ms
  notifications:
    failure_min_attempts: -1
`), 0o600))
	srv := startServer(t, filepath.Join(dir, "data"), "--admin-token", token, "--config", cfg)
	admin := newAPI(srv.addr, token)
	admin.mustDo(t, "POST", "/v1/tenants", map[string]any{"id": "acme"}, 201, nil)
	admin.mustDo(t, "POST", "/v1/tenants", map[string]any{"id": "other"}, 201, nil)
	ops := newOpsReceiver(t)
	var opsEP endpointCreated
	admin.mustDo(t, "POST", "/v1/tenants/acme/endpoints", map[string]any{"url": ops.srv.URL + "/ops", "event_types": []string{"hookline.*"}}, 201, &opsEP)
	var otherEP endpointCreated
	admin.mustDo(t, "POST", "/v1/tenants/other/endpoints", map[string]any{"url": ops.srv.URL + "/other"}, 201, &otherEP)

	scopes := []string{"endpoints:write", "deliveries:read", "deliveries:replay"}
	var key struct {
		Key string `json:"key"`
	}
	admin.mustDo(t, "POST", "/v1/tenants/acme/api-keys", map[string]any{"name": "portal backend", "scopes": scopes}, 201, &key)
	cust := newCustomerReceiver(t)
	ep := customerFlow(t, newAPI(srv.addr, key.Key), admin, cust, "key")

	// Down: both events die after their two attempts, the circuit opens.
	cust.status.Store(http.StatusInternalServerError)
	var dead []string
	for range 2 {
		var ev struct {
			ID string `json:"id"`
		}
		admin.mustDo(t, "POST", "/v1/tenants/acme/events", map[string]any{"type": "invoice.paid", "payload": map[string]any{"n": 1}}, 202, &ev)
		dead = append(dead, ev.ID)
	}
	waitFor(t, 60*time.Second, "exhausted and failing events", func() bool {
		return len(ops.of("hookline.delivery.exhausted", ep)) == 2 && len(ops.of("hookline.endpoint.failing", ep)) == 1
	})
	for _, x := range ops.of("hookline.delivery.exhausted", ep) {
		require_True(t, slices.Contains(dead, x.Data.EventID) && x.Data.Attempts == 2 && x.Data.Status == 500, "exhausted event %+v", x)
	}
	// Up: the key replays a dead delivery; its success ends the failing
	// period. A second replay at once is over the key's rate.
	cust.status.Store(http.StatusOK)
	c := newAPI(srv.addr, key.Key)
	replay := func(ev string) int {
		status, err := c.do("POST", "/v1/tenants/acme/endpoints/"+ep+"/deliveries/"+ev+"/replay", "application/json", []byte(`{}`), nil)
		require_NoError(t, err)
		return status
	}
	waitFor(t, 30*time.Second, "a replay taken", func() bool { return replay(dead[0])/100 == 2 })
	waitFor(t, 60*time.Second, "a recovered event", func() bool { return len(ops.of("hookline.endpoint.recovered", ep)) == 1 })
	if status := replay(dead[1]); status != http.StatusTooManyRequests && status/100 != 2 {
		t.Fatalf("second replay: status %d", status)
	}
	waitFor(t, 30*time.Second, "the second replay taken", func() bool { return replay(dead[1])/100 == 2 })
	waitFor(t, 30*time.Second, "both replays delivered", func() bool {
		var page struct {
			Data []struct {
				EventID string `json:"event_id"`
				Status  string `json:"status"`
			} `json:"data"`
		}
		status, err := c.do("GET", "/v1/tenants/acme/deliveries?status=succeeded&endpoint="+ep, "", nil, &page)
		n := 0
		for _, d := range page.Data {
			if slices.Contains(dead, d.EventID) {
				n++
			}
		}
		return err == nil && status == 200 && n == 2
	})

	// Gone: an answer of 410 disables the endpoint and says so.
	cust.status.Store(http.StatusGone)
	admin.mustDo(t, "POST", "/v1/tenants/acme/events", map[string]any{"type": "invoice.paid", "payload": map[string]any{}}, 202, nil)
	waitFor(t, 60*time.Second, "a disabled event", func() bool { return len(ops.of("hookline.endpoint.disabled", ep)) == 1 })
	require_Equal(t, ops.of("hookline.endpoint.disabled", ep)[0].Data.Reason, "gone")
	require_Equal(t, len(ops.of("hookline.endpoint.failing", ep)), 1)
	require_Equal(t, len(ops.of("hookline.endpoint.recovered", ep)), 1)

	// A portal session with the same scopes does the same, then expires.
	var ps struct {
		ID        string    `json:"id"`
		Token     string    `json:"token"`
		URL       string    `json:"url"`
		ExpiresAt time.Time `json:"expires_at"`
	}
	admin.mustDo(t, "POST", "/v1/tenants/acme/portal-sessions", map[string]any{"scopes": scopes}, 201, &ps)
	require_True(t, strings.HasPrefix(ps.Token, "hlp_") && strings.HasSuffix(ps.URL, "/portal#token="+ps.Token), "portal session %+v", ps)
	cust.status.Store(http.StatusOK)
	customerFlow(t, newAPI(srv.addr, ps.Token), admin, cust, "session")
	// (A second, short session: the flow above has no deadline to meet.)
	admin.mustDo(t, "POST", "/v1/tenants/acme/portal-sessions", map[string]any{"scopes": scopes, "expires_in": "2s"}, 201, &ps)
	session := newAPI(srv.addr, ps.Token)
	for time.Now().Before(ps.ExpiresAt.Add(time.Second)) {
		time.Sleep(200 * time.Millisecond)
	}
	var e struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	status, err := session.do("GET", "/v1/tenants/acme/deliveries", "", nil, &e)
	require_NoError(t, err)
	require_Equal(t, status, http.StatusUnauthorized)
	require_Equal(t, e.Error.Code, "session_expired")
}

// customerFlow runs, as c (a key or a portal session holding
// endpoints:write, deliveries:read and deliveries:replay), what a
// customer's page does, and checks that c reaches nothing outside acme and
// cannot publish. It returns the endpoint it made, delivering to cust.
func customerFlow(t *testing.T, c, admin *api, cust *customerReceiver, who string) string {
	t.Helper()
	base := "/v1/tenants/acme/endpoints"
	var ep endpointCreated
	c.mustDo(t, "POST", base, map[string]any{
		"url": cust.srv.URL + "/" + who, "event_types": []string{"invoice.*"},
		"retry_schedule": []string{"100ms"}, "max_in_flight": 1,
	}, 201, &ep)
	require_True(t, strings.HasPrefix(ep.Secret, "whsec_"), "%s: create gave %+v", who, ep)
	c.mustDo(t, "PATCH", base+"/"+ep.ID, map[string]any{"description": "CRM sync"}, 200, nil)
	var got struct {
		Description string `json:"description"`
		Paused      bool   `json:"paused"`
	}
	c.mustDo(t, "POST", base+"/"+ep.ID+"/pause", map[string]any{}, 200, &got)
	require_True(t, got.Paused && got.Description == "CRM sync", "%s: paused endpoint %+v", who, got)
	c.mustDo(t, "POST", base+"/"+ep.ID+"/resume", map[string]any{}, 200, nil)
	var rotated endpointCreated
	c.mustDo(t, "POST", base+"/"+ep.ID+"/rotate-secret", map[string]any{}, 200, &rotated)
	require_True(t, strings.HasPrefix(rotated.Secret, "whsec_") && rotated.Secret != ep.Secret, "%s: rotate gave %+v", who, rotated)
	var test struct {
		Success bool `json:"success"`
		Status  int  `json:"status"`
	}
	c.mustDo(t, "POST", base+"/"+ep.ID+"/test", map[string]any{}, 200, &test)
	require_True(t, test.Success && test.Status == 200, "%s: test gave %+v", who, test)
	c.mustDo(t, "GET", base, nil, 200, nil) // endpoints:write reads them too

	// The tenant-wide log lists what the admin publishes.
	var ev struct {
		ID string `json:"id"`
	}
	admin.mustDo(t, "POST", "/v1/tenants/acme/events", map[string]any{"type": "invoice.paid", "payload": map[string]any{}}, 202, &ev)
	waitFor(t, 30*time.Second, who+": the delivery in the tenant's log", func() bool {
		var page struct {
			Data []struct {
				EventID    string `json:"event_id"`
				EndpointID string `json:"endpoint_id"`
				Status     string `json:"status"`
			} `json:"data"`
		}
		status, err := c.do("GET", "/v1/tenants/acme/deliveries?endpoint="+ep.ID, "", nil, &page)
		return err == nil && status == 200 && len(page.Data) > 0 && page.Data[0].EventID == ev.ID && page.Data[0].Status == "succeeded"
	})

	// Nothing outside its rights or its tenant.
	for _, r := range []struct{ method, path string }{
		{"POST", "/v1/tenants/acme/events"},
		{"GET", "/v1/tenants/acme/sources"},
		{"GET", "/v1/tenants/acme/api-keys"},
		{"GET", "/v1/tenants/other/endpoints"},
		{"POST", "/v1/tenants/other/endpoints"},
		{"GET", "/v1/tenants/other/deliveries"},
		{"GET", "/v1/tenants"},
	} {
		status, err := c.do(r.method, r.path, "application/json", []byte(`{"url":"`+cust.srv.URL+`","type":"a.b","payload":{}}`), nil)
		require_NoError(t, err)
		if status != http.StatusForbidden {
			t.Fatalf("%s: %s %s: status %d; want 403", who, r.method, r.path, status)
		}
	}
	return ep.ID
}
