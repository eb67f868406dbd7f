package httpin

import (
	"strings"
	"testing"

	"hookline/engine/access"
)

// TestRouteTable lists every route with its metric label, who may use
// it and whether the metrics listener (Options.MetricsListen) serves it
// too. A row added to routeTable without a line here fails, and so does a
// line here without a row: opening a route to tenant keys is a decision
// this list records.
func TestRouteTable(t *testing.T) {
	want := map[string]string{
		"* /healthz":                  "health, no token, metrics listener",
		"* /readyz":                   "health, no token, metrics listener",
		"* /metrics":                  "metrics, metrics token, metrics listener",
		"POST /in/{source}":           "inbound, no token",
		"GET /in/{source}":            "inbound, no token",
		"* /debug/pprof/{profile...}": "other, admin",
		"GET /v1/audit":               "audit, admin",
		"GET /v1/openapi.json":        "other, no token",
		"GET /v1/me":                  "other, any token",
		"GET /":                       "dashboard, no token",
		"GET /portal":                 "dashboard, no token",
		"GET /assets/{file...}":       "dashboard, no token",

		"GET /v1/tenants":                                  "tenants, admin",
		"POST /v1/tenants":                                 "tenants, admin",
		"GET /v1/tenants/{tenant}":                         "tenant, endpoints:read",
		"PATCH /v1/tenants/{tenant}":                       "tenant, admin",
		"DELETE /v1/tenants/{tenant}":                      "tenant, admin",
		"GET /v1/tenants/{tenant}/api-keys":                "tenant, admin",
		"POST /v1/tenants/{tenant}/api-keys":               "tenant, admin",
		"DELETE /v1/tenants/{tenant}/api-keys/{id}":        "tenant, admin",
		"GET /v1/tenants/{tenant}/portal-sessions":         "tenant, portal:create",
		"POST /v1/tenants/{tenant}/portal-sessions":        "tenant, portal:create",
		"DELETE /v1/tenants/{tenant}/portal-sessions/{id}": "tenant, portal:create",
		"GET /v1/tenants/{tenant}/audit":                   "audit, audit:read",

		"POST /v1/tenants/{tenant}/events":        "publish, events:publish",
		"POST /v1/tenants/{tenant}/events/batch":  "publish_batch, events:publish",
		"GET /v1/tenants/{tenant}/events":         "feed, deliveries:read",
		"GET /v1/tenants/{tenant}/events/{event}": "deliveries, deliveries:read",

		"GET /v1/tenants/{tenant}/endpoints":                     "endpoints, endpoints:read",
		"POST /v1/tenants/{tenant}/endpoints":                    "endpoints, endpoints:write",
		"GET /v1/tenants/{tenant}/endpoints/{id}":                "endpoint, endpoints:read",
		"PATCH /v1/tenants/{tenant}/endpoints/{id}":              "endpoint, endpoints:write",
		"DELETE /v1/tenants/{tenant}/endpoints/{id}":             "endpoint, endpoints:write",
		"POST /v1/tenants/{tenant}/endpoints/{id}/pause":         "endpoint, endpoints:write",
		"POST /v1/tenants/{tenant}/endpoints/{id}/resume":        "endpoint, endpoints:write",
		"POST /v1/tenants/{tenant}/endpoints/{id}/rotate-secret": "endpoint, endpoints:write",
		"POST /v1/tenants/{tenant}/endpoints/{id}/test":          "endpoint_test, endpoints:write",
		"POST /v1/tenants/{tenant}/endpoints/{id}/preview":       "endpoint, endpoints:read",
		"POST /v1/tenants/{tenant}/endpoint-preview":             "endpoints, endpoints:read",
		"GET /v1/tenants/{tenant}/endpoints/{id}/health":         "endpoint_health, endpoints:read",

		"GET /v1/tenants/{tenant}/deliveries":                                "deliveries, deliveries:read",
		"GET /v1/tenants/{tenant}/endpoints/{id}/deliveries":                 "deliveries, deliveries:read",
		"GET /v1/tenants/{tenant}/endpoints/{id}/deliveries/{event}":         "deliveries, deliveries:read",
		"POST /v1/tenants/{tenant}/endpoints/{id}/deliveries/{event}/replay": "deliveries, deliveries:replay",
		"POST /v1/tenants/{tenant}/endpoints/{id}/deliveries/{event}/cancel": "deliveries, deliveries:replay",
		"POST /v1/tenants/{tenant}/endpoints/{id}/replay":                    "jobs, deliveries:replay",
		"POST /v1/tenants/{tenant}/endpoints/{id}/backfill":                  "jobs, deliveries:replay",
		"POST /v1/tenants/{tenant}/endpoints/{id}/cancel":                    "jobs, deliveries:replay",
		"GET /v1/tenants/{tenant}/jobs":                                      "jobs, deliveries:read",
		"GET /v1/tenants/{tenant}/jobs/{id}":                                 "jobs, deliveries:read",
		"POST /v1/tenants/{tenant}/jobs/{id}/stop":                           "jobs, deliveries:replay",
		"GET /v1/tenants/{tenant}/stats":                                     "stats, deliveries:read",

		"GET /v1/tenants/{tenant}/event-types":           "event_types, event-types:read",
		"POST /v1/tenants/{tenant}/event-types":          "event_types, event-types:write",
		"GET /v1/tenants/{tenant}/event-types/{type}":    "event_types, event-types:read",
		"PUT /v1/tenants/{tenant}/event-types/{type}":    "event_types, event-types:write",
		"DELETE /v1/tenants/{tenant}/event-types/{type}": "event_types, event-types:write",

		"GET /v1/tenants/{tenant}/sources":                                 "sources, sources:read",
		"POST /v1/tenants/{tenant}/sources":                                "sources, sources:write",
		"GET /v1/tenants/{tenant}/sources/{id}":                            "sources, sources:read",
		"PATCH /v1/tenants/{tenant}/sources/{id}":                          "sources, sources:write",
		"DELETE /v1/tenants/{tenant}/sources/{id}":                         "sources, sources:write",
		"POST /v1/tenants/{tenant}/sources/{id}/rotate-secret":             "sources, sources:write",
		"POST /v1/tenants/{tenant}/sources/{id}/test":                      "sources, sources:write",
		"GET /v1/tenants/{tenant}/sources/{id}/requests":                   "sources, sources:read",
		"GET /v1/tenants/{tenant}/sources/{id}/requests/{request}":         "sources, sources:read",
		"POST /v1/tenants/{tenant}/sources/{id}/requests/{request}/replay": "sources, sources:write",
	}
	seen := map[string]bool{}
	for _, r := range routeTable {
		key := r.method + " " + r.pattern
		who := string(r.scope)
		switch r.scope {
		case adminOnly:
			who = "admin"
		case noToken:
			who = "no token"
		case metricsToken:
			who = "metrics token"
		case anyToken:
			who = "any token"
		default:
			if !r.scope.Valid() {
				t.Errorf("%s: scope %q is not one of access.AllScopes", key, r.scope)
			}
		}
		got := routeNames[r.label] + ", " + who
		if r.onMetricsListener() {
			got += ", metrics listener"
		}
		w, ok := want[key]
		switch {
		case !ok:
			t.Errorf("%s is not listed here; add %q: %q once its scope is decided", key, key, got)
		case got != w:
			t.Errorf("%s: %q; the list says %q", key, got, w)
		}
		seen[key] = true
	}
	for key := range want {
		if !seen[key] {
			t.Errorf("%s is listed but not in routeTable", key)
		}
	}
}

