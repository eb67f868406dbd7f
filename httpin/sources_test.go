package httpin_test

// Inbound sources over HTTP, the operator's side: management, mappings,
// rotation, the request log, dry runs.

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"hookline/httpin"
)

// TestSourceCRUD: create, list, get, patch, delete; secrets appear only in
// the answers to create and rotate, never in the audit log.
func TestSourceCRUD(t *testing.T) {
	s := newTestServer(t)
	s.mustCreateTenant(t, "acme")
	const secret = "whsec_crud_secret_value"
	src := s.createSource(t, "acme", `{"name":"Stripe live","provider":"stripe","secret":"`+secret+`","tolerance":"10m"}`)
	id := str(t, src, "id")
	require_True(t, strings.HasPrefix(id, "src_"), "id %q", id)
	require_Equal(t, str(t, src, "secret"), secret)
	require_Equal(t, str(t, src, "provider"), "stripe")
	require_Equal(t, str(t, src, "tenant"), "acme")
	other := s.createSource(t, "acme", `{"provider":"none","mapping":{"type":"x"}}`)

	for _, p := range []string{sourcesPath, sourcesPath + "/" + id} {
		status, raw, _ := s.doRaw(t, "GET", p, testToken, "", "")
		require_Equal(t, status, http.StatusOK)
		require_True(t, !strings.Contains(raw, secret), "GET %s shows the secret: %s", p, raw)
		require_True(t, !strings.Contains(raw, `"secret"`), "GET %s has a secret field: %s", p, raw)
	}
	_, m, _ := s.do(t, "GET", sourcesPath, testToken, "", "")
	data := m["data"].([]any)
	require_Equal(t, len(data), 2)
	require_Equal(t, data[0].(map[string]any)["id"], any(id))
	require_Equal(t, data[1].(map[string]any)["id"], any(str(t, other, "id")))

	status, m, _ := s.do(t, "PATCH", sourcesPath+"/"+id, testToken, "application/json", `{"name":"Stripe (live)","mapping":{"type":"billing.{$.type}","id":"$.id"}}`)
	require_Equal(t, status, http.StatusOK)
	require_Equal(t, str(t, m, "name"), "Stripe (live)")
	require_Equal(t, str(t, m, "tolerance"), "10m")
	_, hasSecret := m["secret"]
	require_True(t, !hasSecret, "PATCH shows the secret: %v", m)
	_, m, _ = s.do(t, "GET", sourcesPath+"/"+id, testToken, "", "")
	require_Equal(t, str(t, m, "name"), "Stripe (live)")
	require_Equal(t, string(mustJSON(t, m["mapping"])), `{"id":"$.id","type":"billing.{$.type}"}`)

	// The mapping goes back to the provider's default with null.
	status, m, _ = s.do(t, "PATCH", sourcesPath+"/"+id, testToken, "application/json", `{"mapping":null}`)
	require_Equal(t, status, http.StatusOK)
	_, hasMapping := m["mapping"]
	require_True(t, !hasMapping, "mapping still set after null: %v", m["mapping"])

	status, m, _ = s.do(t, "POST", sourcesPath+"/"+id+"/rotate-secret", testToken, "application/json", `{"secret":"whsec_crud_next","overlap":"1h"}`)
	require_Equal(t, status, http.StatusOK)
	require_Equal(t, str(t, m, "secret"), "whsec_crud_next")
	require_True(t, m["previous_secret_expires_at"] != nil, "no previous_secret_expires_at: %v", m)
	status, raw, _ := s.doRaw(t, "GET", sourcesPath+"/"+id, testToken, "", "")
	require_Equal(t, status, http.StatusOK)
	require_True(t, !strings.Contains(raw, "whsec_crud"), "GET shows a secret after rotation: %s", raw)

	status, _, _ = s.doRaw(t, "DELETE", sourcesPath+"/"+str(t, other, "id"), testToken, "", "")
	require_Equal(t, status, http.StatusNoContent)
	s.reject(t, "GET", sourcesPath+"/"+str(t, other, "id"), testToken, "", "", 404, "source_not_found")
	s.rejected(t, str(t, other, "url"), []byte(`{}`), 404, "source_not_found")

	status, raw, _ = s.doRaw(t, "GET", "/v1/tenants/acme/audit", testToken, "", "")
	require_Equal(t, status, http.StatusOK)
	require_True(t, !strings.Contains(raw, "whsec_crud"), "a secret is in the audit log: %s", raw)
	_, m, _ = s.do(t, "GET", "/v1/tenants/acme/audit", testToken, "", "")
	var actions []string
	for _, e := range m["data"].([]any) {
		actions = append(actions, e.(map[string]any)["action"].(string))
	}
	require_Equal(t, strings.Join(actions, ","), "source.delete,source.rotate_secret,source.update,source.update,source.create,source.create,tenant.create")
}

