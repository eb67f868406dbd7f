package httpin

import (
	"time"

	"github.com/valyala/fasthttp"

	"hookline/engine"
)

// listDeliveries serves GET …/endpoints/{id}/deliveries: newest first,
// filtered by status, type and a since/until time range (RFC 3339).
func (s *Server) listDeliveries(ctx *fasthttp.RequestCtx, tenant, id string) {
	after, limit, ok := pageArgs(ctx)
	if !ok {
		return
	}
	args := ctx.QueryArgs()
	f := engine.DeliveryFilter{
		Status: string(args.Peek("status")),
		Type:   string(args.Peek("type")),
		Cursor: after,
		Limit:  limit,
	}
	for _, p := range []struct {
		name string
		t    *time.Time
	}{{"since", &f.Since}, {"until", &f.Until}} {
		v := args.Peek(p.name)
		if len(v) == 0 {
			continue
		}
		t, err := time.Parse(time.RFC3339Nano, string(v))
		if err != nil {
			writeError(ctx, fasthttp.StatusBadRequest, "invalid_time", p.name+" must be an RFC 3339 time such as 2026-11-23T10:00:00Z")
			return
		}
		*p.t = t
	}
	ds, next, err := s.e.ListDeliveries(tenant, id, f)
	if err != nil {
		s.writeEngineError(ctx, err)
		return
	}
	if ds == nil {
		ds = []engine.Delivery{}
	}
	page := listPage[engine.Delivery]{Data: ds}
	if next != "" {
		page.NextCursor = encodeCursor(next)
	}
	writeJSON(ctx, fasthttp.StatusOK, page)
}

// getDelivery serves GET …/endpoints/{id}/deliveries/{event id} with every
// attempt and its response.
func (s *Server) getDelivery(ctx *fasthttp.RequestCtx, tenant, id, event string) {
	d, err := s.e.GetDelivery(tenant, id, event)
	if err != nil {
		s.writeEngineError(ctx, err)
		return
	}
	writeJSON(ctx, fasthttp.StatusOK, d)
}

// getEvent serves GET …/events/{event id}: the payload and each endpoint's
// delivery of it.
func (s *Server) getEvent(ctx *fasthttp.RequestCtx, tenant, id string) {
	ev, err := s.e.GetEvent(tenant, id)
	if err != nil {
		s.writeEngineError(ctx, err)
		return
	}
	writeJSON(ctx, fasthttp.StatusOK, ev)
}

// deliveryAction serves POST …/deliveries/{event id}/replay and /cancel.
func (s *Server) deliveryAction(ctx *fasthttp.RequestCtx, tenant, id, event, verb string) {
	if len(ctx.PostBody()) > 0 {
		writeError(ctx, fasthttp.StatusBadRequest, "unexpected_body", verb+" takes no request body")
		return
	}
	act, status := s.e.ReplayDelivery, fasthttp.StatusAccepted
	if verb == "cancel" {
		act, status = s.e.CancelDelivery, fasthttp.StatusOK
	}
	d, err := act(s.actor(ctx), tenant, id, event)
	if err != nil {
		s.writeEngineError(ctx, err)
		return
	}
	writeJSON(ctx, status, d)
}
