package httpin

import (
	"github.com/valyala/fasthttp"

	"hookline/engine/access"
)

// apiKeys serves /v1/tenants/{tenant}/api-keys (POST, GET) and …/{id}
// (DELETE); only the admin token gets here.
func (s *Server) apiKeys(ctx *fasthttp.RequestCtx, tenant, id, method string) {
	switch {
	case id == "" && method == "POST":
		var in struct {
			Name *string `json:"name"`
		}
		if len(ctx.PostBody()) > 0 && !decodeStrict(ctx, &in) {
			return
		}
		k, err := s.acc.CreateAPIKey(s.actor(ctx), tenant, deref(in.Name))
		if err != nil {
			s.writeEngineError(ctx, err)
			return
		}
		writeJSON(ctx, fasthttp.StatusCreated, k)
		ctx.Response.Header.Set("Cache-Control", "no-store")
	case id == "" && method == "GET":
		ks, err := s.acc.ListAPIKeys(tenant)
		if err != nil {
			s.writeEngineError(ctx, err)
			return
		}
		writeJSON(ctx, fasthttp.StatusOK, listPage[access.APIKey]{Data: ks})
	case id != "" && method == "DELETE":
		if err := s.acc.DeleteAPIKey(s.actor(ctx), tenant, id); err != nil {
			s.writeEngineError(ctx, err)
			return
		}
		ctx.SetStatusCode(fasthttp.StatusNoContent)
	case id == "":
		methodNotAllowed(ctx, "GET, POST")
	default:
		methodNotAllowed(ctx, "DELETE")
	}
}
