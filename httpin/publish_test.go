package httpin_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"hookline/engine"
	"hookline/httpin"
)

const eventsPath = "/v1/tenants/acme/events"
const batchPath = "/v1/tenants/acme/events/batch"

func requireEventID(tb testing.TB, id string) {
	tb.Helper()
	require_True(tb, strings.HasPrefix(id, "evt_") && len(id) > len("evt_")+10, "event id %q lacks the evt_ prefix", id)
}

func TestPublishOne(t *testing.T) {
	s := newTestServer(t)
	s.mustCreateTenant(t, "acme")
	before := s.snapshot(t)
	status, raw, h := s.doRaw(t, "POST", eventsPath, testToken, "application/json", `{"type":"invoice.paid","payload":{"amount":5}}`)
	require_Equal(t, status, http.StatusAccepted)
	require_True(t, strings.HasPrefix(h.Get("Content-Type"), "application/json"), "Content-Type %q", h.Get("Content-Type"))
	m := decodeObject(t, raw)
	require_Equal(t, len(m), 1)
	requireEventID(t, str(t, m, "id"))
	after := s.snapshot(t)
	require_Equal(t, after.counts.Events, before.counts.Events+1)
	require_Equal(t, after.counts.IdempotencyKeys, 0)

	// Any JSON value is a payload, and surrounding whitespace is fine.
	ids := map[string]bool{str(t, m, "id"): true}
	for _, body := range []string{
		`{"payload":null,"type":"a"}`,
		`  {"type":"a","payload":[1,"x",{"y":true}]}` + "\n",
		`{"type":"A-b_c:d.e","payload":"str","idempotency_key":null}`,
		`{"type":"a","payload":-1.5e3,"idempotency_key":""}`,
	} {
		status, m, _ := s.do(t, "POST", eventsPath, testToken, "application/json", body)
		if status != http.StatusAccepted {
			t.Fatalf("%s: status %d (%v)", body, status, m)
		}
		id := str(t, m, "id")
		requireEventID(t, id)
		require_True(t, !ids[id], "id %s given twice", id)
		ids[id] = true
	}
	require_Equal(t, s.snapshot(t).counts.Events, before.counts.Events+5)
}

func TestPublishOneRejects(t *testing.T) {
	s := newTestServer(t)
	s.mustCreateTenant(t, "acme")
	// Something to compare against: earlier events and keys must stay as they are.
	status, _, _ := s.doRaw(t, "POST", eventsPath, testToken, "application/json", `{"type":"a","payload":1,"idempotency_key":"k"}`)
	require_Equal(t, status, http.StatusAccepted)

	f := func(path, body string, wantStatus int, wantCode string) {
		t.Helper()
		s.reject(t, "POST", path, testToken, "application/json", body, wantStatus, wantCode)
	}
	f(eventsPath, `{"type":"a","payload":`, 400, "invalid_json")
	f(eventsPath, `{"type":"a","payload":1}}`, 400, "invalid_json")
	f(eventsPath, `{"type":"a","payload":{"x":1,}}`, 400, "invalid_json")
	f(eventsPath, `{"type":"a","payload":"`+"\x01"+`"}`, 400, "invalid_json")
	f(eventsPath, `[{"type":"a","payload":1}]`, 400, "invalid_json")
	f(eventsPath, `{"type":"a","type":"b","payload":1}`, 400, "invalid_json")
	f(eventsPath, ``, 400, "empty_body")
	f(eventsPath, `{"payload":1}`, 400, "missing_type")
	f(eventsPath, `{"type":"","payload":1}`, 400, "missing_type")
	f(eventsPath, `{"type":"a b","payload":1}`, 400, "invalid_type")
	f(eventsPath, `{"type":".a","payload":1}`, 400, "invalid_type")
	f(eventsPath, `{"type":"`+strings.Repeat("t", 129)+`","payload":1}`, 400, "invalid_type")
	f(eventsPath, `{"type":5,"payload":1}`, 400, "invalid_type")
	f(eventsPath, `{"type":"a"}`, 400, "missing_payload")
	f(eventsPath, `{"type":"a","payload":1,"extra":2}`, 400, "unknown_field")
	f(eventsPath, `{"type":"a","payload":1,"idempotency_key":"a`+"\\u0001"+`"}`, 400, "invalid_idempotency_key")
	f(eventsPath, `{"type":"a","payload":1,"idempotency_key":5}`, 400, "invalid_idempotency_key")
	f(eventsPath, `{"type":"a","payload":1,"idempotency_key":"`+strings.Repeat("k", 257)+`"}`, 400, "invalid_idempotency_key")
	f("/v1/tenants/nope/events", `{"type":"a","payload":1}`, 404, "tenant_not_found")
	f("/v1/tenants/nope/events", `{"type":"a","payload":1,"idempotency_key":"k"}`, 404, "tenant_not_found")
	big := `{"type":"a","payload":"` + strings.Repeat("x", maxEventBytes) + `"}`
	f(eventsPath, big, 413, "payload_too_large")
	f(eventsPath, `{"type":"a","payload":1}`+strings.Repeat(" ", maxEventBytes), 413, "payload_too_large")

	hf := func(key string, wantCode string) {
		t.Helper()
		s.reject(t, "POST", eventsPath, testToken, "application/json", `{"type":"a","payload":1}`, 400, wantCode, "Idempotency-Key", key)
	}
	hf("a\tb", "invalid_idempotency_key")
	hf(strings.Repeat("k", 257), "invalid_idempotency_key")
}

