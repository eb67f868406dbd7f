package httpin

import (
	"encoding/base64"
	"strconv"
	"strings"

	"github.com/valyala/fasthttp"

	"hookline/engine"
)

const (
	defaultListLimit = 50
	maxListLimit     = 1000
)

// listPage is the shape of every list response.
type listPage[T any] struct {
	Data       []T    `json:"data"`
	NextCursor string `json:"next_cursor,omitempty"`
}

// pageArgs reads limit and cursor, answering 400 itself when they are bad.
// Cursors are opaque to clients: base64 of the last ID of the previous page.
func pageArgs(ctx *fasthttp.RequestCtx) (after string, limit int, ok bool) {
	args := ctx.QueryArgs()
	limit = defaultListLimit
	if v := args.Peek("limit"); len(v) > 0 {
		n, err := strconv.Atoi(string(v))
		if err != nil || n < 1 || n > maxListLimit {
			writeError(ctx, fasthttp.StatusBadRequest, "invalid_limit", "limit must be a whole number from 1 to "+strconv.Itoa(maxListLimit))
			return "", 0, false
		}
		limit = n
	}
	if v := args.Peek("cursor"); len(v) > 0 {
		b, err := base64.RawURLEncoding.DecodeString(string(v))
		if err != nil || len(b) == 0 {
			writeError(ctx, fasthttp.StatusBadRequest, "invalid_cursor", "cursor is not one this server returned")
			return "", 0, false
		}
		after = string(b)
	}
	return after, limit, true
}

func nextCursor(lastID string, n, limit int) string {
	if n < limit || lastID == "" {
		return ""
	}
	return encodeCursor(lastID)
}

// encodeCursor makes a position opaque, as pageArgs reads it back.
func encodeCursor(pos string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(pos))
}

func (s *Server) createTenant(ctx *fasthttp.RequestCtx) {
	var in engine.TenantInput
	if !decodeStrict(ctx, &in) {
		return
	}
	t, err := s.e.CreateTenant(s.actor(ctx), in)
	if err != nil {
		s.writeEngineError(ctx, err)
		return
	}
	writeJSON(ctx, fasthttp.StatusCreated, t)
}

func (s *Server) listTenants(ctx *fasthttp.RequestCtx) {
	after, limit, ok := pageArgs(ctx)
	if !ok {
		return
	}
	ts := s.e.ListTenants(after, limit)
	last := ""
	if len(ts) > 0 {
		last = ts[len(ts)-1].ID
	}
	writeJSON(ctx, fasthttp.StatusOK, listPage[engine.Tenant]{Data: ts, NextCursor: nextCursor(last, len(ts), limit)})
}

func (s *Server) getTenant(ctx *fasthttp.RequestCtx, id string) {
	t, err := s.e.GetTenant(id)
	if err != nil {
		s.writeEngineError(ctx, err)
		return
	}
	writeJSON(ctx, fasthttp.StatusOK, t)
}

func (s *Server) updateTenant(ctx *fasthttp.RequestCtx, id string) {
	var in engine.TenantInput
	if !decodeStrict(ctx, &in) {
		return
	}
	t, err := s.e.UpdateTenant(s.actor(ctx), id, in)
	if err != nil {
		s.writeEngineError(ctx, err)
		return
	}
	writeJSON(ctx, fasthttp.StatusOK, t)
}

func (s *Server) deleteTenant(ctx *fasthttp.RequestCtx, id string) {
	if err := s.e.DeleteTenant(s.actor(ctx), id); err != nil {
		s.writeEngineError(ctx, err)
		return
	}
	ctx.SetStatusCode(fasthttp.StatusNoContent)
}

func (s *Server) createEndpoint(ctx *fasthttp.RequestCtx, tenant string) {
	var in engine.EndpointInput
	if !decodeStrict(ctx, &in) {
		return
	}
	ep, err := s.e.CreateEndpoint(s.actor(ctx), tenant, in)
	if err != nil {
		s.writeEngineError(ctx, err)
		return
	}
	writeJSON(ctx, fasthttp.StatusCreated, ep)
}

