package httpin

import (
	"github.com/valyala/fasthttp"

	"hookline/engine/access"
)

// createAPIKey serves POST /v1/tenants/{tenant}/api-keys, answering with
// the key (shown here only).
func (s *Server) createAPIKey(ctx *fasthttp.RequestCtx, tenant string) {
	var in struct {
		Name   *string  `json:"name"`
		Scopes []string `json:"scopes"`
	}
	if len(ctx.PostBody()) > 0 && !decodeStrict(ctx, &in) {
		return
	}
	k, err := s.acc.CreateAPIKey(s.actor(ctx), tenant, deref(in.Name), in.Scopes)
	if err != nil {
		s.writeEngineError(ctx, err)
		return
	}
	writeJSON(ctx, fasthttp.StatusCreated, k)
	ctx.Response.Header.Set("Cache-Control", "no-store")
}

// listAPIKeys serves GET /v1/tenants/{tenant}/api-keys: the keys by prefix,
// never the key itself.
func (s *Server) listAPIKeys(ctx *fasthttp.RequestCtx, tenant string) {
	ks, err := s.acc.ListAPIKeys(tenant)
	if err != nil {
		s.writeEngineError(ctx, err)
		return
	}
	writeJSON(ctx, fasthttp.StatusOK, listPage[access.APIKey]{Data: ks})
}

// deleteAPIKey serves DELETE /v1/tenants/{tenant}/api-keys/{id}.
func (s *Server) deleteAPIKey(ctx *fasthttp.RequestCtx, tenant, id string) {
	if err := s.acc.DeleteAPIKey(s.actor(ctx), tenant, id); err != nil {
		s.writeEngineError(ctx, err)
		return
	}
	ctx.SetStatusCode(fasthttp.StatusNoContent)
}
