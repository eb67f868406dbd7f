package httpin

import (
	"strconv"
	"strings"

	"github.com/valyala/fasthttp"

	"hookline/engine"
	"hookline/engine/inbound"
	"hookline/internal/verify"
)

// receive serves POST /in/{source id}: the provider's request is
// verified, mapped and appended before the answer; nothing outbound runs
// in the request path.
func (s *Server) receive(ctx *fasthttp.RequestCtx, id string) {
	if !ctx.IsPost() {
		methodNotAllowed(ctx, "POST")
		return
	}
	if len(ctx.PostBody()) > s.opts.MaxEventBytes {
		writeError(ctx, fasthttp.StatusRequestEntityTooLarge, "body_too_large", "request body exceeds "+strconv.Itoa(s.opts.MaxEventBytes)+" bytes")
		return
	}
	r := inbound.Request{
		Request: verify.Request{
			URL:    calledURL(ctx),
			Header: &ctx.Request.Header,
			Query:  ctx.QueryArgs(),
			Body:   ctx.PostBody(),
		},
		RawHeaders: ctx.Request.Header.Header(),
	}
	res := s.in.Receive(id, &r)
	switch {
	case res.Challenge != nil:
		ctx.SetStatusCode(fasthttp.StatusOK)
		ctx.SetContentType(res.ChallengeContentType)
		ctx.SetBody(res.Challenge)
	case res.Outcome == inbound.Rejected:
		writeError(ctx, res.Status, res.Code, res.Message)
		if res.RetryAfter > 0 {
			ctx.Response.Header.Set("Retry-After", strconv.Itoa(int(res.RetryAfter.Seconds())))
		}
	default:
		ctx.SetStatusCode(res.Status)
		ctx.SetContentType("application/json")
		b := ctx.Response.BodyWriter()
		switch res.Outcome {
		case inbound.Dropped:
			_, _ = b.Write([]byte(`{"dropped":true}`))
		case inbound.Duplicate:
			_, _ = b.Write([]byte(`{"id":"` + res.EventID + `","duplicate":true}`))
		default:
			_, _ = b.Write([]byte(`{"id":"` + res.EventID + `"}`))
		}
	}
	// Logged requests carry their log id, for support ("which request was that?").
	if res.RequestID != "" {
		ctx.Response.Header.Set("Hookline-Request-Id", res.RequestID)
	}
}

// calledURL is the URL the provider called, as it saw it: behind a TLS
// proxy the scheme comes from X-Forwarded-Proto, which signing schemes
// that cover the URL (hubspot, twilio) need.
func calledURL(ctx *fasthttp.RequestCtx) []byte {
	scheme := "http"
	if ctx.IsTLS() || strings.EqualFold(string(ctx.Request.Header.Peek("X-Forwarded-Proto")), "https") {
		scheme = "https"
	}
	u := make([]byte, 0, 64)
	u = append(u, scheme...)
	u = append(u, "://"...)
	u = append(u, ctx.Host()...)
	return append(u, ctx.RequestURI()...)
}

