package httpin_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestTenantAPIKeys: a key scoped to tenant A publishes to and reads A only;
// it sees nothing of B and manages nothing; it is shown once, listed by
// prefix, and revoked at once.
func TestTenantAPIKeys(t *testing.T) {
	s := newTestServer(t)
	s.mustCreateTenant(t, "a")
	s.mustCreateTenant(t, "b")
	epA := s.mustCreateEndpoint(t, "a", `{"url":"http://127.0.0.1:9/a","paused":true}`)
	epB := s.mustCreateEndpoint(t, "b", `{"url":"http://127.0.0.1:9/b","paused":true}`)
	status, m, h := s.do(t, "POST", "/v1/tenants/a/api-keys", testToken, "application/json", `{"name":"ci"}`)
	require_Equal(t, status, http.StatusCreated)
	require_Equal(t, h.Get("Cache-Control"), "no-store")
	key := str(t, m, "key")
	keyID := str(t, m, "id")
	require_True(t, strings.HasPrefix(key, "hlk_") && len(key) > 40, "key %q", key)
	status, m, _ = s.do(t, "POST", "/v1/tenants/b/events", testToken, "application/json", `{"type":"x","payload":{}}`)
	require_Equal(t, status, http.StatusAccepted)
	evB := str(t, m, "id")

	// What A's key may do.
	status, m, _ = s.do(t, "POST", "/v1/tenants/a/events", key, "application/json", `{"type":"x","payload":{}}`)
	require_Equal(t, status, http.StatusAccepted)
	evA := str(t, m, "id")
	status, _, _ = s.do(t, "POST", "/v1/tenants/a/events/batch", key, "application/x-ndjson", "{\"type\":\"x\",\"payload\":1}\n")
	require_Equal(t, status, http.StatusAccepted)
	for _, p := range []string{"/v1/tenants/a", "/v1/tenants/a/endpoints", "/v1/tenants/a/endpoints/" + str(t, epA, "id"),
		"/v1/tenants/a/endpoints/" + str(t, epA, "id") + "/deliveries", "/v1/tenants/a/events/" + evA, "/v1/tenants/a/event-types"} {
		status, raw, _ := s.doRaw(t, "GET", p, key, "", "")
		require_Equal(t, status, http.StatusOK)
		require_True(t, !strings.Contains(raw, "whsec_"), "GET %s shows a secret", p)
	}

	// Nothing of B, nothing to manage, nothing of the operator's.
	f := func(method, path, body string) {
		t.Helper()
		s.reject(t, method, path, key, "application/json", body, 403, "forbidden")
	}
	for _, p := range []string{"/v1/tenants/b", "/v1/tenants/b/endpoints", "/v1/tenants/b/endpoints/" + str(t, epB, "id"),
		"/v1/tenants/b/endpoints/" + str(t, epB, "id") + "/deliveries", "/v1/tenants/b/events/" + evB, "/v1/tenants/b/event-types",
		"/v1/tenants", "/v1/audit", "/v1/tenants/a/audit", "/v1/tenants/a/api-keys", "/debug/pprof/"} {
		f("GET", p, "")
	}
	f("POST", "/v1/tenants/b/events", `{"type":"x","payload":{}}`)
	f("POST", "/v1/tenants/b/events/batch", `[{"type":"x","payload":{}}]`)
	f("POST", "/v1/tenants/a/endpoints", `{"url":"http://127.0.0.1:9/"}`)
	f("PATCH", "/v1/tenants/a/endpoints/"+str(t, epA, "id"), `{"max_in_flight":2}`)
	f("DELETE", "/v1/tenants/a", ``)
	f("POST", "/v1/tenants/a/endpoints/"+str(t, epA, "id")+"/rotate-secret", ``)
	f("POST", "/v1/tenants/a/api-keys", `{}`)
	f("POST", "/v1/tenants", `{"id":"c"}`)

	// Listed without the key; revoked at once.
	status, raw, _ := s.doRaw(t, "GET", "/v1/tenants/a/api-keys", testToken, "", "")
	require_Equal(t, status, http.StatusOK)
	require_True(t, !strings.Contains(raw, key) && strings.Contains(raw, key[:10]), "list shows %s", raw)
	status, _, _ = s.doRaw(t, "DELETE", "/v1/tenants/a/api-keys/"+keyID, testToken, "", "")
	require_Equal(t, status, http.StatusNoContent)
	s.reject(t, "GET", "/v1/tenants/a", key, "", "", 401, "invalid_token")
	s.reject(t, "DELETE", "/v1/tenants/a/api-keys/"+keyID, testToken, "", "", 404, "api_key_not_found")
	s.reject(t, "POST", "/v1/tenants/nope/api-keys", testToken, "application/json", `{}`, 404, "tenant_not_found")
	s.reject(t, "POST", "/v1/tenants/a/api-keys", testToken, "application/json", `{"name":"`+strings.Repeat("n", 201)+`"}`, 400, "invalid_name")
	s.reject(t, "PUT", "/v1/tenants/a/api-keys", testToken, "application/json", `{}`, 405, "method_not_allowed")

	// A deleted tenant's keys die with it.
	status, m, _ = s.do(t, "POST", "/v1/tenants/b/api-keys", testToken, "application/json", `{}`)
	require_Equal(t, status, http.StatusCreated)
	keyB := str(t, m, "key")
	status, _, _ = s.doRaw(t, "DELETE", "/v1/tenants/b", testToken, "", "")
	require_Equal(t, status, http.StatusNoContent)
	s.mustCreateTenant(t, "b")
	s.reject(t, "GET", "/v1/tenants/b", keyB, "", "", 401, "invalid_token")
}
