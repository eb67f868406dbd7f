package httpin

import (
	"encoding/json"

	"github.com/valyala/fasthttp"

	"hookline/engine"
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
		p.EventID = in.EventID
	}
	req, err := s.e.PreviewEndpoint(tenant, id, p)
	s.answer(ctx, fasthttp.StatusOK, req, err)
}