func TestRouterMatch(t *testing.T) {
	f := func(path, wantPattern string, wantParams ...string) {
		t.Helper()
		pr, p := routes.match(path)
		if pr == nil {
			if wantPattern != "" {
				t.Fatalf("%s: no match; want %s", path, wantPattern)
			}
			return
		}
		if pr.pattern != wantPattern {
			t.Fatalf("%s: matched %s; want %q", path, pr.pattern, wantPattern)
		}
		var want pathParams
		copy(want[:], wantParams)
		if p != want {
			t.Fatalf("%s: params %q; want %q", path, p, want)
		}
	}
	f("/v1/tenants/acme/events", "/v1/tenants/{tenant}/events", "acme")
	f("/v1/tenants/acme/events/batch", "/v1/tenants/{tenant}/events/batch", "acme")
	f("/v1/tenants/acme/events/evt_1", "/v1/tenants/{tenant}/events/{event}", "acme", "evt_1")
	f("/v1/tenants/events/events", "/v1/tenants/{tenant}/events", "events")
	f("/v1/tenants/acme/endpoints/ep_1/deliveries/evt_1/replay", "/v1/tenants/{tenant}/endpoints/{id}/deliveries/{event}/replay", "acme", "ep_1", "evt_1")
	f("/v1/tenants/acme/endpoints/replay", "/v1/tenants/{tenant}/endpoints/{id}", "acme", "replay")
	f("/v1/tenants/acme/sources/src_1/requests/req_1/replay", "/v1/tenants/{tenant}/sources/{id}/requests/{request}/replay", "acme", "src_1", "req_1")
	f("/v1/tenants", "/v1/tenants")
	f("/v1/tenants/acme", "/v1/tenants/{tenant}", "acme")
	f("/in/src_1", "/in/{source}", "src_1")
	f("/debug/pprof/", "/debug/pprof/{profile...}", "")
	f("/debug/pprof/heap", "/debug/pprof/{profile...}", "heap")
	f("/debug/pprof/a/b/c/d/e/f/g/h/i/j/k", "/debug/pprof/{profile...}", "a/b/c/d/e/f/g/h/i/j/k")
	f("/healthz", "/healthz")

	// No match: empty parameters, extra or missing segments, near misses.
	f("", "")
	f("/", "/")
	f("//", "")
	f("healthz", "")
	f("/healthz/", "")
	f("/in/", "")
	f("/in/a/b", "")
	f("/debug/pprof", "")
	f("/v1/tenants/", "") // the dispatcher trims the slash under /v1/tenants
	f("/v1/tenants//events", "")
	f("/v1/tenants/acme/events/", "")
	f("/v1/tenants/acme/nope", "")
	f("/v1/tenants/acme/endpoints/x/y", "")
	f("/v1/tenants/acme/events/batch/x", "")
	f("/v1/tenantsx", "")
	f("/v1/tenants/a/b/c/d/e/f/g/h/i/j/k/l", "")
}

