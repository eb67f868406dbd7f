package engine

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
	"unsafe"

	"hookline/httpout"
	"hookline/internal/transform"
	"hookline/wal"
)

// Request shaping: an endpoint may describe the request its deliveries
// make (method, URL template, static headers, auth, body template, filter,
// signature scheme), so that it can talk to an API that was not written
// for hookline. How it works:
//  1. The fields are checked and compiled when the endpoint is created or
//     updated (compileShape); nothing half-valid is stored, and a refusal
//     names the field at fault.
//  2. The filter runs at fan-out on the event as stored, so an event it
//     refuses writes no queue entry for the endpoint.
//  3. Each attempt renders the request from the stored event and the
//     endpoint's config at that moment (renderRequest), so a template fixed
//     after a failure applies to the replay. A render failure dead-letters
//     the delivery with error class render_failed: the same event and
//     config would fail the same way on every retry.
//
// Templates, URL placeholders and filters read the event as the envelope
// a receiver gets by default with its id: {"id","type","timestamp","data"}.

// requestCaptureSize is how much of a shaped body the attempt log keeps.
// (transform bounds the templates, httpout the headers.)
const requestCaptureSize = 4096

// errClassRender is the attempt error class of a request that could not be
// rendered from its event.
const errClassRender = transform.CodeRenderFailed

// requestShape is an endpoint's compiled shaping; nil fields keep the
// standard request.
type requestShape struct {
	method  string            // "" for POST
	url     *transform.URL    // nil: the endpoint's URL as it is
	body    *transform.Body   // nil: the standard envelope
	filter  *transform.Filter // nil: every event of the subscribed types
	headers []httpout.Header  // static headers, then the auth header
	masked  []httpout.Header  // headers with credentials masked, for previews
}

func isNull(raw json.RawMessage) bool { return string(bytes.TrimSpace(raw)) == "null" }

// applyShapeInput sets the shaping fields of ep from in; compileShape checks
// them together afterwards.
func applyShapeInput(ep *Endpoint, in *EndpointInput) error {
	if in.Method != nil {
		m := strings.ToUpper(strings.TrimSpace(*in.Method))
		if err := httpout.CheckMethod(m); err != nil {
			return Invalid("invalid_method", "method: %s", err)
		}
		if m == "POST" {
			m = "" // the default, stored as nothing
		}
		ep.Method = m
	}
	switch {
	case in.Headers == nil:
	case isNull(in.Headers):
		ep.Headers = nil
	default:
		var h map[string]string
		if err := strictUnmarshal(in.Headers, &h); err != nil {
			return Invalid("invalid_headers", "headers must be an object of header names to text values: %s", err)
		}
		ep.Headers = h
	}
	switch {
	case in.Auth == nil:
	case isNull(in.Auth):
		ep.Auth = nil
	default:
		var a httpout.AuthConfig
		if err := strictUnmarshal(in.Auth, &a); err != nil {
			return Invalid("invalid_auth", "auth: %s", err)
		}
		ep.Auth = &a
	}
	for _, f := range []struct {
		in  json.RawMessage
		out *json.RawMessage
	}{{in.Body, &ep.Body}, {in.Filter, &ep.Filter}} {
		switch {
		case f.in == nil:
		case isNull(f.in):
			*f.out = nil
		default:
			*f.out = slices.Clone(f.in)
		}
	}
	if in.Signature != nil {
		sig := *in.Signature
		sig.EnsureDefaults() // stored and shown with its defaults
		if err := sig.Validate(); err != nil {
			return Invalid("invalid_signature", "%s", err)
		}
		ep.Signature = &sig
		if sig.Scheme == "" || sig == (httpout.SignatureConfig{Scheme: httpout.SchemeStandardWebhooks}) {
			ep.Signature = nil // the default, stored as nothing
		}
	}
	return nil
}

// strictUnmarshal decodes raw into v refusing unknown fields and trailing
// data.
func strictUnmarshal(raw []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return fmt.Errorf("trailing data")
	}
	return nil
}

