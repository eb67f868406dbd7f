package httpin

import (
	"context"

	"github.com/valyala/fasthttp"

	"hookline/engine/access"
)

// principalKey is the request's user value holding the principal that
// authenticate accepted.
type principalKey struct{}

// reasonHeader is the optional header by which a mutating request says
// why it is made; the audit entries it causes keep it as their reason.
// A header, not a body field, so that every verb takes it alike, a
// DELETE without a body included.
const reasonHeader = "X-Hookline-Reason"

// actor is the context a handler passes to a mutating call: it names who
// acts and why, so the call's audit record does (see access.WithActor).
func (s *Server) actor(ctx *fasthttp.RequestCtx) context.Context {
	return access.WithActor(context.Background(), principalOfRequest(ctx).actor, string(ctx.Request.Header.Peek(reasonHeader)))
}

// principalOfRequest is the principal authenticate accepted for ctx.
func principalOfRequest(ctx *fasthttp.RequestCtx) principal {
	p, _ := ctx.UserValue(principalKey{}).(principal)
	return p
}

// checkReason answers 400 invalid_reason for a mutating request whose
// reason header is too long or holds control characters, before anything
// is written; reads ignore the header.
func (s *Server) checkReason(ctx *fasthttp.RequestCtx) bool {
	if ctx.IsGet() || ctx.IsHead() {
		return true
	}
	r := ctx.Request.Header.Peek(reasonHeader)
	if len(r) == 0 {
		return true
	}
	if err := access.CheckReason(string(r)); err != nil {
		s.writeEngineError(ctx, err)
		return false
	}
	return true
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