// TestRouterAllow: a 405's Allow lists the pattern's methods in the usual
// order, whatever the table's order.
func TestRouterAllow(t *testing.T) {
	f := func(path, want string) {
		t.Helper()
		pr, _ := routes.match(path)
		if pr == nil {
			t.Fatalf("%s: no match", path)
		}
		if pr.allow != want {
			t.Fatalf("%s: Allow %q; want %q", path, pr.allow, want)
		}
	}
	f("/v1/tenants", "GET, POST")
	f("/v1/tenants/a", "GET, PATCH, DELETE")
	f("/v1/tenants/a/events", "GET, POST")
	f("/v1/tenants/a/events/batch", "POST")
	f("/v1/tenants/a/event-types/t", "GET, PUT, DELETE")
	f("/v1/tenants/a/api-keys/k", "DELETE")
	f("/in/src", "GET, POST")
}

func TestRouterRefusesBadTables(t *testing.T) {
	noop0, noop1, noop2 := h0(nil), h1(nil), h2(nil)
	f := func(wantErr string, rows ...route) {
		t.Helper()
		_, err := newRouter(rows)
		if err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Fatalf("error %v; want one containing %q", err, wantErr)
		}
	}
	f("does not start with /", route{"GET", "x", noop0, routeOther, adminOnly})
	f("empty or malformed", route{"GET", "/a//b", noop0, routeOther, adminOnly})
	f("malformed", route{"GET", "/a/{b", noop1, routeOther, adminOnly})
	f("names {b} twice", route{"GET", "/a/{b}/{b}", noop2, routeOther, adminOnly})
	f("only a last segment", route{"GET", "/a/{b...}/c", noop1, routeOther, adminOnly})
	f("only a last segment", route{"GET", "/{b...}", noop1, routeOther, adminOnly})
	f("takes 0 path parameters; the pattern has 1", route{"GET", "/a/{b}", noop0, routeOther, adminOnly})
	f("no {tenant}", route{"GET", "/a/{b}", noop1, routeOther, access.EndpointsRead})
	f("routed twice",
		route{"GET", "/a/{tenant}", noop1, routeOther, adminOnly},
		route{"GET", "/a/{tenant}", noop1, routeOther, adminOnly})
	f("routed twice",
		route{anyMethod, "/a", noop0, routeOther, adminOnly},
		route{"GET", "/a", noop0, routeOther, adminOnly})
	f("match the same paths",
		route{"GET", "/a/{tenant}", noop1, routeOther, adminOnly},
		route{"POST", "/a/{id}", noop1, routeOther, adminOnly})
	f("some methods of the pattern need a token",
		route{"GET", "/a", noop0, routeOther, adminOnly},
		route{"POST", "/a", noop0, routeOther, noToken})
}

// TestMayIsAnAllowList: the admin token may do anything; a key only what
// its tenant and scopes open, and nothing unrouted.
func TestMayIsAnAllowList(t *testing.T) {
	admin := principal{admin: true}
	key := principal{tenant: "a", scopes: access.DefaultKeyScopes}
	read := &route{scope: access.EndpointsRead}
	write := &route{scope: access.EndpointsWrite}
	closed := &route{scope: adminOnly}
	f := func(who principal, r *route, tenant string, want bool) {
		t.Helper()
		if got := who.may(r, tenant); got != want {
			t.Fatalf("may(%+v, %+v, %q) = %v; want %v", who, r, tenant, got, want)
		}
	}
	f(admin, closed, "", true)
	f(admin, nil, "", true)
	f(key, read, "a", true)
	f(key, read, "b", false)
	f(key, read, "", false)
	f(key, write, "a", false)
	f(key, closed, "a", false)
	f(key, nil, "a", false)
	f(principal{tenant: "a"}, read, "a", false) // a key without scopes
}

// TestRouterMatchAllocs: matching the hot publish path allocates nothing;
// its parameters are substrings of the path.
func TestRouterMatchAllocs(t *testing.T) {
	path := "/v1/tenants/acme/events"
	method := []byte("POST")
	n := testing.AllocsPerRun(1000, func() {
		pr, p := routes.match(path)
		if pr.find(method) == nil || pr.tenantOf(p) != "acme" {
			t.Fatal("no match")
		}
	})
	if n != 0 {
		t.Fatalf("%v allocations per match; want 0", n)
	}
}
