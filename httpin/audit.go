package httpin

import (
	"github.com/valyala/fasthttp"

	"hookline/engine"
)

// adminActor is who the audit log names for the admin token. Tenant API
// keys will be named by their key id.
const adminActor = "admin"

// auditView is an endpoint as the audit log keeps it: the API view (never a
// secret), without the circuit, which is live state rather than a setting.
func auditView(ep engine.Endpoint) any {
	if ep.ID == "" {
		return nil
	}
	ep.Secret, ep.Circuit = "", nil
	return ep
}

// auditEndpoint records an action on an endpoint with its view after it,
// read back so that a response carrying the secret is never what is kept.
func (s *Server) auditEndpoint(action, tenant, id string, before any) {
	after, _ := s.e.GetEndpoint(tenant, id)
	s.e.Audit(adminActor, action, tenant, id, before, auditView(after))
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
	es, next, err := s.e.ListAudit(tenant, cursor, limit)
	if err != nil {
		s.writeEngineError(ctx, err)
		return
	}
	if es == nil {
		es = []engine.AuditEntry{}
	}
	page := listPage[engine.AuditEntry]{Data: es}
	if next != "" {
		page.NextCursor = encodeCursor(next)
	}
	writeJSON(ctx, fasthttp.StatusOK, page)
}
