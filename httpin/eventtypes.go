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

// createEventType serves POST …/event-types: the body names a type not yet
// in the catalogue (an existing one is 409 event_type_exists; PUT replaces).
func (s *Server) createEventType(ctx *fasthttp.RequestCtx, tenant string) {
	var in engine.EventTypeInput
	if !decodeStrict(ctx, &in) {
		return
	}
	t, err := s.e.CreateEventType(s.actor(ctx), tenant, in)
	if err != nil {
		s.writeEngineError(ctx, err)
		return
	}
	writeJSON(ctx, fasthttp.StatusCreated, t)
}

// putEventType serves PUT …/event-types/{type}: it creates or replaces the
// entry for the path's type.
func (s *Server) putEventType(ctx *fasthttp.RequestCtx, tenant, typ string) {
	var in engine.EventTypeInput
	if !decodeStrict(ctx, &in) {
		return
	}
	if in.Type != nil && *in.Type != typ {
		writeError(ctx, fasthttp.StatusBadRequest, "type_mismatch", "the body's type differs from the one in the path")
		return
	}
	in.Type = &typ
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
