package httpin

import (
	"bytes"
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/valyala/fasthttp"

	"hookline/engine"
	"hookline/engine/access"
	"hookline/engine/inbound"
	"hookline/internal/dashboard"
)

// Options configure a Server. The zero value works but for AdminToken: in
// every other field 0 (or "") means the default, written next to the field,
// and EnsureDefaults is the one place those defaults live. Negative means
// "none" where a field says so and is an error elsewhere; New returns
// Validate's error rather than replacing a bad value.
type Options struct {
	Listen string // "" means 127.0.0.1:8080
	// AdminToken is required, at least MinAdminTokenBytes long.
	AdminToken string
	// MaxEventBytes bounds one event's JSON object. 0 means 1 MiB.
	MaxEventBytes int
	// MaxBodyBytes bounds any request body, batches included, so it is at
	// least MaxEventBytes. 0 means 16 MiB, or MaxEventBytes if that is more.
	MaxBodyBytes int
	// MaxBatchEvents bounds the events of one batch. 0 means 1000.
	MaxBatchEvents int
	// MaxBodyBytesInFlight bounds the request body bytes held at once by
	// every request being read or handled; a request that would pass it
	// gets 503 server_busy with Retry-After before its body is read, so a
	// flood of large declared bodies costs no memory. Requests to the
	// inbound receiver may hold half of it. At least MaxBodyBytes and twice
	// MaxEventBytes; 0 means 64 MiB, or the least allowed if that is more.
	MaxBodyBytesInFlight int64
	// MaxConnsPerIP bounds the open connections from one client address.
	// 0 means 1024; -1: no bound.
	MaxConnsPerIP int
	// MaxPayloadDepth bounds how deep an event's payload nests, each object
	// or array one level (a delivery's envelope adds one). Deeper payloads
	// get 400 payload_too_deep: common receiver parsers fail on deep
	// documents (Python's json near 1000 levels, less on a busy stack), and
	// an accepted event no receiver can parse is worse than a 400. 0 means
	// 128; at most MaxPayloadDepthLimit.
	MaxPayloadDepth int
	// MetricsListen, when set, is the address of a second listener that
	// serves /metrics, /healthz and /readyz alone, e.g. 127.0.0.1:9090
	// (metrics_listener.go); /metrics on Listen then needs a token. ""
	// means none: /metrics is served on Listen only.
	MetricsListen string
	// MetricsToken, when set, is a bearer token /metrics takes besides
	// the admin token, on either listener, and /metrics then refuses a
	// request with neither (401). At least MinMetricsTokenBytes, and not
	// the admin token. "" means none: /metrics needs no token on the
	// metrics listener, nor on Listen when there is no metrics listener.
	MetricsToken string
	// PublicURL is the base URL customers reach the server at, such as
	// https://hooks.example.com, without a path: a portal session's url
	// starts with it. "" means the scheme and Host header of the request
	// that creates the session.
	PublicURL string
	// ReplaysPerSecond bounds the single-delivery replays that tenant
	// credentials (API keys, portal sessions) ask of one endpoint, burst
	// 1; past it 429 replay_rate_limited. The admin token and bulk
	// replay jobs are not limited. 0 means 1; -1: no bound.
	ReplaysPerSecond float64
	// FrameAncestors are the origins (https://app.example.com) whose pages
	// may frame the dashboard, to embed the customer view; none: no page
	// may. Each must pass dashboard.CheckFrameOrigin.
	FrameAncestors []string
	// NoDashboard turns the dashboard off: /, /portal and /assets/ answer
	// 404 as unknown paths do.
	NoDashboard bool
	Logger      *slog.Logger
	Metrics     *metrics.Set // the engine's set; /metrics writes it

	// readTimeout bounds reading one request, head and body; 0 means
	// defaultReadTimeout. Tests shorten it (export_test.go).
	readTimeout time.Duration
}

// defaultReadTimeout bounds reading one request, its head and body.
const defaultReadTimeout = 30 * time.Second

// MinAdminTokenBytes is the least length of the admin token. It can do
// everything, to every tenant, for as long as the server runs, and it is
// chosen by the operator: at least 32 bytes, the length of a 256-bit key
// (and of the HMAC-SHA256 output RFC 2104 sizes keys by); the token
// hookline generates is 46. Twice the minimum of the secrets operators
// invent for sources (verify.MinSecretBytes), which each open one source.
const MinAdminTokenBytes = 32

