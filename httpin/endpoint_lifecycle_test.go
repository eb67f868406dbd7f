package httpin_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"hookline/engine"
)

// TestDeletedEndpointAPI: a deleted endpoint reads with deleted_at, lists
// only with include_deleted=true, keeps its deliveries readable, and every
// call that would change or send to it answers 409 endpoint_deleted.
func TestDeletedEndpointAPI(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	var got atomic.Int32
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { got.Add(1) }))
	t.Cleanup(rc.Close)
	s.mustCreateTenant(t, "acme")
	ep := s.mustCreateEndpoint(t, "acme", `{"url":"`+rc.URL+`/hook","auth":{"type":"bearer","token":"tok-Gq2Lx7Wd4Nv9Ps1K"}}`)
	id := str(t, ep, "id")
	base := "/v1/tenants/acme/endpoints/" + id
	status, pub, _ := s.do(t, "POST", "/v1/tenants/acme/events", testToken, "application/json", `{"type":"a.b","payload":{}}`)
	require_Equal(t, status, 202)
	ev := str(t, pub, "id")
	waitFor(t, 20*time.Second, "the delivery's attempt", func() bool {
		_, d, _ := s.do(t, "GET", base+"/deliveries/"+ev, testToken, "", "")
		return d["status"] == "succeeded"
	})

	status, raw, _ := s.doRaw(t, "DELETE", base, testToken, "", "")
	require_Equal(t, status, 204)
	require_Equal(t, raw, "")

	status, raw, _ = s.doRaw(t, "GET", base, testToken, "", "")
	require_Equal(t, status, 200)
	view := decodeObject(t, raw)
	require_True(t, view["deleted_at"] != nil && view["secret"] == nil && view["circuit"] == nil, "deleted endpoint reads as %v", view)
	require_True(t, !strings.Contains(raw, "Gq2Lx7"), "the deleted endpoint shows its token: %s", raw)

	list := func(query string) []any {
		t.Helper()
		status, page, _ := s.do(t, "GET", "/v1/tenants/acme/endpoints"+query, testToken, "", "")
		require_Equal(t, status, 200)
		return page["data"].([]any)
	}
	require_Equal(t, len(list("")), 0)
	require_Equal(t, len(list("?include_deleted=false")), 0)
	all := list("?include_deleted=true")
	require_True(t, len(all) == 1 && all[0].(map[string]any)["deleted_at"] != nil, "include_deleted lists %v", all)
	for _, bad := range []string{"yes", "1", "TRUE", "%20"} {
		s.reject(t, "GET", "/v1/tenants/acme/endpoints?include_deleted="+bad, testToken, "", "", 400, "invalid_include_deleted")
	}

	status, page, _ := s.do(t, "GET", base+"/deliveries", testToken, "", "")
	require_Equal(t, status, 200)
	require_Equal(t, len(page["data"].([]any)), 1)
	status, d, _ := s.do(t, "GET", base+"/deliveries/"+ev, testToken, "", "")
	require_True(t, status == 200 && d["status"] == "succeeded" && len(d["attempt_log"].([]any)) == 1, "delivery of a deleted endpoint: %d %v", status, d)

	for _, c := range []struct{ method, path, body string }{
		{"PATCH", base, `{"description":"x"}`},
		{"DELETE", base, ``},
		{"POST", base + "/pause", ``},
		{"POST", base + "/resume", ``},
		{"POST", base + "/rotate-secret", `{}`},
		{"POST", base + "/test", `{}`},
		{"POST", base + "/preview", `{"event":{"type":"a.b","payload":{}}}`},
		{"GET", base + "/health", ``},
		{"POST", base + "/deliveries/" + ev + "/replay", ``},
		{"POST", base + "/deliveries/" + ev + "/cancel", ``},
		{"POST", base + "/" + engine.JobReplay, `{"status":"all"}`},
		{"POST", base + "/" + engine.JobBackfill, `{}`},
		{"POST", base + "/" + engine.JobCancel, `{}`},
	} {
		ct := ""
		if c.body != "" {
			ct = "application/json"
		}
		msg := s.reject(t, c.method, c.path, testToken, ct, c.body, 409, "endpoint_deleted")
		require_True(t, strings.Contains(msg, id) && strings.Contains(msg, "deleted"), "%s %s: message %q", c.method, c.path, msg)
	}
	// New events do not reach it.
	before := got.Load()
	status, _, _ = s.do(t, "POST", "/v1/tenants/acme/events", testToken, "application/json", `{"type":"a.b","payload":{}}`)
	require_Equal(t, status, 202)
	time.Sleep(300 * time.Millisecond)
	require_Equal(t, got.Load(), before)
}

