package httpin

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync/atomic"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/valyala/fasthttp"

	"hookline/engine"
	"hookline/engine/access"
	"hookline/engine/inbound"
)

// Options configure a Server. The zero value works but for AdminToken: in
// every other field 0 (or "") means the default, written next to the field,
// and EnsureDefaults is the one place those defaults live. No field has a
// "none": a negative size is an error, and New returns Validate's error
// rather than replacing a bad value.
type Options struct {
	Listen     string // "" means 127.0.0.1:8080
	AdminToken string // required
	// MaxEventBytes bounds one event's JSON object. 0 means 1 MiB.
	MaxEventBytes int
	// MaxBodyBytes bounds any request body, batches included, so it is at
	// least MaxEventBytes. 0 means 16 MiB, or MaxEventBytes if that is more.
	MaxBodyBytes int
	// MaxBatchEvents bounds the events of one batch. 0 means 1000.
	MaxBatchEvents int
	// MaxPayloadDepth bounds how deep an event's payload nests, each object
	// or array one level (a delivery's envelope adds one). Deeper payloads
	// get 400 payload_too_deep: common receiver parsers fail on deep
	// documents (Python's json near 1000 levels, less on a busy stack), and
	// an accepted event no receiver can parse is worse than a 400. 0 means
	// 128; at most MaxPayloadDepthLimit.
	MaxPayloadDepth int
	Logger          *slog.Logger
	Metrics         *metrics.Set // the engine's set; /metrics writes it
}

// maxHeaderBytes bounds a request's line and headers together, the blank
// line included; past it the answer is 431 request_headers_too_large.
// fasthttp's read buffer is its header limit, and at its default of 4 KiB
// clients with big cookies or long tokens got a bare 400 bad_request; 16
// KiB is Node's default (--max-http-header-size). Each open connection
// holds a read buffer of this size.
const maxHeaderBytes = 16 << 10

// Defaults that ParseLimits shares with Options.
const (
	defaultMaxEventBytes   = 1 << 20
	defaultMaxBatchEvents  = 1000
	defaultMaxPayloadDepth = 128
)

