package httpin

import (
	"encoding/json"

	"github.com/valyala/fasthttp"

	"hookline/engine"
	"hookline/engine/access"
)

// previewBody is the body of both previews: the event, {"event": {"type",
// "payload"}} as published or {"event_id": "evt_..."} stored, and an
// optional draft of the endpoint's fields ("endpoint", as a PATCH or a
// create takes them).
type previewBody struct {
	Event *struct {
		Type    string          `json:"type"`
		Payload json.RawMessage `json:"payload"`
	} `json:"event"`
	EventID  string                `json:"event_id"`
	Endpoint *engine.EndpointInput `json:"endpoint"`
}

// previewEndpoint serves POST …/endpoints/{id}/preview: the request the
// endpoint would send for an event, with the draft "endpoint" applied to
// it if given, without sending it or saving the draft.
func (s *Server) previewEndpoint(ctx *fasthttp.RequestCtx, tenant, id string) {
	p, ok := s.previewInput(ctx)
	if !ok {
		return
	}
	if p.Endpoint != nil && p.Endpoint.Secret != nil {
		// Refused as PATCH refuses it: the draft is what a PATCH would be.
		writeError(ctx, fasthttp.StatusBadRequest, "immutable_field", "endpoint.secret cannot be set by PATCH, so not in its preview either; rotate it instead")
		return
	}
	req, err := s.e.PreviewEndpoint(tenant, id, p)
	s.answer(ctx, fasthttp.StatusOK, req, err)
}

// previewDraft serves POST …/endpoint-preview: the request an endpoint
// created from the draft "endpoint" would send for an event, without
// creating it. Like the other preview it is a read (endpoints:read): it
// stores nothing and shows no stored credential, and its signature is
// masked, made with a throwaway secret.
func (s *Server) previewDraft(ctx *fasthttp.RequestCtx, tenant string) {
	p, ok := s.previewInput(ctx)
	if !ok {
		return
	}
	if p.Endpoint == nil {
		writeError(ctx, fasthttp.StatusBadRequest, "invalid_preview", `"endpoint" is required: the fields of the endpoint to create`)
		return
	}
	req, err := s.e.PreviewDraft(tenant, p)
	s.answer(ctx, fasthttp.StatusOK, req, err)
}

// previewInput decodes a preview's body, answering the request itself
// when it is refused.
func (s *Server) previewInput(ctx *fasthttp.RequestCtx) (engine.PreviewInput, bool) {
	var in previewBody
	if !decodeStrict(ctx, &in) {
		return engine.PreviewInput{}, false
	}
	p := engine.PreviewInput{Endpoint: in.Endpoint}
	switch {
	case (in.Event == nil) == (in.EventID == ""):
		writeError(ctx, fasthttp.StatusBadRequest, "invalid_preview", `give exactly one of "event" ({"type", "payload"}) and "event_id"`)
		return p, false
	case in.Event != nil:
		if !s.checkPayloadDepth(ctx, "event.payload", in.Event.Payload) {
			return p, false
		}
		p.Type, p.Payload = in.Event.Type, in.Event.Payload
	default:
		// A stored event's payload is delivery data: the route's
		// endpoints:read does not show it.
		if who := principalOfRequest(ctx); !who.admin && !who.scopes.Has(access.DeliveriesRead) {
			writeError(ctx, fasthttp.StatusForbidden, "forbidden", `a preview by "event_id" reads the stored event: it needs the deliveries:read scope`)
			return p, false
		}
		p.EventID = in.EventID
	}
	return p, true
}
