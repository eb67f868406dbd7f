package engine

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/bytedance/sonic"

	"hookline/internal/transform"
	"hookline/internal/verify"
	"hookline/wal"
)

// redactedHeaders are the headers that carry s's credentials.
func (s *Source) redactedHeaders() []string {
	out := []string{"Authorization", "Proxy-Authorization", "Cookie"}
	if s.APIKey != nil && s.APIKey.Header != "" {
		out = append(out, s.APIKey.Header)
	}
	return out
}

// redactedQuery is the query parameter that carries s's key, if any.
func (s *Source) redactedQuery() string {
	if s.APIKey != nil {
		return s.APIKey.Query
	}
	return ""
}

// redactHeaders returns raw's header lines with the named headers'
// values replaced, capped at limit bytes.
func redactHeaders(raw []byte, names []string, limit int) string {
	var b strings.Builder
	for line := range strings.SplitSeq(string(raw), "\n") {
		line = strings.TrimRight(line, "\r")
		if line == "" {
			continue
		}
		name, _, ok := strings.Cut(line, ":")
		if !ok || strings.ContainsAny(name, " \t") {
			// The request line: its URI (with a query key, maybe a
			// colon) is logged redacted as the URL, not here.
			continue
		}
		for _, n := range names {
			if strings.EqualFold(strings.TrimSpace(name), n) {
				line = name + ": [redacted]"
				break
			}
		}
		if b.Len()+len(line)+1 > limit {
			break
		}
		b.WriteString(line)
		b.WriteByte('\n')
	}
	return b.String()
}

// redactQuery replaces the value of query parameter name in u. The query
// is split and its names decoded the way the receiver read them (fasthttp:
// pairs split on '&' only, '+' is a space, a bad escape stays as it is),
// so a query net/url refuses (a ';', a bad escape) cannot keep the key in
// the clear; the other pairs stay as they were sent.
func redactQuery(u, name string) string {
	if name == "" {
		return u
	}
	base, q, ok := strings.Cut(u, "?")
	if !ok {
		return u
	}
	pairs := strings.Split(q, "&")
	changed := false
	for i, p := range pairs {
		k, _, _ := strings.Cut(p, "=")
		if unescapeQuery(k) == name {
			pairs[i] = k + "=[redacted]"
			changed = true
		}
	}
	if !changed {
		return u
	}
	return base + "?" + strings.Join(pairs, "&")
}

// unescapeQuery decodes a query name leniently, as fasthttp does.
func unescapeQuery(s string) string {
	if !strings.ContainsAny(s, "%+") {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '+':
			b = append(b, ' ')
		case c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			b = append(b, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
		default:
			b = append(b, c)
		}
	}
	return string(b)
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}

func encodeBase64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// logHeaders serves a logged request's header lines to a mapping.
type logHeaders []string

func (h logHeaders) Peek(key string) []byte {
	for _, line := range h {
		name, value, ok := strings.Cut(line, ":")
		if ok && strings.EqualFold(strings.TrimSpace(name), key) {
			return []byte(strings.TrimSpace(value))
		}
	}
	return nil
}

// ListInbound returns a page of source id's request log, newest first,
// without bodies, and the cursor of the next page.
func (e *Engine) ListInbound(tenant, id, cursor string, limit int) ([]InboundLogEntry, string, error) {
	st, err := e.sourceOf(tenant, id)
	if err != nil {
		return nil, "", err
	}
	if limit < 1 || limit > maxDeliveryPage {
		return nil, "", invalid("invalid_limit", "limit is %d; it must be 1-%d", limit, maxDeliveryPage)
	}
	var before wal.ID
	if cursor != "" {
		req, ok := parseRequestID(cursor)
		if !ok {
			return nil, "", invalid("invalid_cursor", "cursor %q is not one this API returned", cursor)
		}
		before = req
	}
	out := []InboundLogEntry{}
	var derr error
	err = e.log.ScanInbound(st.id, before, func(_ wal.ID, rec []byte) bool {
		var en InboundLogEntry
		if derr = sonic.Unmarshal(rec, &en); derr != nil {
			return false
		}
		en.Headers, en.Body = "", ""
		out = append(out, en)
		return len(out) < limit
	})
	if err == nil {
		err = derr
	}
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(out) == limit {
		next = out[len(out)-1].ID
	}
	return out, next, nil
}