// EnsureDefaults fills zero fields with their defaults.
func (o *Options) EnsureDefaults() {
	if o.Listen == "" {
		o.Listen = "127.0.0.1:8080"
	}
	if o.MaxEventBytes == 0 {
		o.MaxEventBytes = defaultMaxEventBytes
	}
	if o.MaxBodyBytes == 0 {
		o.MaxBodyBytes = max(16<<20, o.MaxEventBytes)
	}
	if o.MaxBatchEvents == 0 {
		o.MaxBatchEvents = defaultMaxBatchEvents
	}
	if o.MaxPayloadDepth == 0 {
		o.MaxPayloadDepth = defaultMaxPayloadDepth
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Metrics == nil {
		o.Metrics = metrics.NewSet()
	}
}

// Validate reports the first option out of its bounds, naming it and its
// value. It expects EnsureDefaults to have run.
func (o *Options) Validate() error {
	switch {
	case o.AdminToken == "":
		return errors.New("httpin.Options.AdminToken is empty; an admin token is required")
	case o.MaxEventBytes <= 0:
		return fmt.Errorf("httpin.Options.MaxEventBytes is %d; it must be positive", o.MaxEventBytes)
	case o.MaxBodyBytes < o.MaxEventBytes:
		// A body smaller than one event would refuse events the event bound
		// accepts; this used to be raised to MaxEventBytes silently.
		return fmt.Errorf("httpin.Options.MaxBodyBytes is %d; it must be at least httpin.Options.MaxEventBytes (%d)", o.MaxBodyBytes, o.MaxEventBytes)
	case o.MaxBatchEvents <= 0:
		return fmt.Errorf("httpin.Options.MaxBatchEvents is %d; it must be positive", o.MaxBatchEvents)
	case o.MaxPayloadDepth <= 0 || o.MaxPayloadDepth > MaxPayloadDepthLimit:
		return fmt.Errorf("httpin.Options.MaxPayloadDepth is %d; it must be from 1 to %d", o.MaxPayloadDepth, MaxPayloadDepthLimit)
	}
	return nil
}

// Server is the HTTP front end.
type Server struct {
	e      *engine.Engine
	in     *inbound.Receiver
	acc    *access.Access
	opts   Options
	logger *slog.Logger
	token  []byte
	srv    *fasthttp.Server
	ln     net.Listener
	ready  atomic.Bool
	m      *serverMetrics
}

// New returns a server for the engine e, the inbound receiver in and the
// access control acc, or Validate's error; call Listen, then Serve.
func New(e *engine.Engine, in *inbound.Receiver, acc *access.Access, opts Options) (*Server, error) {
	opts.EnsureDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	s := &Server{
		e:      e,
		in:     in,
		acc:    acc,
		opts:   opts,
		logger: opts.Logger,
		token:  []byte(opts.AdminToken),
		m:      newServerMetrics(opts.Metrics),
	}
	s.srv = &fasthttp.Server{
		Name:                          "hookline",
		Handler:                       s.handle,
		ErrorHandler:                  s.handleTransportError,
		MaxRequestBodySize:            opts.MaxBodyBytes,
		ReadBufferSize:                maxHeaderBytes, // fasthttp's header limit
		ReadTimeout:                   30 * time.Second,
		WriteTimeout:                  30 * time.Second,
		IdleTimeout:                   2 * time.Minute,
		DisablePreParseMultipartForm:  true,
		NoDefaultContentType:          true,
		DisableHeaderNamesNormalizing: false,
		CloseOnShutdown:               true,
		// Broken client connections are routine for a public listener:
		// debug detail, not operator noise.
		Logger: fasthttpLogger{opts.Logger},
	}
	return s, nil
}

// Listen binds the listen address.
func (s *Server) Listen() error {
	ln, err := net.Listen("tcp", s.opts.Listen)
	if err != nil {
		return fmt.Errorf("cannot listen on %q: %w", s.opts.Listen, err)
	}
	s.ln = ln
	return nil
}

// Addr is the bound address, e.g. 127.0.0.1:8080.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Serve answers requests until Shutdown.
func (s *Server) Serve() error {
	s.ready.Store(true)
	return s.srv.Serve(s.ln)
}

// Shutdown stops accepting requests and waits for those in progress, so every
// 202 already being written reaches its client.
func (s *Server) Shutdown(ctx context.Context) error {
	s.ready.Store(false)
	return s.srv.ShutdownWithContext(ctx)
}

// handleTransportError answers a request fasthttp could not read.
func (s *Server) handleTransportError(ctx *fasthttp.RequestCtx, err error) {
	if errors.Is(err, fasthttp.ErrBodyTooLarge) {
		writeError(ctx, fasthttp.StatusRequestEntityTooLarge, "body_too_large",
			fmt.Sprintf("request body exceeds %d bytes", s.opts.MaxBodyBytes))
		return
	}
	// The head did not fit in the read buffer (RFC 6585, section 5).
	var small *fasthttp.ErrSmallBuffer
	if errors.As(err, &small) {
		writeError(ctx, fasthttp.StatusRequestHeaderFieldsTooLarge, "request_headers_too_large",
			fmt.Sprintf("the request line and headers exceed %d bytes", maxHeaderBytes))
		return
	}
	writeError(ctx, fasthttp.StatusBadRequest, "bad_request", "cannot parse the HTTP request")
}

// handle answers one request and counts it under its route's label.
func (s *Server) handle(ctx *fasthttp.RequestCtx) {
	start := time.Now()
	label := s.dispatch(ctx)
	s.m.observe(label, ctx.Response.StatusCode(), start)
}

// dispatch answers a request as its row of routeTable says, following the
// steps in routeTable's comment, and returns the metric label.
func (s *Server) dispatch(ctx *fasthttp.RequestCtx) routeID {
	path := string(ctx.Path())
	matched, underTenants := path, path == tenantsPath || strings.HasPrefix(path, tenantsPath+"/")
	if underTenants {
		matched = strings.TrimRight(path, "/")
	}
	pr, params := routes.match(matched)
	if pr == nil && !underTenants {
		return notFound(ctx, path)
	}
	var r *route
	if pr != nil {
		r = pr.find(ctx.Method())
	}
	if pr == nil || !pr.public {
		who, ok := s.authenticate(ctx)
		if !ok {
			return routeOther
		}
		if !who.may(r, pr.tenantOf(params)) {
			forbidden(ctx)
			return routeOther
		}
	}
	switch {
	case pr == nil:
		return notFound(ctx, path)
	case r == nil:
		methodNotAllowed(ctx, pr.allow)
		return pr.rows[0].label
	}
	r.handler.serve(s, ctx, params)
	return r.label
}

// notFound answers 404 for a path no route matches.
func notFound(ctx *fasthttp.RequestCtx, path string) routeID {
	if strings.HasPrefix(path, inbound.Path) {
		writeError(ctx, fasthttp.StatusNotFound, "source_not_found", "no source at this URL")
		return routeInbound
	}
	writeError(ctx, fasthttp.StatusNotFound, "not_found", "no such path: "+path)
	return routeOther
}

func (s *Server) healthz(ctx *fasthttp.RequestCtx) {
	ctx.SetContentType("application/json")
	ctx.SetBodyString(`{"status":"ok"}`)
}

func (s *Server) readyz(ctx *fasthttp.RequestCtx) {
	ctx.SetContentType("application/json")
	if !s.ready.Load() {
		ctx.SetStatusCode(fasthttp.StatusServiceUnavailable)
		ctx.SetBodyString(`{"status":"not_ready"}`)
	} else {
		ctx.SetBodyString(`{"status":"ready"}`)
	}
}

func (s *Server) writeMetrics(ctx *fasthttp.RequestCtx) {
	ctx.SetContentType("text/plain; version=0.0.4")
	s.opts.Metrics.WritePrometheus(ctx)
	metrics.WriteProcessMetrics(ctx)
}

func methodNotAllowed(ctx *fasthttp.RequestCtx, allow string) {
	method := string(ctx.Method())
	path := string(ctx.Path())
	writeError(ctx, fasthttp.StatusMethodNotAllowed, "method_not_allowed", method+" is not allowed on "+path)
	ctx.Response.Header.Set("Allow", allow)
}

// authenticate accepts the admin token (compared in constant time) or a
// tenant API key, answering 401 itself when the token is missing or wrong.
func (s *Server) authenticate(ctx *fasthttp.RequestCtx) (principal, bool) {
	if s.authorized(ctx, false) {
		p := principal{admin: true, actor: access.AdminActor.ID}
		ctx.SetUserValue(principalKey{}, p)
		return p, true
	}
	token := bearer(ctx)
	if k, ok := s.acc.AuthenticateKey(token); ok && len(token) > 0 {
		// Keys store no scopes yet: every key has the default rights.
		p := principal{tenant: k.Tenant, actor: k.ID, scopes: access.DefaultKeyScopes}
		ctx.SetUserValue(principalKey{}, p)
		return p, true
	}
	s.authorized(ctx, true)
	return principal{}, false
}

func forbidden(ctx *fasthttp.RequestCtx) {
	writeError(ctx, fasthttp.StatusForbidden, "forbidden", "this key may not do that: tenant keys publish to and read their own tenant only")
}

func bearer(ctx *fasthttp.RequestCtx) []byte {
	h := ctx.Request.Header.Peek("Authorization")
	const prefix = "Bearer "
	if len(h) < len(prefix) || !strings.EqualFold(string(h[:len(prefix)]), prefix) {
		return nil
	}
	return h[len(prefix):]
}

// authorized checks the admin token in constant time; with answer, it
// writes the 401 when the token is missing or wrong.
func (s *Server) authorized(ctx *fasthttp.RequestCtx, answer bool) bool {
	h := ctx.Request.Header.Peek("Authorization")
	const prefix = "Bearer "
	if len(h) == 0 {
		if answer {
			writeError(ctx, fasthttp.StatusUnauthorized, "missing_token", "an Authorization: Bearer <token> header is required")
			ctx.Response.Header.Set("WWW-Authenticate", `Bearer realm="hookline"`)
		}
		return false
	}
	if len(h) < len(prefix) || !strings.EqualFold(string(h[:len(prefix)]), prefix) ||
		subtle.ConstantTimeCompare(h[len(prefix):], s.token) != 1 {
		if answer {
			writeError(ctx, fasthttp.StatusUnauthorized, "invalid_token", "the bearer token is not valid")
			ctx.Response.Header.Set("WWW-Authenticate", `Bearer realm="hookline", error="invalid_token"`)
		}
		return false
	}
	return true
}

type fasthttpLogger struct{ l *slog.Logger }

func (f fasthttpLogger) Printf(format string, args ...any) {
	f.l.Debug(fmt.Sprintf(format, args...), "component", "http")
}
