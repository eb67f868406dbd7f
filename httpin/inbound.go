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
	s.answerInbound(ctx, s.receiver.Receive(id, &r))
}

// handshake serves GET /in/{source id}: a provider's subscription
// handshake (Meta's hub.challenge), answered by the source's verifier.
func (s *Server) handshake(ctx *fasthttp.RequestCtx, id string) {
	r := inbound.Request{
		Request: verify.Request{
			URL:    calledURL(ctx),
			Header: &ctx.Request.Header,
			Query:  ctx.QueryArgs(),
		},
		RawHeaders: ctx.Request.Header.Header(),
	}
	res := s.receiver.Handshake(id, &r)
	if res.Status == fasthttp.StatusMethodNotAllowed {
		ctx.Response.Header.Set("Allow", "POST")
	}
	s.answerInbound(ctx, res)
}

// answerInbound writes the receiver's answer to a request to a source.
func (s *Server) answerInbound(ctx *fasthttp.RequestCtx, res inbound.Result) {
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

// listSources serves GET …/sources.
func (s *Server) listSources(ctx *fasthttp.RequestCtx, tenant string) {
	srcs, err := s.receiver.ListSources(tenant)
	if err != nil {
		s.writeEngineError(ctx, err)
		return
	}
	writeJSON(ctx, fasthttp.StatusOK, listPage[inbound.Source]{Data: srcs})
}

// createSource serves POST …/sources, answering with the secret (shown
// here and on rotation only).
func (s *Server) createSource(ctx *fasthttp.RequestCtx, tenant string) {
	var in inbound.SourceInput
	if !decodeStrict(ctx, &in) {
		return
	}
	src, err := s.receiver.CreateSource(s.actor(ctx), tenant, in)
	if err != nil {
		s.writeEngineError(ctx, err)
		return
	}
	writeJSON(ctx, fasthttp.StatusCreated, src)
	ctx.Response.Header.Set("Cache-Control", "no-store")
}

// rotateSourceSecret serves POST …/sources/{id}/rotate-secret.
func (s *Server) rotateSourceSecret(ctx *fasthttp.RequestCtx, tenant, id string) {
	var in engine.SecretRotation
	if !decodeStrict(ctx, &in) {
		return
	}
	src, err := s.receiver.RotateSourceSecret(s.actor(ctx), tenant, id, in)
	if err != nil {
		s.writeEngineError(ctx, err)
		return
	}
	writeJSON(ctx, fasthttp.StatusOK, src)
	ctx.Response.Header.Set("Cache-Control", "no-store")
}

// testSource serves POST …/sources/{id}/test: a dry run of a request
// through the source's verification and mapping.
func (s *Server) testSource(ctx *fasthttp.RequestCtx, tenant, id string) {
	var in inbound.SourceTest
	if !decodeStrict(ctx, &in) {
		return
	}
	res, err := s.receiver.TestSource(tenant, id, in)
	if err != nil {
		s.writeEngineError(ctx, err)
		return
	}
	writeJSON(ctx, fasthttp.StatusOK, res)
}

// listRequests serves GET …/sources/{id}/requests: the source's request log.
func (s *Server) listRequests(ctx *fasthttp.RequestCtx, tenant, id string) {
	after, limit, ok := pageArgs(ctx)
	if !ok {
		return
	}
	es, next, err := s.receiver.ListRequests(tenant, id, after, limit)
	if err != nil {
		s.writeEngineError(ctx, err)
		return
	}
	page := listPage[inbound.LogEntry]{Data: es}
	if next != "" {
		page.NextCursor = encodeCursor(next)
	}
	writeJSON(ctx, fasthttp.StatusOK, page)
}

// getRequest serves GET …/sources/{id}/requests/{request id}.
func (s *Server) getRequest(ctx *fasthttp.RequestCtx, tenant, id, request string) {
	en, err := s.receiver.GetRequest(tenant, id, request)
	if err != nil {
		s.writeEngineError(ctx, err)
		return
	}
	writeJSON(ctx, fasthttp.StatusOK, en)
}

// replayRequest serves POST …/sources/{id}/requests/{request id}/replay.
func (s *Server) replayRequest(ctx *fasthttp.RequestCtx, tenant, id, request string) {
	res, err := s.receiver.ReplayRequest(s.actor(ctx), tenant, id, request)
	if err != nil {
		s.writeEngineError(ctx, err)
		return
	}
	writeJSON(ctx, fasthttp.StatusOK, replayView(res))
}

// getSource serves GET …/sources/{id}.
func (s *Server) getSource(ctx *fasthttp.RequestCtx, tenant, id string) {
	src, err := s.receiver.GetSource(tenant, id)
	if err != nil {
		s.writeEngineError(ctx, err)
		return
	}
	writeJSON(ctx, fasthttp.StatusOK, src)
}

// updateSource serves PATCH …/sources/{id}.
func (s *Server) updateSource(ctx *fasthttp.RequestCtx, tenant, id string) {
	var in inbound.SourceInput
	if !decodeStrict(ctx, &in) {
		return
	}
	src, err := s.receiver.UpdateSource(s.actor(ctx), tenant, id, in)
	if err != nil {
		s.writeEngineError(ctx, err)
		return
	}
	writeJSON(ctx, fasthttp.StatusOK, src)
}

// deleteSource serves DELETE …/sources/{id}.
func (s *Server) deleteSource(ctx *fasthttp.RequestCtx, tenant, id string) {
	if err := s.receiver.DeleteSource(s.actor(ctx), tenant, id); err != nil {
		s.writeEngineError(ctx, err)
		return
	}
	ctx.SetStatusCode(fasthttp.StatusNoContent)
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
