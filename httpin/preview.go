package httpin

import (
	"encoding/json"

	"github.com/valyala/fasthttp"

	"hookline/engine"
	"hookline/engine/access"
)

// previewEndpoint serves POST …/endpoints/{id}/preview: the request the
// endpoint would send for an event, {"event": {"type", "payload"}} as
// published or {"event_id": "evt_..."} stored, without sending it.
func (s *Server) previewEndpoint(ctx *fasthttp.RequestCtx, tenant, id string) {
	var in struct {
		Event *struct {
			Type    string          `json:"type"`
			Payload json.RawMessage `json:"payload"`
		} `json:"event"`
		EventID string `json:"event_id"`
	}
	if !decodeStrict(ctx, &in) {
		return
	}
	var p engine.PreviewInput
	switch {
	case (in.Event == nil) == (in.EventID == ""):
		writeError(ctx, fasthttp.StatusBadRequest, "invalid_preview", `give exactly one of "event" ({"type", "payload"}) and "event_id"`)
		return
	case in.Event != nil:
		if !s.checkPayloadDepth(ctx, "event.payload", in.Event.Payload) {
			return
		}
		p = engine.PreviewInput{Type: in.Event.Type, Payload: in.Event.Payload}
	default:
		// A stored event's payload is delivery data: the route's
		// endpoints:read does not show it.
		if who := principalOfRequest(ctx); !who.admin && !who.scopes.Has(access.DeliveriesRead) {
			writeError(ctx, fasthttp.StatusForbidden, "forbidden", `a preview by "event_id" reads the stored event: it needs the deliveries:read scope`)
			return
		}
		p.EventID = in.EventID
	}
	req, err := s.e.PreviewEndpoint(tenant, id, p)
	s.answer(ctx, fasthttp.StatusOK, req, err)
}