func (s *Server) listEndpoints(ctx *fasthttp.RequestCtx, tenant string) {
	after, limit, ok := pageArgs(ctx)
	if !ok {
		return
	}
	var includeDeleted bool
	switch v := string(ctx.QueryArgs().Peek("include_deleted")); v {
	case "", "false":
	case "true":
		includeDeleted = true
	default:
		writeError(ctx, fasthttp.StatusBadRequest, "invalid_include_deleted", "include_deleted is "+strconv.Quote(v)+"; it must be true or false")
		return
	}
	eps, err := s.e.ListEndpoints(tenant, after, limit, includeDeleted)
	if err != nil {
		s.writeEngineError(ctx, err)
		return
	}
	last := ""
	if len(eps) > 0 {
		last = eps[len(eps)-1].ID
	}
	writeJSON(ctx, fasthttp.StatusOK, listPage[engine.Endpoint]{Data: eps, NextCursor: nextCursor(last, len(eps), limit)})
}

func (s *Server) getEndpoint(ctx *fasthttp.RequestCtx, tenant, id string) {
	ep, err := s.e.GetEndpoint(tenant, id)
	if err != nil {
		s.writeEngineError(ctx, err)
		return
	}
	writeJSON(ctx, fasthttp.StatusOK, ep)
}

// endpointHealth answers the endpoint's delivery health over 1 h, 24 h and 7 d.
func (s *Server) endpointHealth(ctx *fasthttp.RequestCtx, tenant, id string) {
	h, err := s.e.EndpointHealth(tenant, id)
	if err != nil {
		s.writeEngineError(ctx, err)
		return
	}
	writeJSON(ctx, fasthttp.StatusOK, h)
}

// tenantStats serves GET …/{tenant}/stats?window=1h|24h|7d: the tenant's
// delivery numbers per endpoint and in total; 24h when no window is named.
func (s *Server) tenantStats(ctx *fasthttp.RequestCtx, tenant string) {
	window := engine.DefaultStatsWindow
	if args := ctx.QueryArgs(); args.Has("window") {
		w, err := engine.ParseStatsWindow(string(args.Peek("window")))
		if err != nil {
			s.writeEngineError(ctx, err)
			return
		}
		window = w
	}
	st, err := s.e.TenantStats(tenant, window)
	s.answer(ctx, fasthttp.StatusOK, st, err)
}

func (s *Server) updateEndpoint(ctx *fasthttp.RequestCtx, tenant, id string) {
	var in engine.EndpointInput
	if !decodeStrict(ctx, &in) {
		return
	}
	if in.Secret != nil {
		writeError(ctx, fasthttp.StatusBadRequest, "immutable_field", "the secret cannot be set by PATCH; rotate it instead")
		return
	}
	ep, err := s.e.UpdateEndpoint(s.actor(ctx), tenant, id, in)
	if err != nil {
		s.writeEngineError(ctx, err)
		return
	}
	writeJSON(ctx, fasthttp.StatusOK, ep)
}

// pauseEndpoint pauses or resumes deliveries to an endpoint. A paused
// endpoint still queues its events; resuming sends the backlog in order.
func (s *Server) pauseEndpoint(ctx *fasthttp.RequestCtx, tenant, id string, pause bool) {
	if len(ctx.PostBody()) > 0 && strings.TrimSpace(string(ctx.PostBody())) != "{}" {
		writeError(ctx, fasthttp.StatusBadRequest, "unexpected_body", "pause and resume take no request body")
		return
	}
	ep, err := s.e.SetPaused(s.actor(ctx), tenant, id, pause)
	if err != nil {
		s.writeEngineError(ctx, err)
		return
	}
	writeJSON(ctx, fasthttp.StatusOK, ep)
}

// rotateSecret gives an endpoint a new secret, answering with it (the only
// time it is shown); the body {"overlap","secret"} is optional.
func (s *Server) rotateSecret(ctx *fasthttp.RequestCtx, tenant, id string) {
	var in engine.SecretRotation
	if len(strings.TrimSpace(string(ctx.PostBody()))) > 0 && !decodeStrict(ctx, &in) {
		return
	}
	ep, err := s.e.RotateSecret(s.actor(ctx), tenant, id, in)
	if err != nil {
		s.writeEngineError(ctx, err)
		return
	}
	writeJSON(ctx, fasthttp.StatusOK, ep)
	ctx.Response.Header.Set("Cache-Control", "no-store")
}

func (s *Server) deleteEndpoint(ctx *fasthttp.RequestCtx, tenant, id string) {
	if err := s.e.DeleteEndpoint(s.actor(ctx), tenant, id); err != nil {
		s.writeEngineError(ctx, err)
		return
	}
	ctx.SetStatusCode(fasthttp.StatusNoContent)
}
