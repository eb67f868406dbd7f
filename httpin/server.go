package httpin

import (
	"bytes"
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
	"github.com/bytedance/sonic"
	"github.com/valyala/fasthttp"

	"hookline/engine"
	"hookline/engine/access"
	"hookline/engine/inbound"
	"hookline/internal/dashboard"
)

// Server is the HTTP front end.
type Server struct {
	e        *engine.Engine
	receiver *inbound.Receiver
	acc      *access.Access
	opts     Options
	logger   *slog.Logger
	token    []byte
	srv      *fasthttp.Server
	ln       net.Listener
	pages    *pages // nil with Options.NoDashboard
	// mainL and metricsL say how each listener answers (see listener);
	// metricsSrv and metricsLn are nil without Options.MetricsListen.
	mainL, metricsL listener
	metricsSrv      *fasthttp.Server
	metricsLn       net.Listener
	metricsBearer   []byte // Options.MetricsToken; nil when unset
	ready           atomic.Bool
	m               *serverMetrics
	// bodyBytes is the request body bytes reserved by requests in
	// progress, and reserved what each reserved (see body.go).
	bodyBytes       atomic.Int64
	publicBodyBytes atomic.Int64 // of which by requests needing no token
	reserved        reservations
	lastBodySweep   atomic.Int64  // sweepAbandoned's last run, UnixNano
	replays         *replayLimits // nil when not limited
	certs           *certStore    // nil without TLS (tls.go)
	fwd             forwarder     // cluster mode (cluster.go)
}

