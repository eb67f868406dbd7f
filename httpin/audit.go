package httpin

import (
	"context"

	"github.com/valyala/fasthttp"

	"hookline/engine/access"
)

// principalKey is the request's user value holding the principal that
// authenticate accepted.
type principalKey struct{}

// actor is the context a handler passes to a mutating call: it names who
// acts, so the call's audit record does (see access.WithActor).
func (s *Server) actor(ctx *fasthttp.RequestCtx) context.Context {
	p, _ := ctx.UserValue(principalKey{}).(principal)
	return access.WithActor(context.Background(), access.Actor{ID: p.actor})
}

// listAudit serves GET /v1/audit (every tenant) and GET
// /v1/tenants/{tenant}/audit, newest first.
func (s *Server) listAudit(ctx *fasthttp.RequestCtx, tenant string) {
	cursor, limit, ok := pageArgs(ctx)
	if !ok {
		return
	}
	if tenant != "" {
		if _, err := s.e.GetTenant(tenant); err != nil {
			s.writeEngineError(ctx, err)
			return
		}
	}
	es, next, err := s.acc.ListAudit(tenant, cursor, limit)
	if err != nil {
		s.writeEngineError(ctx, err)
		return
	}
	if es == nil {
		es = []access.AuditEntry{}
	}
	page := listPage[access.AuditEntry]{Data: es}
	if next != "" {
		page.NextCursor = encodeCursor(next)
	}
	writeJSON(ctx, fasthttp.StatusOK, page)
}