// TestTenantEndpointPolicyAPI: max_endpoints and require_https are set on
// POST and PATCH /v1/tenants, shown by GET, checked, and applied.
func TestTenantEndpointPolicyAPI(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, func(o *engine.Options) { o.EndpointsPerTenant = 2 })
	for _, bad := range []string{`0`, `-1`, `100001`, `"3"`, `2.5`, `true`, `{}`} {
		msg := s.reject(t, "POST", "/v1/tenants", testToken, "application/json", `{"id":"acme","max_endpoints":`+bad+`}`, 400, "invalid_max_endpoints")
		require_True(t, strings.Contains(msg, "100000"), "message %q names no bound", msg)
	}
	for _, bad := range []string{`"yes"`, `1`, `"true"`, `[]`} {
		s.reject(t, "POST", "/v1/tenants", testToken, "application/json", `{"id":"acme","require_https":`+bad+`}`, 400, "invalid_require_https")
	}
	tenant := s.mustCreateTenant(t, "acme")
	require_True(t, tenant["max_endpoints"] == nil && tenant["require_https"] == nil, "a new tenant shows %v", tenant)
	create := func(want int, code string) string {
		t.Helper()
		if want == 201 {
			return str(t, s.mustCreateEndpoint(t, "acme", `{"url":"http://127.0.0.1:1/hook"}`), "id")
		}
		return s.reject(t, "POST", "/v1/tenants/acme/endpoints", testToken, "application/json", `{"url":"http://127.0.0.1:1/hook"}`, want, code)
	}
	first := create(201, "")
	create(201, "")
	msg := create(409, "endpoint_limit")
	require_True(t, strings.Contains(msg, "limit of 2"), "message %q does not name the limit", msg)

	// A deleted endpoint does not count.
	status, _, _ := s.do(t, "DELETE", "/v1/tenants/acme/endpoints/"+first, testToken, "", "")
	require_Equal(t, status, 204)
	create(201, "")
	create(409, "endpoint_limit")

	status, tenant, _ = s.do(t, "PATCH", "/v1/tenants/acme", testToken, "application/json", `{"max_endpoints":3}`)
	require_Equal(t, status, 200)
	require_Equal(t, tenant["max_endpoints"], any(float64(3)))
	_, tenant, _ = s.do(t, "GET", "/v1/tenants/acme", testToken, "", "")
	require_Equal(t, tenant["max_endpoints"], any(float64(3)))
	create(201, "")
	msg = create(409, "endpoint_limit")
	require_True(t, strings.Contains(msg, "limit of 3"), "message %q does not name the limit", msg)
	s.reject(t, "PATCH", "/v1/tenants/acme", testToken, "application/json", `{"max_endpoints":0}`, 400, "invalid_max_endpoints")

	// null goes back to the server's default; a name change keeps it.
	status, tenant, _ = s.do(t, "PATCH", "/v1/tenants/acme", testToken, "application/json", `{"max_endpoints":null,"require_https":true}`)
	require_Equal(t, status, 200)
	require_True(t, tenant["max_endpoints"] == nil && tenant["require_https"] == true, "tenant after PATCH: %v", tenant)
	status, tenant, _ = s.do(t, "PATCH", "/v1/tenants/acme", testToken, "application/json", `{"name":"Acme"}`)
	require_True(t, status == 200 && tenant["require_https"] == true, "tenant after a name change: %v", tenant)
	msg = create(409, "endpoint_limit")
	require_True(t, strings.Contains(msg, "limit of 2"), "message %q does not name the limit", msg)
}