// GetInbound returns one logged request with its headers and body.
func (e *Engine) GetInbound(tenant, id, reqID string) (InboundLogEntry, error) {
	st, err := e.sourceOf(tenant, id)
	if err != nil {
		return InboundLogEntry{}, err
	}
	return e.inboundEntry(st, reqID)
}

func (e *Engine) inboundEntry(st *sourceState, reqID string) (InboundLogEntry, error) {
	req, ok := parseRequestID(reqID)
	if !ok {
		return InboundLogEntry{}, notFound("request_not_found", "request %q is not in source %q's log", reqID, st.src.ID)
	}
	rec, err := e.log.GetInbound(st.id, req)
	if errors.Is(err, wal.ErrNotFound) {
		return InboundLogEntry{}, notFound("request_not_found", "request %q is not in source %q's log", reqID, st.src.ID)
	}
	if err != nil {
		return InboundLogEntry{}, err
	}
	var en InboundLogEntry
	if err := sonic.Unmarshal(rec, &en); err != nil {
		return InboundLogEntry{}, err
	}
	if en.BodyInEvent {
		en.BodyInEvent = false
		if err := e.bodyFromEvent(&en); err != nil {
			return InboundLogEntry{}, err
		}
	}
	return en, nil
}

// bodyFromEvent fills a record's body from the event it made, whose
// payload is the body's bytes. Retention removes the two together; an
// event already gone leaves the body empty and says so.
func (e *Engine) bodyFromEvent(en *InboundLogEntry) error {
	id, ok := parseEventID(en.EventID)
	if !ok {
		return fmt.Errorf("request %s names no event (%q)", en.ID, en.EventID)
	}
	var (
		rec wal.EventRecord
		buf wal.EventBuf
	)
	err := e.log.ReadEvent(id, &rec, &buf)
	if errors.Is(err, wal.ErrNotFound) {
		en.Message = "the body was removed with its event"
		return nil
	}
	if err != nil {
		return err
	}
	en.Body = string(bodyData(rec.Body))
	return nil
}

func parseRequestID(s string) (wal.ID, bool) { return parsePrefixedID(s, requestPrefix) }

// ReplayInbound runs a logged request again through the source's current
// mapping, without verifying it again: only a request that was verified
// when it came can be replayed. Dedupe still applies, so replaying a
// request that made an event answers that event again.
func (e *Engine) ReplayInbound(tenant, id, reqID string) (InboundResult, error) {
	st, err := e.sourceOf(tenant, id)
	if err != nil {
		return InboundResult{}, err
	}
	orig, err := e.inboundEntry(st, reqID)
	if err != nil {
		return InboundResult{}, err
	}
	switch {
	case !orig.Verified:
		return InboundResult{}, conflict("not_verified", "request %s failed verification (%s); only verified requests can be replayed", reqID, orig.Code)
	case orig.Truncated:
		return InboundResult{}, conflict("body_truncated", "request %s's body (%d bytes) was logged only in part", reqID, orig.BodyBytes)
	case orig.Body == "" && orig.BodyBytes > 0:
		return InboundResult{}, conflict("body_removed", "request %s's body was removed with its event", reqID)
	case orig.Outcome == InboundChallenge:
		return InboundResult{}, conflict("not_an_event", "request %s was a provider handshake, not an event", reqID)
	}
	body := []byte(orig.Body)
	if orig.BodyBase64 {
		if body, err = base64.StdEncoding.DecodeString(orig.Body); err != nil {
			return InboundResult{}, err
		}
	}
	reqWal := e.log.NewConfigID()
	entry := InboundLogEntry{ID: requestPrefix + reqWal.String(), At: time.Now().UTC(), Verified: true, ReplayOf: reqID}
	h := logHeaders(strings.Split(orig.Headers, "\n"))
	res := e.mapAndAppend(st, body, h, &entry)
	res.RequestID = entry.ID
	raw := InboundRequest{Request: verify.Request{URL: []byte(orig.RequestURL), Body: body}, RawHeaders: []byte(orig.Headers)}
	e.logInbound(st, reqWal, &raw, &entry, res)
	return res, nil
}

