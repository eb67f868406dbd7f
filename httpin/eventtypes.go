package httpin

import (
	"github.com/valyala/fasthttp"

	"hookline/engine"
)

// listEventTypes serves GET …/event-types: the tenant's catalogue, by type.
func (s *Server) listEventTypes(ctx *fasthttp.RequestCtx, tenant string) {
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
}

// putEventType serves POST …/event-types (typ is "", the body names the
// type) and PUT …/event-types/{type} (typ is the path's).
func (s *Server) putEventType(ctx *fasthttp.RequestCtx, tenant, typ string) {
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
}

// getEventType serves GET …/event-types/{type}.
func (s *Server) getEventType(ctx *fasthttp.RequestCtx, tenant, typ string) {
	t, err := s.e.GetEventType(tenant, typ)
	if err != nil {
		s.writeEngineError(ctx, err)
		return
	}
	writeJSON(ctx, fasthttp.StatusOK, t)
}

// deleteEventType serves DELETE …/event-types/{type}.
func (s *Server) deleteEventType(ctx *fasthttp.RequestCtx, tenant, typ string) {
	if err := s.e.DeleteEventType(s.actor(ctx), tenant, typ); err != nil {
		s.writeEngineError(ctx, err)
		return
	}
	ctx.SetStatusCode(fasthttp.StatusNoContent)
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