func mustJSON(tb testing.TB, v any) []byte {
	tb.Helper()
	b, err := json.Marshal(v)
	require_NoError(tb, err)
	return b
}

// TestSourceRejects: every bad create or patch has its status and code
// and writes nothing.
func TestSourceRejects(t *testing.T) {
	s := newTestServer(t)
	s.mustCreateTenant(t, "acme")
	s.mustCreateTenant(t, "other")
	src := s.createSource(t, "acme", `{"provider":"github","secret":"s"}`)
	id := str(t, src, "id")
	otherSrc := s.createSource(t, "other", `{"provider":"github","secret":"s"}`)

	create := func(body string, wantStatus int, wantCode string) string {
		t.Helper()
		return s.reject(t, "POST", sourcesPath, testToken, "application/json", body, wantStatus, wantCode)
	}
	create(`{"secret":"x"}`, 400, "missing_provider")
	create(`{"provider":"stripe-ish","secret":"x"}`, 400, "invalid_provider")
	create(`{"provider":"stripe"}`, 400, "missing_secret")
	create(`{"provider":"stripe","secret":""}`, 400, "missing_secret")
	create(`{"provider":"stripe","secret":"x","tolerance":"soon"}`, 400, "invalid_tolerance")
	create(`{"provider":"stripe","secret":"x","tolerance":"0s"}`, 400, "invalid_tolerance")
	create(`{"provider":"stripe","secret":"x","tolerance":"48h"}`, 400, "invalid_tolerance")
	create(`{"provider":"stripe","secret":"`+strings.Repeat("x", 4097)+`"}`, 400, "invalid_secret")
	create(`{"provider":"stripe","secret":"x","name":"`+strings.Repeat("n", 201)+`"}`, 400, "invalid_name")
	create(`{"provider":"basic","secret":"no-colon","mapping":{"type":"x"}}`, 400, "invalid_secret")
	create(`{"provider":"standard-webhooks","secret":"whsec_!!!"}`, 400, "invalid_secret")
	create(`{"provider":"api-key","secret":"k","mapping":{"type":"x"}}`, 400, "invalid_verification")
	create(`{"provider":"api-key","secret":"k","api_key":{"header":"bad header"},"mapping":{"type":"x"}}`, 400, "invalid_verification")
	create(`{"provider":"hmac","secret":"k","mapping":{"type":"x"}}`, 400, "invalid_verification")
	create(`{"provider":"hmac","secret":"k","hmac":{"header":"X-Sig","algorithm":"md5"},"mapping":{"type":"x"}}`, 400, "invalid_verification")
	// Secrets the operator invents have a minimum length (16 bytes);
	// provider-issued ones (stripe's "x" above) keep the provider's format.
	for _, secret := range []string{"7", "k", ":", "hook:0123456789abcde", "0123456789abcde"} {
		for _, p := range []string{"hmac", "basic", "api-key"} {
			if p != "basic" && strings.Contains(secret, "hook:") || p == "basic" && !strings.Contains(secret, ":") {
				continue
			}
			body := `{"provider":"` + p + `","secret":"` + secret + `","hmac":{"header":"X-Sig"},"api_key":{"header":"X-Key"},"mapping":{"type":"x"}}`
			msg := create(body, 400, "weak_secret")
			require_True(t, strings.Contains(msg, "at least 16 bytes") && !(len(secret) > 2 && strings.Contains(msg, secret)), "message %q does not name the minimum or shows the secret", msg)
		}
	}
	for _, p := range []string{"hmac", "basic", "api-key", "none"} {
		body := `{"provider":"` + p + `","secret":"u:0123456789abcdef","hmac":{"header":"X-Sig"},"api_key":{"header":"X-Key"}}`
		msg := create(body, 400, "missing_mapping")
		require_True(t, strings.Contains(msg, "mapping.type"), "message %q does not say what to give", msg)
	}
	msg := create(`{"provider":"none","mapping":{"type":"x","routes":[{"when":{"path":"$.a"},"type":"y"}]}}`, 400, "invalid_mapping")
	require_True(t, strings.Contains(msg, "routes[0].when"), "message %q does not name the rule", msg)
	msg = create(`{"provider":"none","mapping":{"type":"x.{$.a"}}`, 400, "invalid_mapping")
	require_True(t, strings.Contains(msg, "type"), "message %q does not name the rule", msg)
	create(`{"provider":"none","mapping":{"type":"x","colour":"red"}}`, 400, "invalid_mapping")
	create(`{"provider":"none","mapping":"x"}`, 400, "invalid_mapping")
	create(`{"provider":"github","secret":"s","hue":1}`, 400, "unknown_field")
	create(`{"provider":1}`, 400, "invalid_field")
	create(`[]`, 400, "invalid_json")
	s.reject(t, "POST", "/v1/tenants/nope/sources", testToken, "application/json", `{"provider":"github","secret":"s"}`, 404, "tenant_not_found")
	s.reject(t, "PUT", sourcesPath, testToken, "application/json", `{}`, 405, "method_not_allowed")

	p := sourcesPath + "/" + id
	patch := func(path, body string, wantStatus int, wantCode string) {
		t.Helper()
		s.reject(t, "PATCH", path, testToken, "application/json", body, wantStatus, wantCode)
	}
	patch(p, `{"secret":"new"}`, 400, "secret_not_patchable")
	patch(p, `{"provider":"stripe"}`, 400, "provider_not_patchable")
	patch(p, `{"tolerance":"-1s"}`, 400, "invalid_tolerance")
	patch(p, `{"mapping":{"routes":[{"when":{"path":"$.a","exists":true}}]}}`, 400, "invalid_mapping")
	patch(p, `{"name":"`+strings.Repeat("n", 201)+`"}`, 400, "invalid_name")
	patch(sourcesPath+"/src_01JDZZZZZZZZZZZZZZZZZZZZZZ", `{"name":"x"}`, 404, "source_not_found")
	patch(sourcesPath+"/"+str(t, otherSrc, "id"), `{"name":"x"}`, 404, "source_not_found")
	// A provider without a default mapping cannot lose its mapping.
	none := s.createSource(t, "acme", `{"provider":"none","mapping":{"type":"x"}}`)
	patch(sourcesPath+"/"+str(t, none, "id"), `{"mapping":null}`, 400, "missing_mapping")

	f := func(method, path, body string, wantStatus int, wantCode string) {
		t.Helper()
		s.reject(t, method, path, testToken, "application/json", body, wantStatus, wantCode)
	}
	for _, q := range []string{"", "/rotate-secret", "/test", "/requests", "/requests/req_01JDZZZZZZZZZZZZZZZZZZZZZZ"} {
		method, body := "GET", ""
		if q == "/rotate-secret" || q == "/test" {
			method, body = "POST", `{"secret":"n","body":{}}`
		}
		if q == "/rotate-secret" {
			body = `{"secret":"n"}`
		}
		if q == "/test" {
			body = `{"body":{}}`
		}
		f(method, sourcesPath+"/src_01JDZZZZZZZZZZZZZZZZZZZZZZ"+q, body, 404, "source_not_found")
		f(method, sourcesPath+"/"+str(t, otherSrc, "id")+q, body, 404, "source_not_found")
	}
	f("DELETE", sourcesPath+"/"+str(t, otherSrc, "id"), "", 404, "source_not_found")
	f("GET", p+"/requests/req_01JDZZZZZZZZZZZZZZZZZZZZZZ", "", 404, "request_not_found")
	f("GET", p+"/requests/nope", "", 404, "request_not_found")
	f("POST", p+"/requests/nope/replay", "", 404, "request_not_found")
	f("GET", p+"/requests?limit=0", "", 400, "invalid_limit")
	f("GET", p+"/requests?cursor=bm9wZQ", "", 400, "invalid_cursor")
	f("POST", p+"/rotate-secret", `{}`, 400, "missing_secret")
	f("POST", p+"/rotate-secret", `{"secret":"s"}`, 400, "secret_unchanged")
	weak := s.createSource(t, "acme", `{"provider":"api-key","secret":"0123456789abcdef","api_key":{"header":"X-Key"},"mapping":{"type":"x"}}`)
	f("POST", sourcesPath+"/"+str(t, weak, "id")+"/rotate-secret", `{"secret":"7"}`, 400, "weak_secret")
	f("POST", p+"/rotate-secret", `{"secret":"n","overlap":"forever"}`, 400, "invalid_overlap")
	f("POST", p+"/test", `{}`, 400, "invalid_test")
	f("POST", p+"/test", `{"body":{},"raw_body":"x"}`, 400, "invalid_test")
	// A dry run's draft mapping is refused as a patch with it would be.
	for _, c := range []struct{ mapping, code, rule string }{
		{`{"routes":[{"when":{"path":"$.a","exists":true}}]}`, "invalid_mapping", ""},
		{`{"type":"x","routes":[{"when":{"path":"$.a"},"type":"y"}]}`, "invalid_mapping", "mapping.routes[0].when: "},
		{`{"type":"x.{$.a"}`, "invalid_mapping", "mapping.type: "},
		{`{"type":"x","colour":"red"}`, "invalid_mapping", ""},
		{`"x"`, "invalid_mapping", ""},
		{`{"type":"hookline.{$.kind}"}`, "reserved_event_type", "mapping.type: "},
	} {
		want := s.reject(t, "PATCH", p, testToken, "application/json", `{"mapping":`+c.mapping+`}`, 400, c.code)
		msg := s.reject(t, "POST", p+"/test", testToken, "application/json", `{"body":{},"mapping":`+c.mapping+`}`, 400, c.code)
		require_Equal(t, msg, want)
		require_True(t, strings.HasPrefix(msg, c.rule), "draft %s: message %q does not name %q", c.mapping, msg, c.rule)
	}
	f("POST", sourcesPath+"/"+str(t, none, "id")+"/test", `{"body":{},"mapping":null}`, 400, "missing_mapping")
	f("POST", p+"/test", `{"body":{},"mapping":{"type":"x"},"request_id":"req_1"}`, 400, "unknown_field")
	f("GET", p+"/rotate-secret", "", 405, "method_not_allowed")
	f("DELETE", p+"/requests", "", 405, "method_not_allowed")
	f("PUT", p, "", 405, "method_not_allowed")
	f("GET", p+"/nope", "", 404, "not_found")

	// A tenant key reads its sources but manages none.
	status, m, _ := s.do(t, "POST", "/v1/tenants/acme/api-keys", testToken, "application/json", `{"name":"ci"}`)
	require_Equal(t, status, http.StatusCreated)
	key := str(t, m, "key")
	status, raw, _ := s.doRaw(t, "GET", sourcesPath, key, "", "")
	require_Equal(t, status, http.StatusOK)
	require_True(t, strings.Contains(raw, id) && !strings.Contains(raw, `"secret"`), "tenant key list: %s", raw)
	status, _, _ = s.doRaw(t, "GET", p, key, "", "")
	require_Equal(t, status, http.StatusOK)
	g := func(method, path, body string) {
		t.Helper()
		s.reject(t, method, path, key, "application/json", body, 403, "forbidden")
	}
	g("POST", sourcesPath, `{"provider":"github","secret":"s"}`)
	g("PATCH", p, `{"name":"x"}`)
	g("DELETE", p, ``)
	g("POST", p+"/rotate-secret", `{"secret":"n"}`)
	g("POST", p+"/test", `{"body":{}}`)
	g("GET", "/v1/tenants/other/sources", ``)
	g("GET", "/v1/tenants/other/sources/"+str(t, otherSrc, "id"), ``)
}

