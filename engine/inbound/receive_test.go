package inbound_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"hookline/engine"
	"hookline/engine/inbound"
	"hookline/internal/verify"
)

// hdrs is a request's headers, in order, as a provider sent them.
type hdrs [][2]string

func (h hdrs) Peek(key string) []byte {
	for _, kv := range h {
		if strings.EqualFold(kv[0], key) {
			return []byte(kv[1])
		}
	}
	return nil
}

type query map[string]string

func (q query) Peek(key string) []byte {
	if v, ok := q[key]; ok {
		return []byte(v)
	}
	return nil
}

// request builds the request httpin would pass to Receive for a POST to
// /in/{id}?rawQuery.
func request(id, rawQuery string, body []byte, h hdrs) *inbound.Request {
	uri := "/in/" + id
	if rawQuery != "" {
		uri += "?" + rawQuery
	}
	// Like fasthttp's RequestHeader.Header: the request line first.
	var raw strings.Builder
	raw.WriteString("POST " + uri + " HTTP/1.1\r\n")
	for _, kv := range h {
		raw.WriteString(kv[0] + ": " + kv[1] + "\r\n")
	}
	raw.WriteString("\r\n")
	u := "http://127.0.0.1:8080" + uri
	q := query{}
	if rawQuery != "" {
		for p := range strings.SplitSeq(rawQuery, "&") {
			k, v, _ := strings.Cut(p, "=")
			if _, ok := q[k]; !ok {
				q[k] = v
			}
		}
	}
	return &inbound.Request{
		Request:    verify.Request{URL: []byte(u), Header: h, Query: q, Body: body},
		RawHeaders: []byte(raw.String()),
	}
}