// TestIdempotencyKeyHeaderMatchesBody: the Idempotency-Key header must
// accept exactly what the body field accepts, which refuses C1 control
// characters and (being JSON) invalid UTF-8.
func TestIdempotencyKeyHeaderMatchesBody(t *testing.T) {
	s := newTestServer(t)
	s.mustCreateTenant(t, "acme")
	for _, key := range []string{"a\u0085b", "a\u009bb", "a\xffb"} {
		t.Run(fmt.Sprintf("%q", key), func(t *testing.T) {
			body, _ := json.Marshal(key)
			if utf8.ValidString(key) {
				s.reject(t, "POST", eventsPath, testToken, "application/json", `{"type":"a","payload":1,"idempotency_key":`+string(body)+`}`, 400, "invalid_idempotency_key")
			}
			s.reject(t, "POST", eventsPath, testToken, "application/json", `{"type":"a","payload":1}`, 400, "invalid_idempotency_key", "Idempotency-Key", key)
		})
	}
}

// TestBodyTooLarge: a body above MaxBodyBytes gets the server's own 413 with
// a JSON error body.
func TestBodyTooLarge(t *testing.T) {
	s := newTestServer(t)
	s.mustCreateTenant(t, "acme")
	for _, path := range []string{eventsPath, batchPath, "/v1/tenants"} {
		before := s.snapshot(t)
		// Only the headers are sent: a server refusing a body it has not read
		// closes the connection, and a client still writing it could see a reset
		// instead of the reply. The Content-Length alone must be enough.
		status, raw, h := s.rawRequest(t, fmt.Sprintf("POST %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"+
			"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n", path, testToken, maxBodyBytes+1))
		if status != http.StatusRequestEntityTooLarge {
			t.Fatalf("%s: status %d; want 413 (body %s)", path, status, short(raw))
		}
		require_True(t, strings.HasPrefix(h.Get("Content-Type"), "application/json"), "Content-Type %q", h.Get("Content-Type"))
		requireErrorBody(t, raw, "body_too_large")
		requireSameState(t, before, s.snapshot(t))
	}

	// Through net/http with the whole body, the reply is the same or the
	// connection is cut; the request must never succeed and nothing is written.
	before := s.snapshot(t)
	body := `[` + strings.Repeat(`{"type":"a","payload":1},`, maxBodyBytes/24) + `{"type":"a","payload":1}]`
	req, err := http.NewRequest("POST", s.base+batchPath, strings.NewReader(body))
	require_NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+testToken)
	resp, err := s.client.Do(req)
	if err == nil {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		require_Equal(t, resp.StatusCode, http.StatusRequestEntityTooLarge)
		requireErrorBody(t, string(b), "body_too_large")
	} else {
		t.Logf("net/http saw the connection cut instead of the 413: %v", err)
	}
	requireSameState(t, before, s.snapshot(t))
}