// TestSourceMappingAndReplay: a mapping shapes the payload and routes by
// type or drops; a request the mapping cannot handle is refused 422 and
// logged, and replayed after the mapping is fixed it makes the event.
func TestSourceMappingAndReplay(t *testing.T) {
	s := newTestServer(t)
	k := newTestSink(t, http.StatusNoContent, "")
	s.mustCreateTenant(t, "acme")
	s.mustCreateEndpoint(t, "acme", `{"url":"`+k.srv.URL+`/hook","event_types":["shop.*"]}`)
	const secret = "shop-secret-0123456789"
	mapping := `{"type":"shop.{$.topic}.v1","id":"header:X-Delivery","payload":{"order":"$.order.id","total":"$.order.total","who":{"email":"$.customer.email"}},` +
		`"routes":[{"when":{"path":"$.topic","equals":"ping"},"drop":true},{"when":{"path":"$.order.total","exists":true},"type":"shop.order.{$.topic}"}]}`
	src := s.createSource(t, "acme", `{"provider":"hmac","secret":"`+secret+`","hmac":{"header":"X-Sig","prefix":"sha256="},"mapping":`+mapping+`}`)
	srcPath := sourcesPath + "/" + str(t, src, "id")
	url := str(t, src, "url")
	sign := func(body, delivery string) []string {
		return []string{"X-Sig", "sha256=" + hmacHex([]byte(secret), []byte(body)), "X-Delivery", delivery}
	}

	body := `{"topic":"paid","order":{"id":"o_1","total":99.5,"lines":[1,2]},"customer":{"email":"a@example.com","phone":"1"}}`
	status, raw, _ := s.send(t, url, []byte(body), sign(body, "d1")...)
	id := accepted(t, status, raw)
	o := decodeOutbound(t, waitRequests(t, k, 1)[0])
	require_Equal(t, o.Type, "shop.order.paid")
	require_Equal(t, string(o.Data), `{"order":"o_1","total":99.5,"who":{"email":"a@example.com"}}`)

	before := s.snapshot(t).counts
	ping := `{"topic":"ping"}`
	status, raw, _ = s.send(t, url, []byte(ping), sign(ping, "d2")...)
	require_Equal(t, status, http.StatusOK)
	require_Equal(t, raw, `{"dropped":true}`)
	require_Equal(t, s.snapshot(t).counts.Events, before.Events)

	// No topic: the type cannot be made.
	bad := `{"kind":"refund","order":{"id":"o_2"}}`
	status, raw, h := s.send(t, url, []byte(bad), sign(bad, "d3")...)
	require_Equal(t, status, http.StatusUnprocessableEntity)
	msg := requireErrorBody(t, raw, "mapping_failed")
	require_True(t, strings.Contains(msg, "type"), "message %q does not name the rule", msg)
	require_Equal(t, s.snapshot(t).counts.Events, before.Events)
	reqID := h.Get("Hookline-Request-Id")
	_, m, _ := s.do(t, "GET", srcPath+"/requests/"+reqID, testToken, "", "")
	require_Equal(t, str(t, m, "outcome"), "rejected")
	require_Equal(t, str(t, m, "code"), "mapping_failed")
	require_Equal(t, m["status"], any(float64(422)))
	require_Equal(t, m["verified"], any(true))
	require_Equal(t, str(t, m, "body"), bad)

	status, _, _ = s.doRaw(t, "PATCH", srcPath, testToken, "application/json",
		`{"mapping":{"type":"shop.{$.kind}","id":"header:X-Delivery","payload":{"order":"$.order.id"}}}`)
	require_Equal(t, status, http.StatusOK)
	status, m, _ = s.do(t, "POST", srcPath+"/requests/"+reqID+"/replay", testToken, "", "")
	require_Equal(t, status, http.StatusOK)
	require_Equal(t, str(t, m, "outcome"), "accepted")
	evID := str(t, m, "event_id")
	require_True(t, evID != id, "the replay answered the first event")
	replayReq := str(t, m, "request_id")
	o = decodeOutbound(t, waitRequests(t, k, 2)[1])
	require_Equal(t, o.Type, "shop.refund")
	require_Equal(t, string(o.Data), `{"order":"o_2"}`)
	_, m, _ = s.do(t, "GET", srcPath+"/requests/"+replayReq, testToken, "", "")
	require_Equal(t, str(t, m, "replay_of"), reqID)
	require_Equal(t, str(t, m, "event_id"), evID)
	// Replayed again: the dedupe id holds, no second event.
	status, m, _ = s.do(t, "POST", srcPath+"/requests/"+reqID+"/replay", testToken, "", "")
	require_Equal(t, status, http.StatusOK)
	require_Equal(t, str(t, m, "outcome"), "duplicate")
	require_Equal(t, str(t, m, "event_id"), evID)

	// An unverified request is never replayed.
	status, _, h = s.send(t, url, []byte(body), "X-Sig", "sha256="+strings.Repeat("0", 64))
	require_Equal(t, status, http.StatusUnauthorized)
	s.reject(t, "POST", srcPath+"/requests/"+h.Get("Hookline-Request-Id")+"/replay", testToken, "", "", 409, "not_verified")
	waitFor(t, 10*time.Second, "the queue to drain", func() bool { return s.snapshot(t).counts.Queued == 0 })
	require_Equal(t, len(k.requests()), 2)
}

