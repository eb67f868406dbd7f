package httpin

import (
	"github.com/valyala/fasthttp"

	"hookline/engine/access"
)

// portalPath is where a session's url opens the dashboard's customer
// view; the token travels in the fragment, which browsers never send to
// a server nor put in a Referer.
const portalPath = "/portal#token="

// portalSessionView is POST …/portal-sessions' answer: the session, its
// token (shown here only) and the url that opens it.
type portalSessionView struct {
	access.PortalSession
	URL string `json:"url"`
}

// createPortalSession serves POST /v1/tenants/{tenant}/portal-sessions
// {"scopes": [...], "expires_in": "1h"}, both optional. A key creates
// sessions with scopes it holds only.
func (s *Server) createPortalSession(ctx *fasthttp.RequestCtx, tenant string) {
	var in struct {
		Scopes    []string `json:"scopes"`
		ExpiresIn string   `json:"expires_in"`
	}
	if len(ctx.PostBody()) > 0 && !decodeStrict(ctx, &in) {
		return
	}
	p := principalOfRequest(ctx)
	pin := access.PortalSessionInput{Scopes: in.Scopes, ExpiresIn: in.ExpiresIn}
	if !p.admin {
		pin.Holder = p.scopes
	}
	ps, err := s.acc.CreatePortalSession(s.actor(ctx), tenant, pin)
	if err != nil {
		s.writeEngineError(ctx, err)
		return
	}
	writeJSON(ctx, fasthttp.StatusCreated, portalSessionView{PortalSession: ps, URL: s.publicBase(ctx) + portalPath + ps.Token})
	ctx.Response.Header.Set("Cache-Control", "no-store")
}

// publicBase is the base URL customers reach the server at:
// Options.PublicURL, else the scheme and Host of the request.
func (s *Server) publicBase(ctx *fasthttp.RequestCtx) string {
	if s.opts.PublicURL != "" {
		return s.opts.PublicURL
	}
	scheme := "http://"
	if ctx.IsTLS() {
		scheme = "https://"
	}
	host := string(ctx.Host())
	if host == "" { // an HTTP/1.0 request may send none
		host = s.Addr()
	}
	return scheme + host
}

// listPortalSessions serves GET /v1/tenants/{tenant}/portal-sessions: the
// live sessions, never their tokens.
func (s *Server) listPortalSessions(ctx *fasthttp.RequestCtx, tenant string) {
	ss, err := s.acc.ListPortalSessions(tenant)
	if err != nil {
		s.writeEngineError(ctx, err)
		return
	}
	writeJSON(ctx, fasthttp.StatusOK, listPage[access.PortalSession]{Data: ss})
}

// revokePortalSession serves DELETE
// /v1/tenants/{tenant}/portal-sessions/{id}: the session's token stops
// working at once.
func (s *Server) revokePortalSession(ctx *fasthttp.RequestCtx, tenant, id string) {
	if err := s.acc.RevokePortalSession(s.actor(ctx), tenant, id); err != nil {
		s.writeEngineError(ctx, err)
		return
	}
	ctx.SetStatusCode(fasthttp.StatusNoContent)
}