func TestPublishIdempotency(t *testing.T) {
	s := newTestServer(t)
	s.mustCreateTenant(t, "acme")
	s.mustCreateTenant(t, "beta")

	publish := func(path, body string, hdr ...string) (string, bool) {
		t.Helper()
		status, m, _ := s.do(t, "POST", path, testToken, "application/json", body, hdr...)
		if status != http.StatusAccepted {
			t.Fatalf("%s: status %d (%v)", body, status, m)
		}
		dup, has := m["duplicate"]
		require_True(t, !has || dup == true, "duplicate is %v; want true or absent", dup)
		return str(t, m, "id"), has
	}

	id1, dup := publish(eventsPath, `{"type":"a","payload":1,"idempotency_key":"order-1"}`)
	require_True(t, !dup, "first publish reported as duplicate")
	id2, dup := publish(eventsPath, `{"type":"a","payload":2,"idempotency_key":"order-1"}`)
	require_True(t, dup, "second publish not reported as duplicate")
	require_Equal(t, id2, id1)
	c := s.snapshot(t).counts
	require_Equal(t, c.Events, 1)
	require_Equal(t, c.IdempotencyKeys, 1)

	// The header works the same and shares the body's key space.
	id3, dup := publish(eventsPath, `{"type":"a","payload":3}`, "Idempotency-Key", "order-2")
	require_True(t, !dup, "first header publish reported as duplicate")
	id4, dup := publish(eventsPath, `{"type":"a","payload":4}`, "Idempotency-Key", "order-2")
	require_True(t, dup, "second header publish not reported as duplicate")
	require_Equal(t, id4, id3)
	id5, dup := publish(eventsPath, `{"type":"a","payload":5,"idempotency_key":"order-2"}`)
	require_True(t, dup, "body key equal to an earlier header key not reported as duplicate")
	require_Equal(t, id5, id3)
	id6, dup := publish(eventsPath, `{"type":"a","payload":6}`, "Idempotency-Key", "order-1")
	require_True(t, dup, "header key equal to an earlier body key not reported as duplicate")
	require_Equal(t, id6, id1)

	// Keys are per tenant.
	id7, dup := publish("/v1/tenants/beta/events", `{"type":"a","payload":1,"idempotency_key":"order-1"}`)
	require_True(t, !dup && id7 != id1, "tenant beta's key order-1 collided with acme's")

	c = s.snapshot(t).counts
	require_Equal(t, c.Events, 3)
	require_Equal(t, c.IdempotencyKeys, 3)

	// Concurrent publishes of one new key: one event, one id for all.
	const n = 16
	var wg sync.WaitGroup
	got := make([]string, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest("POST", s.base+eventsPath, strings.NewReader(`{"type":"a","payload":1,"idempotency_key":"race"}`))
			req.Header.Set("Authorization", "Bearer "+testToken)
			resp, err := s.client.Do(req)
			if err != nil {
				t.Errorf("publish: %v", err)
				return
			}
			defer resp.Body.Close()
			var m struct{ ID string }
			if err := json.NewDecoder(resp.Body).Decode(&m); err != nil || resp.StatusCode != http.StatusAccepted {
				t.Errorf("status %d, decode error %v", resp.StatusCode, err)
			}
			got[i] = m.ID
		}()
	}
	wg.Wait()
	for i := range got {
		require_Equal(t, got[i], got[0])
	}
	require_Equal(t, s.snapshot(t).counts.Events, 4)
}

