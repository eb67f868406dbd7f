package inbound

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"time"

	"hookline/engine"
	"hookline/internal/transform"
	"hookline/internal/verify"
)

// SourceTest is a dry run's request: a sample body and headers, and
// perhaps a draft mapping.
type SourceTest struct {
	Body    json.RawMessage   `json:"body"`
	RawBody *string           `json:"raw_body"`
	Headers map[string]string `json:"headers"`
	// URL is the URL the provider would call, for schemes that sign it
	// (hubspot, twilio).
	URL string `json:"url"`
	// Verify also checks the signature (default: only map).
	Verify bool `json:"verify"`
	// Mapping, when given, is used instead of the saved mapping (null:
	// the provider's default), checked as a patch would check it and
	// never saved: the editor tries an edit before saving it. Not a
	// pointer, as in SourceInput: null must differ from absent.
	Mapping json.RawMessage `json:"mapping"`
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

// TestSource maps a sample request with the source's mapping, or the
// draft in.Mapping, and writes nothing: for building mappings against
// real payloads.
func (rc *Receiver) TestSource(tenant, id string, in SourceTest) (SourceTestResult, error) {
	st, err := rc.sourceOf(tenant, id)
	if err != nil {
		return SourceTestResult{}, err
	}
	var body []byte
	switch {
	case in.RawBody != nil && in.Body != nil:
		return SourceTestResult{}, engine.Invalid("invalid_test", "give body (JSON) or raw_body (text), not both")
	case in.RawBody != nil:
		body = []byte(*in.RawBody)
	case in.Body != nil:
		body = in.Body
	default:
		return SourceTestResult{}, engine.Invalid("invalid_test", "body (JSON) or raw_body (text) is required")
	}
	// A bad draft is refused as a patch with it would be (400 naming the
	// rule), not reported as the request's outcome.
	var draft *sourceState
	if in.Mapping != nil {
		d := *st
		m, err := setMapping(&d.src, in.Mapping)
		if err != nil {
			return SourceTestResult{}, err
		}
		d.mapping, d.hashDedupe = m, hashDedupe(&d.src)
		draft = &d
	}
	h := mapHeaders(in.Headers)
	var out SourceTestResult
	if in.Verify {
		now := time.Now()
		// As in Receive: a previous secret that has expired since the
		// verifier was built must not verify the sample.
		if live := rc.liveSource(id, now); live != nil {
			st = live
		}
		ok := true
		vr, verr := st.verifier.Verify(&verify.Request{URL: []byte(in.URL), Header: h, Query: urlQuery(in.URL), Body: body}, now)
		if verr != nil {
			ok = false
			out.Verified = &ok
			out.Outcome, out.Code, out.Message = Rejected, verr.Code, verr.Message
			return out, nil
		}
		out.Verified = &ok
		if vr.Challenge != nil {
			out.Outcome = Challenge
			return out, nil
		}
	}
	if draft != nil {
		st = draft
	}
	var mr transform.Result
	if _, err := st.mapping.Apply(body, h, &mr, nil); err != nil {
		out.Outcome, out.Code, out.Message = Rejected, "mapping_failed", err.Error()
		var te *transform.Error
		if errors.As(err, &te) {
			out.Code = te.Code
		}
		return out, nil
	}
	if mr.Dropped {
		out.Outcome, out.Message = Dropped, mr.Reason
		return out, nil
	}
	if ee := reservedMappedType(mr.Type); ee != nil {
		out.Outcome, out.Code, out.Message = Rejected, ee.Code, ee.Message
		return out, nil
	}
	out.Outcome = "event"
	out.Event = &SourceTestEvent{Type: mr.Type, DedupeID: st.dedupeID(mr.ID, body), Payload: json.RawMessage(bytes.Clone(mr.Payload))}
	return out, nil
}
