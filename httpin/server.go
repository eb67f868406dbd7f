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
	"github.com/valyala/fasthttp/pprofhandler"

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
	Logger         *slog.Logger
	Metrics        *metrics.Set // the engine's set; /metrics writes it
}

// Defaults that ParseLimits shares with Options.
const (
	defaultMaxEventBytes  = 1 << 20
	defaultMaxBatchEvents = 1000
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

func (s *Server) handleTransportError(ctx *fasthttp.RequestCtx, err error) {
	if errors.Is(err, fasthttp.ErrBodyTooLarge) {
		writeError(ctx, fasthttp.StatusRequestEntityTooLarge, "body_too_large",
			fmt.Sprintf("request body exceeds %d bytes", s.opts.MaxBodyBytes))
		return
	}
	writeError(ctx, fasthttp.StatusBadRequest, "bad_request", "cannot parse the HTTP request")
}

// handle routes by path segments. Paths are few and fixed, so a switch is
// both the fastest router and the easiest to read.
func (s *Server) handle(ctx *fasthttp.RequestCtx) {
	start := time.Now()
	route := s.route(ctx)
	s.m.observe(route, ctx.Response.StatusCode(), start)
}

func (s *Server) route(ctx *fasthttp.RequestCtx) routeID {
	path := string(ctx.Path())
	switch path {
	case "/healthz":
		ctx.SetContentType("application/json")
		ctx.SetBodyString(`{"status":"ok"}`)
		return routeHealth
	case "/readyz":
		ctx.SetContentType("application/json")
		if !s.ready.Load() {
			ctx.SetStatusCode(fasthttp.StatusServiceUnavailable)
			ctx.SetBodyString(`{"status":"not_ready"}`)
		} else {
			ctx.SetBodyString(`{"status":"ready"}`)
		}
		return routeHealth
	case "/metrics":
		ctx.SetContentType("text/plain; version=0.0.4")
		s.opts.Metrics.WritePrometheus(ctx)
		metrics.WriteProcessMetrics(ctx)
		return routeMetrics
	}
	if id, ok := strings.CutPrefix(path, inbound.Path); ok {
		if id == "" || strings.Contains(id, "/") {
			writeError(ctx, fasthttp.StatusNotFound, "source_not_found", "no source at this URL")
		} else {
			s.receive(ctx, id)
		}
		return routeInbound
	}
	if strings.HasPrefix(path, "/debug/pprof/") {
		// Profiles reveal internals and cost CPU: only for the operator.
		if s.adminOnly(ctx) {
			pprofhandler.PprofHandler(ctx)
		}
		return routeOther
	}
	if path == "/v1/audit" {
		switch {
		case !s.adminOnly(ctx):
		case string(ctx.Method()) != "GET":
			methodNotAllowed(ctx, "GET")
		default:
			s.listAudit(ctx, "")
		}
		return routeAudit
	}
	rest, ok := strings.CutPrefix(path, "/v1/tenants")
	if !ok || (rest != "" && rest[0] != '/') {
		writeError(ctx, fasthttp.StatusNotFound, "not_found", "no such path: "+path)
		return routeOther
	}
	p, ok := s.authenticate(ctx)
	if !ok {
		return routeOther
	}
	tenant, sub, _ := strings.Cut(strings.Trim(rest, "/"), "/")
	method := string(ctx.Method())
	if !p.admin && !tenantKeyAllows(p, tenant, sub, method) {
		forbidden(ctx)
		return routeOther
	}
	if keys, ok := strings.CutPrefix(sub, "api-keys"); ok && (keys == "" || keys[0] == '/') {
		s.apiKeys(ctx, tenant, strings.TrimPrefix(keys, "/"), method)
		return routeTenant
	}
	switch {
	case tenant == "":
		switch method {
		case "GET":
			s.listTenants(ctx)
		case "POST":
			s.createTenant(ctx)
		default:
			methodNotAllowed(ctx, "GET, POST")
		}
		return routeTenants
	case sub == "":
		switch method {
		case "GET":
			s.getTenant(ctx, tenant)
		case "PATCH":
			s.updateTenant(ctx, tenant)
		case "DELETE":
			s.deleteTenant(ctx, tenant)
		default:
			methodNotAllowed(ctx, "GET, PATCH, DELETE")
		}
		return routeTenant
	case sub == "events":
		switch method {
		case "POST":
			s.publishOne(ctx, tenant)
		case "GET":
			s.readFeed(ctx, tenant)
			return routeFeed
		default:
			methodNotAllowed(ctx, "GET, POST")
		}
		return routePublish
	case sub == "events/batch":
		if method != "POST" {
			methodNotAllowed(ctx, "POST")
		} else {
			s.publishBatch(ctx, tenant)
		}
		return routePublishBatch
	case sub == "endpoints":
		switch method {
		case "GET":
			s.listEndpoints(ctx, tenant)
		case "POST":
			s.createEndpoint(ctx, tenant)
		default:
			methodNotAllowed(ctx, "GET, POST")
		}
		return routeEndpoints
	}
	if id, ok := endpointTestPath(sub); ok {
		if method != "POST" {
			methodNotAllowed(ctx, "POST")
		} else {
			s.testEndpoint(ctx, tenant, id)
		}
		return routeEndpointTest
	}
	if id, ok := strings.CutPrefix(sub, "endpoints/"); ok && id != "" && !strings.Contains(id, "/") {
		switch method {
		case "GET":
			s.getEndpoint(ctx, tenant, id)
		case "PATCH":
			s.updateEndpoint(ctx, tenant, id)
		case "DELETE":
			s.deleteEndpoint(ctx, tenant, id)
		default:
			methodNotAllowed(ctx, "GET, PATCH, DELETE")
		}
		return routeEndpoint
	}
	if typ, ok := strings.CutPrefix(sub, "event-types"); ok && (typ == "" || typ[0] == '/') {
		typ = strings.TrimPrefix(typ, "/")
		if strings.Contains(typ, "/") {
			writeError(ctx, fasthttp.StatusNotFound, "not_found", "no such path: "+path)
		} else {
			s.eventTypes(ctx, tenant, typ, method)
		}
		return routeEventTypes
	}
	if sub == "audit" {
		if method != "GET" {
			methodNotAllowed(ctx, "GET")
		} else {
			s.listAudit(ctx, tenant)
		}
		return routeAudit
	}
	if srcs, ok := strings.CutPrefix(sub, "sources"); ok && (srcs == "" || srcs[0] == '/') {
		s.sources(ctx, tenant, strings.TrimPrefix(srcs, "/"), method)
		return routeSources
	}
	if jobs, ok := strings.CutPrefix(sub, "jobs"); ok && (jobs == "" || jobs[0] == '/') {
		s.jobs(ctx, tenant, strings.TrimPrefix(jobs, "/"), method)
		return routeJobs
	}
	if id, ok := strings.CutPrefix(sub, "events/"); ok && id != "batch" {
		switch {
		case id == "" || strings.Contains(id, "/"):
			writeError(ctx, fasthttp.StatusNotFound, "not_found", "no such path: "+path)
		case method != "GET":
			methodNotAllowed(ctx, "GET")
		default:
			s.getEvent(ctx, tenant, id)
		}
		return routeDeliveries
	}
	if rest, ok := strings.CutPrefix(sub, "endpoints/"); ok {
		id, action, _ := strings.Cut(rest, "/")
		if id != "" && (action == "deliveries" || strings.HasPrefix(action, "deliveries/")) {
			event, hasEvent := strings.CutPrefix(action, "deliveries/")
			if ev, verb, ok := strings.Cut(event, "/"); ok && hasEvent && ev != "" && (verb == "replay" || verb == "cancel") {
				if method != "POST" {
					methodNotAllowed(ctx, "POST")
				} else {
					s.deliveryAction(ctx, tenant, id, ev, verb)
				}
				return routeDeliveries
			}
			switch {
			case hasEvent && (event == "" || strings.Contains(event, "/")):
				writeError(ctx, fasthttp.StatusNotFound, "not_found", "no such path: "+path)
			case method != "GET":
				methodNotAllowed(ctx, "GET")
			case hasEvent:
				s.getDelivery(ctx, tenant, id, event)
			default:
				s.listDeliveries(ctx, tenant, id)
			}
			return routeDeliveries
		}
		if id != "" && (action == "pause" || action == "resume") {
			if method != "POST" {
				methodNotAllowed(ctx, "POST")
			} else {
				s.pauseEndpoint(ctx, tenant, id, action == "pause")
			}
			return routeEndpoint
		}
		if id != "" && (action == engine.JobReplay || action == engine.JobBackfill || action == engine.JobCancel) {
			if method != "POST" {
				methodNotAllowed(ctx, "POST")
			} else {
				s.createJob(ctx, tenant, id, action)
			}
			return routeJobs
		}
		if id != "" && action == "health" {
			if method != "GET" {
				methodNotAllowed(ctx, "GET")
			} else {
				s.endpointHealth(ctx, tenant, id)
			}
			return routeEndpointHealth
		}
		if id != "" && action == "rotate-secret" {
			if method != "POST" {
				methodNotAllowed(ctx, "POST")
			} else {
				s.rotateSecret(ctx, tenant, id)
			}
			return routeEndpoint
		}
	}
	writeError(ctx, fasthttp.StatusNotFound, "not_found", "no such path: "+path)
	return routeOther
}

func methodNotAllowed(ctx *fasthttp.RequestCtx, allow string) {
	method := string(ctx.Method())
	path := string(ctx.Path())
	writeError(ctx, fasthttp.StatusMethodNotAllowed, "method_not_allowed", method+" is not allowed on "+path)
	ctx.Response.Header.Set("Allow", allow)
}

// principal is who a request acts as: the operator (admin token) or a
// tenant API key.
type principal struct {
	admin  bool
	tenant string // the key's tenant
	actor  string // "admin" or the key's id
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
		p := principal{tenant: k.Tenant, actor: k.ID}
		ctx.SetUserValue(principalKey{}, p)
		return p, true
	}
	s.authorized(ctx, true)
	return principal{}, false
}

// adminOnly lets only the admin token through: 401 without a valid token,
// 403 for a tenant key.
func (s *Server) adminOnly(ctx *fasthttp.RequestCtx) bool {
	p, ok := s.authenticate(ctx)
	if ok && !p.admin {
		forbidden(ctx)
		return false
	}
	return ok
}

// tenantKeyAllows is what a tenant key may do: publish to its own tenant and
// read its data, but not manage it (endpoints, keys, catalogue, replays)
// and not read the audit log.
func tenantKeyAllows(p principal, tenant, sub, method string) bool {
	if tenant == "" || tenant != p.tenant || strings.HasPrefix(sub, "api-keys") || sub == "audit" {
		return false
	}
	if method == "GET" {
		return true
	}
	return method == "POST" && (sub == "events" || sub == "events/batch")
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
