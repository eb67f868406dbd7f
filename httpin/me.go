package httpin

import (
	"time"

	"github.com/valyala/fasthttp"

	"hookline/engine/access"
)

// meView is what GET /v1/me says of the request's credential: all the
// dashboard needs to choose its view and hide what the credential cannot
// do (the API refuses it anyway).
type meView struct {
	ActorType string `json:"actor_type"` // admin, api_key or portal_session
	ActorID   string `json:"actor_id"`
	Name      string `json:"name,omitempty"` // an API key's
	// Tenant and TenantName are the key's or session's tenant ("" for the
	// admin token, which reaches every tenant).
	Tenant     string        `json:"tenant,omitempty"`
	TenantName string        `json:"tenant_name,omitempty"`
	Scopes     access.Scopes `json:"scopes"`
	ExpiresAt  *time.Time    `json:"expires_at,omitempty"` // a portal session's
}

// me serves GET /v1/me.
func (s *Server) me(ctx *fasthttp.RequestCtx) {
	who := principalOfRequest(ctx)
	v := meView{ActorType: who.actor.Type, ActorID: who.actor.ID, Name: who.actor.Name, Scopes: who.scopes}
	if who.admin {
		v.Scopes = access.AllScopes
	} else {
		t, err := s.e.GetTenant(who.tenant)
		if err != nil {
			s.writeEngineError(ctx, err)
			return
		}
		v.Tenant, v.TenantName = t.ID, t.Name
	}
	if !who.expires.IsZero() {
		v.ExpiresAt = &who.expires
	}
	writeJSON(ctx, fasthttp.StatusOK, v)
}
