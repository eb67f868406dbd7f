package engine

import (
	"bytes"
	"slices"
	"time"

	"hookline/httpout"
	"hookline/wal"
)

// PreviewInput is the event a preview renders: a stored one (EventID), or
// one as it would be published (Type and Payload).
type PreviewInput struct {
	EventID string
	Type    string
	Payload []byte // raw JSON
	// Endpoint, when set, is a draft of the endpoint's fields: a PATCH's
	// for PreviewEndpoint, a create's for PreviewDraft. The preview renders
	// with it applied, checked as that write would check it, and saves
	// nothing.
	Endpoint *EndpointInput
}

// PreviewRequest is the request an attempt would send, credentials masked.
type PreviewRequest struct {
	Method  string            `json:"method"`
	URL     string            `json:"url"`
	Headers map[string]string `json:"headers"`
	Body    string            `json:"body"`
	// FilteredOut says the endpoint's filter refuses the event: it would
	// not be delivered at all (the request is rendered all the same).
	FilteredOut bool `json:"filtered_out,omitempty"`
}

// PreviewEndpoint renders the request the endpoint's next attempt of an
// event would send, with its current config (or the draft in.Endpoint
// applied to it), and sends nothing. A render failure is invalid input
// here (400 render_failed naming the path at fault), not a dead letter.
func (e *Engine) PreviewEndpoint(tenant, epID string, in PreviewInput) (PreviewRequest, error) {
	ln, err := e.laneOf(tenant, epID)
	if err != nil {
		return PreviewRequest{}, err
	}
	cfg := ln.config()
	if in.Endpoint != nil {
		draft := *in.Endpoint
		keepMaskedAuth(&cfg.ep, &draft)
		if cfg, err = e.draftConfig(tenant, cfg.ep, draft); err != nil {
			return PreviewRequest{}, err
		}
	}
	return e.preview(tenant, ln, cfg, in)
}

// PreviewDraft renders the request an endpoint created from the draft
// in.Endpoint would send for an event, checked as CreateEndpoint would
// check it, without creating it: no endpoint limit is counted and no
// secret is kept. The draft is signed with a throwaway secret (its own,
// if it gives one), which the masked signature does not show anyway.
func (e *Engine) PreviewDraft(tenant string, in PreviewInput) (PreviewRequest, error) {
	if in.Endpoint == nil || in.Endpoint.URL == nil {
		return PreviewRequest{}, Invalid("missing_url", "endpoint.url is required")
	}
	cfg, err := e.draftConfig(tenant, e.newEndpoint(tenant), *in.Endpoint)
	if err != nil {
		return PreviewRequest{}, err
	}
	// A draft has no lane: a bare one signs for it. Its config has no
	// previous secrets, so signing never swaps the lane's config.
	return e.preview(tenant, &Lane{e: e}, cfg, in)
}

// draftConfig returns the config ep would have with in applied, checked as
// an update or create checks it (the tenant's require_https too); ep is a
// copy and nothing is stored.
func (e *Engine) draftConfig(tenant string, ep Endpoint, in EndpointInput) (*laneConfig, error) {
	plain := e.plainHTTP(in.URL)
	ep.EventTypes = slices.Clone(ep.EventTypes)
	if err := e.applyEndpointInput(&ep, in); err != nil {
		return nil, err
	}
	e.cfgMu.RLock()
	ts := e.tenants[tenant]
	if ts == nil {
		e.cfgMu.RUnlock()
		return nil, NotFound("tenant_not_found", "tenant %q does not exist", tenant)
	}
	err := e.checkHTTPSLocked(&ts.t, plain, ep.URL)
	e.cfgMu.RUnlock()
	if err != nil {
		return nil, err
	}
	return e.laneConfig(&ep)
}

// keepMaskedAuth drops a draft's or a PATCH's auth that is the stored one
// as the API shows it (masked), so that a client sending back what it was
// shown keeps the stored credentials instead of storing or previewing
// "****".
func keepMaskedAuth(ep *Endpoint, in *EndpointInput) {
	if ep.Auth == nil || in.Auth == nil || isNull(in.Auth) {
		return
	}
	var a httpout.AuthConfig
	if strictUnmarshal(in.Auth, &a) == nil && a == ep.Auth.Masked() {
		in.Auth = nil
	}
}

// preview renders in's event with cfg, signed by ln.
func (e *Engine) preview(tenant string, ln *Lane, cfg *laneConfig, in PreviewInput) (PreviewRequest, error) {
	var (
		stored, msgID string
		rec           wal.EventRecord
		buf           wal.EventBuf
	)
	now := time.Now()
	if in.EventID != "" {
		if _, err := e.readTenantEvent(tenant, in.EventID, &rec, &buf); err != nil {
			return PreviewRequest{}, err
		}
		stored, msgID = string(rec.Body), in.EventID
	} else {
		if !ValidEventType(in.Type) {
			return PreviewRequest{}, Invalid("invalid_type", "event.type %q must be 1-%d characters of A-Z a-z 0-9 . _ : -", in.Type, maxTypeLen)
		}
		stored = string(appendBody(nil, in.Type, now, in.Payload))
		// The id the event would get is not known before it is written:
		// a fresh one of the same form stands in for it.
		msgID = eventPrefix + e.log.NewConfigID().String()
	}
	w := new(worker)
	cfg, req, r, err := ln.buildRequest(cfg, w, msgID, []byte(stored), now, 1)
	if err != nil {
		return PreviewRequest{}, templateError(err)
	}
	if cfg.shape != nil {
		req.Headers = cfg.shape.masked
	}
	// A preview is a read (endpoints:read) of a body its caller chooses:
	// a real signature would let any reader sign requests a receiver
	// accepts as hookline's. The header is shown with its form, not its
	// MACs or Ed25519 signatures.
	req.Signature = maskSignature(req.Signature)
	p := PreviewRequest{
		Method:      r.method,
		URL:         r.url,
		Headers:     map[string]string{},
		Body:        string(r.body),
		FilteredOut: !cfg.passes([]byte(stored)),
	}
	for _, h := range e.sender.PreviewHeaders(&req) {
		p.Headers[h.Name] = h.Value
	}
	return p, nil
}

// minSignatureRun is the shortest run of base64 or hex characters that
// maskSignature takes for a signature: shorter runs are the format's own
// text (v1, sha256, a unix timestamp).
const minSignatureRun = 16

// maskSignature returns a copy of a signature header value with every
// signature in it (a run of at least minSignatureRun base64 or hex
// characters, with its padding) replaced by ****, its format kept:
// "v1,**** v1,****", "sha256=****", "t=1614265330,v1=****".
func maskSignature(sig []byte) []byte {
	if len(sig) == 0 {
		return nil
	}
	isRun := func(c byte) bool {
		return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '+' || c == '/'
	}
	out := make([]byte, 0, len(sig))
	for i := 0; i < len(sig); {
		if !isRun(sig[i]) {
			out = append(out, sig[i])
			i++
			continue
		}
		j := i
		for j < len(sig) && isRun(sig[j]) {
			j++
		}
		if j-i < minSignatureRun {
			out = append(out, sig[i:j]...)
			i = j
			continue
		}
		for j < len(sig) && sig[j] == '=' {
			j++ // base64 padding
		}
		out = append(out, "****"...)
		i = j
	}
	if bytes.Equal(out, sig) {
		return []byte("****") // no run found: show none of it
	}
	return out
}