// MinMetricsTokenBytes is the least length of the metrics token: like a
// secret an operator invents for a source (verify.MinSecretBytes), it
// opens one thing, and reading metrics changes nothing.
const MinMetricsTokenBytes = 16

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
	if o.MaxBodyBytesInFlight == 0 {
		o.MaxBodyBytesInFlight = max(64<<20, int64(o.MaxBodyBytes), 2*int64(o.MaxEventBytes))
	}
	if o.MaxConnsPerIP == 0 {
		o.MaxConnsPerIP = 1024
	}
	if o.MaxPayloadDepth == 0 {
		o.MaxPayloadDepth = defaultMaxPayloadDepth
	}
	o.PublicURL = strings.TrimRight(o.PublicURL, "/")
	if o.ReplaysPerSecond == 0 {
		o.ReplaysPerSecond = defaultReplaysPerSecond
	}
	if o.readTimeout == 0 {
		o.readTimeout = defaultReadTimeout
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
	case len(o.AdminToken) < MinAdminTokenBytes:
		return fmt.Errorf("weak_secret: httpin.Options.AdminToken is %d bytes; it must be at least %d (generate one, e.g. with `openssl rand -base64 32`)", len(o.AdminToken), MinAdminTokenBytes)
	case o.MaxEventBytes <= 0:
		return fmt.Errorf("httpin.Options.MaxEventBytes is %d; it must be positive", o.MaxEventBytes)
	case o.MaxBodyBytes < o.MaxEventBytes:
		// A body smaller than one event would refuse events the event bound
		// accepts; this used to be raised to MaxEventBytes silently.
		return fmt.Errorf("httpin.Options.MaxBodyBytes is %d; it must be at least httpin.Options.MaxEventBytes (%d)", o.MaxBodyBytes, o.MaxEventBytes)
	case o.MaxBatchEvents <= 0:
		return fmt.Errorf("httpin.Options.MaxBatchEvents is %d; it must be positive", o.MaxBatchEvents)
	case o.MaxBodyBytesInFlight < max(int64(o.MaxBodyBytes), 2*int64(o.MaxEventBytes)):
		// A budget below one body would refuse every body that large, and
		// the inbound receiver's half must hold one event.
		return fmt.Errorf("httpin.Options.MaxBodyBytesInFlight is %d; it must be at least httpin.Options.MaxBodyBytes (%d) and twice httpin.Options.MaxEventBytes (%d)", o.MaxBodyBytesInFlight, o.MaxBodyBytes, o.MaxEventBytes)
	case o.MaxConnsPerIP < 0 && o.MaxConnsPerIP != -1:
		return fmt.Errorf("httpin.Options.MaxConnsPerIP is %d; it must be positive, or -1 for no bound", o.MaxConnsPerIP)
	case o.MetricsToken != "" && len(o.MetricsToken) < MinMetricsTokenBytes:
		return fmt.Errorf("weak_secret: httpin.Options.MetricsToken is %d bytes; it must be at least %d (generate one, e.g. with `openssl rand -hex 16`)", len(o.MetricsToken), MinMetricsTokenBytes)
	case o.MetricsToken != "" && o.MetricsToken == o.AdminToken:
		// Every scraper's config would hold a token that can do everything.
		return errors.New("httpin.Options.MetricsToken is the admin token; give the metrics a token of their own")
	case o.MaxPayloadDepth <= 0 || o.MaxPayloadDepth > MaxPayloadDepthLimit:
		return fmt.Errorf("httpin.Options.MaxPayloadDepth is %d; it must be from 1 to %d", o.MaxPayloadDepth, MaxPayloadDepthLimit)
	case math.IsNaN(o.ReplaysPerSecond) || math.IsInf(o.ReplaysPerSecond, 0) || o.ReplaysPerSecond < 0 && o.ReplaysPerSecond != -1:
		return fmt.Errorf("httpin.Options.ReplaysPerSecond is %g; it must be positive, or -1 for no bound", o.ReplaysPerSecond)
	}
	for _, origin := range o.FrameAncestors {
		if err := dashboard.CheckFrameOrigin(origin); err != nil {
			return fmt.Errorf("httpin.Options.FrameAncestors: %w", err)
		}
	}
	if o.PublicURL != "" {
		u, err := url.Parse(o.PublicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || strings.Trim(u.Path, "/") != "" ||
			u.RawQuery != "" || u.Fragment != "" || u.User != nil {
			return fmt.Errorf("httpin.Options.PublicURL is %q; it must be an http or https URL without a path, like https://hooks.example.com", o.PublicURL)
		}
	}
	if o.MetricsListen != "" {
		_, port, err := net.SplitHostPort(o.MetricsListen)
		if err != nil {
			return fmt.Errorf("httpin.Options.MetricsListen is %q; it must be host:port, like 127.0.0.1:9090", o.MetricsListen)
		}
		if o.MetricsListen == o.Listen && port != "0" {
			return fmt.Errorf("httpin.Options.MetricsListen is %q, the same as httpin.Options.Listen; give another port, or leave it empty to serve /metrics on httpin.Options.Listen", o.MetricsListen)
		}
	}
	return nil
}

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
	s.ln = ln
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
	label := s.dispatch(ctx, &s.mainL)
	s.m.observe(label, ctx.Response.StatusCode(), start)
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
	r.handler.serve(s, ctx, params)
	return r.label
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
