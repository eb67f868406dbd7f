package httpin_test

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"hookline/engine/access"
	"hookline/httpin"
)

// TestRouteAccess walks every route of the table: a route marked noToken
// (and /metrics, with the default options) is reached without a token;
// on the others, with no token it is 401,
// with a key of another tenant 403, with a default key of its own tenant
// allowed exactly when access.DefaultKeyScopes holds the route's scope (else
// 403), and the admin token reaches its handler. Refused requests change
// nothing.
func TestRouteAccess(t *testing.T) {
	s := newTestServer(t)
	s.mustCreateTenant(t, "a")
	s.mustCreateTenant(t, "b")
	keyA, keyB := s.mustCreateKey(t, "a"), s.mustCreateKey(t, "b")
	path := routeTestPath
	// reached reports whether the request got past routing and
	// authorisation to the route's handler.
	reached := func(method, p, token, body string) (bool, string) {
		t.Helper()
		if method == "GET" {
			p += "?wait=0s" // the feed answers at once
		}
		status, raw, _ := s.doRaw(t, method, p, token, "application/json", body)
		var e struct {
			Error struct{ Code string } `json:"error"`
		}
		_ = json.Unmarshal([]byte(raw), &e)
		switch {
		case status == http.StatusUnauthorized, status == http.StatusForbidden, status == http.StatusMethodNotAllowed,
			e.Error.Code == "not_found":
			return false, short(raw)
		}
		return true, ""
	}
	defaults := access.Scopes(access.DefaultKeyScopes)
	n := map[string]int{}
	for _, r := range httpin.Routes() {
		method, body := routeTestRequest(r)
		name := r.Method + " " + r.Pattern
		// /metrics is open on a server with the default options.
		if r.NoToken || r.MetricsToken {
			if ok, raw := reached(method, path(r.Pattern, "a"), "", body); !ok {
				t.Errorf("%s without a token: refused (%s)", name, raw)
			}
			n["no token"]++
			continue
		}
		p := path(r.Pattern, "a")
		s.reject(t, method, p, "", "application/json", body, 401, "missing_token")
		if r.AnyToken {
			for _, tok := range []string{keyA, keyB, testToken} {
				if ok, raw := reached(method, p, tok, body); !ok {
					t.Errorf("%s: refused (%s)", name, raw)
				}
			}
			n["any token"]++
			continue
		}
		s.reject(t, method, p, keyB, "application/json", body, 403, "forbidden")
		if r.Scope != "" && strings.Contains(r.Pattern, "{tenant}") && defaults.Has(r.Scope) {
			if ok, raw := reached(method, p, keyA, body); !ok {
				t.Errorf("%s with its tenant's default key: refused (%s)", name, raw)
			}
			n["default key"]++
		} else {
			s.reject(t, method, p, keyA, "application/json", body, 403, "forbidden")
			n["closed to keys"]++
		}
		// The admin token reaches every handler; tenant zz does not exist,
		// so nothing changes.
		if ok, raw := reached(method, path(r.Pattern, "zz"), testToken, body); !ok {
			t.Errorf("%s with the admin token: refused (%s)", name, raw)
		}
	}
	t.Logf("routes: %v", n)
	// What DefaultKeyScopes open: publish (2 routes), and read the tenant,
	// its endpoints, their health and previews, a draft's too (6), deliveries (per
	// endpoint and tenant-wide), events, jobs and stats (8), sources and
	// their request log (4) and the event-type catalogue (2).
	require_Equal(t, n["default key"], 22)

	// No route matched: a key learns nothing, not even 404 or 405.
	f := func(method, p, token string, wantStatus int, wantCode string) {
		t.Helper()
		s.reject(t, method, p, token, "", "", wantStatus, wantCode)
	}
	f("GET", "/v1/tenants/a/nope", keyA, 403, "forbidden")
	f("GET", "/v1/tenants/a/nope", testToken, 404, "not_found")
	f("GET", "/v1/tenants/a/events/batch", keyA, 403, "forbidden")
	f("GET", "/v1/tenants/a/events/batch", testToken, 405, "method_not_allowed")
	f("PUT", "/v1/tenants/a/events", keyA, 403, "forbidden")
	f("GET", "/v1/tenants/a/nope", "", 401, "missing_token")
	f("GET", "/v1/nope", "", 404, "not_found")
	f("GET", "/in/x1/y", "", 404, "source_not_found")
}

// routeParam is a path parameter in a route's pattern.
var routeParam = regexp.MustCompile(`\{[a-z]+(\.\.\.)?\}`)

// routeTestPath is a path of pattern under tenant: x1 for every other
// parameter, and none for pprof's profile.
func routeTestPath(pattern, tenant string) string {
	p := strings.ReplaceAll(pattern, "{tenant}", tenant)
	p = strings.ReplaceAll(p, "{profile...}", "")
	p = strings.ReplaceAll(p, "{file...}", "app.css")
	return routeParam.ReplaceAllString(p, "x1")
}

// routeTestRequest is the method and body TestRouteAccess sends to r: GET
// for any method, and "{}" as the body of a method that takes one.
func routeTestRequest(r httpin.Route) (method, body string) {
	method = r.Method
	if method == "*" {
		method = "GET"
	}
	if method != "GET" && method != "DELETE" {
		body = "{}"
	}
	return method, body
}

// mustCreateKey creates an API key of tenant with the default scopes and
// returns it.
func (s *testServer) mustCreateKey(tb testing.TB, tenant string) string {
	tb.Helper()
	status, m, _ := s.do(tb, "POST", "/v1/tenants/"+tenant+"/api-keys", testToken, "application/json", `{}`)
	if status != http.StatusCreated {
		tb.Fatalf("create key of %q: status %d (%v)", tenant, status, m)
	}
	return str(tb, m, "key")
}