// compileShape checks and compiles ep's shaping fields; nil when ep uses
// the standard request.
func compileShape(ep *Endpoint) (*requestShape, error) {
	s := &requestShape{}
	if ep.Method != "" && ep.Method != "POST" {
		s.method = ep.Method
	}
	if strings.ContainsAny(ep.URL, "{}") {
		u, err := transform.CompileURL(ep.URL)
		if err != nil {
			return nil, templateError(err)
		}
		// A static URL with {{ or }} renders its braces as %7B and %7D,
		// as the URL check saw it: sent as written, it would differ.
		if !u.Static() || u.Skeleton() != ep.URL {
			s.url = u
		}
	}
	if len(ep.Body) > 0 {
		b, err := transform.CompileBody(ep.Body)
		if err != nil {
			return nil, templateError(err)
		}
		s.body = b
	}
	if len(ep.Filter) > 0 {
		f, err := transform.CompileFilter(ep.Filter)
		if err != nil {
			return nil, templateError(err)
		}
		s.filter = f
	}
	if ep.Auth != nil {
		if err := ep.Auth.Validate(); err != nil {
			return nil, Invalid("invalid_auth", "%s", err)
		}
	}
	sig := httpout.SignatureConfig{}
	if ep.Signature != nil {
		sig = *ep.Signature
		if err := sig.Validate(); err != nil {
			return nil, Invalid("invalid_signature", "%s", err)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(ep.Headers)) {
		s.headers = append(s.headers, httpout.Header{Name: name, Value: ep.Headers[name]})
	}
	if err := httpout.CheckHeaders(s.headers, ep.Auth, sig); err != nil {
		return nil, Invalid("invalid_headers", "%s", err)
	}
	s.masked = slices.Clone(s.headers)
	if ep.Auth != nil {
		s.headers = append(s.headers, ep.Auth.Header())
		masked := ep.Auth.Masked()
		s.masked = append(s.masked, masked.Header())
	}
	if s.method == "" && s.url == nil && s.body == nil && s.filter == nil && len(s.headers) == 0 {
		return nil, nil
	}
	return s, nil
}

// templateError is a transform compile error as the API answers it.
func templateError(err error) error {
	if te, ok := err.(*transform.Error); ok {
		return Invalid(te.Code, "%s", te.Error())
	}
	return Invalid("invalid_template", "%s", err)
}

// scheme is the endpoint's signature scheme.
func (ep *Endpoint) scheme() string {
	if ep.Signature == nil || ep.Signature.Scheme == "" {
		return httpout.SchemeStandardWebhooks
	}
	return ep.Signature.Scheme
}

// passes reports whether the lane's filter lets an event through; body is
// the event as stored ({"type","timestamp","data"}: a filter sees no id,
// which the event gets when it is written, after fan-out). A filter that
// fails on an event (a budget spent) lets nothing through: it counts as a
// filtered event.
func (c *laneConfig) passes(body []byte) bool {
	if c.shape == nil || c.shape.filter == nil {
		return true
	}
	ok, err := c.shape.filter.Match(body)
	return ok && err == nil
}

// appendEnvelope appends the envelope templates read: the stored body
// {"type",...} with the event's id first.
func appendEnvelope(dst []byte, msgID string, stored []byte) []byte {
	dst = append(dst, `{"id":"`...)
	dst = append(dst, msgID...)
	dst = append(dst, `",`...)
	if len(stored) > 1 {
		return append(dst, stored[1:]...)
	}
	return append(dst, '}')
}

// rendered is one attempt's request as the endpoint shapes it; its
// slices are the worker's buffers.
type rendered struct {
	method string
	url    string
	body   []byte
}

// renderRequest renders the request for the event whose stored body is
// stored, into w's buffers.
func (c *laneConfig) renderRequest(w *worker, msgID string, stored []byte) (rendered, error) {
	r := rendered{method: "POST", url: c.ep.URL, body: stored}
	s := c.shape
	if s == nil {
		return r, nil
	}
	if s.method != "" {
		r.method = s.method
	}
	if s.url != nil || s.body != nil {
		w.env = appendEnvelope(w.env[:0], msgID, stored)
	}
	if s.url != nil {
		var err error
		if w.url, err = s.url.Render(w.url[:0], w.env); err != nil {
			return r, err
		}
		r.url = string(w.url)
	}
	switch {
	case s.body != nil:
		var err error
		if w.body, err = s.body.Render(w.body[:0], w.env); err != nil {
			return r, err
		}
		r.body = w.body
	case r.method == httpout.MethodDelete:
		r.body = nil // a DELETE sends a body only when a template makes one
	}
	return r, nil
}

// storedType is the event type of a stored body, which appendBody starts
// with {"type":"<type>", a type that needs no escaping. It aliases stored.
func storedType(stored []byte) string {
	const prefix = `{"type":"`
	if !bytes.HasPrefix(stored, []byte(prefix)) {
		return ""
	}
	rest := stored[len(prefix):]
	if end := bytes.IndexByte(rest, '"'); end > 0 {
		// No copy per attempt: the caller uses it while stored lives.
		return unsafe.String(&rest[0], end)
	}
	return ""
}

// withPayload appends stored (appendBody's form) with its data replaced
// by payload: a corrected delivery keeps the event's type and time.
func withPayload(dst, stored, payload []byte) []byte {
	const data = `,"data":`
	i := bytes.Index(stored, []byte(data))
	if i < 0 {
		return append(dst, stored...)
	}
	dst = append(dst, stored[:i+len(data)]...)
	dst = append(dst, payload...)
	return append(dst, '}')
}

// buildRequest renders and signs the request of one attempt of the event
// stored as stored (with its data corrected, if it was), into w's
// buffers. It returns the config it signed with, which the attempt must
// use too (see Lane.sign).
func (ln *Lane) buildRequest(cfg *laneConfig, w *worker, msgID string, stored []byte, now time.Time, attempt int) (*laneConfig, httpout.Request, rendered, error) {
	r, err := cfg.renderRequest(w, msgID, stored)
	if err != nil {
		return cfg, httpout.Request{}, r, err
	}
	var sigHeader string
	cfg, w.sig, sigHeader = ln.sign(cfg, w.sig[:0], msgID, now, r.body)
	req := httpout.Request{
		Method:          r.method,
		URL:             r.url,
		MsgID:           msgID,
		EventType:       storedType(stored),
		Timestamp:       now.Unix(),
		Signature:       w.sig,
		SignatureHeader: sigHeader,
		Attempt:         attempt,
		Body:            r.body,
	}
	if cfg.shape != nil {
		req.Headers = cfg.shape.headers
	}
	return cfg, req, r, nil
}

// logRequest sets what the attempt log keeps of a shaped request r (see
// wal.Attempt): its method unless POST, its URL when rendered from a
// template, and the body's first bytes when it is not the standard
// envelope (a body template's, or a corrected payload's; a.Corrected is
// set before). A render failure (err) keeps the method only. a.Request
// aliases r.body.
func (c *laneConfig) logRequest(a *wal.Attempt, r rendered, err error) {
	if r.method != "POST" {
		a.Method = r.method
	}
	if err != nil {
		return
	}
	if c.shape != nil && c.shape.url != nil {
		a.URL = r.url
	}
	if a.Corrected || (c.shape != nil && c.shape.body != nil) {
		a.Request = r.body[:min(len(r.body), requestCaptureSize)]
	}
}