// TestSourceSecretRotation: during the overlap both secrets are accepted;
// with overlap 0s the old one is refused at once; an expired old secret
// stops being accepted without any other change to the source.
func TestSourceSecretRotation(t *testing.T) {
	s := newTestServer(t)
	s.mustCreateTenant(t, "acme")
	src := s.createSource(t, "acme", `{"provider":"github","secret":"old"}`)
	url, p := str(t, src, "url"), sourcesPath+"/"+str(t, src, "id")
	n := 0
	send := func(secret string) (int, string) {
		n++
		body := fmt.Sprintf(`{"action":"created","n":%d}`, n)
		status, raw, _ := s.send(t, url, []byte(body), "X-GitHub-Event", "star", "X-GitHub-Delivery", strconv.Itoa(n),
			"X-Hub-Signature-256", "sha256="+hmacHex([]byte(secret), []byte(body)))
		return status, raw
	}
	ok := func(secret string) {
		t.Helper()
		status, raw := send(secret)
		accepted(t, status, raw)
	}
	refused := func(secret string) {
		t.Helper()
		status, raw := send(secret)
		require_Equal(t, status, http.StatusUnauthorized)
		requireErrorBody(t, raw, "bad_signature")
	}
	rotate := func(body string) {
		t.Helper()
		status, raw, _ := s.doRaw(t, "POST", p+"/rotate-secret", testToken, "application/json", body)
		require_Equal(t, status, http.StatusOK)
		require_True(t, strings.Contains(raw, `"secret"`), "rotation does not show the new secret: %s", raw)
	}
	ok("old")
	rotate(`{"secret":"new","overlap":"1h"}`)
	ok("old")
	ok("new")
	refused("other")
	rotate(`{"secret":"newer","overlap":"0s"}`)
	ok("newer")
	refused("new")
	refused("old") // cut short by the 0s rotation

	rotate(`{"secret":"newest","overlap":"1s"}`)
	ok("newer")
	ok("newest")
	// The old secret expires with no request in between: the next one
	// rebuilds the verifier without it.
	var status int
	waitFor(t, 10*time.Second, "the old secret to expire", func() bool {
		status, _ = send("newer")
		return status == http.StatusUnauthorized
	})
	ok("newest")
	refused("newer")
	_, m, _ := s.do(t, "GET", p, testToken, "", "")
	_, still := m["previous_secret_expires_at"]
	require_True(t, !still, "previous_secret_expires_at after expiry: %v", m)
}

