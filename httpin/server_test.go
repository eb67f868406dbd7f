package httpin_test

import (
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"hookline/httpin"
)

func TestAuth(t *testing.T) {
	s := newTestServer(t)
	s.mustCreateTenant(t, "acme")

	f := func(name, method, path, token string, wantStatus int, wantCode string) {
		t.Helper()
		before := s.snapshot(t)
		status, raw, h := s.doRaw(t, method, path, token, "application/json", `{"id":"zzz"}`)
		if status != wantStatus {
			t.Fatalf("%s: status %d; want %d (body %s)", name, status, wantStatus, short(raw))
		}
		if wantCode == "" {
			return
		}
		requireErrorBody(t, raw, wantCode)
		requireSameState(t, before, s.snapshot(t))
		// RFC 7235 section 3.1: a 401 carries a challenge. Checked with Errorf so
		// the remaining cases still run.
		if !strings.HasPrefix(h.Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("%s: 401 without a Bearer WWW-Authenticate header; headers %v", name, h)
		}
	}
	f("no header", "POST", "/v1/tenants", "", 401, "missing_token")
	f("no header, get", "GET", "/v1/tenants/acme", "", 401, "missing_token")
	f("no header, publish", "POST", "/v1/tenants/acme/events", "", 401, "missing_token")
	f("wrong token", "POST", "/v1/tenants", "nope", 401, "invalid_token")
	f("token prefix", "POST", "/v1/tenants", testToken[:len(testToken)-1], 401, "invalid_token")
	f("token plus suffix", "POST", "/v1/tenants", testToken+"X", 401, "invalid_token")
	f("basic", "POST", "/v1/tenants", "Basic xxx", 401, "invalid_token")
	f("basic with the token", "POST", "/v1/tenants", "Basic "+testToken, 401, "invalid_token")
	f("bearer without token", "POST", "/v1/tenants", "Bearer ", 401, "invalid_token")
	f("two spaces", "POST", "/v1/tenants", "Bearer  "+testToken, 401, "invalid_token")
	f("wrong token, publish", "POST", "/v1/tenants/acme/events", "nope", 401, "invalid_token")
	f("wrong token, unknown tenant", "GET", "/v1/tenants/nope", "nope", 401, "invalid_token")
	f("wrong token, bad method", "PUT", "/v1/tenants", "nope", 401, "invalid_token")

	// The scheme is case-insensitive (RFC 7235).
	f("lower-case scheme", "GET", "/v1/tenants/acme", "bearer "+testToken, 200, "")
	f("right token", "GET", "/v1/tenants/acme", testToken, 200, "")
}

func TestHealthAndMetricsNeedNoToken(t *testing.T) {
	s := newTestServer(t)
	f := func(path, wantInBody string) {
		t.Helper()
		status, raw, _ := s.doRaw(t, "GET", path, "", "", "")
		if status != 200 {
			t.Fatalf("GET %s: status %d (body %s)", path, status, short(raw))
		}
		if !strings.Contains(raw, wantInBody) {
			t.Fatalf("GET %s: body lacks %q:\n%s", path, wantInBody, short(raw))
		}
	}
	f("/healthz", `"ok"`)
	f("/readyz", `"ready"`)
	f("/metrics", "hookline_ingest_events_total")
	f("/metrics", "go_goroutines")
	f("/metrics", "hookline_http_requests_total")
	// A wrong token does not matter there either.
	status, _, _ := s.doRaw(t, "GET", "/healthz", "nope", "", "")
	require_Equal(t, status, 200)
	status, raw, _ := s.doRaw(t, "GET", "/metrics", "", "", "")
	require_Equal(t, status, 200)
	require_True(t, strings.Contains(raw, "process_resident_memory_bytes") || strings.Contains(raw, "go_goroutines"),
		"/metrics has no process metrics:\n%s", short(raw))
}

// TestMetricsCountIngest proves /metrics shows the engine's counters as they move.
func TestMetricsCountIngest(t *testing.T) {
	s := newTestServer(t)
	s.mustCreateTenant(t, "acme")
	for range 3 {
		status, raw, _ := s.doRaw(t, "POST", "/v1/tenants/acme/events", testToken, "application/json", `{"type":"a.b","payload":{}}`)
		require_Equal(t, status, 202)
		_ = raw
	}
	_, raw, _ := s.doRaw(t, "GET", "/metrics", "", "", "")
	re := regexp.MustCompile(`(?m)^hookline_ingest_events_total\{source="api"\} 3$`)
	require_True(t, re.MatchString(raw), "want hookline_ingest_events_total{source=\"api\"} 3 in:\n%s", grepLines(raw, "hookline_ingest"))
	re = regexp.MustCompile(`(?m)^hookline_http_requests_total\{route="publish",status_class="2xx"\} 3$`)
	require_True(t, re.MatchString(raw), "want 3 publish 2xx requests in:\n%s", grepLines(raw, "hookline_http_requests_total"))
}