// batch publishes body and returns the ids and the duplicate count.
func (s *testServer) batch(t *testing.T, contentType, body string) ([]string, int) {
	t.Helper()
	status, raw, _ := s.doRaw(t, "POST", batchPath, testToken, contentType, body)
	if status != http.StatusAccepted {
		t.Fatalf("batch: status %d (body %s)", status, short(raw))
	}
	m := decodeObject(t, raw)
	require_Equal(t, len(m), 2)
	d, ok := m["duplicates"].(float64)
	require_True(t, ok, "duplicates is %v", m["duplicates"])
	return strs(t, m, "ids"), int(d)
}

func TestPublishBatch(t *testing.T) {
	s := newTestServer(t)
	s.mustCreateTenant(t, "acme")

	ids, dups := s.batch(t, "application/json", `[{"type":"a","payload":1},{"type":"b","payload":{"x":[]}},{"type":"a","payload":"3"}]`)
	require_Equal(t, len(ids), 3)
	require_Equal(t, dups, 0)
	for _, id := range ids {
		requireEventID(t, id)
	}
	require_True(t, slices.IsSorted(ids) && ids[0] != ids[1] && ids[1] != ids[2], "ids not distinct and in order: %v", ids)
	require_Equal(t, s.snapshot(t).counts.Events, 3)

	ids, dups = s.batch(t, "application/x-ndjson", "{\"type\":\"a\",\"payload\":1}\r\n\n{\"type\":\"b\",\"payload\":2}\n")
	require_Equal(t, len(ids), 2)
	require_Equal(t, dups, 0)
	ids, _ = s.batch(t, "application/jsonl", `{"type":"a","payload":1}`)
	require_Equal(t, len(ids), 1)
	require_Equal(t, s.snapshot(t).counts.Events, 6)

	// Duplicate keys inside one batch: the second gets the first's id.
	ids, dups = s.batch(t, "application/json", `[{"type":"a","payload":1,"idempotency_key":"k1"},{"type":"a","payload":2},{"type":"a","payload":3,"idempotency_key":"k1"}]`)
	require_Equal(t, len(ids), 3)
	require_Equal(t, dups, 1)
	require_Equal(t, ids[2], ids[0])
	require_True(t, ids[1] != ids[0], "ids %v", ids)
	c := s.snapshot(t).counts
	require_Equal(t, c.Events, 8)
	require_Equal(t, c.IdempotencyKeys, 1)

	// The same batch again: every keyed event is a duplicate.
	again, dups := s.batch(t, "application/json", `[{"type":"a","payload":1,"idempotency_key":"k1"},{"type":"a","payload":1,"idempotency_key":"k2"}]`)
	require_Equal(t, dups, 1)
	require_Equal(t, again[0], ids[0])
	again2, dups := s.batch(t, "application/json", `[{"type":"a","payload":1,"idempotency_key":"k1"},{"type":"a","payload":1,"idempotency_key":"k2"}]`)
	require_Equal(t, dups, 2)
	require_True(t, slices.Equal(again, again2), "repeat gave %v, first %v", again2, again)

	// Exactly MaxBatchEvents is fine.
	ids, _ = s.batch(t, "application/json", "["+strings.TrimSuffix(strings.Repeat(`{"type":"a","payload":1},`, maxBatchEvents), ",")+"]")
	require_Equal(t, len(ids), maxBatchEvents)
}