// TestSourceRequestLog: the log lists newest first in pages, shows one
// request with headers and body, keeps non-UTF-8 bodies in base64, cuts
// bodies over 64 KiB (and refuses to replay them), and redacts
// credentials in headers and in the URL.
func TestSourceRequestLog(t *testing.T) {
	s := newTestServerHTTP(t, func(o *httpin.Options) { o.MaxEventBytes = 256 << 10 })
	s.mustCreateTenant(t, "acme")
	src := s.createSource(t, "acme", `{"provider":"api-key","secret":"the-key-0123456789ab","api_key":{"header":"X-Api-Key","query":"token"},`+
		`"mapping":{"type":"t.{header:X-Kind}","payload":{"raw":"body:text"}}}`)
	url, p := str(t, src, "url"), sourcesPath+"/"+str(t, src, "id")

	var ids []string
	for i := range 5 {
		status, _, h := s.send(t, url, fmt.Appendf(nil, `{"n":%d}`, i), "X-Api-Key", "the-key-0123456789ab", "X-Kind", "k")
		require_Equal(t, status, http.StatusOK)
		ids = append(ids, h.Get("Hookline-Request-Id"))
	}
	var listed []string
	cursor := ""
	for pages := 0; ; pages++ {
		require_True(t, pages < 5, "too many pages")
		q := "?limit=2"
		if cursor != "" {
			q += "&cursor=" + cursor
		}
		_, m, _ := s.do(t, "GET", p+"/requests"+q, testToken, "", "")
		for _, e := range m["data"].([]any) {
			en := e.(map[string]any)
			_, hasBody := en["body"]
			require_True(t, !hasBody, "a list entry has its body: %v", en)
			listed = append(listed, en["id"].(string))
		}
		if m["next_cursor"] == nil {
			break
		}
		cursor = m["next_cursor"].(string)
	}
	require_Equal(t, strings.Join(listed, ","), strings.Join([]string{ids[4], ids[3], ids[2], ids[1], ids[0]}, ","))

	_, m, _ := s.do(t, "GET", p+"/requests/"+ids[2], testToken, "", "")
	require_Equal(t, str(t, m, "body"), `{"n":2}`)
	require_Equal(t, str(t, m, "outcome"), "accepted")
	headers := str(t, m, "headers")
	require_True(t, strings.Contains(headers, "X-Kind: k"), "headers %q", headers)
	require_True(t, strings.Contains(headers, "X-Api-Key: [redacted]") && !strings.Contains(headers, "the-key-0123456789ab"), "headers %q", headers)

	// The key in the query, and an Authorization header, are redacted.
	status, _, h := s.send(t, url+"?a=1&token=the-key-0123456789ab&b=2", []byte(`{}`), "X-Kind", "q", "Authorization", "Bearer top-secret")
	require_Equal(t, status, http.StatusOK)
	status, raw, _ := s.doRaw(t, "GET", p+"/requests/"+h.Get("Hookline-Request-Id"), testToken, "", "")
	require_Equal(t, status, http.StatusOK)
	require_True(t, !strings.Contains(raw, "the-key-0123456789ab") && !strings.Contains(raw, "top-secret"), "a credential is logged: %s", raw)
	m = decodeObject(t, raw)
	require_True(t, strings.HasSuffix(str(t, m, "url"), url+"?a=1&token=[redacted]&b=2"), "url %q", m["url"])
	require_True(t, strings.Contains(str(t, m, "headers"), "Authorization: [redacted]"), "headers %q", m["headers"])
	// Even in a query the standard library cannot parse.
	for _, q := range []string{"?a=1;b=2&token=the-key-0123456789ab", "?a=%zz&token=the-key-0123456789ab", "?tok%65n=the-key-0123456789ab", "?token=the-key-0123456789ab&token=x", "?at=10:00&token=the-key-0123456789ab"} {
		status, _, h = s.send(t, url+q, []byte(`{}`), "X-Kind", "q")
		require_Equal(t, status, http.StatusOK)
		status, raw, _ = s.doRaw(t, "GET", p+"/requests/"+h.Get("Hookline-Request-Id"), testToken, "", "")
		require_Equal(t, status, http.StatusOK)
		require_True(t, !strings.Contains(raw, "the-key-0123456789ab"), "the key is logged for query %s: %s", q, raw)
	}

	// A body that is not UTF-8 is kept in base64.
	bin := []byte("\xff\xfe binary \x00 body")
	status, raw, h = s.send(t, url, bin, "X-Api-Key", "the-key-0123456789ab", "X-Kind", "bin")
	accepted(t, status, raw) // body:text makes a JSON string of any bytes
	_, m, _ = s.do(t, "GET", p+"/requests/"+h.Get("Hookline-Request-Id"), testToken, "", "")
	require_Equal(t, m["body_base64"], any(true))
	dec, err := base64.StdEncoding.DecodeString(str(t, m, "body"))
	require_NoError(t, err)
	require_Equal(t, string(dec), string(bin))

	// Over 64 KiB: accepted whole, logged in part, not replayable.
	big := []byte(`{"pad":"` + strings.Repeat("x", 80<<10) + `"}`)
	status, raw, h = s.send(t, url, big, "X-Api-Key", "the-key-0123456789ab", "X-Kind", "big")
	evID := accepted(t, status, raw)
	_, m, _ = s.do(t, "GET", p+"/requests/"+h.Get("Hookline-Request-Id"), testToken, "", "")
	require_Equal(t, m["truncated"], any(true))
	require_Equal(t, m["body_bytes"], any(float64(len(big))))
	require_Equal(t, len(str(t, m, "body")), 64<<10)
	s.reject(t, "POST", p+"/requests/"+h.Get("Hookline-Request-Id")+"/replay", testToken, "", "", 409, "body_truncated")
	status, raw, _ = s.doRaw(t, "GET", "/v1/tenants/acme/events/"+evID, testToken, "", "")
	require_Equal(t, status, http.StatusOK)
	require_True(t, len(raw) > 80<<10, "the event lost its payload: %d bytes", len(raw))
}

