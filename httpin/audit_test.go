package httpin_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestAuditLog: management actions are recorded with who, what, when and
// the resource before and after, newest first, per tenant or all; no secret
// is ever in it.
func TestAuditLog(t *testing.T) {
	s := newTestServer(t)
	s.mustCreateTenant(t, "acme")
	s.mustCreateTenant(t, "other")
	ep := s.mustCreateEndpoint(t, "acme", `{"url":"http://127.0.0.1:9/","max_in_flight":2}`)
	path := "/v1/tenants/acme/endpoints/" + str(t, ep, "id")
	for _, r := range []struct{ method, path, body string }{
		{"PATCH", path, `{"max_in_flight":4}`},
		{"POST", path + "/pause", ``},
		{"POST", path + "/rotate-secret", `{"overlap":"0s"}`},
		{"DELETE", path, ``},
	} {
		status, _, _ := s.doRaw(t, r.method, r.path, testToken, "application/json", r.body)
		require_True(t, status < 300, "%s %s: %d", r.method, r.path, status)
	}
	// A refused action is not recorded.
	s.reject(t, "PATCH", "/v1/tenants/acme/endpoints/ep_nope", testToken, "application/json", `{"max_in_flight":4}`, 404, "endpoint_not_found")

	status, raw, _ := s.doRaw(t, "GET", "/v1/tenants/acme/audit", testToken, "", "")
	require_Equal(t, status, http.StatusOK)
	require_True(t, !strings.Contains(raw, "whsec_"), "a secret is in the audit log: %s", raw)
	_, m, _ := s.do(t, "GET", "/v1/tenants/acme/audit", testToken, "", "")
	data := m["data"].([]any)
	var actions []string
	for _, e := range data {
		actions = append(actions, e.(map[string]any)["action"].(string))
	}
	require_Equal(t, strings.Join(actions, ","), "endpoint.delete,endpoint.rotate_secret,endpoint.pause,endpoint.update,endpoint.create,tenant.create")
	upd := data[3].(map[string]any)
	require_Equal(t, upd["actor"], any("admin"))
	require_Equal(t, upd["resource"], any(str(t, ep, "id")))
	require_Equal(t, upd["before"].(map[string]any)["max_in_flight"], any(float64(2)))
	require_Equal(t, upd["after"].(map[string]any)["max_in_flight"], any(float64(4)))
	_, hasAfter := data[0].(map[string]any)["after"]
	require_True(t, !hasAfter, "a deletion has an after: %v", data[0])

	// All tenants, paged.
	_, m, _ = s.do(t, "GET", "/v1/audit?limit=5", testToken, "", "")
	require_Equal(t, len(m["data"].([]any)), 5)
	_, m, _ = s.do(t, "GET", "/v1/audit?limit=5&cursor="+str(t, m, "next_cursor"), testToken, "", "")
	data = m["data"].([]any)
	require_Equal(t, len(data), 2)
	require_Equal(t, data[1].(map[string]any)["action"], any("tenant.create"))
	require_Equal(t, data[1].(map[string]any)["tenant"], any("acme"))

	s.reject(t, "GET", "/v1/audit?limit=0", testToken, "", "", 400, "invalid_limit")
	s.reject(t, "GET", "/v1/audit?cursor=bm9wZQ", testToken, "", "", 400, "invalid_cursor")
	s.reject(t, "POST", "/v1/audit", testToken, "", "", 405, "method_not_allowed")
	s.reject(t, "GET", "/v1/audit", "wrong", "", "", 401, "invalid_token")
	s.reject(t, "GET", "/v1/tenants/nope/audit", testToken, "", "", 404, "tenant_not_found")
}
