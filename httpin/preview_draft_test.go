package httpin_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestPreviewDraftAPI: both previews take a draft of the endpoint
// ("endpoint"), render with it, refuse a bad one with PATCH's or POST's
// codes naming the field, and save nothing, for a credential that may
// only read endpoints too.
func TestPreviewDraftAPI(t *testing.T) {
	s := newTestServer(t)
	s.mustCreateTenant(t, "acme")
	const token = "stored-crm-token-0123456789"
	ep := s.mustCreateEndpoint(t, "acme", `{"url":"http://127.0.0.1:9/hook","paused":true,"auth":{"type":"bearer","token":"`+token+`"}}`)
	path := "/v1/tenants/acme/endpoints/" + str(t, ep, "id") + "/preview"
	draftPath := "/v1/tenants/acme/endpoint-preview"
	_, reader := s.mustCreateScopedKey(t, "acme", "reader", "endpoints:read")
	const event = `"event":{"type":"lead.won","payload":{"lead":{"id":7,"name":"Ada"}}}`

	ok := func(path, body string) map[string]any {
		t.Helper()
		before := s.snapshot(t)
		status, m, _ := s.do(t, "POST", path, reader, "application/json", body)
		require_True(t, status == http.StatusOK, "%s %s: %d %v", path, body, status, m)
		requireSameState(t, before, s.snapshot(t))
		return m
	}
	m := ok(path, `{`+event+`,"endpoint":{"url":"http://127.0.0.1:9/leads/{$.data.lead.id}","method":"PUT","body":{"who":"$.data.lead.name"},"auth":{"type":"bearer","token":"****6789"}}}`)
	require_Equal(t, m["method"], any("PUT"))
	require_Equal(t, m["url"], any("http://127.0.0.1:9/leads/7"))
	require_Equal(t, m["body"], any(`{"who":"Ada"}`))
	require_Equal(t, m["headers"].(map[string]any)["Authorization"], any("Bearer ****6789"))
	m = ok(path, `{`+event+`}`) // the saved endpoint, unchanged
	require_True(t, strings.HasPrefix(m["body"].(string), `{"type":"lead.won"`), "saved endpoint's body %v", m["body"])

	m = ok(draftPath, `{`+event+`,"endpoint":{"url":"http://127.0.0.1:9/new","body":{"who":"$.data.lead.name"},"signature":{"scheme":"hmac-sha256"}}}`)
	require_Equal(t, m["url"], any("http://127.0.0.1:9/new"))
	require_Equal(t, m["body"], any(`{"who":"Ada"}`))
	require_Equal(t, m["headers"].(map[string]any)["X-Hookline-Signature"], any("****"))

	f := func(path, body string, wantStatus int, code, field string) {
		t.Helper()
		msg := s.reject(t, "POST", path, reader, "application/json", body, wantStatus, code)
		require_True(t, strings.Contains(msg, field), "%s: message %q does not name %q", code, msg, field)
	}
	// An endpoint's draft: PATCH's checks.
	f(path, `{`+event+`,"endpoint":{"body":{"text":"{$.data.x"}}}`, 400, "invalid_template", "body.text")
	f(path, `{`+event+`,"endpoint":{"url":"http://{$.data.host}/x"}}`, 400, "invalid_template", "url")
	f(path, `{`+event+`,"endpoint":{"url":"ftp://127.0.0.1/x"}}`, 400, "invalid_url", "ftp")
	f(path, `{`+event+`,"endpoint":{"headers":{"Transfer-Encoding":"chunked"}}}`, 400, "invalid_headers", "Transfer-Encoding")
	f(path, `{`+event+`,"endpoint":{"auth":{"type":"basic","password":"p"}}}`, 400, "invalid_auth", "auth.username")
	f(path, `{`+event+`,"endpoint":{"method":"TRACE"}}`, 400, "invalid_method", "TRACE")
	f(path, `{`+event+`,"endpoint":{"secret":"whsec_abc"}}`, 400, "immutable_field", "secret")
	f(path, `{`+event+`,"endpoint":{"bdy":{}}}`, 400, "unknown_field", "bdy")
	f(path, `{`+event+`,"endpoint":{"max_in_flight":"x"}}`, 400, "invalid_field", "")
	f(path, `{"endpoint":{"method":"PUT"}}`, 400, "invalid_preview", "event")
	f(path, `{`+event+`,"endpoint":{"body":{"who":"Hi {$.data.nope}"}}}`, 400, "render_failed", "$.data.nope")
	f("/v1/tenants/acme/endpoints/ep_nope/preview", `{`+event+`,"endpoint":{}}`, 404, "endpoint_not_found", "ep_nope")

	// A new endpoint's draft: POST's checks, but no limit.
	f(draftPath, `{`+event+`}`, 400, "invalid_preview", "endpoint")
	f(draftPath, `{`+event+`,"endpoint":{"description":"x"}}`, 400, "missing_url", "url")
	f(draftPath, `{`+event+`,"endpoint":{"url":"http://127.0.0.1:9/","body":{"t":"{$.data"}}}`, 400, "invalid_template", "body.t")
	f(draftPath, `{`+event+`,"endpoint":{"url":"http://127.0.0.1:9/","event_types":[]}}`, 400, "invalid_event_types", "event_types")
	f(draftPath, `{"event":{"type":"a b","payload":{}},"endpoint":{"url":"http://127.0.0.1:9/"}}`, 400, "invalid_type", "a b")
	f("/v1/tenants/nope/endpoint-preview", `{`+event+`,"endpoint":{"url":"http://127.0.0.1:9/"}}`, 403, "forbidden", "")
	s.reject(t, "POST", "/v1/tenants/nope/endpoint-preview", testToken, "application/json", `{`+event+`,"endpoint":{"url":"http://127.0.0.1:9/"}}`, 404, "tenant_not_found")
	status, m, _ := s.do(t, "POST", "/v1/tenants/acme/events", testToken, "application/json", `{"type":"a.b","payload":{}}`)
	require_Equal(t, status, http.StatusAccepted)
	f(draftPath, `{"event_id":"`+str(t, m, "id")+`","endpoint":{"url":"http://127.0.0.1:9/"}}`, 403, "forbidden", "deliveries:read")
	ok2 := s.mustCreateKey(t, "acme") // the default key reads deliveries too
	status, raw, _ := s.doRaw(t, "POST", draftPath, ok2, "application/json", `{"event_id":"`+str(t, m, "id")+`","endpoint":{"url":"http://127.0.0.1:9/"}}`)
	require_True(t, status == http.StatusOK, "a draft's preview by event_id: %d %s", status, short(raw))

	status, _, _ = s.do(t, "PATCH", "/v1/tenants/acme", testToken, "application/json", `{"max_endpoints":1,"require_https":true}`)
	require_Equal(t, status, http.StatusOK)
	ok(draftPath, `{`+event+`,"endpoint":{"url":"https://8.8.8.8/"}}`) // the limit is reached: a draft does not count
	f(draftPath, `{`+event+`,"endpoint":{"url":"http://8.8.8.8/"}}`, 400, "https_required", "require_https")
	f(path, `{`+event+`,"endpoint":{"url":"http://8.8.8.8/"}}`, 400, "https_required", "require_https")
}
