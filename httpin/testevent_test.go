package httpin_test

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"hookline/engine"
)

// testSink is a receiver answering every request with status and body, and
// recording what it got.
type testSink struct {
	srv *httptest.Server
	mu  sync.Mutex
	got []sinkRequest
}

type sinkRequest struct {
	header http.Header
	body   []byte
}

func newTestSink(t *testing.T, status int, body string) *testSink {
	t.Helper()
	ts := &testSink{}
	ts.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		ts.mu.Lock()
		ts.got = append(ts.got, sinkRequest{r.Header.Clone(), b})
		ts.mu.Unlock()
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(ts.srv.Close)
	return ts
}

func (ts *testSink) requests() []sinkRequest {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return slices.Clone(ts.got)
}

// testResponseKeys are the fields of every test answer, always present.
var testResponseKeys = []string{"attempted_at", "endpoint_id", "error_class", "event_id", "latency_ms", "response_body", "status", "success"}

func requireTestResponse(t *testing.T, m map[string]any) {
	t.Helper()
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	require_True(t, slices.Equal(keys, testResponseKeys), "answer has fields %v; want %v", keys, testResponseKeys)
	require_True(t, strings.HasPrefix(str(t, m, "event_id"), "evt_"), "event_id %v", m["event_id"])
	at, err := time.Parse(time.RFC3339Nano, str(t, m, "attempted_at"))
	require_NoError(t, err)
	require_True(t, time.Since(at) < time.Minute && time.Since(at) > -time.Minute, "attempted_at %v is not now", at)
	_, ok := m["latency_ms"].(float64)
	require_True(t, ok, "latency_ms is %T", m["latency_ms"])
}

// TestEndpointTestAPI: POST …/endpoints/{id}/test sends one signed
// hookline.test request with the given (or default) payload to that
// endpoint only and answers 200 with the attempt's result, a failed one
// included.
func TestEndpointTestAPI(t *testing.T) {
	s := newTestServer(t)
	s.mustCreateTenant(t, "acme")
	ok := newTestSink(t, http.StatusOK, `{"ok":true}`)
	ep := s.mustCreateEndpoint(t, "acme", `{"url":"`+ok.srv.URL+`/hook","event_types":["invoice.*"]}`)
	id := str(t, ep, "id")
	all := newTestSink(t, http.StatusOK, "")
	s.mustCreateEndpoint(t, "acme", `{"url":"`+all.srv.URL+`/hook"}`)
	path := "/v1/tenants/acme/endpoints/" + id + "/test"
	wh, err := standardwebhooks.NewWebhook(str(t, ep, "secret"))
	require_NoError(t, err)

	f := func(body, wantData string) {
		t.Helper()
		n := len(ok.requests())
		status, m, h := s.do(t, "POST", path, testToken, "application/json", body)
		require_Equal(t, status, http.StatusOK)
		require_True(t, strings.HasPrefix(h.Get("Content-Type"), "application/json"), "Content-Type %q", h.Get("Content-Type"))
		requireTestResponse(t, m)
		require_Equal(t, m["success"], any(true))
		require_Equal(t, m["status"], any(float64(200)))
		require_Equal(t, str(t, m, "error_class"), "")
		require_Equal(t, str(t, m, "response_body"), `{"ok":true}`)
		require_Equal(t, str(t, m, "endpoint_id"), id)
		reqs := ok.requests()
		require_Equal(t, len(reqs), n+1)
		r := reqs[n]
		require_NoError(t, wh.Verify(r.body, r.header))
		require_Equal(t, r.header.Get("webhook-id"), str(t, m, "event_id"))
		var got struct {
			Type string          `json:"type"`
			Data json.RawMessage `json:"data"`
		}
		require_NoError(t, json.Unmarshal(r.body, &got))
		require_Equal(t, got.Type, "hookline.test")
		require_Equal(t, string(got.Data), wantData)
	}
	def := `{"message":"test event from hookline","endpoint_id":"` + id + `"}`
	f(``, def)
	f("  \n", def)
	f(`{}`, def)
	f(`{"payload":{"invoice":"in_1","amount":1200, "lines":[1,2.50]}}`, `{"invoice":"in_1","amount":1200, "lines":[1,2.50]}`)
	f(` { "payload" : [1,"\u00e9"] } `, `[1,"\u00e9"]`)
	f(`{"payload":"ping"}`, `"ping"`)
	f(`{"payload":null}`, `null`)
	f(`{"pay\u006coad":7}`, `7`)
	// Nesting up to the publish limit (128) is allowed here too.
	deep := strings.Repeat(`[`, 128) + strings.Repeat(`]`, 128)
	f(`{"payload":`+deep+`}`, deep)

	time.Sleep(300 * time.Millisecond)
	require_Equal(t, len(ok.requests()), 9)
	require_Equal(t, len(all.requests()), 0)
	c := s.snapshot(t).counts
	require_Equal(t, c.Events, 9)
	require_Equal(t, c.Attempts, 9)
	require_Equal(t, c.Queued, 0)
	require_Equal(t, c.Retries, 0)
	require_Equal(t, c.Dead, 0)

	// A failing receiver: 200 with success false and its answer.
	bad := newTestSink(t, http.StatusServiceUnavailable, "down for maintenance")
	badEp := s.mustCreateEndpoint(t, "acme", `{"url":"`+bad.srv.URL+`/hook","paused":true}`)
	status, m, _ := s.do(t, "POST", "/v1/tenants/acme/endpoints/"+str(t, badEp, "id")+"/test", testToken, "", "")
	require_Equal(t, status, http.StatusOK)
	requireTestResponse(t, m)
	require_Equal(t, m["success"], any(false))
	require_Equal(t, m["status"], any(float64(503)))
	require_Equal(t, str(t, m, "response_body"), "down for maintenance")
	time.Sleep(300 * time.Millisecond)
	require_Equal(t, len(bad.requests()), 1)
	c = s.snapshot(t).counts
	require_Equal(t, c.Queued, 0)
	require_Equal(t, c.Retries, 0)
	require_Equal(t, c.Dead, 1)

	// Nothing listening: no status, error_class refused.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require_NoError(t, err)
	addr := l.Addr().String()
	require_NoError(t, l.Close())
	closed := s.mustCreateEndpoint(t, "acme", `{"url":"http://`+addr+`/hook"}`)
	status, m, _ = s.do(t, "POST", "/v1/tenants/acme/endpoints/"+str(t, closed, "id")+"/test", testToken, "", "")
	require_Equal(t, status, http.StatusOK)
	requireTestResponse(t, m)
	require_Equal(t, m["success"], any(false))
	require_Equal(t, m["status"], any(float64(0)))
	require_Equal(t, str(t, m, "error_class"), "refused")

	status, page, _ := s.doRaw(t, "GET", "/metrics", "", "", "")
	require_Equal(t, status, http.StatusOK)
	for _, line := range []string{
		`hookline_http_requests_total{route="endpoint_test",status_class="2xx"} 11`,
		`hookline_ingest_events_total{source="test"} 11`,
		`hookline_endpoint_test_attempts_total{status_class="2xx"} 9`,
		`hookline_endpoint_test_attempts_total{status_class="5xx"} 1`,
		`hookline_endpoint_test_attempts_total{status_class="error"} 1`,
	} {
		require_True(t, strings.Contains(page, line+"\n"), "/metrics lacks %q", line)
	}
}

