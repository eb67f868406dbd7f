package httpin

import (
	"github.com/valyala/fasthttp"

	"hookline/engine"
)

// eventTypes serves /v1/tenants/{tenant}/event-types and …/{type}: the
// tenant's event-type catalogue.
func (s *Server) eventTypes(ctx *fasthttp.RequestCtx, tenant, typ string, method string) {
	switch {
	case typ == "" && method == "GET":
		after, limit, ok := pageArgs(ctx)
		if !ok {
			return
		}
		ts, err := s.e.ListEventTypes(tenant, after, limit)
		if err != nil {
			s.writeEngineError(ctx, err)
			return
		}
		last := ""
		if len(ts) > 0 {
			last = ts[len(ts)-1].Type
		}
		writeJSON(ctx, fasthttp.StatusOK, listPage[engine.EventType]{Data: ts, NextCursor: nextCursor(last, len(ts), limit)})
	case typ == "" && method == "POST", typ != "" && method == "PUT":
		var in engine.EventTypeInput
		if !decodeStrict(ctx, &in) {
			return
		}
		if typ != "" {
			if in.Type != nil && *in.Type != typ {
				writeError(ctx, fasthttp.StatusBadRequest, "type_mismatch", "the body's type differs from the one in the path")
				return
			}
			in.Type = &typ
		}
		t, created, err := s.e.PutEventType(s.actor(ctx), tenant, in)
		if err != nil {
			s.writeEngineError(ctx, err)
			return
		}
		status := fasthttp.StatusOK
		if created {
			status = fasthttp.StatusCreated
		}
		writeJSON(ctx, status, t)
	case typ != "" && method == "GET":
		t, err := s.e.GetEventType(tenant, typ)
		if err != nil {
			s.writeEngineError(ctx, err)
			return
		}
		writeJSON(ctx, fasthttp.StatusOK, t)
	case typ != "" && method == "DELETE":
		if err := s.e.DeleteEventType(s.actor(ctx), tenant, typ); err != nil {
			s.writeEngineError(ctx, err)
			return
		}
		ctx.SetStatusCode(fasthttp.StatusNoContent)
	case typ == "":
		methodNotAllowed(ctx, "GET, POST")
	default:
		methodNotAllowed(ctx, "GET, PUT, DELETE")
	}
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
