package httpin_test

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"hookline/httpin"
)

// TestOpenAPIResponses drives a real server through every documented
// operation, answering 2xx and the usual errors (400, 401, 403, 404, 409,
// 413), records every answer and validates each against openapi.json: a
// status the operation does not document, a body its schema refuses (the
// schemas refuse unknown fields) or an error code it does not list fails.
// An operation that no answer exercised with a 2xx fails too, so a route
// added to the document is added here.
func TestOpenAPIResponses(t *testing.T) {
	doc := loadOpenAPI(t)
	// A tenant credential's second replay of an endpoint's delivery within
	// the hour is refused, however slowly the test runs.
	s := newTestServerHTTP(t, func(o *httpin.Options) { o.ReplaysPerSecond = 1.0 / 3600 })
	a := "/v1/tenants/acme"
	// extra are header name, value pairs.
	call := func(method, path, token, body string, want int, extra ...string) map[string]any {
		t.Helper()
		ct := ""
		if body != "" {
			ct = "application/json"
		}
		status, raw, _ := s.doRaw(t, method, path, token, ct, body, extra...)
		if status != want {
			t.Fatalf("%s %s %s: status %d; want %d (body %s)", method, path, short(body), status, want, short(raw))
		}
		if strings.HasPrefix(raw, "{") {
			return decodeObject(t, raw)
		}
		return nil
	}
	admin := func(method, path, body string, want int, extra ...string) map[string]any {
		t.Helper()
		return call(method, path, testToken, body, want, extra...)
	}

	call("GET", "/v1/openapi.json", "", "", 200)

	// Tenants, and who may ask.
	admin("POST", "/v1/tenants", `{"id":"acme","name":"Acme","max_endpoints":50,"require_https":null}`, 201)
	admin("POST", "/v1/tenants", `{"id":"acme"}`, 409)
	admin("POST", "/v1/tenants", `{"id":"-bad"}`, 400)
	admin("POST", "/v1/tenants", `{"id":"x","colour":"red"}`, 400)
	admin("POST", "/v1/tenants", `{"id":"gone"}`, 201)
	admin("GET", "/v1/tenants?limit=1", "", 200)
	admin("GET", "/v1/tenants?limit=0", "", 400)
	admin("GET", a, "", 200)
	admin("GET", "/v1/tenants/nope", "", 404)
	admin("PATCH", a, `{"name":"Acme Inc","max_endpoints":null}`, 200, "X-Hookline-Reason", "renamed: ticket 7")
	admin("PATCH", a, `{"id":"other"}`, 400)
	admin("PATCH", a, `{"max_endpoints":0}`, 400)
	admin("PATCH", a, `{"require_https":"yes"}`, 400)
	admin("PATCH", a, `{"name":"Acme Inc"}`, 400, "X-Hookline-Reason", strings.Repeat("r", 501))
	admin("DELETE", "/v1/tenants/gone", "", 204)
	call("GET", "/v1/tenants", "", "", 401)
	call("GET", "/v1/tenants", "hlk_not_a_key", "", 401)

	// API keys.
	key := admin("POST", a+"/api-keys", `{"name":"portal","scopes":["endpoints:read"]}`, 201)
	admin("POST", a+"/api-keys", `{"scopes":[]}`, 400)
	admin("GET", a+"/api-keys", "", 200)
	call("GET", a+"/endpoints", str(t, key, "key"), "", 200)
	call("GET", a+"/audit", str(t, key, "key"), "", 403)
	call("GET", "/v1/tenants", str(t, key, "key"), "", 403)
	admin("GET", "/v1/me", "", 200)
	me := call("GET", "/v1/me", str(t, key, "key"), "", 200)
	require_Equal(t, str(t, me, "tenant")+" "+str(t, me, "actor_type")+" "+str(t, me, "name"), "acme api_key portal")
	call("GET", "/v1/me", "", "", 401)
	admin("DELETE", a+"/api-keys/"+str(t, key, "id"), "", 204)
	admin("DELETE", a+"/api-keys/"+str(t, key, "id"), "", 404)

	// Portal sessions: made, used, revoked.
	ps := admin("POST", a+"/portal-sessions", `{"scopes":["endpoints:read"],"expires_in":"15m"}`, 201)
	admin("POST", a+"/portal-sessions", "", 201)
	admin("POST", a+"/portal-sessions", `{"expires_in":"2d"}`, 400)
	admin("POST", a+"/portal-sessions", `{"scopes":["portal:create"]}`, 400)
	admin("POST", "/v1/tenants/nope/portal-sessions", `{}`, 404)
	admin("GET", a+"/portal-sessions", "", 200)
	call("GET", a+"/endpoints", str(t, ps, "token"), "", 200)
	me = call("GET", "/v1/me", str(t, ps, "token"), "", 200)
	require_Equal(t, str(t, me, "tenant_name")+" "+str(t, me, "actor_type")+" "+str(t, me, "expires_at"), "Acme Inc portal_session "+str(t, ps, "expires_at"))
	call("GET", a+"/audit", str(t, ps, "token"), "", 403)
	admin("DELETE", a+"/portal-sessions/"+str(t, ps, "id"), "", 204)
	admin("DELETE", a+"/portal-sessions/"+str(t, ps, "id"), "", 404)
	call("GET", a+"/endpoints", str(t, ps, "token"), "", 401)
	call("GET", "/v1/me", str(t, ps, "token"), "", 401)

	// Endpoints: one that accepts, one that fails and waits an hour to retry.
	okSink := newTestSink(t, http.StatusOK, `{"ok":true}`)
	badSink := newTestSink(t, http.StatusInternalServerError, "down")
	ep := admin("POST", a+"/endpoints", `{"url":"`+okSink.srv.URL+`/hook","description":"ok"}`, 201)
	bad := admin("POST", a+"/endpoints", `{"url":"`+badSink.srv.URL+`/hook","retry_schedule":["1h"],"signature":{"scheme":"hmac-sha256"},"headers":{"X-Env":"test"},"auth":{"type":"bearer","token":"t0k"}}`, 201)
	admin("POST", a+"/endpoints", `{"description":"no url"}`, 400)
	admin("PATCH", a, `{"max_endpoints":2,"require_https":true}`, 200)
	admin("POST", a+"/endpoints", `{"url":"`+okSink.srv.URL+`/third"}`, 409)
	admin("POST", a+"/endpoints", `{"url":"http://8.8.8.8/hook"}`, 400)
	admin("PATCH", a, `{"max_endpoints":null,"require_https":null}`, 200)
	e, b := a+"/endpoints/"+str(t, ep, "id"), a+"/endpoints/"+str(t, bad, "id")
	admin("GET", a+"/endpoints", "", 200)
	admin("GET", a+"/endpoints?include_deleted=false", "", 200)
	admin("GET", a+"/endpoints?include_deleted=yes", "", 400)
	admin("GET", a+"/endpoints?cursor=!", "", 400)
	admin("GET", e, "", 200)
	admin("GET", b, "", 200)
	admin("GET", a+"/endpoints/ep_nope", "", 404)
	admin("PATCH", e, `{"description":"still ok"}`, 200)
	admin("PATCH", e, `{"secret":"whsec_abc"}`, 400)
	admin("POST", e+"/pause", "", 200)
	admin("POST", e+"/pause", `{"now":true}`, 400)
	admin("POST", e+"/resume", "", 200)
	admin("POST", e+"/rotate-secret", `{"overlap":"1h"}`, 200)
	admin("POST", e+"/rotate-secret", `{"overlap":"soon"}`, 400)
	admin("POST", e+"/test", `{"payload":{"n":1}}`, 200)
	admin("POST", b+"/test", "", 200)
	admin("POST", e+"/preview", `{"event":{"type":"order.created","payload":{"n":1}}}`, 200)
	admin("POST", b+"/preview", `{"event":{"type":"order.created","payload":{"n":1}}}`, 200)
	admin("POST", e+"/preview", `{}`, 400)
	admin("POST", e+"/preview", `{"event":{"type":"order.created","payload":{"n":1}},"endpoint":{"body":{"n":"$.data.n"}}}`, 200)
	admin("POST", e+"/preview", `{"event":{"type":"order.created","payload":{"n":1}},"endpoint":{"body":{"n":"{$.data"}}}`, 400)
	admin("POST", a+"/endpoint-preview", `{"event":{"type":"order.created","payload":{"n":1}},"endpoint":{"url":"`+okSink.srv.URL+`/new","body":{"n":"$.data.n"}}}`, 200)
	admin("POST", a+"/endpoint-preview", `{"event":{"type":"order.created","payload":{"n":1}},"endpoint":{"description":"no url"}}`, 400)
	admin("POST", "/v1/tenants/nope/endpoint-preview", `{"event":{"type":"order.created","payload":{"n":1}},"endpoint":{"url":"`+okSink.srv.URL+`/new"}}`, 404)

	// Publishing, the feed and an event's deliveries.
	ev := admin("POST", a+"/events", `{"type":"order.created","payload":{"n":1},"idempotency_key":"k1"}`, 202)
	admin("POST", a+"/events", `{"type":"order.created","payload":{"n":1},"idempotency_key":"k1"}`, 202)
	admin("POST", a+"/events", `{"type":"order.created"}`, 400)
	admin("POST", a+"/events", `{"type":"hookline.x","payload":1}`, 400)
	admin("POST", "/v1/tenants/nope/events", `{"type":"x","payload":1}`, 404)
	admin("POST", a+"/events", `{"type":"big","payload":"`+strings.Repeat("x", maxEventBytes)+`"}`, 413)
	admin("POST", a+"/events/batch", `[{"type":"order.paid","payload":{"n":2}},{"type":"order.paid","payload":{"n":3}}]`, 202)
	admin("POST", a+"/events/batch", `[]`, 400)
	admin("GET", a+"/events?wait=0s&limit=2", "", 200)
	admin("GET", a+"/events?wait=soon", "", 400)
	evID := str(t, ev, "id")
	admin("GET", a+"/events/"+evID, "", 200)
	admin("GET", a+"/events/evt_nope", "", 404)

	// Wait for the attempt records, then read and act on the deliveries.
	waitFor(t, 10*time.Second, "the deliveries' first attempts", func() bool {
		_, okD, _ := s.do(t, "GET", e+"/deliveries/"+evID, testToken, "", "")
		_, badD, _ := s.do(t, "GET", b+"/deliveries/"+evID, testToken, "", "")
		return okD["status"] == "succeeded" && badD["status"] == "retrying"
	})
	admin("GET", a+"/events/"+evID, "", 200)
	admin("GET", e+"/deliveries", "", 200)
	admin("GET", b+"/deliveries?status=retrying&type=order.*&since=2020-01-01T00:00:00Z&limit=1", "", 200)
	admin("GET", e+"/deliveries?status=lost", "", 400)
	admin("GET", e+"/deliveries?since=yesterday", "", 400)
	admin("GET", e+"/deliveries/evt_nope", "", 404)
	admin("GET", a+"/deliveries", "", 200)
	admin("GET", a+"/deliveries?endpoint="+str(t, ep, "id")+","+str(t, bad, "id")+"&status=retrying&type=order.*&limit=1", "", 200)
	admin("GET", a+"/deliveries?endpoint=ep_nope", "", 404)
	admin("GET", a+"/deliveries?endpoint=", "", 400)
	admin("GET", a+"/deliveries?cursor=!", "", 400)
	admin("GET", a+"/stats", "", 200)
	admin("GET", a+"/stats?window=7d", "", 200)
	admin("GET", a+"/stats?window=2d", "", 400)
	replayer := admin("POST", a+"/api-keys", `{"name":"replayer","scopes":["deliveries:replay"]}`, 201)
	call("POST", e+"/deliveries/"+evID+"/replay", str(t, replayer, "key"), "", 202)
	call("POST", e+"/deliveries/"+evID+"/replay", str(t, replayer, "key"), "", 429)
	waitFor(t, 10*time.Second, "the key's replay's attempt", func() bool {
		_, d, _ := s.do(t, "GET", e+"/deliveries/"+evID, testToken, "", "")
		n, _ := d["attempts"].(float64)
		return d["status"] == "succeeded" && n >= 2
	})
	admin("POST", e+"/deliveries/"+evID+"/replay", `{"reason":"check"}`, 202)
	admin("POST", b+"/deliveries/"+evID+"/replay", "", 409)
	admin("POST", b+"/deliveries/"+evID+"/cancel", "", 200)
	admin("POST", b+"/deliveries/"+evID+"/cancel", "", 409)
	admin("GET", e+"/health", "", 200)
	admin("GET", b+"/health", "", 200)
	admin("POST", e+"/preview", `{"event_id":"`+evID+`"}`, 200)

	// Bulk jobs.
	job := admin("POST", e+"/replay", `{"status":"all","rate_per_second":1000}`, 202)
	admin("POST", e+"/backfill", `{"since":"2020-01-01T00:00:00Z"}`, 202)
	admin("POST", b+"/cancel", `{}`, 202)
	admin("POST", e+"/backfill", `{}`, 400)
	admin("POST", e+"/replay", `{"since":"monday"}`, 400)
	admin("GET", a+"/jobs", "", 200)
	admin("GET", a+"/jobs/"+str(t, job, "id"), "", 200)
	admin("POST", a+"/jobs/"+str(t, job, "id")+"/stop", "", 200)
	admin("GET", a+"/jobs/job_nope", "", 404)

	// The event-type catalogue.
	admin("POST", a+"/event-types", `{"type":"invoice.paid","description":"Paid","schema":{"type":"object","required":["amount"]}}`, 201)
	admin("POST", a+"/event-types", `{"type":"invoice.paid"}`, 409)
	admin("POST", a+"/event-types", `{"type":"hookline.x"}`, 400)
	admin("GET", a+"/event-types", "", 200)
	admin("GET", a+"/event-types/invoice.paid", "", 200)
	admin("PUT", a+"/event-types/invoice.paid", `{"description":"Paid, v2","schema":{"type":"object","required":["amount"]}}`, 200)
	admin("PUT", a+"/event-types/invoice.void", `{"description":"Void"}`, 201)
	admin("PUT", a+"/event-types/invoice.void", `{"type":"invoice.other"}`, 400)
	admin("POST", a+"/events", `{"type":"invoice.paid","payload":{"n":1}}`, 400)
	admin("DELETE", a+"/event-types/invoice.void", "", 204)
	admin("GET", a+"/event-types/invoice.void", "", 404)

	// Sources, the receiver and the request log.
	src := admin("POST", a+"/sources", `{"name":"open","provider":"none","mapping":{"type":"thing.{$.kind}"}}`, 201)
	gh := admin("POST", a+"/sources", `{"name":"gh","provider":"github","secret":"0123456789abcdef"}`, 201)
	admin("POST", a+"/sources", `{"provider":"stripe"}`, 400)
	sp := a + "/sources/" + str(t, src, "id")
	admin("GET", a+"/sources", "", 200)
	admin("GET", sp, "", 200)
	admin("GET", a+"/sources/src_nope", "", 404)
	admin("PATCH", sp, `{"name":"open, renamed"}`, 200)
	admin("PATCH", sp, `{"provider":"github"}`, 400)
	admin("POST", a+"/sources/"+str(t, gh, "id")+"/rotate-secret", `{"secret":"fedcba9876543210","overlap":"1h"}`, 200)
	admin("POST", sp+"/test", `{"body":{"kind":"made"}}`, 200)
	admin("POST", sp+"/test", `{"body":"x","raw_body":"x"}`, 400)
	in := call("POST", str(t, src, "url"), "", `{"kind":"made"}`, 200)
	call("POST", str(t, src, "url"), "", `{"kind":"made"}`, 200)
	call("POST", str(t, src, "url"), "", `not json`, 422)
	call("POST", str(t, gh, "url"), "", `{"zen":"hi"}`, 401)
	call("POST", "/in/src_nope", "", `{}`, 404)
	wa := admin("POST", a+"/sources", `{"provider":"whatsapp","secret":"0123456789abcdef0123456789abcdef","verify_token":"vt"}`, 201)
	admin("PATCH", a+"/sources/"+str(t, wa, "id"), `{"verify_token":"vt2"}`, 200)
	admin("PATCH", a+"/sources/"+str(t, wa, "id"), `{"verify_token":""}`, 400)
	call("GET", str(t, wa, "url")+"?hub.mode=subscribe&hub.verify_token=vt2&hub.challenge=42", "", "", 200)
	call("GET", str(t, wa, "url")+"?hub.mode=subscribe&hub.verify_token=vt&hub.challenge=42", "", "", 403)
	call("GET", str(t, wa, "url")+"?hub.mode=subscribe&hub.verify_token=vt2", "", "", 400)
	call("GET", str(t, src, "url"), "", "", 405)
	call("GET", "/in/src_nope", "", "", 404)
	reqs := admin("GET", sp+"/requests?limit=10", "", 200)
	admin("GET", sp+"/requests?cursor=!", "", 400)
	var reqID string
	for _, r := range reqs["data"].([]any) {
		if r := r.(map[string]any); r["event_id"] == in["id"] {
			reqID = str(t, r, "id")
		}
	}
	require_True(t, reqID != "", "no request in the log made event %v", in["id"])
	admin("GET", sp+"/requests/"+reqID, "", 200)
	admin("GET", sp+"/requests/req_nope", "", 404)
	admin("POST", sp+"/requests/"+reqID+"/replay", "", 200)
	admin("DELETE", a+"/sources/"+str(t, gh, "id"), "", 204)

	// The audit log, and what is left to delete.
	admin("GET", "/v1/audit?limit=5", "", 200)
	admin("GET", a+"/audit", "", 200)
	admin("GET", "/v1/tenants/nope/audit", "", 404)
	admin("DELETE", e, "", 204, "X-Hookline-Reason", "retired")
	admin("DELETE", e, "", 409)
	admin("GET", e, "", 200)
	admin("GET", a+"/endpoints?include_deleted=true", "", 200)
	admin("PATCH", e, `{"description":"gone"}`, 409)
	admin("GET", e+"/health", "", 409)
	admin("GET", e+"/deliveries", "", 200)
	admin("GET", a+"/deliveries?endpoint="+str(t, ep, "id"), "", 200)
	admin("DELETE", a+"/endpoints/ep_nope", "", 404)

	// Every answer is checked against the document when the test ends
	// (checkAnswers); here, that every operation had a 2xx.
	exercised := map[string][]int{}
	for _, ex := range s.rec.exchanges() {
		if op := operationOf(doc, ex); op != nil {
			exercised[op.OperationID] = append(exercised[op.OperationID], ex.status)
		}
	}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			if !slices.ContainsFunc(exercised[op.OperationID], func(st int) bool { return st/100 == 2 }) {
				t.Errorf("%s %s (%s) got no 2xx answer here; answers: %v", method, path, op.OperationID, statusList(exercised[op.OperationID]))
			}
		}
	}
}

func statusList(ss []int) string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = strconv.Itoa(s)
	}
	return strings.Join(out, ",")
}