func grepLines(text, sub string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func TestRouting(t *testing.T) {
	s := newTestServer(t)
	s.mustCreateTenant(t, "acme")
	ep := s.mustCreateEndpoint(t, "acme", `{"url":"http://127.0.0.1:9/hook"}`)
	epPath := "/v1/tenants/acme/endpoints/" + str(t, ep, "id")

	f := func(method, path string, wantStatus int, wantCode, wantAllow string) {
		t.Helper()
		s.reject(t, method, path, testToken, "application/json", `{"id":"zzz","type":"a","payload":1}`, wantStatus, wantCode)
		if wantAllow == "" {
			return
		}
		_, _, h := s.doRaw(t, method, path, testToken, "application/json", `{}`)
		if got := h.Get("Allow"); got != wantAllow {
			t.Fatalf("%s %s: Allow %q; want %q", method, path, got, wantAllow)
		}
	}
	f("GET", "/v2/x", 404, "not_found", "")
	f("GET", "/nope", 404, "not_found", "")
	f("GET", "/assets", 404, "not_found", "")
	f("GET", "/v1", 404, "not_found", "")
	f("GET", "/v1/tenantsx", 404, "not_found", "")
	f("GET", "/v1/tenants/acme/nope", 404, "not_found", "")
	f("GET", "/v1/tenants/acme/endpoints/x/y", 404, "not_found", "")
	f("PUT", "/v1/tenants", 405, "method_not_allowed", "GET, POST")
	f("DELETE", "/v1/tenants", 405, "method_not_allowed", "GET, POST")
	f("POST", "/v1/tenants/acme", 405, "method_not_allowed", "GET, PATCH, DELETE")
	f("PUT", "/v1/tenants/acme/events", 405, "method_not_allowed", "GET, POST")
	f("PUT", "/v1/tenants/acme/events/batch", 405, "method_not_allowed", "POST")
	f("PUT", "/v1/tenants/acme/endpoints", 405, "method_not_allowed", "GET, POST")
	f("POST", epPath, 405, "method_not_allowed", "GET, PATCH, DELETE")

	// Unknown paths answer 404 even without a token: there is nothing to protect.
	s.reject(t, "GET", "/v2/x", "", "", "", 404, "not_found")
	// A trailing slash is tolerated.
	status, _, _ := s.doRaw(t, "GET", "/v1/tenants/", testToken, "", "")
	require_Equal(t, status, http.StatusOK)
}

// TestShuttingDown: once the log is closed, publish answers 503 shutting_down
// with Retry-After, and the server keeps answering.
func TestShuttingDown(t *testing.T) {
	s := newTestServer(t)
	s.mustCreateTenant(t, "acme")
	s.stopEngine()
	s.closeLog()
	status, raw, h := s.doRaw(t, "POST", "/v1/tenants/acme/events", testToken, "application/json", `{"type":"a","payload":1}`)
	if status != http.StatusServiceUnavailable {
		t.Fatalf("status %d; want 503 (body %s)", status, short(raw))
	}
	requireErrorBody(t, raw, "shutting_down")
	if h.Get("Retry-After") == "" {
		t.Fatalf("503 without Retry-After; headers %v", h)
	}
	status, raw, _ = s.doRaw(t, "POST", "/v1/tenants/acme/events/batch", testToken, "application/json", `[{"type":"a","payload":1}]`)
	require_Equal(t, status, http.StatusServiceUnavailable)
	requireErrorBody(t, raw, "shutting_down")
}

// TestRequestHeaderLimit: a request line and headers of up to 16 KiB are
// read (a 15 KiB cookie used to get a bare 400 bad_request at 4 KiB); past
// that the answer is 431 request_headers_too_large with a JSON error naming
// the limit. Sent on a real connection, byte for byte.
func TestRequestHeaderLimit(t *testing.T) {
	s := newTestServer(t)
	s.mustCreateTenant(t, "acme")
	// head returns a request whose request line and headers, up to and
	// including the blank line, are exactly n bytes.
	head := func(method, path string, n int, extra string) string {
		start := method + " " + path + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + testToken + "\r\n" + extra + "X-Pad: "
		end := "\r\n\r\n"
		return start + strings.Repeat("a", n-len(start)-len(end)) + end
	}
	addr := s.srv.Addr()
	f := func(req string, wantStatus int, wantCode string) {
		t.Helper()
		status, raw, h := rawRequestAt(t, addr, req)
		if status != wantStatus {
			t.Fatalf("%d-byte head: status %d; want %d (body %s)", strings.Index(req, "\r\n\r\n")+4, status, wantStatus, short(raw))
		}
		if wantCode != "" {
			msg := requireErrorBody(t, raw, wantCode)
			require_True(t, strings.Contains(msg, "16384 bytes"), "message %q does not name the limit", msg)
			require_True(t, strings.HasPrefix(h.Get("Content-Type"), "application/json"), "Content-Type %q", h.Get("Content-Type"))
		}
	}
	f(head("GET", "/healthz", 15<<10, ""), 200, "")
	f(head("GET", "/healthz", 16<<10, ""), 200, "")
	f(head("GET", "/healthz", 16<<10+1, ""), 431, "request_headers_too_large")
	f(head("GET", "/healthz", 20<<10, ""), 431, "request_headers_too_large")
	f(head("GET", "/v1/tenants/acme/events", 64<<10, ""), 431, "request_headers_too_large")
	// The request line counts too.
	f("GET /healthz?q="+strings.Repeat("q", 20<<10)+" HTTP/1.1\r\nHost: x\r\n\r\n", 431, "request_headers_too_large")

	// A publish with 15 KiB of headers is accepted, its body read as usual.
	body := `{"type":"a","payload":{"n":1}}`
	req := head("POST", "/v1/tenants/acme/events", 15<<10, "Content-Type: application/json\r\nContent-Length: "+strconv.Itoa(len(body))+"\r\n") + body
	f(req, 202, "")

	// The metrics listener has the same limit (it had fasthttp's 4 KiB, and
	// a bare 400 bad_request past it).
	s = newTestServerHTTP(t, func(o *httpin.Options) { o.MetricsListen = "127.0.0.1:0" })
	addr = s.srv.MetricsAddr()
	f(head("GET", "/metrics", 15<<10, ""), 200, "")
	f(head("GET", "/healthz", 16<<10, ""), 200, "")
	f(head("GET", "/healthz", 16<<10+1, ""), 431, "request_headers_too_large")
}