func TestPublishBatchRejects(t *testing.T) {
	s := newTestServer(t)
	s.mustCreateTenant(t, "acme")
	ids, _ := s.batch(t, "application/json", `[{"type":"a","payload":1,"idempotency_key":"k"}]`)
	require_Equal(t, len(ids), 1)

	const ok = `{"type":"a","payload":1,"idempotency_key":"new"}`
	f := func(contentType, body string, wantStatus int, wantCode, wantInMsg string) {
		t.Helper()
		msg := s.reject(t, "POST", batchPath, testToken, contentType, body, wantStatus, wantCode)
		if !strings.Contains(msg, wantInMsg) {
			t.Fatalf("message %q does not contain %q", msg, wantInMsg)
		}
	}
	const js, nd = "application/json", "application/x-ndjson"
	// A bad second event refuses the whole batch, the good first one included.
	f(js, `[`+ok+`,{"type":"a b","payload":1}]`, 400, "invalid_type", "event 1")
	f(js, `[`+ok+`,{"type":"a"}]`, 400, "missing_payload", "event 1")
	f(js, `[`+ok+`,{"payload":1}]`, 400, "missing_type", "event 1")
	f(js, `[`+ok+`,{"type":"a","payload":1,"x":1}]`, 400, "unknown_field", "event 1")
	f(js, `[`+ok+`,{"type":"a","payload":}]`, 400, "invalid_json", "event 1")
	f(js, `[`+ok+`,5]`, 400, "invalid_json", "event 1")
	f(js, `[`+ok+`,{"type":"a","payload":"`+strings.Repeat("x", maxEventBytes)+`"}]`, 413, "payload_too_large", "event 1")
	f(js, `[`+ok+`,{"type":"a","payload":1,"idempotency_key":7}]`, 400, "invalid_idempotency_key", "event 1")
	f(nd, ok+"\n"+`{"type":"a b","payload":1}`, 400, "invalid_type", "event 1")
	f(nd, ok+"\n"+`{"type":"a"}`+"\n"+ok, 400, "missing_payload", "event 1")
	f(nd, ok+"\n{", 400, "invalid_json", "event 1")
	f(js, `[`+ok+`,{"type":"a","payload":1}`, 400, "invalid_json", "")
	f(js, `[`+ok+`] x`, 400, "invalid_json", "")
	f(js, `[]`, 400, "batch_empty", "")
	f(js, ` [ ] `, 400, "batch_empty", "")
	f(nd, ``, 400, "batch_empty", "")
	f(nd, "\n\n", 400, "batch_empty", "")
	f(js, "["+strings.TrimSuffix(strings.Repeat(ok+",", maxBatchEvents+1), ",")+"]", 413, "batch_too_large", "")
	f(nd, strings.Repeat(ok+"\n", maxBatchEvents+1), 413, "batch_too_large", "")

	s.reject(t, "POST", "/v1/tenants/nope/events/batch", testToken, js, `[`+ok+`]`, 404, "tenant_not_found")
	require_Equal(t, s.snapshot(t).counts.Events, 1)
}