func githubSig(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// githubReq is a signed GitHub delivery.
func githubReq(id, secret, delivery string, body []byte) *inbound.Request {
	return request(id, "", body, hdrs{{"X-GitHub-Event", "issues"}, {"X-GitHub-Delivery", delivery}, {"X-Hub-Signature-256", githubSig(secret, body)}})
}

func (h *harness) source(tenant string, in inbound.SourceInput) inbound.Source {
	h.t.Helper()
	src, err := h.rc.CreateSource(bg, tenant, in)
	require_NoError(h.t, err)
	return src
}

func (h *harness) requests(tenant, id string) []inbound.LogEntry {
	h.t.Helper()
	var out []inbound.LogEntry
	for cursor := ""; ; {
		page, next, err := h.rc.ListRequests(tenant, id, cursor, 1000)
		require_NoError(h.t, err)
		out = append(out, page...)
		if cursor = next; next == "" {
			return out
		}
	}
}

// TestReceiveLogRecord: what the request log keeps of one request:
// credentials redacted wherever they travel, bodies over 64 KiB cut,
// bodies that are not UTF-8 in base64.
func TestReceiveLogRecord(t *testing.T) {
	h := newHarness(t)
	h.tenant("acme")
	src := h.source("acme", inbound.SourceInput{
		Provider: ptr("api-key"), Secret: ptr("k-1234567890abcdef"),
		APIKey:  &verify.APIKeyConfig{Header: "X-Api-Key", Query: "token"},
		Mapping: json.RawMessage(`{"type":"t.{header:X-Kind}","payload":{"raw":"body:text"}}`),
	})
	recv := func(rawQuery string, body []byte, hs ...[2]string) inbound.LogEntry {
		t.Helper()
		res := h.rc.Receive(src.ID, request(src.ID, rawQuery, body, append(hdrs{{"X-Kind", "k"}}, hs...)))
		require_Equal(t, res.Status, 200)
		en, err := h.rc.GetRequest("acme", src.ID, res.RequestID)
		require_NoError(t, err)
		require_Equal(t, en.EventID, res.EventID)
		return en
	}

	// f: the key in the query is redacted, the rest stays as sent.
	f := func(rawQuery, wantQuery string) {
		t.Helper()
		en := recv(rawQuery, []byte(`{}`))
		require_Equal(t, en.RequestURL, "http://127.0.0.1:8080/in/"+src.ID+"?"+wantQuery)
		require_True(t, !strings.Contains(en.Headers, "k-1234567890abcdef"), "the key is in the logged headers %q", en.Headers)
	}
	f("token=k-1234567890abcdef", "token=[redacted]")
	f("a=1&token=k-1234567890abcdef&b=%20x", "a=1&token=[redacted]&b=%20x")
	f("a=1;b=2&token=k-1234567890abcdef", "a=1;b=2&token=[redacted]")
	f("a=%zz&token=k-1234567890abcdef", "a=%zz&token=[redacted]")
	f("token=k-1234567890abcdef&token=again", "token=[redacted]&token=[redacted]")
	f("token=k-1234567890abcdef&tokens=1", "token=[redacted]&tokens=1")
	f("at=10:00&token=k-1234567890abcdef", "at=10:00&token=[redacted]") // a colon in the request line

	// Headers: the key header, Authorization and Cookie.
	en := recv("", []byte(`{}`), [2]string{"x-api-key", "k-1234567890abcdef"}, [2]string{"Authorization", "Bearer abc"}, [2]string{"Cookie", "s=1"})
	require_True(t, !strings.Contains(en.Headers, "k-1234567890abcdef") && !strings.Contains(en.Headers, "abc") && !strings.Contains(en.Headers, "s=1"),
		"credentials in %q", en.Headers)
	require_True(t, strings.Contains(en.Headers, "x-api-key: [redacted]\n") && strings.Contains(en.Headers, "Authorization: [redacted]\n") &&
		strings.Contains(en.Headers, "X-Kind: k\n"), "headers %q", en.Headers)

	// Bodies.
	bin := []byte("\xff\x00 not text")
	en = recv("token=k-1234567890abcdef", bin)
	require_True(t, en.BodyBase64, "a binary body is not in base64")
	got, err := base64.StdEncoding.DecodeString(en.Body)
	require_NoError(t, err)
	require_Equal(t, string(got), string(bin))
	big := []byte(strings.Repeat("é", 40<<10)) // 80 KiB of two-byte runes
	en = recv("token=k-1234567890abcdef", big)
	require_True(t, en.Truncated, "an 80 KiB body is not truncated")
	require_Equal(t, en.BodyBytes, len(big))
	require_True(t, len(en.Body) <= 64<<10, "%d bytes of body logged", len(en.Body))
	_, err = h.rc.ReplayRequest(bg, "acme", src.ID, en.ID)
	require_ErrorCode(t, err, engine.KindConflict, "body_truncated")
}

// TestReceiveLogOrder: requests are listed newest first, also when many
// arrive within one millisecond, and pages neither skip nor repeat.
func TestReceiveLogOrder(t *testing.T) {
	h := newHarness(t)
	h.tenant("acme")
	src := h.source("acme", inbound.SourceInput{Provider: ptr("none"), Mapping: json.RawMessage(`{"type":"t"}`)})
	const n = 50
	var ids []string
	for i := range n {
		res := h.rc.Receive(src.ID, request(src.ID, "", fmt.Appendf(nil, `{"n":%d}`, i), nil))
		require_Equal(t, res.Outcome, inbound.Accepted)
		ids = append(ids, res.RequestID)
	}
	var listed []string
	for cursor := ""; ; {
		page, next, err := h.rc.ListRequests("acme", src.ID, cursor, 7)
		require_NoError(t, err)
		for _, en := range page {
			require_Equal(t, en.Body, "")
			listed = append(listed, en.ID)
		}
		if cursor = next; next == "" {
			break
		}
	}
	require_Equal(t, len(listed), n)
	for i, id := range listed {
		require_Equal(t, id, ids[n-1-i])
	}
	require_Equal(t, h.metric(`hookline_inbound_requests_total{outcome="accepted"}`), n)
	require_Equal(t, h.metric(`hookline_ingest_events_total{source="inbound"}`), n)
}

// TestReceiveMappingBudget: a mapping whose JSONPaths would cost more
// than their step budget on a body is refused like any mapping failure
// (422 mapping_failed, the reason naming the budget); the mapping that
// took 83 s of CPU on 128 KB (issue 12) is accepted.
func TestReceiveMappingBudget(t *testing.T) {
	h := newHarness(t)
	h.tenant("acme")
	array := func(size int) []byte {
		b := []byte(`{"x":[0`)
		for i := 1; len(b) < size-2; i++ {
			b = fmt.Appendf(b, ",%d", i%1000)
		}
		return append(b, "]}"...)
	}
	items := h.source("acme", inbound.SourceInput{Provider: ptr("none"), Mapping: json.RawMessage(`{"type":"t","payload":{"items":"$.x[*]"}}`)})
	res := h.rc.Receive(items.ID, request(items.ID, "", array(128<<10), nil))
	require_Equal(t, res.Status, 200)
	require_Equal(t, res.Outcome, inbound.Accepted)

	// Each field copies the whole array: 100 of them would make a
	// payload of 100 MB.
	var fields []string
	for i := range 100 {
		fields = append(fields, fmt.Sprintf(`"f%d":"$.x[*]"`, i))
	}
	hostile := h.source("acme", inbound.SourceInput{Provider: ptr("none"),
		Mapping: json.RawMessage(`{"type":"t","payload":{` + strings.Join(fields, ",") + `}}`)})
	res = h.rc.Receive(hostile.ID, request(hostile.ID, "", array(1000<<10), nil))
	require_Equal(t, res.Status, 422)
	require_Equal(t, res.Outcome, inbound.Rejected)
	require_Equal(t, res.Code, "mapping_failed")
	require_True(t, strings.Contains(res.Message, "over the budget of 16777216 steps"), "message %q does not name the budget", res.Message)
	require_Equal(t, h.metric(`hookline_inbound_requests_total{outcome="rejected"}`), 1)
}

// TestReceiveConcurrent: requests race with patches, rotations, log reads
// and dry runs; every request gets an answer and a log record (run with
// -race).
func TestReceiveConcurrent(t *testing.T) {
	h := newHarness(t)
	h.tenant("acme")
	src := h.source("acme", inbound.SourceInput{Provider: ptr("github"), Secret: ptr("s0")})
	const workers, per = 4, 25
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range per {
				body := fmt.Appendf(nil, `{"action":"opened","w":%d,"i":%d}`, w, i)
				res := h.rc.Receive(src.ID, githubReq(src.ID, "s0", fmt.Sprintf("d-%d-%d", w, i), body))
				if res.Status != 200 {
					t.Errorf("request %d/%d: %d %s %s", w, i, res.Status, res.Code, res.Message)
				}
			}
		})
	}
	wg.Go(func() {
		for i := range 20 {
			_, err := h.rc.UpdateSource(bg, "acme", src.ID, inbound.SourceInput{Name: ptr(fmt.Sprint("n", i))})
			if err != nil {
				t.Errorf("update: %v", err)
			}
			// s0 stays accepted: every rotation keeps the previous one
			// for an hour, and s0 is always among the last two.
			sec := "s0"
			if i%2 == 0 {
				sec = fmt.Sprint("s", i+1)
			}
			if _, err := h.rc.RotateSourceSecret(bg, "acme", src.ID, engine.SecretRotation{Secret: &sec, Overlap: ptr("1h")}); err != nil {
				t.Errorf("rotate: %v", err)
			}
			if _, _, err := h.rc.ListRequests("acme", src.ID, "", 10); err != nil {
				t.Errorf("list: %v", err)
			}
			if _, err := h.rc.TestSource("acme", src.ID, inbound.SourceTest{Body: json.RawMessage(`{"action":"x"}`)}); err != nil {
				t.Errorf("dry run: %v", err)
			}
		}
	})
	wg.Wait()
	require_Equal(t, len(h.requests("acme", src.ID)), workers*per)
}

