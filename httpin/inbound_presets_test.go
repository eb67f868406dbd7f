package httpin_test

// Meta's webhooks (the whatsapp and meta presets), and Square's, over HTTP: the GET
// subscription handshake on the source's verify token, and the dedupe of
// WhatsApp payloads. Signatures, mapping and the repeat of a delivery are
// TestInboundProviders' whatsapp case.

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// handshake sends Meta's GET to src's URL; params are name, value pairs,
// left out when the value is "-".
func (s *testServer) handshake(tb testing.TB, srcURL string, params ...string) (int, string, http.Header) {
	tb.Helper()
	q := url.Values{}
	for i := 0; i+1 < len(params); i += 2 {
		if params[i+1] != "-" {
			q.Set(params[i], params[i+1])
		}
	}
	return s.doRaw(tb, "GET", srcURL+"?"+q.Encode(), "", "", "")
}

// TestMetaHandshake: the GET is answered with the bare challenge as text
// when its token is the source's; a wrong or missing token is 403
// bad_verify_token, a missing mode or challenge 400 invalid_handshake, and
// none of them makes an event. The token is kept out of views and the
// request log, can be changed by a patch, and is generated when a source
// is created without one.
func TestMetaHandshake(t *testing.T) {
	s := newTestServer(t)
	s.mustCreateTenant(t, "acme")
	src := s.createSource(t, "acme", `{"provider":"whatsapp","secret":"0123456789abcdef0123456789abcdef","verify_token":"my token/1"}`)
	require_Equal(t, src["verify_token"], any("my token/1"))
	u, path := str(t, src, "url"), sourcesPath+"/"+str(t, src, "id")
	_, got, _ := s.do(t, "GET", path, testToken, "", "")
	_, shown := got["verify_token"]
	require_True(t, !shown, "GET shows the verify token: %v", got)

	before := s.snapshot(t).counts
	status, raw, h := s.handshake(t, u, "hub.mode", "subscribe", "hub.verify_token", "my token/1", "hub.challenge", "1158201444")
	require_True(t, status == http.StatusOK, "status %d: %s", status, raw)
	require_Equal(t, raw, "1158201444")
	require_True(t, strings.HasPrefix(h.Get("Content-Type"), "text/plain"), "Content-Type %q", h.Get("Content-Type"))
	require_True(t, strings.HasPrefix(h.Get("Hookline-Request-Id"), "req_"), "Hookline-Request-Id %q", h.Get("Hookline-Request-Id"))

	for _, c := range []struct {
		params []string
		status int
		code   string
	}{
		{[]string{"hub.mode", "subscribe", "hub.verify_token", "my token/2", "hub.challenge", "1"}, 403, "bad_verify_token"},
		{[]string{"hub.mode", "subscribe", "hub.verify_token", "-", "hub.challenge", "1"}, 403, "bad_verify_token"},
		{[]string{"hub.mode", "subscribe", "hub.verify_token", "my token/1", "hub.challenge", "-"}, 400, "invalid_handshake"},
		{[]string{"hub.mode", "-", "hub.verify_token", "my token/1", "hub.challenge", "1"}, 400, "invalid_handshake"},
		{[]string{"hub.mode", "unsubscribe", "hub.verify_token", "my token/1", "hub.challenge", "1"}, 400, "invalid_handshake"},
	} {
		status, raw, h := s.handshake(t, u, c.params...)
		if status != c.status {
			t.Fatalf("%v: status %d; want %d (%s)", c.params, status, c.status, raw)
		}
		require_True(t, strings.HasPrefix(h.Get("Content-Type"), "application/json"), "Content-Type %q", h.Get("Content-Type"))
		requireErrorBody(t, raw, c.code)
	}
	require_Equal(t, s.snapshot(t).counts.Events, before.Events)
	status, raw, _ = s.handshake(t, "/in/src_01JDZZZZZZZZZZZZZZZZZZZZZZ", "hub.mode", "subscribe", "hub.verify_token", "my token/1", "hub.challenge", "1")
	require_Equal(t, status, http.StatusNotFound)
	requireErrorBody(t, raw, "source_not_found")

	// The log has the six handshakes, newest first, the token redacted.
	_, lm, _ := s.do(t, "GET", path+"/requests", testToken, "", "")
	data := lm["data"].([]any)
	require_Equal(t, len(data), 6)
	first := data[5].(map[string]any)
	require_Equal(t, first["outcome"], any("challenge"))
	for _, e := range data {
		logged := e.(map[string]any)["url"].(string)
		require_True(t, !strings.Contains(logged, "token%2F") && !strings.Contains(logged, "my+token"), "the log keeps the token: %s", logged)
	}
	require_True(t, strings.Contains(first["url"].(string), "hub.verify_token=[redacted]"), "logged url %s", first["url"])

	// A patch changes the token: the old one is refused from then on.
	_, pm, _ := s.do(t, "PATCH", path, testToken, "application/json", `{"verify_token":"new-token"}`)
	require_Equal(t, pm["verify_token"], any("new-token"))
	status, _, _ = s.handshake(t, u, "hub.mode", "subscribe", "hub.verify_token", "my token/1", "hub.challenge", "1")
	require_Equal(t, status, http.StatusForbidden)
	status, raw, _ = s.handshake(t, u, "hub.mode", "subscribe", "hub.verify_token", "new-token", "hub.challenge", "2")
	require_Equal(t, status, http.StatusOK)
	require_Equal(t, raw, "2")

	// Created without one, a meta source gets a token, shown once.
	gen := s.createSource(t, "acme", `{"provider":"meta","secret":"0123456789abcdef0123456789abcdef"}`)
	tok := str(t, gen, "verify_token")
	require_True(t, len(tok) >= 32, "generated verify token %q", tok)
	status, raw, _ = s.handshake(t, str(t, gen, "url"), "hub.mode", "subscribe", "hub.verify_token", tok, "hub.challenge", "3")
	require_Equal(t, status, http.StatusOK)
	require_Equal(t, raw, "3")
	// Its default mapping types by object and field; Messenger sends no
	// changes (meta.page), and a repeat is known by its body.
	for _, c := range []struct{ body, typ string }{
		{`{"object":"page","entry":[{"id":"1","time":1,"messaging":[{"sender":{"id":"2"},"message":{"mid":"m_1","text":"hi"}}]}]}`, "meta.page"},
		{string(fixture(t, "meta/whatsapp_messages_status.json")), "meta.whatsapp_business_account.messages"},
	} {
		sig := "sha256=" + hmacHex([]byte("0123456789abcdef0123456789abcdef"), []byte(c.body))
		status, raw, _ := s.send(t, str(t, gen, "url"), []byte(c.body), "X-Hub-Signature-256", sig)
		id := accepted(t, status, raw)
		_, ev, _ := s.do(t, "GET", "/v1/tenants/acme/events/"+id, testToken, "", "")
		require_Equal(t, str(t, ev, "type"), c.typ)
		_, raw, _ = s.send(t, str(t, gen, "url"), []byte(c.body), "X-Hub-Signature-256", sig)
		require_Equal(t, decodeObject(t, raw)["duplicate"], any(true))
	}

	// Bad tokens, and a token for a provider without a handshake.
	s.reject(t, "POST", "/v1/tenants/acme/sources", testToken, "application/json", `{"provider":"whatsapp","secret":"s","verify_token":""}`, 400, "invalid_verify_token")
	s.reject(t, "POST", "/v1/tenants/acme/sources", testToken, "application/json", `{"provider":"whatsapp","secret":"s","verify_token":"a\nb"}`, 400, "invalid_verify_token")
	s.reject(t, "POST", "/v1/tenants/acme/sources", testToken, "application/json", `{"provider":"github","secret":"0123456789abcdef","verify_token":"t"}`, 400, "verify_token_not_applicable")
	s.reject(t, "PATCH", path, testToken, "application/json", `{"verify_token":""}`, 400, "invalid_verify_token")
}

