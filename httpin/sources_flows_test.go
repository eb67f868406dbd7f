package httpin_test

// Inbound sources over HTTP, end to end: events flowing out of inbound
// requests, dedupe by hash and by replayed delivery ids, deleted sources,
// reserved types.

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"hookline/engine/inbound"
	"hookline/httpin"
	"hookline/wal"
)

// TestInboundEventFlows: an inbound event is an event like a published
// one: an endpoint subscribed to github.* receives it signed, and the
// events API shows it.
func TestInboundEventFlows(t *testing.T) {
	s := newTestServer(t)
	gh, other := newTestSink(t, http.StatusNoContent, ""), newTestSink(t, http.StatusNoContent, "")
	s.mustCreateTenant(t, "acme")
	ep := s.mustCreateEndpoint(t, "acme", `{"url":"`+gh.srv.URL+`/gh","event_types":["github.*"]}`)
	s.mustCreateEndpoint(t, "acme", `{"url":"`+other.srv.URL+`/other","event_types":["stripe.*"]}`)
	const secret = "gh-secret"
	src := s.createSource(t, "acme", `{"provider":"github","secret":"`+secret+`"}`)
	body := fixture(t, "github/pull_request_opened.json")
	status, raw, _ := s.send(t, str(t, src, "url"), body, "X-GitHub-Event", "pull_request", "X-GitHub-Delivery", "d-9",
		"X-Hub-Signature-256", "sha256="+hmacHex([]byte(secret), body))
	id := accepted(t, status, raw)

	d := waitRequests(t, gh, 1)[0]
	wh, err := standardwebhooks.NewWebhook(str(t, ep, "secret"))
	require_NoError(t, err)
	require_NoError(t, wh.Verify(d.body, d.header))
	require_Equal(t, d.header.Get("webhook-id"), id)
	require_Equal(t, decodeOutbound(t, d).Type, "github.pull_request.opened")

	_, m, _ := s.do(t, "GET", "/v1/tenants/acme/events/"+id, testToken, "", "")
	require_Equal(t, str(t, m, "type"), "github.pull_request.opened")
	require_Equal(t, len(m["deliveries"].([]any)), 1)
	waitFor(t, 10*time.Second, "the queue to drain", func() bool { return s.snapshot(t).counts.Queued == 0 })
	require_Equal(t, len(other.requests()), 0)
}

// TestSourcesDeleted: deleting a source removes its log and its URL;
// deleting the tenant removes its sources.
func TestSourcesDeleted(t *testing.T) {
	s := newTestServer(t)
	s.mustCreateTenant(t, "acme")
	a := s.createSource(t, "acme", `{"provider":"none","mapping":{"type":"a"}}`)
	b := s.createSource(t, "acme", `{"provider":"none","mapping":{"type":"b"}}`)
	for _, src := range []map[string]any{a, b} {
		status, raw, _ := s.send(t, str(t, src, "url"), []byte(`{}`))
		accepted(t, status, raw)
	}
	require_Equal(t, s.snapshot(t).inbound[str(t, a, "id")], 1)
	status, _, _ := s.doRaw(t, "DELETE", sourcesPath+"/"+str(t, a, "id"), testToken, "", "")
	require_Equal(t, status, http.StatusNoContent)
	s.rejected(t, str(t, a, "url"), []byte(`{}`), 404, "source_not_found")
	aID, ok := inbound.ParseSourceID(str(t, a, "id"))
	require_True(t, ok, "source id %q", a["id"])
	n := 0
	require_NoError(t, s.log.ScanInbound(aID, wal.ID{}, func(wal.ID, []byte) bool { n++; return true }))
	require_Equal(t, n, 0)

	status, _, _ = s.doRaw(t, "DELETE", "/v1/tenants/acme", testToken, "", "")
	require_Equal(t, status, http.StatusNoContent)
	s.rejected(t, str(t, b, "url"), []byte(`{}`), 404, "source_not_found")
	s.mustCreateTenant(t, "acme")
	srcs, err := s.rc.ListSources("acme")
	require_NoError(t, err)
	require_Equal(t, len(srcs), 0)
}