// TestEndpointTestRejects: every bad request gets its status and code, and
// writes nothing (no event, no attempt) and sends nothing.
func TestEndpointTestRejects(t *testing.T) {
	s := newTestServer(t)
	s.mustCreateTenant(t, "acme")
	s.mustCreateTenant(t, "other")
	sink := newTestSink(t, http.StatusOK, "")
	ep := s.mustCreateEndpoint(t, "acme", `{"url":"`+sink.srv.URL+`/hook"}`)
	id := str(t, ep, "id")
	path := "/v1/tenants/acme/endpoints/" + id + "/test"

	f := func(method, path, body string, wantStatus int, wantCode string) {
		t.Helper()
		s.reject(t, method, path, testToken, "application/json", body, wantStatus, wantCode)
	}
	// Route, method, tenant and endpoint.
	f("GET", path, "", 405, "method_not_allowed")
	f("PUT", path, `{}`, 405, "method_not_allowed")
	f("POST", "/v1/tenants/nope/endpoints/"+id+"/test", "", 404, "tenant_not_found")
	f("POST", "/v1/tenants/other/endpoints/"+id+"/test", "", 404, "endpoint_not_found")
	f("POST", "/v1/tenants/acme/endpoints/ep_01JDZZZZZZZZZZZZZZZZZZZZZZ/test", "", 404, "endpoint_not_found")
	f("POST", "/v1/tenants/acme/endpoints/nonsense/test", "", 404, "endpoint_not_found")
	f("POST", path+"/again", "", 404, "not_found")
	f("POST", path+"s", "", 404, "not_found")
	s.reject(t, "POST", path, "", "", "", 401, "missing_token")
	s.reject(t, "POST", path, "wrong", "", "", 401, "invalid_token")

	// Bodies.
	f("POST", path, `[1]`, 400, "invalid_json")
	f("POST", path, `"payload"`, 400, "invalid_json")
	f("POST", path, `null`, 400, "invalid_json")
	f("POST", path, `42`, 400, "invalid_json")
	f("POST", path, `not json`, 400, "invalid_json")
	f("POST", path, `{"payload":`, 400, "invalid_json")
	f("POST", path, `{"payload":{}`, 400, "invalid_json")
	f("POST", path, `{"payload":{},}`, 400, "invalid_json")
	f("POST", path, `{"payload":{}} trailing`, 400, "invalid_json")
	f("POST", path, `{"payload":{}}{}`, 400, "invalid_json")
	f("POST", path, `{"payload":1,"payload":2}`, 400, "invalid_json")
	f("POST", path, `{"payload":[1,]}`, 400, "invalid_json")
	f("POST", path, `{"payload":"a`+"\x01"+`b"}`, 400, "invalid_json")
	f("POST", path, `{"payload":"`+"\xff\xfe"+`"}`, 400, "invalid_json")
	f("POST", path, `{"payload":"\x"}`, 400, "invalid_json")
	f("POST", path, `{"payload":NaN}`, 400, "invalid_json")
	f("POST", path, `{"payload":`+strings.Repeat("[", 129)+strings.Repeat("]", 129)+`}`, 400, "payload_too_deep")
	f("POST", path, `{"payload":`+strings.Repeat("[", 1025)+strings.Repeat("]", 1025)+`}`, 400, "payload_too_deep")
	f("POST", path, `{"type":"invoice.paid","payload":{}}`, 400, "unknown_field")
	f("POST", path, `{"payload":{},"idempotency_key":"k"}`, 400, "unknown_field")
	f("POST", path, `{"data":{}}`, 400, "unknown_field")
	big := `{"payload":"` + strings.Repeat("x", maxEventBytes) + `"}`
	f("POST", path, big, 413, "payload_too_large")

	require_Equal(t, len(sink.requests()), 0)
	require_Equal(t, s.snapshot(t).counts.Events, 0)

	// Broken JSON is reported as such before an unknown field.
	msg := s.reject(t, "POST", path, testToken, "", `{"nope":1,`, 400, "invalid_json")
	require_True(t, strings.Contains(msg, "offset"), "message %q does not say where", msg)
	msg = s.reject(t, "POST", path, testToken, "", `{"nope":1}`, 400, "unknown_field")
	require_True(t, strings.Contains(msg, `"nope"`), "message %q does not name the field", msg)
}