// TestWhatsAppDedupe: an inbound message is deduped on its wamid, also in
// another body (Meta batches differently on a retry); a status update,
// which has no id of its own, on its body.
func TestWhatsAppDedupe(t *testing.T) {
	s := newTestServer(t)
	s.mustCreateTenant(t, "acme")
	const secret = "0123456789abcdef0123456789abcdef"
	src := s.createSource(t, "acme", `{"provider":"whatsapp","secret":"`+secret+`"}`)
	u := str(t, src, "url")
	send := func(body []byte) (string, bool) {
		t.Helper()
		status, raw, _ := s.send(t, u, body, "X-Hub-Signature-256", "sha256="+hmacHex([]byte(secret), body))
		require_True(t, status == http.StatusOK, "status %d: %s", status, raw)
		m := decodeObject(t, raw)
		return str(t, m, "id"), m["duplicate"] == true
	}

	msg := fixture(t, "meta/whatsapp_messages_text.json")
	first, dup := send(msg)
	require_True(t, !dup, "the first message is a duplicate")
	// The same wamid with another text: the same message.
	again := []byte(strings.Replace(string(msg), "another color", "another colour", 1))
	id, dup := send(again)
	require_True(t, dup && id == first, "the same wamid made %s (duplicate %v), not %s", id, dup, first)

	status := fixture(t, "meta/whatsapp_messages_status.json")
	sid, dup := send(status)
	require_True(t, !dup && sid != first, "the status update: %s, duplicate %v", sid, dup)
	id, dup = send(status)
	require_True(t, dup && id == sid, "the repeated status update made %s (duplicate %v)", id, dup)
	read := []byte(strings.Replace(string(status), `"delivered"`, `"read"`, 1))
	id, dup = send(read)
	require_True(t, !dup && id != sid, "the read status of the same message was taken for the delivered one")
	_, m, _ := s.do(t, "GET", "/v1/tenants/acme/events/"+id, testToken, "", "")
	require_Equal(t, str(t, m, "type"), "whatsapp.messages")
}

