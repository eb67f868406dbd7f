package httpin

import (
	"bytes"
	"encoding/json"
	"strings"
	"time"

	"github.com/valyala/fasthttp"

	"hookline/engine"
)

// listDeliveries serves GET …/endpoints/{id}/deliveries: newest first,
// filtered by status, type and a since/until time range (RFC 3339).
func (s *Server) listDeliveries(ctx *fasthttp.RequestCtx, tenant, id string) {
	f, ok := deliveryFilter(ctx)
	if !ok {
		return
	}
	ds, next, err := s.e.ListDeliveries(tenant, id, f)
	s.writeDeliveries(ctx, ds, next, err)
}

// listTenantDeliveries serves GET …/{tenant}/deliveries: the deliveries of
// all the tenant's endpoints, or of those the endpoint parameter lists
// (comma-separated, or the parameter repeated), with the filters of
// listDeliveries.
func (s *Server) listTenantDeliveries(ctx *fasthttp.RequestCtx, tenant string) {
	f, ok := deliveryFilter(ctx)
	if !ok {
		return
	}
	var eps []string
	for _, v := range ctx.QueryArgs().PeekMulti("endpoint") {
		eps = append(eps, strings.Split(string(v), ",")...)
	}
	ds, next, err := s.e.ListTenantDeliveries(tenant, eps, f)
	s.writeDeliveries(ctx, ds, next, err)
}

// deliveryFilter reads a delivery listing's query, answering 400 itself
// when a page argument or a time is bad; the engine checks the rest.
func deliveryFilter(ctx *fasthttp.RequestCtx) (engine.DeliveryFilter, bool) {
	after, limit, ok := pageArgs(ctx)
	if !ok {
		return engine.DeliveryFilter{}, false
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
			return f, false
		}
		*p.t = t
	}
	return f, true
}

// writeDeliveries answers a listing's page, or err as the engine's error.
func (s *Server) writeDeliveries(ctx *fasthttp.RequestCtx, ds []engine.Delivery, next string, err error) {
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

// deliveryAction serves POST …/deliveries/{event id}/replay and /cancel. A
// replay may carry {"payload": ..., "reason": "..."}: the payload corrects
// the event's for that delivery, the reason goes to the audit log.
func (s *Server) deliveryAction(ctx *fasthttp.RequestCtx, tenant, id, event, verb string) {
	if verb == "cancel" {
		if len(ctx.PostBody()) > 0 {
			writeError(ctx, fasthttp.StatusBadRequest, "unexpected_body", "cancel takes no request body")
			return
		}
		d, err := s.e.CancelDelivery(s.actor(ctx), tenant, id, event)
		s.answer(ctx, fasthttp.StatusOK, d, err)
		return
	}
	var corr *engine.Correction
	if len(bytes.TrimSpace(ctx.PostBody())) > 0 {
		var in struct {
			Payload json.RawMessage `json:"payload"`
			Reason  string          `json:"reason"`
		}
		if !decodeStrict(ctx, &in) || !s.checkPayloadDepth(ctx, "payload", in.Payload) {
			return
		}
		corr = &engine.Correction{Payload: in.Payload, Reason: in.Reason}
	}
	ok, undo := s.allowReplay(ctx, tenant, id)
	if !ok {
		return
	}
	d, err := s.e.ReplayDelivery(s.actor(ctx), tenant, id, event, corr)
	if err != nil {
		undo()
	}
	s.answer(ctx, fasthttp.StatusAccepted, d, err)
}

// answer writes v with status, or err as the engine's error.
func (s *Server) answer(ctx *fasthttp.RequestCtx, status int, v any, err error) {
	if err != nil {
		s.writeEngineError(ctx, err)
		return
	}
	writeJSON(ctx, status, v)
}

// checkPayloadDepth answers 400 payload_too_deep for a JSON value (the
// field named what) nested deeper than Options.MaxPayloadDepth, as a
// published payload would be; an absent value passes.
func (s *Server) checkPayloadDepth(ctx *fasthttp.RequestCtx, what string, v []byte) bool {
	if len(v) == 0 {
		return true
	}
	if off, msg := skipValue(v, skipWS(v, 0), s.opts.MaxPayloadDepth); msg == errTooDeep {
		f := tooDeep(what, off, s.opts.MaxPayloadDepth)
		writeError(ctx, fasthttp.StatusBadRequest, f.code, f.msg)
		return false
	}
	return true
}