// TestSourceDryRun: …/test says what a request would become, or why not,
// and writes nothing.
func TestSourceDryRun(t *testing.T) {
	s := newTestServer(t)
	s.mustCreateTenant(t, "acme")
	const secret = "gh-secret"
	src := s.createSource(t, "acme", `{"provider":"github","secret":"`+secret+`"}`)
	p := sourcesPath + "/" + str(t, src, "id") + "/test"
	dry := func(body string) map[string]any {
		t.Helper()
		before := s.snapshot(t)
		status, raw, _ := s.doRaw(t, "POST", p, testToken, "application/json", body)
		require_Equal(t, status, http.StatusOK)
		requireSameState(t, before, s.snapshot(t))
		return decodeObject(t, raw)
	}
	m := dry(`{"body":{"action":"opened","number":7},"headers":{"X-GitHub-Event":"issues","X-GitHub-Delivery":"d-1"}}`)
	require_Equal(t, str(t, m, "outcome"), "event")
	ev := m["event"].(map[string]any)
	require_Equal(t, str(t, ev, "type"), "github.issues.opened")
	require_Equal(t, str(t, ev, "dedupe_id"), "d-1")
	require_Equal(t, string(mustJSON(t, ev["payload"])), `{"action":"opened","number":7}`)

	m = dry(`{"body":{"action":"opened"}}`)
	require_Equal(t, str(t, m, "outcome"), "rejected")
	require_Equal(t, str(t, m, "code"), "mapping_failed")

	body := `{"action":"opened"}`
	sig := "sha256=" + hmacHex([]byte(secret), []byte(body))
	m = dry(`{"raw_body":` + string(mustJSON(t, body)) + `,"verify":true,"headers":{"X-GitHub-Event":"issues","X-Hub-Signature-256":"` + sig + `"}}`)
	require_Equal(t, str(t, m, "outcome"), "event")
	require_Equal(t, m["verified"], any(true))
	m = dry(`{"raw_body":` + string(mustJSON(t, body+" ")) + `,"verify":true,"headers":{"X-GitHub-Event":"issues","X-Hub-Signature-256":"` + sig + `"}}`)
	require_Equal(t, str(t, m, "outcome"), "rejected")
	require_Equal(t, str(t, m, "code"), "bad_signature")
	require_Equal(t, m["verified"], any(false))

	// A draft mapping maps this run only: the source keeps its own (the
	// provider's default, so none is shown), and dry checks that nothing
	// was written.
	m = dry(`{"body":{"action":"opened","number":7},"headers":{"X-GitHub-Event":"issues"},"mapping":{"type":"draft.{header:X-GitHub-Event}","payload":{"n":"$.number"}}}`)
	require_Equal(t, str(t, m, "outcome"), "event")
	ev = m["event"].(map[string]any)
	require_Equal(t, str(t, ev, "type"), "draft.issues")
	require_Equal(t, string(mustJSON(t, ev["payload"])), `{"n":7}`)
	m = dry(`{"body":{"action":"opened"},"mapping":{"type":"x","routes":[{"when":{"path":"$.action","equals":"opened"},"drop":true}]}}`)
	require_Equal(t, str(t, m, "outcome"), "dropped")
	_, got, _ := s.do(t, "GET", sourcesPath+"/"+str(t, src, "id"), testToken, "", "")
	_, has := got["mapping"]
	require_True(t, !has, "a dry run saved its draft: %v", got["mapping"])
}