// TestSquare: Square signs the URL it calls with the body; a request to
// the source's URL signed that way becomes square.<type>, deduped on
// event_id; signed for another URL, it is refused.
func TestSquare(t *testing.T) {
	s := newTestServer(t)
	s.mustCreateTenant(t, "acme")
	const key = "Y2uBvq0sS2tQb9nSdtbC9w"
	src := s.createSource(t, "acme", `{"provider":"square","secret":"`+key+`"}`)
	u := str(t, src, "url")
	sign := func(signedURL, body string) []string {
		mac := hmac.New(sha256.New, []byte(key))
		mac.Write([]byte(signedURL + body))
		return []string{"X-Square-Hmacsha256-Signature", base64.StdEncoding.EncodeToString(mac.Sum(nil))}
	}
	body := `{"merchant_id":"6SSW7HV8K2ST5","type":"payment.created","event_id":"13b867cf-db3d-4b1c-90b6-2f32a9d78124","data":{"type":"payment","id":"KkAk"}}`
	s.rejected(t, u, []byte(body), 401, "bad_signature", sign("https://elsewhere.example/in/x", body)...)
	s.rejected(t, u, []byte(body), 401, "missing_signature")
	status, raw, _ := s.send(t, u, []byte(body), sign(s.base+u, body)...)
	id := accepted(t, status, raw)
	_, ev, _ := s.do(t, "GET", "/v1/tenants/acme/events/"+id, testToken, "", "")
	require_Equal(t, str(t, ev, "type"), "square.payment.created")
	// Behind a TLS proxy Square called https://…: the scheme it reports
	// is the one signed.
	https := "https://" + strings.TrimPrefix(s.base, "http://") + u
	status, raw, _ = s.send(t, u, []byte(body), append(sign(https, body), "X-Forwarded-Proto", "https")...)
	require_Equal(t, status, http.StatusOK)
	m := decodeObject(t, raw)
	require_True(t, m["duplicate"] == true && m["id"] == id, "the same event_id again: %s", raw)
}