// TestSourceRequestLogBodyInEvent: a request whose payload is its body
// unchanged is logged without a second copy; reading the record serves the
// body from the event, whole (no 64 KiB cut), and the request can be
// replayed (the same dedupe id answers the same event).
func TestSourceRequestLogBodyInEvent(t *testing.T) {
	s := newTestServerHTTP(t, func(o *httpin.Options) { o.MaxEventBytes = 256 << 10 })
	s.mustCreateTenant(t, "acme")
	src := s.createSource(t, "acme", `{"provider":"none","mapping":{"type":"t.plain","id":"$.n"}}`)
	url, p := str(t, src, "url"), sourcesPath+"/"+str(t, src, "id")
	for _, body := range []string{`{"n":1, "text": "kept \u00e9 as sent" }`, `{"n":2,"pad":"` + strings.Repeat("y", 80<<10) + `"}`} {
		status, raw, h := s.send(t, url, []byte(body))
		evID := accepted(t, status, raw)
		req := h.Get("Hookline-Request-Id")
		_, m, _ := s.do(t, "GET", p+"/requests/"+req, testToken, "", "")
		require_Equal(t, str(t, m, "body"), body)
		require_Equal(t, m["event_id"], any(evID))
		_, has := m["truncated"]
		require_True(t, !has, "a body kept in its event is whole: %v", m["truncated"])
		_, has = m["body_in_event"]
		require_True(t, !has, "the storage mark is not shown")
		_, list, _ := s.do(t, "GET", p+"/requests?limit=1", testToken, "", "")
		_, has = list["data"].([]any)[0].(map[string]any)["body_in_event"]
		require_True(t, !has, "the storage mark is listed")
		status, m, _ = s.do(t, "POST", p+"/requests/"+req+"/replay", testToken, "", "")
		require_Equal(t, status, http.StatusOK)
		require_Equal(t, m["outcome"], any("duplicate"))
		require_Equal(t, m["event_id"], any(evID))
	}
}

// TestInboundHashDedupe: a provider that sends no delivery id (hubspot)
// is deduped on the body with its default mapping: the same delivery
// retried (a new timestamp and signature) answers the first event; another
// body makes another event.
func TestInboundHashDedupe(t *testing.T) {
	s := newTestServer(t)
	s.mustCreateTenant(t, "acme")
	src := s.createSource(t, "acme", `{"provider":"hubspot","secret":"hs-secret"}`)
	url := str(t, src, "url")
	sign := func(body string) []string {
		ts := strconv.FormatInt(time.Now().UnixMilli(), 10)
		mac := hmac.New(sha256.New, []byte("hs-secret"))
		mac.Write([]byte("POST" + s.base + url + body + ts))
		return []string{"X-HubSpot-Signature-v3", base64.StdEncoding.EncodeToString(mac.Sum(nil)), "X-HubSpot-Request-Timestamp", ts}
	}
	body := `[{"eventId":11,"subscriptionType":"contact.creation","occurredAt":1764000000000}]`
	status, raw, _ := s.send(t, url, []byte(body), sign(body)...)
	first := accepted(t, status, raw)
	time.Sleep(2 * time.Millisecond) // a later timestamp: a real retry's
	status, raw, _ = s.send(t, url, []byte(body), sign(body)...)
	require_Equal(t, status, http.StatusOK)
	m := decodeObject(t, raw)
	require_Equal(t, m["id"], any(first))
	require_Equal(t, m["duplicate"], any(true))
	other := `[{"eventId":12,"subscriptionType":"contact.creation","occurredAt":1764000000001}]`
	status, raw, _ = s.send(t, url, []byte(other), sign(other)...)
	require_True(t, accepted(t, status, raw) != first, "another body made the same event")

	// With a mapping of its own, the source dedupes as the mapping says.
	src = s.createSource(t, "acme", `{"provider":"hubspot","secret":"hs-secret","mapping":{"type":"hubspot.batch"}}`)
	url = str(t, src, "url")
	a, _, _ := s.send(t, url, []byte(body), sign(body)...)
	b, raw2, _ := s.send(t, url, []byte(body), sign(body)...)
	require_Equal(t, a, http.StatusOK)
	require_Equal(t, b, http.StatusOK)
	_, dup := decodeObject(t, raw2)["duplicate"]
	require_True(t, !dup, "a mapping without an id dedupes nothing")
}

