package httpin_test

import (
	"net/http"
	"testing"
	"time"
)

// TestFeedAPI: the event feed over HTTP, a long poll woken by a publish,
// a tenant key reading its own feed only, and bad arguments.
func TestFeedAPI(t *testing.T) {
	s := newTestServer(t)
	s.mustCreateTenant(t, "acme")
	s.mustCreateTenant(t, "other")
	status, m, _ := s.do(t, "POST", eventsPath, testToken, "application/json", `{"type":"invoice.paid","payload":{"n":1}}`)
	require_Equal(t, status, http.StatusAccepted)
	first := str(t, m, "id")

	status, m, _ = s.do(t, "GET", eventsPath+"?wait=0s", testToken, "", "")
	require_Equal(t, status, http.StatusOK)
	data := m["data"].([]any)
	require_Equal(t, len(data), 1)
	ev := data[0].(map[string]any)
	require_Equal(t, ev["id"], any(first))
	require_Equal(t, ev["payload"].(map[string]any)["n"], any(1.0))
	require_Equal(t, m["next_cursor"], any(first))

	type answer struct {
		status int
		m      map[string]any
	}
	done := make(chan answer, 1)
	go func() {
		status, m, _ := s.do(t, "GET", eventsPath+"?after="+first+"&wait=20s", testToken, "", "")
		done <- answer{status, m}
	}()
	time.Sleep(100 * time.Millisecond)
	status, m, _ = s.do(t, "POST", eventsPath, testToken, "application/json", `{"type":"invoice.sent","payload":{}}`)
	require_Equal(t, status, http.StatusAccepted)
	second := str(t, m, "id")
	a := <-done
	require_Equal(t, a.status, http.StatusOK)
	data = a.m["data"].([]any)
	require_Equal(t, len(data), 1)
	require_Equal(t, data[0].(map[string]any)["id"], any(second))

	status, m, _ = s.do(t, "POST", "/v1/tenants/acme/api-keys", testToken, "application/json", `{"name":"consumer"}`)
	require_Equal(t, status, http.StatusCreated)
	key := str(t, m, "key")
	status, m, _ = s.do(t, "GET", eventsPath+"?wait=0s&limit=1", key, "", "")
	require_Equal(t, status, http.StatusOK)
	require_Equal(t, len(m["data"].([]any)), 1)
	s.reject(t, "GET", "/v1/tenants/other/events?wait=0s", key, "", "", 403, "forbidden")

	f := func(query string, code string) {
		t.Helper()
		s.reject(t, "GET", eventsPath+query, testToken, "", "", 400, code)
	}
	f("?after=evt_nope", "invalid_cursor")
	f("?limit=x", "invalid_limit")
	f("?limit=5000", "invalid_limit")
	f("?wait=forever", "invalid_wait")
	f("?wait=1m", "invalid_wait")
	s.reject(t, "PUT", eventsPath, testToken, "", "", 405, "method_not_allowed")
	s.reject(t, "GET", "/v1/tenants/nope/events?wait=0s", testToken, "", "", 404, "tenant_not_found")
}
