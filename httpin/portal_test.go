package httpin_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"hookline/engine/access"
	"hookline/httpin"
)

const sessionsPath = "/v1/tenants/acme/portal-sessions"

// mustCreateSession creates a portal session of tenant with body, as
// token (the admin's or a key), and returns the answer.
func (s *testServer) mustCreateSession(tb testing.TB, tenant, token, body string) map[string]any {
	tb.Helper()
	status, raw, h := s.doRaw(tb, "POST", "/v1/tenants/"+tenant+"/portal-sessions", token, "application/json", body)
	if status != http.StatusCreated {
		tb.Fatalf("create portal session of %q with %s: status %d (%s)", tenant, body, status, short(raw))
	}
	require_Equal(tb, h.Get("Cache-Control"), "no-store")
	return decodeObject(tb, raw)
}

// mustCreateScopedKey creates an API key of tenant named name with scopes.
func (s *testServer) mustCreateScopedKey(tb testing.TB, tenant, name string, scopes ...string) (id, key string) {
	tb.Helper()
	status, m, _ := s.do(tb, "POST", "/v1/tenants/"+tenant+"/api-keys", testToken, "application/json",
		`{"name":"`+name+`","scopes":["`+strings.Join(scopes, `","`)+`"]}`)
	if status != http.StatusCreated {
		tb.Fatalf("create key %v: status %d (%v)", scopes, status, m)
	}
	return str(tb, m, "id"), str(tb, m, "key")
}

// TestPortalSessionBadInput: every kind of bad request to create a
// session is refused with its code, and no session is made.
func TestPortalSessionBadInput(t *testing.T) {
	s := newTestServer(t)
	s.mustCreateTenant(t, "acme")
	s.mustCreateTenant(t, "other")
	_, creator := s.mustCreateScopedKey(t, "acme", "portal", "portal:create", "endpoints:read", "deliveries:read")
	_, other := s.mustCreateScopedKey(t, "other", "portal", "portal:create", "endpoints:read")
	_, noPortal := s.mustCreateScopedKey(t, "acme", "reader", "endpoints:read")
	_, noDefaults := s.mustCreateScopedKey(t, "acme", "odd", "portal:create", "audit:read")
	f := func(token, body string, wantStatus int, code string) {
		t.Helper()
		s.reject(t, "POST", sessionsPath, token, "application/json", body, wantStatus, code)
	}
	f(testToken, `{`, 400, "invalid_json")
	f(testToken, `{"scopes":["endpoints:read"],"ttl":"1h"}`, 400, "unknown_field")
	f(testToken, `{"expires_in":3600}`, 400, "invalid_field")
	for _, d := range []string{"0s", "25h", "24h0m1s", "garbage", "-1h", "500ms", "1.5s"} {
		f(testToken, `{"expires_in":"`+d+`"}`, 400, "invalid_expires_in")
	}
	f(testToken, `{"scopes":[]}`, 400, "invalid_scopes")
	f(testToken, `{"scopes":["endpoints:delete"]}`, 400, "invalid_scopes")
	f(testToken, `{"scopes":["portal:create"]}`, 400, "invalid_scopes") // a session cannot mint sessions
	f(creator, `{"scopes":["endpoints:read","endpoints:write"]}`, 400, "scope_not_held")
	f(creator, `{"scopes":["portal:create"]}`, 400, "invalid_scopes")
	f(noDefaults, `{}`, 400, "scope_not_held")
	f(noPortal, `{}`, 403, "forbidden")
	f(other, `{}`, 403, "forbidden") // another tenant's key
	s.reject(t, "POST", "/v1/tenants/nope/portal-sessions", testToken, "application/json", `{}`, 404, "tenant_not_found")
	s.reject(t, "DELETE", sessionsPath+"/ps_nope", testToken, "", "", 404, "portal_session_not_found")

	status, m, _ := s.do(t, "GET", sessionsPath, testToken, "", "")
	require_Equal(t, status, http.StatusOK)
	require_Equal(t, len(m["data"].([]any)), 0)
	_, m, _ = s.do(t, "GET", "/v1/tenants/acme/audit", testToken, "", "")
	for _, e := range m["data"].([]any) {
		require_True(t, !strings.HasPrefix(e.(map[string]any)["action"].(string), "portal_session."), "a refused session was audited: %v", e)
	}

	// A key's session without scopes has the default ones it holds.
	ps := s.mustCreateSession(t, "acme", creator, `{}`)
	require_Equal(t, strings.Join(strs(t, ps, "scopes"), ","), "endpoints:read,deliveries:read")
}