// New returns a server for the engine e, the inbound receiver in and the
// access control acc, or Validate's error; call Listen, then Serve.
func New(e *engine.Engine, in *inbound.Receiver, acc *access.Access, opts Options) (*Server, error) {
	opts.EnsureDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	s := &Server{
		e:        e,
		receiver: in,
		acc:      acc,
		opts:     opts,
		logger:   opts.Logger,
		token:    []byte(opts.AdminToken),
		m:        newServerMetrics(opts.Metrics),
		replays:  newReplayLimits(opts.ReplaysPerSecond),
		// /metrics is open on a listener only where nothing was set to
		// close it: a metrics token closes it everywhere, a metrics
		// listener takes it off the main one.
		mainL:    listener{metricsOpen: opts.MetricsToken == "" && opts.MetricsListen == ""},
		metricsL: listener{metricsOpen: opts.MetricsToken == "", metricsOnly: true},
	}
	if opts.MetricsToken != "" {
		s.metricsBearer = []byte(opts.MetricsToken)
	}
	if !opts.NoDashboard {
		assets, err := dashboard.Load()
		if err != nil {
			return nil, err
		}
		s.pages = &pages{assets: assets, headers: dashboard.SecurityHeaders(opts.FrameAncestors)}
	}
	if opts.TLSCertFile != "" {
		// Loaded now, so a bad file stops the start with its error.
		s.certs = &certStore{certFile: opts.TLSCertFile, keyFile: opts.TLSKeyFile}
		if _, err := s.certs.load(); err != nil {
			return nil, err
		}
	}
	if opts.MetricsListen != "" {
		s.metricsSrv = s.newMetricsServer()
	}
	s.srv = &fasthttp.Server{
		Name:               "hookline",
		Handler:            s.handle,
		ErrorHandler:       s.handleTransportError,
		MaxRequestBodySize: opts.MaxBodyBytes,
		// fasthttp allocates a body's declared length before reading it:
		// bodyLimit sets each request's cap from its route and token, and
		// reserves it within the in-flight budget, first (see body.go).
		HeaderReceived:                s.bodyLimit,
		MaxConnsPerIP:                 max(opts.MaxConnsPerIP, 0),
		ReadBufferSize:                maxHeaderBytes, // fasthttp's header limit
		ReadTimeout:                   opts.readTimeout,
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

// Listen binds the listen address, and the metrics listener's when there
// is one.
func (s *Server) Listen() error {
	ln, err := net.Listen("tcp", s.opts.Listen)
	if err != nil {
		return fmt.Errorf("cannot listen on %q: %w", s.opts.Listen, err)
	}
	if s.metricsSrv != nil {
		mln, err := net.Listen("tcp", s.opts.MetricsListen)
		if err != nil {
			_ = ln.Close()
			return fmt.Errorf("cannot listen on %q (metrics_listen): %w", s.opts.MetricsListen, err)
		}
		s.metricsLn = mln
	}
	s.ln = s.listenTLS(ln)
	return nil
}

// Addr is the bound address, e.g. 127.0.0.1:8080.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// MetricsAddr is the metrics listener's bound address, "" when there is
// none.
func (s *Server) MetricsAddr() string {
	if s.metricsLn == nil {
		return ""
	}
	return s.metricsLn.Addr().String()
}

// Serve answers requests on both listeners until Shutdown, or until either
// fails: it returns the first to stop.
func (s *Server) Serve() error {
	s.ready.Store(true)
	if s.metricsLn == nil {
		return s.srv.Serve(s.ln)
	}
	stopped := make(chan error, 2)
	go func() { stopped <- s.metricsSrv.Serve(s.metricsLn) }()
	go func() { stopped <- s.srv.Serve(s.ln) }()
	return <-stopped
}

// Shutdown stops accepting requests and waits for those in progress, so every
// 202 already being written reaches its client; the metrics listener stops
// last, so it can be watched (readyz answers 503) until the end.
func (s *Server) Shutdown(ctx context.Context) error {
	s.ready.Store(false)
	err := s.srv.ShutdownWithContext(ctx)
	if s.metricsSrv != nil {
		err = errors.Join(err, s.metricsSrv.ShutdownWithContext(ctx))
	}
	return err
}

// handleTransportError answers a request fasthttp could not read.
func (s *Server) handleTransportError(ctx *fasthttp.RequestCtx, err error) {
	limit := s.takeBody(&ctx.Request.Header)
	s.giveBack(limit)
	if errors.Is(err, fasthttp.ErrBodyTooLarge) {
		if limit.busy {
			s.m.bodiesRefused.Inc()
			writeError(ctx, fasthttp.StatusServiceUnavailable, "server_busy", "the server is reading too many request bodies at once; retry shortly")
			ctx.Response.Header.Set("Retry-After", bodyRetryAfter)
			return
		}
		if limit.max == smallBodyBytes && s.needsToken(ctx) {
			// Capped small for want of a valid token: say that, not the
			// size (authenticate answers the 401).
			if _, ok := s.authenticate(ctx); !ok {
				return
			}
		}
		writeError(ctx, fasthttp.StatusRequestEntityTooLarge, "body_too_large",
			fmt.Sprintf("request body exceeds %d bytes", limit.max))
		return
	}
	writeHeadError(ctx, err)
}

// writeHeadError answers a request whose head fasthttp could not read, on
// either listener.
func writeHeadError(ctx *fasthttp.RequestCtx, err error) {
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
	// The body is read: its reservation leaves the map, where only bodies
	// being read are kept (body.go), and comes back when the answer is made.
	defer s.giveBack(s.takeBody(&ctx.Request.Header))
	start := time.Now()
	if s.opts.Cluster != nil {
		ctx.Response.Header.Set(nodeHeader, s.opts.Cluster.Node())
	}
	label := s.dispatch(ctx, &s.mainL)
	s.m.observe(label, ctx.Response.StatusCode(), start)
	if s.opts.AccessLog && label != routeHealth && label != routeMetrics {
		// Probes and scrapes, every few seconds, would drown the requests.
		s.logAccess(ctx, label, start)
	}
}

// dispatch answers a request on listener l as its row of routeTable says,
// following the steps in routeTable's comment, and returns the metric
// label.
func (s *Server) dispatch(ctx *fasthttp.RequestCtx, l *listener) routeID {
	path := string(ctx.Path())
	pr, params := routes.match(routePath(path))
	if l.metricsOnly && (pr == nil || !pr.rows[0].onMetricsListener()) {
		writeError(ctx, fasthttp.StatusNotFound, "not_found", "no such path on the metrics listener: "+path+"; it serves /metrics, /healthz and /readyz")
		return routeOther
	}
	if pr == nil && !underTenants(path) {
		return notFound(ctx, path)
	}
	var r *route
	if pr != nil {
		r = pr.find(ctx.Method())
		if s.opts.AccessLog {
			ctx.SetUserValue(accessRouteKey{}, accessRoute{pattern: pr.pattern, tenant: pr.tenantOf(params)})
		}
	}
	if !s.open(pr, &ctx.Request.Header, l) {
		who, ok := s.authenticate(ctx)
		if !ok {
			return routeOther
		}
		if !who.may(r, pr.tenantOf(params)) {
			forbidden(ctx)
			return routeOther
		}
		if !s.checkReason(ctx) {
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
	if s.opts.Cluster != nil && s.forward(ctx, s.routeTenant(ctx, pr, r, params)) {
		return r.label
	}
	r.handler.serve(s, ctx, params)
	return r.label
}

// routeTenant is the tenant a request is for: its path's, its source's for
// an inbound request, the new tenant's for a tenant's creation (so its
// owner holds it at once); "" for requests of no one tenant.
func (s *Server) routeTenant(ctx *fasthttp.RequestCtx, pr *pathRoutes, r *route, params pathParams) string {
	if r.label == routeTenants && ctx.IsPost() {
		var in struct {
			ID string `json:"id"`
		}
		if sonic.Unmarshal(ctx.PostBody(), &in) != nil {
			return "" // the handler here says what is wrong with it
		}
		return in.ID
	}
	if r.label == routeInbound {
		if s.receiver == nil {
			return ""
		}
		t, _ := s.receiver.SourceTenant(params[0])
		return t
	}
	return pr.tenantOf(params)
}

// needsToken reports whether the request's route (or, for an unknown path
// under /v1/tenants, the path) needs a token.
func (s *Server) needsToken(ctx *fasthttp.RequestCtx) bool {
	path := string(ctx.Path())
	pr, _ := routes.match(routePath(path))
	return pr != nil && !s.open(pr, &ctx.Request.Header, &s.mainL) || pr == nil && underTenants(path)
}

// underTenants reports whether path is /v1/tenants or under it: there even
// an unknown path needs a token.
func underTenants(path string) bool {
	return path == tenantsPath || strings.HasPrefix(path, tenantsPath+"/")
}

// routePath is path as the routes are matched: trailing slashes are
// ignored under /v1/tenants.
func routePath(path string) string {
	if underTenants(path) {
		return strings.TrimRight(path, "/")
	}
	return path
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
	switch {
	case !s.ready.Load():
		ctx.SetStatusCode(fasthttp.StatusServiceUnavailable)
		ctx.SetBodyString(`{"status":"not_ready"}`)
	case s.opts.Cluster != nil && !s.opts.Cluster.Healthy():
		ctx.SetStatusCode(fasthttp.StatusServiceUnavailable)
		ctx.SetBodyString(`{"status":"cut_off","message":"this node does not hear a majority of the cluster"}`)
	default:
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

// authenticate accepts the admin token (compared in constant time), a
// tenant API key or a live portal session, answering 401 itself when the
// token is missing, wrong, or an expired or revoked session's.
func (s *Server) authenticate(ctx *fasthttp.RequestCtx) (principal, bool) {
	p, state := s.principalOf(&ctx.Request.Header)
	switch state {
	case access.SessionLive:
		ctx.SetUserValue(principalKey{}, p)
		return p, true
	case access.SessionExpired:
		writeError(ctx, fasthttp.StatusUnauthorized, "session_expired", "this portal session has expired; ask for a new one")
		ctx.Response.Header.Set("WWW-Authenticate", `Bearer realm="hookline", error="invalid_token"`)
	case access.SessionRevoked:
		writeError(ctx, fasthttp.StatusUnauthorized, "session_revoked", "this portal session has been revoked")
		ctx.Response.Header.Set("WWW-Authenticate", `Bearer realm="hookline", error="invalid_token"`)
	default:
		s.authorized(ctx, true)
	}
	return principal{}, false
}

// principalOf is who the request with header h acts as, if its token is
// the admin token, a tenant API key or a portal session: the state is
// SessionLive when the token may act (whatever it is), else why not.
func (s *Server) principalOf(h *fasthttp.RequestHeader) (principal, access.SessionState) {
	auth := h.Peek("Authorization")
	if s.isAdminToken(auth) {
		return principal{admin: true, actor: access.AdminActor}, access.SessionLive
	}
	token := bearerToken(auth)
	if len(token) == 0 {
		return principal{}, access.SessionUnknown
	}
	if bytes.HasPrefix(token, []byte(access.PortalTokenPrefix)) {
		ps, state := s.acc.AuthenticateSession(token)
		if state != access.SessionLive {
			return principal{}, state
		}
		return principal{tenant: ps.Tenant, scopes: ps.Scopes, expires: ps.ExpiresAt,
			actor: access.Actor{ID: ps.ID, Type: access.ActorTypePortalSession}}, access.SessionLive
	}
	if k, ok := s.acc.AuthenticateKey(token); ok {
		return principal{tenant: k.Tenant, scopes: k.Scopes,
			actor: access.Actor{ID: k.ID, Type: access.ActorTypeAPIKey, Name: k.Name}}, access.SessionLive
	}
	return principal{}, access.SessionUnknown
}

// mayUse reports whether the request with header h may use route r of
// tenant: whether dispatch will pass it to the handler.
func (s *Server) mayUse(h *fasthttp.RequestHeader, r *route, tenant string) bool {
	p, state := s.principalOf(h)
	return state == access.SessionLive && p.may(r, tenant)
}

func forbidden(ctx *fasthttp.RequestCtx) {
	writeError(ctx, fasthttp.StatusForbidden, "forbidden", "this credential may not do that: tenant keys and portal sessions use their own tenant's routes within their scopes only")
}

// bearerToken is the token of an Authorization header value, nil when it
// is not a bearer token.
func bearerToken(h []byte) []byte {
	const prefix = "Bearer "
	if len(h) < len(prefix) || !strings.EqualFold(string(h[:len(prefix)]), prefix) {
		return nil
	}
	return h[len(prefix):]
}

// isAdminToken compares an Authorization header value with the admin
// token in constant time.
func (s *Server) isAdminToken(h []byte) bool {
	token := bearerToken(h)
	return token != nil && subtle.ConstantTimeCompare(token, s.token) == 1
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
