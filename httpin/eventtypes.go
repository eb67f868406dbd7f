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
	before, _ := s.e.GetEventType(tenant, deref(in.Type))
	t, created, err := s.e.PutEventType(tenant, in)
	if err != nil {
		s.writeEngineError(ctx, err)
		return
	}
	status, action := fasthttp.StatusOK, "event_type.update"
	var was any = before
	if created {
		status, action, was = fasthttp.StatusCreated, "event_type.create", nil
	}
	s.e.Audit(adminActor, action, tenant, t.Type, was, t)
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
	before, _ := s.e.GetEventType(tenant, typ)
	if err := s.e.DeleteEventType(tenant, typ); err != nil {
		s.writeEngineError(ctx, err)
		return
	}
	s.e.Audit(adminActor, "event_type.delete", tenant, typ, before, nil)
	ctx.SetStatusCode(fasthttp.StatusNoContent)
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