// TestPortalSessionAccess: a session's token uses its tenant's routes
// within its scopes and nothing else: not another tenant, not the
// admin's routes, not portal:create; the answer carries a url with the
// token, and the expiry asked for.
func TestPortalSessionAccess(t *testing.T) {
	s := newTestServerHTTP(t, func(o *httpin.Options) { o.PublicURL = "https://hooks.example.com/" })
	s.mustCreateTenant(t, "acme")
	s.mustCreateTenant(t, "other")
	ep := s.mustCreateEndpoint(t, "acme", `{"url":"http://127.0.0.1:9/","paused":true}`)
	otherEP := s.mustCreateEndpoint(t, "other", `{"url":"http://127.0.0.1:9/","paused":true}`)

	ps := s.mustCreateSession(t, "acme", testToken, `{"scopes":["endpoints:read","deliveries:read"],"expires_in":"90m"}`)
	token := str(t, ps, "token")
	require_True(t, strings.HasPrefix(str(t, ps, "id"), "ps_") && strings.HasPrefix(token, access.PortalTokenPrefix), "session %v", ps)
	require_Equal(t, str(t, ps, "url"), "https://hooks.example.com/portal#token="+token)
	created, err := time.Parse(time.RFC3339Nano, str(t, ps, "created_at"))
	require_NoError(t, err)
	expires, err := time.Parse(time.RFC3339Nano, str(t, ps, "expires_at"))
	require_NoError(t, err)
	require_Equal(t, expires.Sub(created), 90*time.Minute)

	status, _, _ := s.doRaw(t, "GET", "/v1/tenants/acme/endpoints/"+str(t, ep, "id"), token, "", "")
	require_Equal(t, status, http.StatusOK)
	status, _, _ = s.doRaw(t, "GET", "/v1/tenants/acme/endpoints/"+str(t, ep, "id")+"/deliveries", token, "", "")
	require_Equal(t, status, http.StatusOK)
	s.reject(t, "POST", "/v1/tenants/acme/endpoints/"+str(t, ep, "id")+"/pause", token, "", "", 403, "forbidden")
	s.reject(t, "GET", "/v1/tenants/other/endpoints/"+str(t, otherEP, "id"), token, "", "", 403, "forbidden")
	s.reject(t, "GET", "/v1/tenants", token, "", "", 403, "forbidden")
	s.reject(t, "POST", "/v1/tenants/acme/api-keys", token, "application/json", `{}`, 403, "forbidden")
	s.reject(t, "POST", sessionsPath, token, "application/json", `{}`, 403, "forbidden")
	s.reject(t, "GET", "/v1/tenants/acme/endpoints", token+"x", "", "", 401, "invalid_token")

	// Without PublicURL, the url is the request's own host.
	s2 := newTestServer(t)
	s2.mustCreateTenant(t, "acme")
	ps2 := s2.mustCreateSession(t, "acme", testToken, `{}`)
	require_Equal(t, str(t, ps2, "url"), s2.base+"/portal#token="+str(t, ps2, "token"))
	require_Equal(t, strings.Join(strs(t, ps2, "scopes"), ","), "endpoints:read,endpoints:write,deliveries:read,deliveries:replay,event-types:read")
}

// TestPortalSessionRoutes walks the route table with a session holding
// every scope a session may: it reaches exactly the routes of its own
// tenant whose scope is not the admin's or portal:create, and no route
// of another tenant.
func TestPortalSessionRoutes(t *testing.T) {
	s := newTestServer(t)
	s.mustCreateTenant(t, "a")
	s.mustCreateTenant(t, "b")
	var all []string
	for _, sc := range access.AllScopes {
		if sc != access.PortalCreate {
			all = append(all, string(sc))
		}
	}
	token := str(t, s.mustCreateSession(t, "a", testToken, `{"scopes":["`+strings.Join(all, `","`)+`"]}`), "token")
	path := routeTestPath
	n := 0
	for _, r := range httpin.Routes() {
		if r.NoToken || r.MetricsToken || r.AnyToken {
			continue // (GET /v1/me: TestRouteAccess, TestOpenAPIResponses)
		}
		method, body := routeTestRequest(r)
		name := r.Method + " " + r.Pattern
		s.reject(t, method, path(r.Pattern, "b"), token, "application/json", body, 403, "forbidden")
		if r.Scope == "" || r.Scope == access.PortalCreate {
			s.reject(t, method, path(r.Pattern, "a"), token, "application/json", body, 403, "forbidden")
			continue
		}
		p := path(r.Pattern, "a")
		if method == "GET" {
			p += "?wait=0s"
		}
		status, raw, _ := s.doRaw(t, method, p, token, "application/json", body)
		require_True(t, status != http.StatusUnauthorized && status != http.StatusForbidden, "%s: refused with %d (%s)", name, status, short(raw))
		n++
	}
	require_True(t, n > 40, "only %d routes reached", n)
}