// TestRequireHTTPSAPI: with require_https, http:// URLs are refused at
// create and update unless they reach allow-listed networks only; URL
// templates are judged by their literal start; a tenant overrides the
// server either way.
func TestRequireHTTPSAPI(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, func(o *engine.Options) { o.RequireHTTPS = true })
	s.mustCreateTenant(t, "acme")
	path := "/v1/tenants/acme/endpoints"
	for _, url := range []string{
		"http://127.0.0.1:1/hook", // allow-listed by the test server
		"http://localhost:1/hook",
		"HTTP://127.0.0.1:1/hook",
		"https://8.8.8.8/hook",
		"https://8.8.8.8/{$.data.id}",
		"http://127.0.0.1:1/{$.data.id}",
	} {
		s.mustCreateEndpoint(t, "acme", `{"url":"`+url+`"}`)
	}
	for _, url := range []string{"http://8.8.8.8/hook", "HTTP://8.8.8.8/hook", "http://8.8.8.8/{$.data.id}?k={$.type}", " http://8.8.8.8/hook"} {
		msg := s.reject(t, "POST", path, testToken, "application/json", `{"url":"`+url+`"}`, 400, "https_required")
		require_True(t, strings.Contains(msg, "delivery.require_https"), "message %q does not name the server's option", msg)
	}
	ep := s.mustCreateEndpoint(t, "acme", `{"url":"https://8.8.8.8/hook"}`)
	epPath := path + "/" + str(t, ep, "id")
	s.reject(t, "PATCH", epPath, testToken, "application/json", `{"url":"http://8.8.8.8/hook"}`, 400, "https_required")
	status, _, _ := s.do(t, "PATCH", epPath, testToken, "application/json", `{"url":"http://127.0.0.1:1/hook"}`)
	require_Equal(t, status, 200)

	// The tenant's false overrides the server's true, and null restores it.
	status, _, _ = s.do(t, "PATCH", "/v1/tenants/acme", testToken, "application/json", `{"require_https":false}`)
	require_Equal(t, status, 200)
	s.mustCreateEndpoint(t, "acme", `{"url":"http://8.8.8.8/hook"}`)
	status, _, _ = s.do(t, "PATCH", epPath, testToken, "application/json", `{"url":"http://8.8.8.8/other"}`)
	require_Equal(t, status, 200)
	status, _, _ = s.do(t, "PATCH", "/v1/tenants/acme", testToken, "application/json", `{"require_https":null}`)
	require_Equal(t, status, 200)
	s.reject(t, "POST", path, testToken, "application/json", `{"url":"http://8.8.8.8/hook"}`, 400, "https_required")
	// An endpoint's own http URL stays, and other changes to it pass.
	status, _, _ = s.do(t, "PATCH", epPath, testToken, "application/json", `{"description":"kept"}`)
	require_Equal(t, status, 200)

	// A tenant's true tightens a server that does not require it.
	s2 := newTestServer(t)
	status, _, _ = s2.do(t, "POST", "/v1/tenants", testToken, "application/json", `{"id":"acme","require_https":true}`)
	require_Equal(t, status, 201)
	msg := s2.reject(t, "POST", path, testToken, "application/json", `{"url":"http://8.8.8.8/hook"}`, 400, "https_required")
	require_True(t, strings.Contains(msg, `tenant "acme"`) && strings.Contains(msg, "its require_https"), "message %q does not name the tenant's field", msg)
	s2.mustCreateTenant(t, "other")
	s2.mustCreateEndpoint(t, "other", `{"url":"http://8.8.8.8/hook"}`)
}
