package httpin_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"hookline/engine"
)

func keysOf(m map[string]any) string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return strings.Join(ks, ",")
}

func object(tb testing.TB, m map[string]any, key string) map[string]any {
	tb.Helper()
	v, ok := m[key].(map[string]any)
	if !ok {
		tb.Fatalf("%q is %T (%v); want an object in %v", key, m[key], m[key], m)
	}
	return v
}

// TestEndpointHealthRoute: GET …/endpoints/{id}/health answers the
// endpoint's windows to the admin and to its tenant's key; other tenants'
// keys get 403, unknown endpoints 404, other methods 405.
func TestEndpointHealthRoute(t *testing.T) {
	s := newTestServer(t, func(o *engine.Options) { o.RetrySchedule = []time.Duration{50 * time.Millisecond} })
	rcv := newFirstFailsReceiver(t)
	s.mustCreateTenant(t, "a")
	s.mustCreateTenant(t, "b")
	id := str(t, s.mustCreateEndpoint(t, "a", `{"url":"`+rcv.URL+`/hook"}`), "id")
	path := "/v1/tenants/a/endpoints/" + id + "/health"
	status, _, _ := s.do(t, "POST", "/v1/tenants/a/events", testToken, "application/json", `{"type":"x","payload":{}}`)
	require_Equal(t, status, http.StatusAccepted)

	var m map[string]any
	waitFor(t, 10*time.Second, "a 503 and a retried 200 in the health", func() bool {
		status, m, _ = s.do(t, "GET", path, testToken, "", "")
		require_Equal(t, status, http.StatusOK)
		return object(t, object(t, m, "windows"), "24h")["attempts"] == 2.0
	})
	require_Equal(t, keysOf(m), "endpoint_id,last_failure_at,last_success_at,windows")
	require_Equal(t, str(t, m, "endpoint_id"), id)
	ok, err := time.Parse(time.RFC3339Nano, str(t, m, "last_success_at"))
	require_NoError(t, err)
	failed, err := time.Parse(time.RFC3339Nano, str(t, m, "last_failure_at"))
	require_NoError(t, err)
	require_True(t, failed.Before(ok), "last failure %v after last success %v", failed, ok)
	windows := object(t, m, "windows")
	require_Equal(t, keysOf(windows), "1h,24h,7d")
	for _, name := range []string{"1h", "24h", "7d"} {
		w := object(t, windows, name)
		require_Equal(t, keysOf(w), "attempts,failed,failures,latency_ms,since,succeeded,success_rate")
		require_True(t, w["attempts"] == 2.0 && w["succeeded"] == 1.0 && w["failed"] == 1.0 && w["success_rate"] == 0.5, "%s window %v", name, w)
		require_Equal(t, keysOf(object(t, w, "failures")), "503")
		require_Equal(t, object(t, w, "failures")["503"], any(1.0))
		lat := object(t, w, "latency_ms")
		p50, ok1 := lat["p50"].(float64)
		p95, ok2 := lat["p95"].(float64)
		require_True(t, ok1 && ok2 && p50 > 0 && p95 >= p50 && p95 < 2000, "%s latency %v", name, lat)
	}

	// An endpoint without attempts: zeros, and nulls where nothing can be said.
	idle := str(t, s.mustCreateEndpoint(t, "a", `{"url":"http://127.0.0.1:9/","paused":true}`), "id")
	status, raw, _ := s.doRaw(t, "GET", "/v1/tenants/a/endpoints/"+idle+"/health", testToken, "", "")
	require_Equal(t, status, http.StatusOK)
	for _, want := range []string{`"last_success_at":null`, `"last_failure_at":null`, `"success_rate":null`, `"latency_ms":{"p50":null,"p95":null}`, `"failures":{}`, `"attempts":0`} {
		require_True(t, strings.Contains(raw, want), "idle endpoint's health %s lacks %s", raw, want)
	}

	// The tenant's key reads it; another tenant's key may not.
	status, m, _ = s.do(t, "POST", "/v1/tenants/a/api-keys", testToken, "application/json", `{}`)
	require_Equal(t, status, http.StatusCreated)
	keyA := str(t, m, "key")
	status, m, _ = s.do(t, "POST", "/v1/tenants/b/api-keys", testToken, "application/json", `{}`)
	require_Equal(t, status, http.StatusCreated)
	keyB := str(t, m, "key")
	status, m, _ = s.do(t, "GET", path, keyA, "", "")
	require_Equal(t, status, http.StatusOK)
	require_Equal(t, str(t, m, "endpoint_id"), id)
	s.reject(t, "GET", path, keyB, "", "", 403, "forbidden")
	s.reject(t, "GET", strings.Replace(path, "/a/", "/b/", 1), keyB, "", "", 404, "endpoint_not_found")

	s.reject(t, "GET", "/v1/tenants/a/endpoints/ep_01JZZZZZZZZZZZZZZZZZZZZZZZ/health", testToken, "", "", 404, "endpoint_not_found")
	s.reject(t, "GET", "/v1/tenants/a/endpoints/nope/health", testToken, "", "", 404, "endpoint_not_found")
	s.reject(t, "GET", "/v1/tenants/zz/endpoints/"+id+"/health", testToken, "", "", 404, "tenant_not_found")
	s.reject(t, "GET", path, "", "", "", 401, "missing_token")
	msg := s.reject(t, "POST", path, testToken, "application/json", `{}`, 405, "method_not_allowed")
	require_True(t, strings.Contains(msg, "POST"), "message %q", msg)
	_, _, h := s.doRaw(t, "DELETE", path, testToken, "", "")
	require_Equal(t, h.Get("Allow"), "GET")
}
