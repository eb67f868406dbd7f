package httpin_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestShapedEndpointAPI: the shaping fields as the API takes and shows
// them; auth is masked in every answer; null removes a field; preview
// answers the request without sending it.
func TestShapedEndpointAPI(t *testing.T) {
	s := newTestServer(t)
	s.mustCreateTenant(t, "acme")
	var (
		mu  sync.Mutex
		got []*http.Request
	)
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		mu.Lock()
		got = append(got, r)
		mu.Unlock()
	}))
	t.Cleanup(rc.Close)
	const token = "crm-token-abcdefghijklmnop"
	ep := s.mustCreateEndpoint(t, "acme", `{"url":"`+rc.URL+`/accounts/{$.data.account.id}","method":"PUT",`+
		`"headers":{"X-Team":"growth"},"auth":{"type":"bearer","token":"`+token+`"},`+
		`"body":{"name":"$.data.account.name","text":"Hi {$.data.account.name}"},"filter":{"path":"$.data.score","gte":80}}`)
	id := str(t, ep, "id")
	path := "/v1/tenants/acme/endpoints/" + id
	for _, raw := range []string{mustGet(t, s, path), mustGet(t, s, "/v1/tenants/acme/endpoints")} {
		require_True(t, !strings.Contains(raw, token), "an answer shows the token: %s", raw)
		require_True(t, strings.Contains(raw, `"method":"PUT"`) && strings.Contains(raw, `"X-Team":"growth"`) &&
			strings.Contains(raw, `"filter":{"path":"$.data.score","gte":80}`), "shaping fields: %s", raw)
	}

	status, m, _ := s.do(t, "POST", path+"/preview", testToken, "application/json",
		`{"event":{"type":"account.updated","payload":{"account":{"id":"a/1","name":"Zoë"},"score":90}}}`)
	require_Equal(t, status, http.StatusOK)
	require_Equal(t, m["method"], any("PUT"))
	require_Equal(t, m["url"], any(rc.URL+"/accounts/a%2F1"))
	require_Equal(t, m["body"], any(`{"name":"Zoë","text":"Hi Zoë"}`))
	headers := m["headers"].(map[string]any)
	auth, _ := headers["Authorization"].(string)
	require_True(t, strings.HasPrefix(auth, "Bearer ") && !strings.Contains(auth, token), "masked auth %q", auth)
	require_Equal(t, headers["X-Team"], any("growth"))
	mu.Lock()
	require_Equal(t, len(got), 0)
	mu.Unlock()

	f := func(body string, wantStatus int, code string) {
		t.Helper()
		s.reject(t, "POST", path+"/preview", testToken, "application/json", body, wantStatus, code)
	}
	f(`{}`, 400, "invalid_preview")
	f(`{"event":{"type":"a","payload":{}},"event_id":"evt_x"}`, 400, "invalid_preview")
	f(`{"event":{"type":"a","payload":{"account":{}}}}`, 400, "render_failed")
	f(`{"event":{"type":"a b","payload":{}}}`, 400, "invalid_type")
	f(`{"event_id":"evt_01JDZZZZZZZZZZZZZZZZZZZZZZ"}`, 404, "event_not_found")
	f(`{"event":{"type":"a","payload":`+strings.Repeat("[", 200)+strings.Repeat("]", 200)+`}}`, 400, "payload_too_deep")
	f(`{"evnt":{}}`, 400, "unknown_field")

	// Bad shaping fields are refused with the field named, nothing stored.
	g := func(body, code, field string) {
		t.Helper()
		msg := s.reject(t, "PATCH", path, testToken, "application/json", body, 400, code)
		require_True(t, strings.Contains(msg, field), "message %q does not name %q", msg, field)
	}
	g(`{"body":{"text":"{$.data.x"}}`, "invalid_template", "body.text")
	g(`{"url":"http://{$.data.host}/x"}`, "invalid_template", "url")
	g(`{"headers":{"Transfer-Encoding":"chunked"}}`, "invalid_headers", "Transfer-Encoding")
	g(`{"auth":{"type":"basic","password":"p"}}`, "invalid_auth", "auth.username")
	g(`{"signature":{"scheme":"hmac-sha256","encoding":"base32"}}`, "invalid_signature", "encoding")
	g(`{"method":"TRACE"}`, "invalid_method", "TRACE")

	// null removes a field.
	status, m, _ = s.do(t, "PATCH", path, testToken, "application/json", `{"body":null,"filter":null,"auth":null,"headers":null}`)
	require_Equal(t, status, http.StatusOK)
	_, hasBody := m["body"]
	_, hasAuth := m["auth"]
	_, hasHeaders := m["headers"]
	require_True(t, !hasBody && !hasAuth && !hasHeaders && m["filter"] == nil, "fields removed: %v", m)
	s.reject(t, "PATCH", path, testToken, "application/json", `{"headers":{"X-A":1}}`, 400, "invalid_headers")
}