// TestFanOut proves publish reaches the engine: a subscribed endpoint gets the
// event, signed, with the payload exactly as published.
func TestFanOut(t *testing.T) {
	type delivery struct {
		h    http.Header
		body string
	}
	got := make(chan delivery, 16)
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		select {
		case got <- delivery{r.Header.Clone(), string(b)}:
		default:
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer sink.Close()

	s := newTestServer(t)
	s.mustCreateTenant(t, "acme")
	ep := s.mustCreateEndpoint(t, "acme", `{"url":"`+sink.URL+`/hook","event_types":["invoice.*"]}`)
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(str(t, ep, "secret"), "whsec_"))
	require_NoError(t, err)

	// Not subscribed: queued nowhere.
	status, _, _ := s.doRaw(t, "POST", eventsPath, testToken, "application/json", `{"type":"lead.won","payload":1}`)
	require_Equal(t, status, http.StatusAccepted)
	require_Equal(t, s.snapshot(t).counts.Queued, 0)

	const payload = `{"b":1, "a":[1.50,"\u00e9"],"c":null}`
	status, m, _ := s.do(t, "POST", eventsPath, testToken, "application/json", `{"type":"invoice.paid","payload":`+payload+`}`)
	require_Equal(t, status, http.StatusAccepted)
	id := str(t, m, "id")

	var d delivery
	select {
	case d = <-got:
	case <-time.After(eventually):
		t.Fatalf("event %s not delivered within %s", id, eventually)
	}
	require_Equal(t, d.h.Get("webhook-id"), id)
	var body struct {
		Type      string          `json:"type"`
		Timestamp string          `json:"timestamp"`
		Data      json.RawMessage `json:"data"`
	}
	require_NoError(t, json.Unmarshal([]byte(d.body), &body))
	require_Equal(t, body.Type, "invoice.paid")
	require_Equal(t, string(body.Data), payload)
	ts := d.h.Get("webhook-timestamp")
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + ts + "." + d.body))
	want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
	require_True(t, slices.Contains(strings.Fields(d.h.Get("webhook-signature")), want),
		"webhook-signature %q lacks %q", d.h.Get("webhook-signature"), want)

	waitFor(t, 10*time.Second, "the queue to drain", func() bool { return s.snapshot(t).counts.Queued == 0 })
	select {
	case d := <-got:
		t.Fatalf("unexpected second delivery: %v %s", d.h, d.body)
	case <-time.After(100 * time.Millisecond):
	}
}

// TestPublishBackPressure: over the backlog bound, single and batch
// publishes get 503 backlog_full with Retry-After and write nothing.
func TestPublishBackPressure(t *testing.T) {
	s := newTestServer(t, func(o *engine.Options) { o.MaxBacklog = 2 })
	s.mustCreateTenant(t, "acme")
	ep := s.mustCreateEndpoint(t, "acme", `{"url":"http://127.0.0.1:9/"}`)
	status, _, _ := s.do(t, "POST", "/v1/tenants/acme/endpoints/"+str(t, ep, "id")+"/pause", testToken, "", "")
	require_Equal(t, status, http.StatusOK)
	for range 3 {
		status, _, _ = s.do(t, "POST", "/v1/tenants/acme/events", testToken, "application/json", `{"type":"a","payload":{}}`)
		require_Equal(t, status, http.StatusAccepted)
	}
	deadline := time.Now().Add(eventually)
	for {
		status, _, h := s.doRaw(t, "POST", "/v1/tenants/acme/events", testToken, "application/json", `{"type":"a","payload":{}}`)
		if status == http.StatusServiceUnavailable {
			require_Equal(t, h.Get("Retry-After"), "5")
			break
		}
		require_True(t, time.Now().Before(deadline), "publishing still answers %d over the backlog bound", status)
		time.Sleep(20 * time.Millisecond)
	}
	s.reject(t, "POST", "/v1/tenants/acme/events", testToken, "application/json", `{"type":"a","payload":{}}`, 503, "backlog_full")
	s.reject(t, "POST", "/v1/tenants/acme/events/batch", testToken, "application/x-ndjson", "{\"type\":\"a\",\"payload\":{}}\n{\"type\":\"b\",\"payload\":{}}\n", 503, "backlog_full")
}

