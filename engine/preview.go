package engine

import (
	"time"

	"hookline/wal"
)

// PreviewInput is the event a preview renders: a stored one (EventID), or
// one as it would be published (Type and Payload).
type PreviewInput struct {
	EventID string
	Type    string
	Payload []byte // raw JSON
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
// event would send, with its current config, and sends nothing. A render
// failure is invalid input here (400 render_failed naming the path at
// fault), not a dead letter.
func (e *Engine) PreviewEndpoint(tenant, epID string, in PreviewInput) (PreviewRequest, error) {
	ln, err := e.laneOf(tenant, epID)
	if err != nil {
		return PreviewRequest{}, err
	}
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
	cfg, req, r, err := ln.buildRequest(ln.config(), w, msgID, []byte(stored), now, 1)
	if err != nil {
		return PreviewRequest{}, templateError(err)
	}
	if cfg.shape != nil {
		req.Headers = cfg.shape.masked
	}
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