// TestPortalSessionExpiry: a session of 1s stops working once its second
// has passed, with 401 session_expired.
func TestPortalSessionExpiry(t *testing.T) {
	s := newTestServer(t)
	s.mustCreateTenant(t, "acme")
	start := time.Now()
	ps := s.mustCreateSession(t, "acme", testToken, `{"expires_in":"1s"}`)
	token := str(t, ps, "token")
	var raw string
	waitFor(t, 2*time.Second, "the session to expire", func() bool {
		var status int
		status, raw, _ = s.doRaw(t, "GET", "/v1/tenants/acme/endpoints", token, "", "")
		if status == http.StatusOK {
			return false
		}
		require_Equal(t, status, http.StatusUnauthorized)
		return true
	})
	require_True(t, time.Since(start) >= time.Second, "expired after %s", time.Since(start))
	requireErrorBody(t, raw, "session_expired")
	status, m, _ := s.do(t, "GET", sessionsPath, testToken, "", "")
	require_Equal(t, status, http.StatusOK)
	require_Equal(t, len(m["data"].([]any)), 0)
	s.reject(t, "DELETE", sessionsPath+"/"+str(t, ps, "id"), testToken, "", "", 404, "portal_session_not_found")
}

// TestPortalSessionRevoke: DELETE ends a session at once (401
// session_revoked on its next request), a key with portal:create lists
// and revokes its tenant's sessions, and deleting the tenant ends them.
func TestPortalSessionRevoke(t *testing.T) {
	s := newTestServer(t)
	s.mustCreateTenant(t, "acme")
	s.mustCreateTenant(t, "other")
	_, creator := s.mustCreateScopedKey(t, "acme", "portal", "portal:create", "endpoints:read")
	_, otherKey := s.mustCreateScopedKey(t, "other", "portal", "portal:create", "endpoints:read")
	ps := s.mustCreateSession(t, "acme", creator, `{"scopes":["endpoints:read"]}`)
	token, id := str(t, ps, "token"), str(t, ps, "id")
	keep := str(t, s.mustCreateSession(t, "acme", testToken, `{"scopes":["endpoints:read"]}`), "token")

	status, m, _ := s.do(t, "GET", sessionsPath, creator, "", "")
	require_Equal(t, status, http.StatusOK)
	data := m["data"].([]any)
	require_Equal(t, len(data), 2)
	first := data[0].(map[string]any)
	require_Equal(t, first["id"], any(id))
	_, hasToken := first["token"]
	require_True(t, !hasToken, "a listing shows a token: %v", first)

	s.reject(t, "DELETE", sessionsPath+"/"+id, otherKey, "", "", 403, "forbidden")
	s.reject(t, "DELETE", "/v1/tenants/other/portal-sessions/"+id, otherKey, "", "", 404, "portal_session_not_found")
	status, _, _ = s.doRaw(t, "GET", "/v1/tenants/acme/endpoints", token, "", "")
	require_Equal(t, status, http.StatusOK)
	status, raw, _ := s.doRaw(t, "DELETE", sessionsPath+"/"+id, creator, "", "")
	require_True(t, status == http.StatusNoContent, "revoke: %d %s", status, short(raw))
	s.reject(t, "GET", "/v1/tenants/acme/endpoints", token, "", "", 401, "session_revoked")
	s.reject(t, "DELETE", sessionsPath+"/"+id, creator, "", "", 404, "portal_session_not_found")
	status, _, _ = s.doRaw(t, "GET", "/v1/tenants/acme/endpoints", keep, "", "")
	require_Equal(t, status, http.StatusOK)

	status, _, _ = s.doRaw(t, "DELETE", "/v1/tenants/acme", testToken, "", "")
	require_Equal(t, status, http.StatusNoContent)
	s.reject(t, "GET", "/v1/tenants/acme/endpoints", keep, "", "", 401, "invalid_token")
	s.mustCreateTenant(t, "acme") // the same name is a new tenant: the old token stays dead
	s.reject(t, "GET", "/v1/tenants/acme/endpoints", keep, "", "", 401, "invalid_token")
}

