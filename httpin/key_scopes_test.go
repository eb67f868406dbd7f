package httpin_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestKeyScopes: a key created with scopes may use exactly the routes of
// its tenant whose scope it holds; one created without has the default
// rights (publish and read); a bad scope is refused and makes no key.
func TestKeyScopes(t *testing.T) {
	s := newTestServer(t)
	s.mustCreateTenant(t, "acme")
	s.mustCreateTenant(t, "other")
	status, m, _ := s.do(t, "POST", "/v1/tenants/acme/api-keys", testToken, "application/json",
		`{"name":"portal","scopes":["endpoints:write","deliveries:read","deliveries:replay"]}`)
	require_Equal(t, status, http.StatusCreated)
	require_Equal(t, strings.Join(strs(t, m, "scopes"), ","), "endpoints:write,deliveries:read,deliveries:replay")
	portal := str(t, m, "key")
	def := s.mustCreateKey(t, "acme")

	// endpoints:write creates, pauses and rotates; it does not publish.
	status, raw, _ := s.doRaw(t, "POST", "/v1/tenants/acme/endpoints", portal, "application/json", `{"url":"https://example.com/hook"}`)
	require_Equal(t, status, http.StatusCreated)
	id := str(t, decodeObject(t, raw), "id")
	// (Paused at the end: the events published below stay queued, so the
	// refusals after them can check that nothing else changed.)
	for _, p := range []string{"/pause", "/resume", "/rotate-secret", "/pause"} {
		status, raw, _ = s.doRaw(t, "POST", "/v1/tenants/acme/endpoints/"+id+p, portal, "application/json", "")
		require_True(t, status == http.StatusOK, "%s: status %d (%s)", p, status, short(raw))
	}
	status, _, _ = s.doRaw(t, "GET", "/v1/tenants/acme/endpoints/"+id+"/deliveries", portal, "", "")
	require_Equal(t, status, http.StatusOK)
	s.reject(t, "POST", "/v1/tenants/acme/events", portal, "application/json", `{"type":"a.b","payload":{}}`, 403, "forbidden")
	// endpoints:write gives endpoints:read; sources:read is not held.
	status, _, _ = s.doRaw(t, "GET", "/v1/tenants/acme/endpoints/"+id, portal, "", "")
	require_Equal(t, status, http.StatusOK)
	s.reject(t, "GET", "/v1/tenants/acme/sources", portal, "", "", 403, "forbidden")
	s.reject(t, "POST", "/v1/tenants/other/endpoints", portal, "application/json", `{"url":"https://example.com/hook"}`, 403, "forbidden")

	// The default key publishes and reads, and changes no endpoint.
	status, _, _ = s.doRaw(t, "POST", "/v1/tenants/acme/events", def, "application/json", `{"type":"a.b","payload":{}}`)
	require_Equal(t, status, http.StatusAccepted)
	status, _, _ = s.doRaw(t, "GET", "/v1/tenants/acme/endpoints/"+id, def, "", "")
	require_Equal(t, status, http.StatusOK)
	s.reject(t, "POST", "/v1/tenants/acme/endpoints", def, "application/json", `{"url":"https://example.com/hook"}`, 403, "forbidden")

	for _, body := range []string{`{"scopes":[]}`, `{"scopes":["endpoints:delete"]}`, `{"scopes":"endpoints:write"}`} {
		status, raw, _ = s.doRaw(t, "POST", "/v1/tenants/acme/api-keys", testToken, "application/json", body)
		require_True(t, status == http.StatusBadRequest, "%s: status %d (%s)", body, status, short(raw))
	}
	status, m, _ = s.do(t, "GET", "/v1/tenants/acme/api-keys", testToken, "", "")
	require_Equal(t, status, http.StatusOK)
	require_Equal(t, len(m["data"].([]any)), 2)
}