// TestEndpointTestBackPressure: a full delivery backlog does not refuse a
// test (it adds nothing to it); a full disk does, with 503 disk_full.
func TestEndpointTestBackPressure(t *testing.T) {
	s := newTestServer(t, func(o *engine.Options) { o.MaxBacklog = 1 })
	s.mustCreateTenant(t, "acme")
	sink := newTestSink(t, http.StatusNoContent, "")
	ep := s.mustCreateEndpoint(t, "acme", `{"url":"`+sink.srv.URL+`/hook","paused":true}`)
	for range 3 {
		status, _, _ := s.do(t, "POST", "/v1/tenants/acme/events", testToken, "application/json", `{"type":"a","payload":{}}`)
		require_Equal(t, status, http.StatusAccepted)
	}
	waitFor(t, 5*time.Second, "backlog_full", func() bool {
		status, _, _ := s.doRaw(t, "POST", "/v1/tenants/acme/events", testToken, "application/json", `{"type":"a","payload":{}}`)
		return status == http.StatusServiceUnavailable
	})
	status, m, _ := s.do(t, "POST", "/v1/tenants/acme/endpoints/"+str(t, ep, "id")+"/test", testToken, "", "")
	require_Equal(t, status, http.StatusOK)
	require_Equal(t, m["success"], any(true))
	require_Equal(t, m["status"], any(float64(204)))
	require_Equal(t, len(sink.requests()), 1)

	full := newTestServer(t, func(o *engine.Options) { o.DataDir = t.TempDir(); o.MinFreeDisk = 1 << 62 })
	full.mustCreateTenant(t, "acme")
	ep = full.mustCreateEndpoint(t, "acme", `{"url":"`+sink.srv.URL+`/hook"}`)
	_, _, h := full.doRaw(t, "POST", "/v1/tenants/acme/endpoints/"+str(t, ep, "id")+"/test", testToken, "", "")
	require_Equal(t, h.Get("Retry-After"), "5")
	full.reject(t, "POST", "/v1/tenants/acme/endpoints/"+str(t, ep, "id")+"/test", testToken, "", "", 503, "disk_full")
	require_Equal(t, len(sink.requests()), 1)
}