// sources serves …/sources and everything under it.
func (s *Server) sources(ctx *fasthttp.RequestCtx, tenant, rest, method string) {
	parts := strings.Split(rest, "/")
	switch {
	case rest == "":
		switch method {
		case "GET":
			srcs, err := s.in.ListSources(tenant)
			if err != nil {
				s.writeEngineError(ctx, err)
				return
			}
			writeJSON(ctx, fasthttp.StatusOK, listPage[inbound.Source]{Data: srcs})
		case "POST":
			var in inbound.SourceInput
			if !decodeStrict(ctx, &in) {
				return
			}
			src, err := s.in.CreateSource(s.actor(ctx), tenant, in)
			if err != nil {
				s.writeEngineError(ctx, err)
				return
			}
			writeJSON(ctx, fasthttp.StatusCreated, src)
			ctx.Response.Header.Set("Cache-Control", "no-store")
		default:
			methodNotAllowed(ctx, "GET, POST")
		}
	case len(parts) == 1:
		s.source(ctx, tenant, parts[0], method)
	case len(parts) == 2 && parts[1] == "rotate-secret":
		if method != "POST" {
			methodNotAllowed(ctx, "POST")
			return
		}
		var in engine.SecretRotation
		if !decodeStrict(ctx, &in) {
			return
		}
		src, err := s.in.RotateSourceSecret(s.actor(ctx), tenant, parts[0], in)
		if err != nil {
			s.writeEngineError(ctx, err)
			return
		}
		writeJSON(ctx, fasthttp.StatusOK, src)
		ctx.Response.Header.Set("Cache-Control", "no-store")
	case len(parts) == 2 && parts[1] == "test":
		if method != "POST" {
			methodNotAllowed(ctx, "POST")
			return
		}
		var in inbound.SourceTest
		if !decodeStrict(ctx, &in) {
			return
		}
		res, err := s.in.TestSource(tenant, parts[0], in)
		if err != nil {
			s.writeEngineError(ctx, err)
			return
		}
		writeJSON(ctx, fasthttp.StatusOK, res)
	case len(parts) == 2 && parts[1] == "requests":
		if method != "GET" {
			methodNotAllowed(ctx, "GET")
			return
		}
		after, limit, ok := pageArgs(ctx)
		if !ok {
			return
		}
		es, next, err := s.in.ListRequests(tenant, parts[0], after, limit)
		if err != nil {
			s.writeEngineError(ctx, err)
			return
		}
		page := listPage[inbound.LogEntry]{Data: es}
		if next != "" {
			page.NextCursor = encodeCursor(next)
		}
		writeJSON(ctx, fasthttp.StatusOK, page)
	case len(parts) == 3 && parts[1] == "requests" && parts[2] != "":
		if method != "GET" {
			methodNotAllowed(ctx, "GET")
			return
		}
		en, err := s.in.GetRequest(tenant, parts[0], parts[2])
		if err != nil {
			s.writeEngineError(ctx, err)
			return
		}
		writeJSON(ctx, fasthttp.StatusOK, en)
	case len(parts) == 4 && parts[1] == "requests" && parts[3] == "replay":
		if method != "POST" {
			methodNotAllowed(ctx, "POST")
			return
		}
		res, err := s.in.ReplayRequest(s.actor(ctx), tenant, parts[0], parts[2])
		if err != nil {
			s.writeEngineError(ctx, err)
			return
		}
		writeJSON(ctx, fasthttp.StatusOK, replayView(res))
	default:
		writeError(ctx, fasthttp.StatusNotFound, "not_found", "no such path: "+string(ctx.Path()))
	}
}

func (s *Server) source(ctx *fasthttp.RequestCtx, tenant, id, method string) {
	switch method {
	case "GET":
		src, err := s.in.GetSource(tenant, id)
		if err != nil {
			s.writeEngineError(ctx, err)
			return
		}
		writeJSON(ctx, fasthttp.StatusOK, src)
	case "PATCH":
		var in inbound.SourceInput
		if !decodeStrict(ctx, &in) {
			return
		}
		src, err := s.in.UpdateSource(s.actor(ctx), tenant, id, in)
		if err != nil {
			s.writeEngineError(ctx, err)
			return
		}
		writeJSON(ctx, fasthttp.StatusOK, src)
	case "DELETE":
		if err := s.in.DeleteSource(s.actor(ctx), tenant, id); err != nil {
			s.writeEngineError(ctx, err)
			return
		}
		ctx.SetStatusCode(fasthttp.StatusNoContent)
	default:
		methodNotAllowed(ctx, "GET, PATCH, DELETE")
	}
}

// replayView is a replayed request's answer.
type replayAnswer struct {
	RequestID string `json:"request_id"`
	Outcome   string `json:"outcome"`
	EventID   string `json:"event_id,omitempty"`
	Code      string `json:"code,omitempty"`
	Message   string `json:"message,omitempty"`
}

func replayView(r inbound.Result) replayAnswer {
	return replayAnswer{RequestID: r.RequestID, Outcome: r.Outcome, EventID: r.EventID, Code: r.Code, Message: r.Message}
}