// TestReceiveReservedType: a mapping cannot make hookline's own event
// types: a literal "hookline." prefix is refused when the source is
// created or updated, and a type made from the request is refused per
// request (400 reserved_event_type, logged, nothing written).
func TestReceiveReservedType(t *testing.T) {
	h := newHarness(t)
	h.tenant("acme")
	for _, m := range []string{
		`{"type":"hookline.test"}`,
		`{"type":"hookline.{$.kind}"}`,
		`{"type":"x","routes":[{"when":{"path":"$.a","exists":true},"type":"HOOKLINE.x.{$.a}"}]}`,
	} {
		_, err := h.rc.CreateSource(bg, "acme", inbound.SourceInput{Provider: ptr("none"), Mapping: json.RawMessage(m)})
		require_ErrorCode(t, err, engine.KindInvalid, "reserved_event_type")
	}
	src := h.source("acme", inbound.SourceInput{Provider: ptr("none"), Mapping: json.RawMessage(`{"type":"{$.kind}"}`)})
	_, err := h.rc.UpdateSource(bg, "acme", src.ID, inbound.SourceInput{Mapping: json.RawMessage(`{"type":"hookline.{$.kind}"}`)})
	require_ErrorCode(t, err, engine.KindInvalid, "reserved_event_type")

	body := []byte(`{"kind":"hookline.endpoint.disabled"}`)
	res := h.rc.Receive(src.ID, request(src.ID, "", body, nil))
	require_Equal(t, res.Status, 400)
	require_Equal(t, res.Outcome, inbound.Rejected)
	require_Equal(t, res.Code, "reserved_event_type")
	require_True(t, strings.Contains(res.Message, "hookline.endpoint.disabled"), "message %q does not name the type", res.Message)
	c, err := h.log.Count()
	require_NoError(t, err)
	require_Equal(t, c.Events, 0)
	reqs := h.requests("acme", src.ID)
	require_Equal(t, len(reqs), 1)
	require_Equal(t, reqs[0].Outcome, inbound.Rejected)
	require_Equal(t, reqs[0].Code, "reserved_event_type")

	dry, err := h.rc.TestSource("acme", src.ID, inbound.SourceTest{Body: body})
	require_NoError(t, err)
	require_Equal(t, dry.Outcome, inbound.Rejected)
	require_Equal(t, dry.Code, "reserved_event_type")
	require_True(t, dry.Event == nil, "a dry run shows a refused event")
}