// TestPublishReservedType: types under "hookline." are hookline's own
// (hookline.test, hookline.endpoint.disabled): publishing one, alone or in
// a batch, is 400 reserved_event_type and writes nothing, whatever its
// case. Endpoints may still subscribe to them.
func TestPublishReservedType(t *testing.T) {
	s := newTestServer(t)
	s.mustCreateTenant(t, "acme")
	sink := newTestSink(t, http.StatusOK, "")
	s.mustCreateEndpoint(t, "acme", `{"url":"`+sink.srv.URL+`/ops","event_types":["hookline.*"]}`)
	s.mustCreateEndpoint(t, "acme", `{"url":"`+sink.srv.URL+`/test","event_types":["hookline.test","hookline.endpoint.*"]}`)

	f := func(path, contentType, body, wantInMsg string) {
		t.Helper()
		msg := s.reject(t, "POST", path, testToken, contentType, body, 400, "reserved_event_type")
		require_True(t, strings.Contains(msg, wantInMsg) && strings.Contains(msg, "hookline."), "message %q does not name %q and the prefix", msg, wantInMsg)
	}
	const ok = `{"type":"invoice.paid","payload":1}`
	for _, typ := range []string{"hookline.test", "hookline.endpoint.disabled", "hookline.anything", "Hookline.Test", "HOOKLINE.x"} {
		ev := `{"type":"` + typ + `","payload":{}}`
		f(eventsPath, "application/json", ev, typ)
		f(batchPath, "application/json", `[`+ok+`,`+ev+`]`, "event 1")
		f(batchPath, "application/x-ndjson", ok+"\n"+ev+"\n", "event 1")
	}
	require_Equal(t, s.snapshot(t).counts.Events, 0)

	// Only the prefix with its dot is reserved.
	for _, typ := range []string{"hookline", "hooklines.test", "my.hookline.test", "hookline:test", "hookline-test"} {
		status, _, _ := s.do(t, "POST", eventsPath, testToken, "application/json", `{"type":"`+typ+`","payload":1}`)
		require_Equal(t, status, http.StatusAccepted)
	}
	time.Sleep(200 * time.Millisecond)
	require_Equal(t, len(sink.requests()), 0)
}

// TestPublishTenantLimits: a tenant over its own bounds gets 429 with
// Retry-After, for the ingest API and its inbound sources alike, and
// another tenant is served.
func TestPublishTenantLimits(t *testing.T) {
	s := newTestServer(t, func(o *engine.Options) { o.MaxTenantEventsPerSecond = 1 })
	s.mustCreateTenant(t, "acme")
	s.mustCreateTenant(t, "beta")
	// The burst is a second's worth, at least 1,000 events.
	batch := "[" + strings.Repeat(`{"type":"a","payload":{}},`, maxBatchEvents-1) + `{"type":"a","payload":{}}]`
	for range 1000 / maxBatchEvents {
		status, raw, _ := s.doRaw(t, "POST", "/v1/tenants/acme/events/batch", testToken, "application/json", batch)
		require_True(t, status == http.StatusAccepted, "batch: %d %s", status, short(raw))
	}
	status, raw, h := s.doRaw(t, "POST", "/v1/tenants/acme/events", testToken, "application/json", `{"type":"a","payload":{}}`)
	require_Equal(t, status, http.StatusTooManyRequests)
	requireErrorBody(t, raw, "tenant_rate_limited")
	require_True(t, h.Get("Retry-After") != "", "no Retry-After")
	status, raw, _ = s.doRaw(t, "POST", "/v1/tenants/acme/sources", testToken, "application/json", `{"provider":"none","mapping":{"type":"t"}}`)
	require_Equal(t, status, http.StatusCreated)
	url := str(t, decodeObject(t, raw), "url")
	status, raw, _ = s.doRaw(t, "POST", url, "", "application/json", `{}`)
	require_Equal(t, status, http.StatusTooManyRequests)
	requireErrorBody(t, raw, "tenant_rate_limited")
	status, _, _ = s.doRaw(t, "POST", "/v1/tenants/beta/events", testToken, "application/json", `{"type":"a","payload":{}}`)
	require_Equal(t, status, http.StatusAccepted)
}

