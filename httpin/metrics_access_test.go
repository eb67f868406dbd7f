package httpin_test

import (
	"net/http"
	"strings"
	"testing"

	"hookline/httpin"
)

const testMetricsToken = "metrics-token-0123456789"

// scrape sends method path to base (the main or the metrics listener)
// with token ("" for none) and returns the status and body.
func (s *testServer) scrape(tb testing.TB, base, path, token string) (int, string) {
	tb.Helper()
	saved := s.base
	s.base = base
	defer func() { s.base = saved }()
	status, raw, _ := s.doRaw(tb, "GET", path, token, "", "")
	return status, raw
}

// TestMetricsAccess: /metrics is open by default (TestHealthAndMetricsNeedNoToken);
// with a metrics token it takes that token or the admin token on every
// listener; with a metrics listener it is served there, with /healthz and
// /readyz and nothing else, and the main listener's /metrics needs a token.
// Health needs no token anywhere; the metrics token opens nothing else.
func TestMetricsAccess(t *testing.T) {
	type want struct {
		status int
		code   string // of an error
	}
	ok := want{200, ""}
	missing := want{401, "missing_token"}
	invalid := want{401, "invalid_token"}
	forbidden := want{403, "forbidden"}
	notFound := want{404, "not_found"}
	check := func(s *testServer, base, path, token string, w want) {
		t.Helper()
		status, raw := s.scrape(t, base, path, token)
		if status != w.status {
			t.Fatalf("GET %s%s with token %q: status %d; want %d (%s)", base, path, token, status, w.status, short(raw))
		}
		switch {
		case w.code != "":
			requireErrorBody(t, raw, w.code)
		case path == "/metrics":
			require_True(t, strings.Contains(raw, "hookline_http_requests_total"), "GET %s%s: no metrics in %s", base, path, short(raw))
		}
	}
	key := func(s *testServer) string {
		s.mustCreateTenant(t, "acme")
		status, m, _ := s.do(t, "POST", "/v1/tenants/acme/api-keys", testToken, "application/json", `{}`)
		require_Equal(t, status, http.StatusCreated)
		return str(t, m, "key")
	}

	// A metrics token: /metrics needs it or the admin token.
	s := newTestServerHTTP(t, func(o *httpin.Options) { o.MetricsToken = testMetricsToken })
	tenantKey := key(s)
	require_Equal(t, s.srv.MetricsAddr(), "")
	check(s, s.base, "/metrics", "", missing)
	check(s, s.base, "/metrics", "nope", invalid)
	check(s, s.base, "/metrics", testMetricsToken+"x", invalid)
	check(s, s.base, "/metrics", testMetricsToken, ok)
	check(s, s.base, "/metrics", testToken, ok)
	check(s, s.base, "/metrics", tenantKey, forbidden)
	check(s, s.base, "/healthz", "", ok)
	check(s, s.base, "/readyz", "", ok)
	check(s, s.base, "/v1/tenants", testMetricsToken, invalid)
	check(s, s.base, "/v1/tenants/acme", testMetricsToken, invalid)
	check(s, s.base, "/debug/pprof/", testMetricsToken, invalid)

	// A metrics listener without a token: open there, closed on the main
	// listener but for the admin token.
	s = newTestServerHTTP(t, func(o *httpin.Options) { o.MetricsListen = "127.0.0.1:0" })
	tenantKey = key(s)
	m := "http://" + s.srv.MetricsAddr()
	require_True(t, m != s.base && m != "http://", "metrics listener %q, main %q", m, s.base)
	check(s, m, "/metrics", "", ok)
	check(s, m, "/metrics", "nope", ok)
	check(s, m, "/healthz", "", ok)
	check(s, m, "/readyz", "", ok)
	for _, path := range []string{"/v1/tenants", "/v1/tenants/acme", "/v1/audit", "/in/src_01M8VPY2YRDJYAXCT6WGFEF8W3", "/debug/pprof/", "/", "/metricsx"} {
		check(s, m, path, testToken, notFound)
		check(s, m, path, "", notFound)
	}
	check(s, s.base, "/metrics", "", missing)
	check(s, s.base, "/metrics", "nope", invalid)
	check(s, s.base, "/metrics", testToken, ok)
	check(s, s.base, "/metrics", tenantKey, forbidden)
	check(s, s.base, "/healthz", "", ok)
	// Requests on the metrics listener are counted like the others.
	_, raw := s.scrape(t, m, "/metrics", "")
	require_True(t, strings.Contains(raw, `hookline_http_requests_total{route="other",status_class="4xx"}`), "no 4xx of the metrics listener in %s", grepLines(raw, "requests_total"))

	// Both: the metrics listener wants the token too.
	s = newTestServerHTTP(t, func(o *httpin.Options) { o.MetricsListen, o.MetricsToken = "127.0.0.1:0", testMetricsToken })
	tenantKey = key(s)
	m = "http://" + s.srv.MetricsAddr()
	check(s, m, "/metrics", "", missing)
	check(s, m, "/metrics", "nope", invalid)
	check(s, m, "/metrics", testMetricsToken, ok)
	check(s, m, "/metrics", testToken, ok)
	check(s, m, "/metrics", tenantKey, forbidden)
	check(s, m, "/healthz", "", ok)
	check(s, m, "/v1/tenants", testToken, notFound)
	check(s, s.base, "/metrics", "", missing)
	check(s, s.base, "/metrics", testMetricsToken, ok)
}