// TestAuditActorAndReason: audit entries name the actor by type, id and
// (for a key) name, and keep the X-Hookline-Reason of the request; a bad
// reason is refused before anything is written.
func TestAuditActorAndReason(t *testing.T) {
	s := newTestServer(t)
	s.mustCreateTenant(t, "acme")
	keyID, key := s.mustCreateScopedKey(t, "acme", "support bot", "endpoints:write", "portal:create")
	ps := s.mustCreateSession(t, "acme", testToken, `{"scopes":["endpoints:write"]}`)
	ep := s.mustCreateEndpoint(t, "acme", `{"url":"http://127.0.0.1:9/","paused":true}`)
	path := "/v1/tenants/acme/endpoints/" + str(t, ep, "id")
	for _, r := range []struct{ token, method, path, reason string }{
		{key, "POST", path + "/resume", "customer asked"},
		{str(t, ps, "token"), "POST", path + "/pause", ""},
		{testToken, "DELETE", path, "ticket #42: cleanup ✓"},
	} {
		status, raw, _ := s.doRaw(t, r.method, r.path, r.token, "application/json", "", "X-Hookline-Reason", r.reason)
		require_True(t, status < 300, "%s %s: %d %s", r.method, r.path, status, short(raw))
	}
	_, m, _ := s.do(t, "GET", "/v1/tenants/acme/audit?limit=3", testToken, "", "")
	var got []string
	for _, e := range m["data"].([]any) {
		e := e.(map[string]any)
		name, _ := e["actor_name"].(string)
		reason, _ := e["reason"].(string)
		got = append(got, strings.Join([]string{e["action"].(string), e["actor_type"].(string), e["actor"].(string), name, reason}, "|"))
	}
	require_Equal(t, strings.Join(got, "\n"), strings.Join([]string{
		"endpoint.delete|admin|admin||ticket #42: cleanup ✓",
		"endpoint.pause|portal_session|" + str(t, ps, "id") + "||",
		"endpoint.resume|api_key|" + keyID + "|support bot|customer asked",
	}, "\n"))

	ep = s.mustCreateEndpoint(t, "acme", `{"url":"http://127.0.0.1:9/"}`)
	path = "/v1/tenants/acme/endpoints/" + str(t, ep, "id")
	for _, reason := range []string{strings.Repeat("r", access.MaxReasonBytes+1), "a\tb", "bad \xff utf-8"} {
		s.reject(t, "DELETE", path, testToken, "", "", 400, "invalid_reason", "X-Hookline-Reason", reason)
		s.reject(t, "POST", path+"/pause", key, "", "", 400, "invalid_reason", "X-Hookline-Reason", reason)
		s.reject(t, "POST", sessionsPath, testToken, "application/json", `{}`, 400, "invalid_reason", "X-Hookline-Reason", reason)
	}
	status, m, _ := s.do(t, "GET", sessionsPath, testToken, "", "")
	require_Equal(t, status, http.StatusOK)
	require_Equal(t, len(m["data"].([]any)), 1) // only ps
	// A read ignores the header; the longest reason allowed is kept whole.
	status, _, _ = s.doRaw(t, "GET", path, testToken, "", "", "X-Hookline-Reason", "a\tb")
	require_Equal(t, status, http.StatusOK)
	long := strings.Repeat("r", access.MaxReasonBytes)
	status, _, _ = s.doRaw(t, "POST", path+"/pause", testToken, "", "", "X-Hookline-Reason", long)
	require_Equal(t, status, http.StatusOK)
	_, m, _ = s.do(t, "GET", "/v1/tenants/acme/audit?limit=1", testToken, "", "")
	require_Equal(t, m["data"].([]any)[0].(map[string]any)["reason"], any(long))
}