// TestReservedTypeStoredMapping: a source stored with a literal "hookline."
// type (before the prefix was reserved) still loads, so it can be seen and
// fixed, but its requests are refused; and no provider's default mapping
// makes a reserved type.
func TestReservedTypeStoredMapping(t *testing.T) {
	for _, name := range verify.Names() {
		if p, ok := verify.Lookup(name); ok {
			lit, _, _ := strings.Cut(p.DefaultType, "{")
			require_True(t, !engine.ReservedEventType(lit), "provider %s's default type %q is reserved", name, p.DefaultType)
		}
	}
	h := newHarness(t)
	h.tenant("acme")
	src := h.source("acme", inbound.SourceInput{Provider: ptr("none"), Mapping: json.RawMessage(`{"type":"ops.{$.kind}"}`)})
	id, ok := inbound.ParseSourceID(src.ID)
	require_True(t, ok, "source id %q", src.ID)
	stored := src
	stored.Mapping = json.RawMessage(`{"type":"hookline.{$.kind}"}`)
	rec, err := json.Marshal(stored)
	require_NoError(t, err)
	require_NoError(t, h.log.PutSource(id, rec))
	h.stop(5 * time.Second)
	h.start()

	got, err := h.rc.GetSource("acme", src.ID)
	require_NoError(t, err)
	require_Equal(t, string(got.Mapping), string(stored.Mapping))
	res := h.rc.Receive(src.ID, request(src.ID, "", []byte(`{"kind":"test"}`), nil))
	require_Equal(t, res.Status, 400)
	require_Equal(t, res.Code, "reserved_event_type")
	// Renaming it keeps the stored mapping; fixing the mapping works.
	_, err = h.rc.UpdateSource(bg, "acme", src.ID, inbound.SourceInput{Name: ptr("ops")})
	require_NoError(t, err)
	_, err = h.rc.UpdateSource(bg, "acme", src.ID, inbound.SourceInput{Mapping: json.RawMessage(`{"type":"ops.{$.kind}"}`)})
	require_NoError(t, err)
	res = h.rc.Receive(src.ID, request(src.ID, "", []byte(`{"kind":"test"}`), nil))
	require_Equal(t, res.Outcome, inbound.Accepted)
}