// SourceTest is a dry run's request: a sample body and headers.
type SourceTest struct {
	Body    json.RawMessage   `json:"body"`
	RawBody *string           `json:"raw_body"`
	Headers map[string]string `json:"headers"`
	// URL is the URL the provider would call, for schemes that sign it
	// (hubspot, twilio).
	URL string `json:"url"`
	// Verify also checks the signature (default: only map).
	Verify bool `json:"verify"`
}

// SourceTestResult says what a request would become, or why not.
type SourceTestResult struct {
	Verified *bool            `json:"verified,omitempty"`
	Outcome  string           `json:"outcome"` // event, dropped, rejected, challenge
	Code     string           `json:"code,omitempty"`
	Message  string           `json:"message,omitempty"`
	Event    *SourceTestEvent `json:"event,omitempty"`
}

// SourceTestEvent is the event a dry run would produce.
type SourceTestEvent struct {
	Type     string          `json:"type"`
	DedupeID string          `json:"dedupe_id,omitempty"`
	Payload  json.RawMessage `json:"payload"`
}

// urlQuery serves the query parameters of u (empty when u has none).
func urlQuery(u string) mapHeaders {
	out := mapHeaders{}
	if _, q, ok := strings.Cut(u, "?"); ok {
		vals, _ := url.ParseQuery(q)
		for k := range vals {
			out[k] = vals.Get(k)
		}
	}
	return out
}

type mapHeaders map[string]string

func (h mapHeaders) Peek(key string) []byte {
	for k, v := range h {
		if strings.EqualFold(k, key) {
			return []byte(v)
		}
	}
	return nil
}

// TestSource maps a sample request with the source's mapping and writes
// nothing: for building mappings against real payloads.
func (e *Engine) TestSource(tenant, id string, in SourceTest) (SourceTestResult, error) {
	st, err := e.sourceOf(tenant, id)
	if err != nil {
		return SourceTestResult{}, err
	}
	var body []byte
	switch {
	case in.RawBody != nil && in.Body != nil:
		return SourceTestResult{}, invalid("invalid_test", "give body (JSON) or raw_body (text), not both")
	case in.RawBody != nil:
		body = []byte(*in.RawBody)
	case in.Body != nil:
		body = in.Body
	default:
		return SourceTestResult{}, invalid("invalid_test", "body (JSON) or raw_body (text) is required")
	}
	h := mapHeaders(in.Headers)
	var out SourceTestResult
	if in.Verify {
		now := time.Now()
		// As in Receive: a previous secret that has expired since the
		// verifier was built must not verify the sample.
		if live := e.liveSource(id, now); live != nil {
			st = live
		}
		ok := true
		vr, verr := st.verifier.Verify(&verify.Request{URL: []byte(in.URL), Header: h, Query: urlQuery(in.URL), Body: body}, now)
		if verr != nil {
			ok = false
			out.Verified = &ok
			out.Outcome, out.Code, out.Message = InboundRejected, verr.Code, verr.Message
			return out, nil
		}
		out.Verified = &ok
		if vr.Challenge != nil {
			out.Outcome = InboundChallenge
			return out, nil
		}
	}
	var mr transform.Result
	if _, err := st.mapping.Apply(body, h, &mr, nil); err != nil {
		out.Outcome, out.Code, out.Message = InboundRejected, "mapping_failed", err.Error()
		var te *transform.Error
		if errors.As(err, &te) {
			out.Code = te.Code
		}
		return out, nil
	}
	if mr.Dropped {
		out.Outcome, out.Message = InboundDropped, mr.Reason
		return out, nil
	}
	out.Outcome = "event"
	out.Event = &SourceTestEvent{Type: mr.Type, DedupeID: st.dedupeID(mr.ID, body), Payload: json.RawMessage(bytes.Clone(mr.Payload))}
	return out, nil
}