// TestReplayCorrectedAPI: a replay may carry a corrected payload and a
// reason; the attempt shows corrected, the payload is checked as a
// published one is.
func TestReplayCorrectedAPI(t *testing.T) {
	s := newTestServer(t)
	s.mustCreateTenant(t, "acme")
	var (
		mu     sync.Mutex
		bodies []string
	)
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, string(b))
		n := len(bodies)
		mu.Unlock()
		if n == 1 {
			w.WriteHeader(http.StatusBadRequest) // final: dead at once
		}
	}))
	t.Cleanup(rc.Close)
	ep := s.mustCreateEndpoint(t, "acme", `{"url":"`+rc.URL+`/hook"}`)
	status, m, _ := s.do(t, "POST", "/v1/tenants/acme/events", testToken, "application/json", `{"type":"invoice.paid","payload":{"amount":"12,00"}}`)
	require_Equal(t, status, http.StatusAccepted)
	evt := str(t, m, "id")
	path := "/v1/tenants/acme/endpoints/" + str(t, ep, "id") + "/deliveries/" + evt
	waitFor(t, time.Minute, "the dead letter", func() bool {
		_, m, _ := s.do(t, "GET", path, testToken, "", "")
		return m["status"] == "dead"
	})
	// The death is announced (hookline.delivery.exhausted) just after it is
	// stored; the rejections below must find the wal at rest.
	waitFor(t, time.Minute, "the exhausted event", func() bool {
		c, err := s.log.Count()
		require_NoError(t, err)
		return c.Events == 2
	})
	f := func(body string, wantStatus int, code string) {
		t.Helper()
		s.reject(t, "POST", path+"/replay", testToken, "application/json", body, wantStatus, code)
	}
	f(`{"payload":`+strings.Repeat("[", 200)+strings.Repeat("]", 200)+`}`, 400, "payload_too_deep")
	f(`{"payload":{"a":1},"reason":"`+strings.Repeat("x", 1001)+`"}`, 400, "invalid_reason")
	f(`{"payload":{"a":1},"why":"x"}`, 400, "unknown_field")
	f(`{"payload":{"a":`, 400, "invalid_json")

	status, _, _ = s.do(t, "POST", path+"/replay", testToken, "application/json", `{"payload":{"amount":1200},"reason":"amount was text"}`)
	require_Equal(t, status, http.StatusAccepted)
	waitFor(t, time.Minute, "the corrected delivery", func() bool {
		_, m, _ := s.do(t, "GET", path, testToken, "", "")
		return m["status"] == "succeeded"
	})
	mu.Lock()
	require_True(t, len(bodies) == 2 && strings.Contains(bodies[1], `"data":{"amount":1200}`), "bodies %q", bodies)
	mu.Unlock()
	_, m, _ = s.do(t, "GET", path, testToken, "", "")
	log := m["attempt_log"].([]any)
	last := log[len(log)-1].(map[string]any)
	require_Equal(t, last["corrected"], any(true))
	require_True(t, strings.Contains(last["request_body"].(string), `"amount":1200`), "request_body %v", last["request_body"])
	audit := mustGet(t, s, "/v1/tenants/acme/audit")
	require_True(t, strings.Contains(audit, "amount was text"), "the audit log keeps the reason: %s", short(audit))
}

func mustGet(t *testing.T, s *testServer, path string) string {
	t.Helper()
	status, raw, _ := s.doRaw(t, "GET", path, testToken, "", "")
	require_Equal(t, status, http.StatusOK)
	var v any
	require_NoError(t, json.Unmarshal([]byte(raw), &v))
	return raw
}