// TestReplayRateLimit: single replays by tenant credentials are limited
// per endpoint (429 replay_rate_limited with Retry-After); a refused
// replay spends nothing; the admin is not limited, and another endpoint
// has its own budget.
func TestReplayRateLimit(t *testing.T) {
	// One replay per 100 s: a second one in this test is always too soon,
	// however slow the machine.
	s := newTestServerHTTP(t, func(o *httpin.Options) { o.ReplaysPerSecond = 0.01 })
	s.mustCreateTenant(t, "acme")
	rc := newOKReceiver(t)
	ep1 := str(t, s.mustCreateEndpoint(t, "acme", `{"url":"`+rc+`"}`), "id")
	ep2 := str(t, s.mustCreateEndpoint(t, "acme", `{"url":"`+rc+`"}`), "id")
	var evts []string
	for range 2 {
		status, m, _ := s.do(t, "POST", "/v1/tenants/acme/events", testToken, "application/json", `{"type":"a.b","payload":{}}`)
		require_Equal(t, status, http.StatusAccepted)
		evts = append(evts, str(t, m, "id"))
	}
	dlv := func(ep, evt string) string { return "/v1/tenants/acme/endpoints/" + ep + "/deliveries/" + evt }
	for _, ep := range []string{ep1, ep2} {
		for _, evt := range evts {
			waitFor(t, 5*time.Second, "delivery of "+evt, func() bool {
				_, m, _ := s.do(t, "GET", dlv(ep, evt), testToken, "", "")
				return m["status"] == "succeeded"
			})
		}
	}
	_, key := s.mustCreateScopedKey(t, "acme", "replayer", "deliveries:replay", "portal:create")
	session := str(t, s.mustCreateSession(t, "acme", key, `{"scopes":["deliveries:replay"]}`), "token")

	// A replay refused for another reason spends nothing.
	s.reject(t, "POST", dlv(ep1, "evt_01JDZZZZZZZZZZZZZZZZZZZZZZ")+"/replay", key, "", "", 404, "delivery_not_found")
	status, raw, _ := s.doRaw(t, "POST", dlv(ep1, evts[0])+"/replay", key, "", "")
	require_True(t, status == http.StatusAccepted, "first replay: %d %s", status, short(raw))
	s.reject(t, "POST", dlv(ep1, evts[0])+"/replay", testToken, "", "", 409, "delivery_pending")
	for _, token := range []string{key, session} {
		before := s.snapshot(t)
		status, raw, h := s.doRaw(t, "POST", dlv(ep1, evts[1])+"/replay", token, "", "")
		require_Equal(t, status, http.StatusTooManyRequests)
		requireErrorBody(t, raw, "replay_rate_limited")
		require_True(t, h.Get("Retry-After") != "" && h.Get("Retry-After") != "0", "Retry-After %q", h.Get("Retry-After"))
		requireSameState(t, before, s.snapshot(t))
	}
	// The admin is not limited; another endpoint has its own budget.
	status, raw, _ = s.doRaw(t, "POST", dlv(ep1, evts[1])+"/replay", testToken, "", "")
	require_True(t, status == http.StatusAccepted, "admin replay: %d %s", status, short(raw))
	status, raw, _ = s.doRaw(t, "POST", dlv(ep2, evts[0])+"/replay", session, "", "")
	require_True(t, status == http.StatusAccepted, "other endpoint: %d %s", status, short(raw))
}

// newOKReceiver starts a receiver on 127.0.0.1 that answers 200 and
// returns its URL.
func newOKReceiver(t *testing.T) string {
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
	}))
	t.Cleanup(rc.Close)
	return rc.URL
}

// TestPreviewByEventIDScope: a preview of a stored event shows its
// payload, so a tenant credential needs deliveries:read for it besides
// the route's endpoints:read; a preview of a given event does not.
func TestPreviewByEventIDScope(t *testing.T) {
	s := newTestServer(t)
	s.mustCreateTenant(t, "acme")
	path := "/v1/tenants/acme/endpoints/" + str(t, s.mustCreateEndpoint(t, "acme", `{"url":"http://127.0.0.1:9/","paused":true}`), "id") + "/preview"
	status, m, _ := s.do(t, "POST", "/v1/tenants/acme/events", testToken, "application/json", `{"type":"a.b","payload":{"secret":"s3"}}`)
	require_Equal(t, status, http.StatusAccepted)
	byID := `{"event_id":"` + str(t, m, "id") + `"}`
	_, reader := s.mustCreateScopedKey(t, "acme", "reader", "endpoints:read")
	session := str(t, s.mustCreateSession(t, "acme", testToken, `{"scopes":["endpoints:read"]}`), "token")
	for _, token := range []string{reader, session} {
		s.reject(t, "POST", path, token, "application/json", byID, 403, "forbidden")
		status, raw, _ := s.doRaw(t, "POST", path, token, "application/json", `{"event":{"type":"a.b","payload":{}}}`)
		require_True(t, status == http.StatusOK, "preview of a given event: %d %s", status, short(raw))
	}
	for _, token := range []string{s.mustCreateKey(t, "acme"), testToken} { // the default key holds deliveries:read
		status, raw, _ := s.doRaw(t, "POST", path, token, "application/json", byID)
		require_True(t, status == http.StatusOK && strings.Contains(raw, "s3"), "preview by event_id: %d %s", status, short(raw))
	}
}