// TestPublishRejectsDeepPayload: a payload nested deeper than the limit
// (128 by default; Python's json, among common receiver parsers, fails near
// 1000) is refused with 400 payload_too_deep naming the limit, in a single
// publish and in a batch, and nothing is written; at the limit it is
// accepted.
func TestPublishRejectsDeepPayload(t *testing.T) {
	s := newTestServer(t)
	s.mustCreateTenant(t, "acme")
	nested := func(n int) string { return strings.Repeat(`{"a":`, n) + "1" + strings.Repeat("}", n) }
	ev := func(depth int) string { return `{"type":"a","payload":` + nested(depth) + `}` }

	status, raw, _ := s.doRaw(t, "POST", eventsPath, testToken, "application/json", ev(128))
	require_True(t, status == http.StatusAccepted, "event at the limit: status %d (%s)", status, short(raw))
	status, raw, _ = s.doRaw(t, "POST", batchPath, testToken, "application/json", "["+ev(128)+","+ev(1)+"]")
	require_True(t, status == http.StatusAccepted, "batch at the limit: status %d (%s)", status, short(raw))

	msg := s.reject(t, "POST", eventsPath, testToken, "application/json", ev(129), 400, "payload_too_deep")
	require_True(t, strings.Contains(msg, "128"), "message %q does not name the limit", msg)
	msg = s.reject(t, "POST", eventsPath, testToken, "application/json", `{"type":"a","payload":`+strings.Repeat("[", 1100)+strings.Repeat("]", 1100)+`}`, 400, "payload_too_deep")
	require_True(t, strings.Contains(msg, "128"), "message %q does not name the limit", msg)
	msg = s.reject(t, "POST", batchPath, testToken, "application/json", "["+ev(1)+","+ev(129)+"]", 400, "payload_too_deep")
	require_True(t, strings.Contains(msg, "event 1") && strings.Contains(msg, "128"), "message %q does not name the event and the limit", msg)
	msg = s.reject(t, "POST", batchPath, testToken, "application/x-ndjson", ev(1)+"\n"+ev(200)+"\n", 400, "payload_too_deep")
	require_True(t, strings.Contains(msg, "line 2"), "message %q does not name the line", msg)
}

// TestPayloadDepthOption: Options.MaxPayloadDepth sets the limit for
// publishes and for endpoint test payloads alike, and the error names it.
func TestPayloadDepthOption(t *testing.T) {
	s := newTestServerHTTP(t, func(o *httpin.Options) { o.MaxPayloadDepth = 4 })
	s.mustCreateTenant(t, "acme")
	sink := newTestSink(t, http.StatusOK, "")
	ep := s.mustCreateEndpoint(t, "acme", `{"url":"`+sink.srv.URL+`/hook"}`)
	testPath := "/v1/tenants/acme/endpoints/" + str(t, ep, "id") + "/test"

	// Refusals first: each checks that nothing changed, which a delivery
	// of an accepted event would.
	msg := s.reject(t, "POST", eventsPath, testToken, "application/json", `{"type":"a","payload":[[[{"a":[]}]]]}`, 400, "payload_too_deep")
	require_True(t, strings.Contains(msg, "deeper than 4 levels"), "message %q does not name the limit", msg)
	msg = s.reject(t, "POST", testPath, testToken, "application/json", `{"payload":[[[{"a":[]}]]]}`, 400, "payload_too_deep")
	require_True(t, strings.Contains(msg, `field "payload" nests deeper than 4 levels`), "message %q does not name the field and the limit", msg)
	msg = s.reject(t, "POST", testPath, testToken, "application/json", `{"payload":1,"x":[[[[[]]]]]}`, 400, "payload_too_deep")
	require_True(t, strings.Contains(msg, `field "x"`), "message %q does not name the field", msg)

	status, raw, _ := s.doRaw(t, "POST", eventsPath, testToken, "application/json", `{"type":"a","payload":[[[{"a":1}]]]}`)
	require_True(t, status == http.StatusAccepted, "4 levels: status %d (%s)", status, short(raw))
	status, raw, _ = s.doRaw(t, "POST", testPath, testToken, "application/json", `{"payload":[[[{"a":1}]]]}`)
	require_True(t, status == http.StatusOK, "test payload of 4 levels: status %d (%s)", status, short(raw))
}