// TestInboundReplayNewDeliveryID: GitHub signs neither its delivery id nor
// a time; a signed delivery sent again byte for byte under a new
// X-GitHub-Delivery answers the first event, as a duplicate, and makes
// nothing; another body is another event.
func TestInboundReplayNewDeliveryID(t *testing.T) {
	s := newTestServer(t)
	s.mustCreateTenant(t, "acme")
	src := s.createSource(t, "acme", `{"provider":"github","secret":"gh-secret-0123456789"}`)
	url := str(t, src, "url")
	send := func(body, delivery string) (int, string) {
		status, raw, _ := s.send(t, url, []byte(body), "X-GitHub-Event", "issues", "X-GitHub-Delivery", delivery,
			"X-Hub-Signature-256", "sha256="+hmacHex([]byte("gh-secret-0123456789"), []byte(body)))
		return status, raw
	}
	body := `{"action":"opened","issue":{"number":7}}`
	status, raw := send(body, "72d3162e-cc78-11e3-81ab-4c9367dc0958")
	first := accepted(t, status, raw)
	before := s.snapshot(t).counts
	status, raw = send(body, "72d3162e-cc78-11e3-81ab-000000000001")
	require_Equal(t, status, http.StatusOK)
	m := decodeObject(t, raw)
	require_Equal(t, m["id"], any(first))
	require_Equal(t, m["duplicate"], any(true))
	require_Equal(t, s.snapshot(t).counts, before)
	status, raw = send(`{"action":"closed","issue":{"number":7}}`, "72d3162e-cc78-11e3-81ab-000000000002")
	require_True(t, accepted(t, status, raw) != first, "another body made the first event")
}

// TestSourceReservedType: a source cannot make hookline's own event types.
// A mapping whose type template starts with the literal "hookline." is
// refused at create and update; one that makes such a type from the
// request is refused per request (400 reserved_event_type, logged as
// rejected, no event), and a dry run says so.
func TestSourceReservedType(t *testing.T) {
	s := newTestServer(t)
	s.mustCreateTenant(t, "acme")
	for _, m := range []string{
		`{"type":"hookline.test"}`,
		`{"type":"hookline.{$.kind}"}`,
		`{"type":"HookLine.endpoint.{$.kind}"}`,
		`{"type":"x.{$.kind}","routes":[{"when":{"path":"$.kind","equals":"d"},"type":"hookline.endpoint.disabled"}]}`,
	} {
		msg := s.reject(t, "POST", sourcesPath, testToken, "application/json", `{"provider":"none","mapping":`+m+`}`, 400, "reserved_event_type")
		require_True(t, strings.Contains(msg, "hookline."), "message %q does not name the prefix", msg)
	}
	msg := s.reject(t, "POST", sourcesPath, testToken, "application/json",
		`{"provider":"none","mapping":{"type":"x","routes":[{"when":{"path":"$.a","exists":true},"type":"hookline.x"}]}}`, 400, "reserved_event_type")
	require_True(t, strings.Contains(msg, "routes[0].type"), "message %q does not name the rule", msg)

	src := s.createSource(t, "acme", `{"provider":"none","mapping":{"type":"{$.kind}"}}`)
	p := sourcesPath + "/" + str(t, src, "id")
	s.reject(t, "PATCH", p, testToken, "application/json", `{"mapping":{"type":"hookline.{$.kind}"}}`, 400, "reserved_event_type")

	url := str(t, src, "url")
	for _, kind := range []string{"hookline.test", "Hookline.endpoint.disabled"} {
		body := []byte(`{"kind":"` + kind + `"}`)
		s.rejected(t, url, body, 400, "reserved_event_type")
		status, raw, _ := s.doRaw(t, "POST", p+"/test", testToken, "application/json", `{"body":`+string(body)+`}`)
		require_Equal(t, status, http.StatusOK)
		m := decodeObject(t, raw)
		require_Equal(t, str(t, m, "outcome"), "rejected")
		require_Equal(t, str(t, m, "code"), "reserved_event_type")
	}
	_, m, _ := s.do(t, "GET", p+"/requests", testToken, "", "")
	data := m["data"].([]any)
	require_Equal(t, len(data), 2)
	for _, e := range data {
		en := e.(map[string]any)
		require_Equal(t, str(t, en, "outcome"), "rejected")
		require_Equal(t, str(t, en, "code"), "reserved_event_type")
		require_True(t, strings.Contains(str(t, en, "message"), "hookline."), "logged message %q", en["message"])
	}
	// Other types still flow.
	status, raw, _ := s.send(t, url, []byte(`{"kind":"hooklines.test"}`))
	accepted(t, status, raw)
}
