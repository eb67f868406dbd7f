package httpin

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/pprofhandler"

	"hookline/engine"
	"hookline/engine/access"
	"hookline/engine/inbound"
)

// routeTable is every route the server answers: a method on a path
// pattern, its handler, its metric label and who may use it. How a request
// is answered (Server.dispatch):
//
//  1. The path is matched against the patterns segment by segment
//     (router.match): a literal segment must be equal, {name} takes one
//     non-empty segment, a final {name...} takes the rest of the path. A
//     literal beats a parameter in the same place, so …/events/batch is
//     never …/events/{event}. Under /v1/tenants trailing slashes are
//     ignored.
//  2. A route marked noToken (health, the inbound receiver, the OpenAPI
//     document) is served without a token. /metrics, marked metricsToken,
//     is too on a listener where Options leave it open, and elsewhere with
//     the metrics token (Server.open); the admin token is taken as in
//     step 3. An unknown path outside /v1/tenants answers 404 without
//     one: there is nothing to protect. The metrics listener answers 404
//     for every path but the rows it serves, before any of this.
//  3. Every other request needs the admin token, a tenant API key or a
//     live portal session (Server.authenticate), else 401.
//  4. Authorisation is an allow-list (principal.may): the admin token may
//     use every route; a tenant API key only a route under its own
//     /v1/tenants/{tenant} whose scope its scopes hold. A route marked
//     adminOnly names no scope, so it is closed to keys (and portal
//     sessions, which are checked alike): a new route is
//     closed until its row opens it on purpose. Unknown paths and methods
//     a path does not route are closed to keys too. Else 403.
//  5. An unknown path answers 404 and a method the path does not route
//     405 with Allow; otherwise the handler runs.
//
// The metric label is the route's. A 405 takes the label of the first row
// with its pattern; 401, 403 and unknown paths count as "other", except
// unknown /in/ URLs, which are "inbound" 404s (docs/metrics.md).
//
// Handlers take the path's parameters in pattern order (h0..h3); a row
// whose handler takes more or fewer than its pattern names is a BUG
// found when the table is compiled, at start-up.
var routeTable = []route{
	// Health and metrics, for any method; the metrics listener serves
	// these rows, and only these (route.onMetricsListener).
	{anyMethod, "/healthz", h0((*Server).healthz), routeHealth, noToken},
	{anyMethod, "/readyz", h0((*Server).readyz), routeHealth, noToken},
	{anyMethod, "/metrics", h0((*Server).writeMetrics), routeMetrics, metricsToken},
	// The inbound receiver: the source's verifier checks the provider.
	{"POST", inbound.Path + "{source}", h1((*Server).receive), routeInbound, noToken},
	// Meta's subscription handshake: the source's verify token, checked.
	{"GET", inbound.Path + "{source}", h1((*Server).handshake), routeInbound, noToken},
	// Profiles reveal internals and cost CPU: only for the operator.
	{anyMethod, "/debug/pprof/{profile...}", h1((*Server).pprof), routeOther, adminOnly},
	{"GET", "/v1/audit", h0((*Server).listAllAudit), routeAudit, adminOnly},
	// The API's description (openapi.json), as public as the API itself.
	{"GET", "/v1/openapi.json", h0((*Server).openAPI), routeOther, noToken},
	// Who the token is: what the dashboard asks first.
	{"GET", "/v1/me", h0((*Server).me), routeOther, anyToken},
	// The dashboard's page and assets: files, no data (dashboard.go).
	{"GET", "/", h0((*Server).dashboardIndex), routeDashboard, noToken},
	{"GET", "/portal", h0((*Server).dashboardIndex), routeDashboard, noToken},
	{"GET", "/assets/{file...}", h1((*Server).dashboardAsset), routeDashboard, noToken},

	// Ingest, the hot path, and the event feed.
	{"POST", "/v1/tenants/{tenant}/events", h1((*Server).publishOne), routePublish, access.EventsPublish},
	{"POST", "/v1/tenants/{tenant}/events/batch", h1((*Server).publishBatch), routePublishBatch, access.EventsPublish},
	{"GET", "/v1/tenants/{tenant}/events", h1((*Server).readFeed), routeFeed, access.DeliveriesRead},
	{"GET", "/v1/tenants/{tenant}/events/{event}", h2((*Server).getEvent), routeDeliveries, access.DeliveriesRead},

	// Tenants and their API keys: the operator's.
	{"GET", "/v1/tenants", h0((*Server).listTenants), routeTenants, adminOnly},
	{"POST", "/v1/tenants", h0((*Server).createTenant), routeTenants, adminOnly},
	{"GET", "/v1/tenants/{tenant}", h1((*Server).getTenant), routeTenant, access.EndpointsRead},
	{"PATCH", "/v1/tenants/{tenant}", h1((*Server).updateTenant), routeTenant, adminOnly},
	{"DELETE", "/v1/tenants/{tenant}", h1((*Server).deleteTenant), routeTenant, adminOnly},
	{"GET", "/v1/tenants/{tenant}/api-keys", h1((*Server).listAPIKeys), routeTenant, adminOnly},
	{"POST", "/v1/tenants/{tenant}/api-keys", h1((*Server).createAPIKey), routeTenant, adminOnly},
	{"DELETE", "/v1/tenants/{tenant}/api-keys/{id}", h2((*Server).deleteAPIKey), routeTenant, adminOnly},
	{"GET", "/v1/tenants/{tenant}/audit", h1((*Server).listAudit), routeAudit, access.AuditRead},
	// Portal sessions: short-lived credentials for a customer's page.
	{"GET", "/v1/tenants/{tenant}/portal-sessions", h1((*Server).listPortalSessions), routeTenant, access.PortalCreate},
	{"POST", "/v1/tenants/{tenant}/portal-sessions", h1((*Server).createPortalSession), routeTenant, access.PortalCreate},
	{"DELETE", "/v1/tenants/{tenant}/portal-sessions/{id}", h2((*Server).revokePortalSession), routeTenant, access.PortalCreate},

	// Endpoints.
	{"GET", "/v1/tenants/{tenant}/endpoints", h1((*Server).listEndpoints), routeEndpoints, access.EndpointsRead},
	{"POST", "/v1/tenants/{tenant}/endpoints", h1((*Server).createEndpoint), routeEndpoints, access.EndpointsWrite},
	{"GET", "/v1/tenants/{tenant}/endpoints/{id}", h2((*Server).getEndpoint), routeEndpoint, access.EndpointsRead},
	{"PATCH", "/v1/tenants/{tenant}/endpoints/{id}", h2((*Server).updateEndpoint), routeEndpoint, access.EndpointsWrite},
	{"DELETE", "/v1/tenants/{tenant}/endpoints/{id}", h2((*Server).deleteEndpoint), routeEndpoint, access.EndpointsWrite},
	{"POST", "/v1/tenants/{tenant}/endpoints/{id}/pause", pausing(true), routeEndpoint, access.EndpointsWrite},
	{"POST", "/v1/tenants/{tenant}/endpoints/{id}/resume", pausing(false), routeEndpoint, access.EndpointsWrite},
	{"POST", "/v1/tenants/{tenant}/endpoints/{id}/rotate-secret", h2((*Server).rotateSecret), routeEndpoint, access.EndpointsWrite},
	{"POST", "/v1/tenants/{tenant}/endpoints/{id}/test", h2((*Server).testEndpoint), routeEndpointTest, access.EndpointsWrite},
	// A preview sends nothing and shows no credential: a read.
	{"POST", "/v1/tenants/{tenant}/endpoints/{id}/preview", h2((*Server).previewEndpoint), routeEndpoint, access.EndpointsRead},
	// A draft's preview creates nothing and counts toward no limit.
	{"POST", "/v1/tenants/{tenant}/endpoint-preview", h1((*Server).previewDraft), routeEndpoints, access.EndpointsRead},
	{"GET", "/v1/tenants/{tenant}/endpoints/{id}/health", h2((*Server).endpointHealth), routeEndpointHealth, access.EndpointsRead},

	// Deliveries and bulk jobs.
	{"GET", "/v1/tenants/{tenant}/deliveries", h1((*Server).listTenantDeliveries), routeDeliveries, access.DeliveriesRead},
	{"GET", "/v1/tenants/{tenant}/endpoints/{id}/deliveries", h2((*Server).listDeliveries), routeDeliveries, access.DeliveriesRead},
	{"GET", "/v1/tenants/{tenant}/endpoints/{id}/deliveries/{event}", h3((*Server).getDelivery), routeDeliveries, access.DeliveriesRead},
	{"POST", "/v1/tenants/{tenant}/endpoints/{id}/deliveries/{event}/replay", deliveryVerb("replay"), routeDeliveries, access.DeliveriesReplay},
	{"POST", "/v1/tenants/{tenant}/endpoints/{id}/deliveries/{event}/cancel", deliveryVerb("cancel"), routeDeliveries, access.DeliveriesReplay},
	{"POST", "/v1/tenants/{tenant}/endpoints/{id}/" + engine.JobReplay, startJob(engine.JobReplay), routeJobs, access.DeliveriesReplay},
	{"POST", "/v1/tenants/{tenant}/endpoints/{id}/" + engine.JobBackfill, startJob(engine.JobBackfill), routeJobs, access.DeliveriesReplay},
	{"POST", "/v1/tenants/{tenant}/endpoints/{id}/" + engine.JobCancel, startJob(engine.JobCancel), routeJobs, access.DeliveriesReplay},
	{"GET", "/v1/tenants/{tenant}/jobs", h1((*Server).listJobs), routeJobs, access.DeliveriesRead},
	{"GET", "/v1/tenants/{tenant}/jobs/{id}", h2((*Server).getJob), routeJobs, access.DeliveriesRead},
	{"POST", "/v1/tenants/{tenant}/jobs/{id}/stop", h2((*Server).stopJob), routeJobs, access.DeliveriesReplay},
	{"GET", "/v1/tenants/{tenant}/stats", h1((*Server).tenantStats), routeStats, access.DeliveriesRead},

	// The event-type catalogue.
	{"GET", "/v1/tenants/{tenant}/event-types", h1((*Server).listEventTypes), routeEventTypes, access.EventTypesRead},
	{"POST", "/v1/tenants/{tenant}/event-types", h1((*Server).createEventType), routeEventTypes, access.EventTypesWrite},
	{"GET", "/v1/tenants/{tenant}/event-types/{type}", h2((*Server).getEventType), routeEventTypes, access.EventTypesRead},
	{"PUT", "/v1/tenants/{tenant}/event-types/{type}", h2((*Server).putEventType), routeEventTypes, access.EventTypesWrite},
	{"DELETE", "/v1/tenants/{tenant}/event-types/{type}", h2((*Server).deleteEventType), routeEventTypes, access.EventTypesWrite},

	// Inbound sources and their request log.
	{"GET", "/v1/tenants/{tenant}/sources", h1((*Server).listSources), routeSources, access.SourcesRead},
	{"POST", "/v1/tenants/{tenant}/sources", h1((*Server).createSource), routeSources, access.SourcesWrite},
	{"GET", "/v1/tenants/{tenant}/sources/{id}", h2((*Server).getSource), routeSources, access.SourcesRead},
	{"PATCH", "/v1/tenants/{tenant}/sources/{id}", h2((*Server).updateSource), routeSources, access.SourcesWrite},
	{"DELETE", "/v1/tenants/{tenant}/sources/{id}", h2((*Server).deleteSource), routeSources, access.SourcesWrite},
	{"POST", "/v1/tenants/{tenant}/sources/{id}/rotate-secret", h2((*Server).rotateSourceSecret), routeSources, access.SourcesWrite},
	{"POST", "/v1/tenants/{tenant}/sources/{id}/test", h2((*Server).testSource), routeSources, access.SourcesWrite},
	{"GET", "/v1/tenants/{tenant}/sources/{id}/requests", h2((*Server).listRequests), routeSources, access.SourcesRead},
	{"GET", "/v1/tenants/{tenant}/sources/{id}/requests/{request}", h3((*Server).getRequest), routeSources, access.SourcesRead},
	{"POST", "/v1/tenants/{tenant}/sources/{id}/requests/{request}/replay", h3((*Server).replayRequest), routeSources, access.SourcesWrite},
}

// Rows served by a shared handler with one argument fixed.

func pausing(pause bool) handler {
	return h2(func(s *Server, ctx *fasthttp.RequestCtx, tenant, id string) { s.pauseEndpoint(ctx, tenant, id, pause) })
}

func deliveryVerb(verb string) handler {
	return h3(func(s *Server, ctx *fasthttp.RequestCtx, tenant, id, event string) {
		s.deliveryAction(ctx, tenant, id, event, verb)
	})
}

func startJob(kind string) handler {
	return h2(func(s *Server, ctx *fasthttp.RequestCtx, tenant, id string) { s.createJob(ctx, tenant, id, kind) })
}

func (s *Server) pprof(ctx *fasthttp.RequestCtx, _ string) { pprofhandler.PprofHandler(ctx) }

func (s *Server) listAllAudit(ctx *fasthttp.RequestCtx) { s.listAudit(ctx, "") }

// Who may use a route, besides the scopes: adminOnly routes are the admin
// token's alone, noToken routes need no token at all, anyToken routes
// take any live credential (they say only what it is), and metricsToken
// routes (/metrics) take the metrics token or the admin token, or no
// token where Options leave them open (Server.open).
const (
	adminOnly    access.Scope = ""
	noToken      access.Scope = "(no token)"
	metricsToken access.Scope = "(metrics token)"
	anyToken     access.Scope = "(any token)"
)

// anyMethod is a route's method when every method is served alike.
const anyMethod = "*"

// tenantsPath is where the tenant API lives: everything under it needs a
// token, even a path that does not exist.
const tenantsPath = "/v1/tenants"

// route is one row of routeTable.
type route struct {
	method  string // GET, POST, PUT, PATCH, DELETE or anyMethod
	pattern string
	handler handler
	label   routeID      // the hookline_http_* route label
	scope   access.Scope // what a tenant API key needs; adminOnly, noToken or metricsToken
}

// onMetricsListener reports whether the metrics listener serves r: health
// and /metrics, which an operator's monitoring reads.
func (r *route) onMetricsListener() bool {
	return r.label == routeHealth || r.label == routeMetrics
}

// maxParams bounds the parameters of one pattern; maxSegments the
// segments of a pattern without {name...}.
const (
	maxParams   = 4
	maxSegments = 10
)

// pathParams are a matched path's parameters in pattern order. They are
// substrings of the request's path: matching copies nothing.
type pathParams [maxParams]string

// handler serves a route with its path parameters.
type handler struct {
	params int // how many path parameters serve reads
	serve  func(s *Server, ctx *fasthttp.RequestCtx, p pathParams)
}

// h0..h3 adapt a handler method that takes 0..3 path parameters, in
// pattern order, e.g. h2((*Server).getEndpoint) for …/{tenant}/endpoints/{id}.
func h0(f func(*Server, *fasthttp.RequestCtx)) handler {
	return handler{0, func(s *Server, ctx *fasthttp.RequestCtx, _ pathParams) { f(s, ctx) }}
}

func h1(f func(*Server, *fasthttp.RequestCtx, string)) handler {
	return handler{1, func(s *Server, ctx *fasthttp.RequestCtx, p pathParams) { f(s, ctx, p[0]) }}
}

func h2(f func(*Server, *fasthttp.RequestCtx, string, string)) handler {
	return handler{2, func(s *Server, ctx *fasthttp.RequestCtx, p pathParams) { f(s, ctx, p[0], p[1]) }}
}

func h3(f func(*Server, *fasthttp.RequestCtx, string, string, string)) handler {
	return handler{3, func(s *Server, ctx *fasthttp.RequestCtx, p pathParams) { f(s, ctx, p[0], p[1], p[2]) }}
}

// routes is routeTable compiled once; it is never changed after.
var routes = mustRouter(routeTable)

// router matches paths against the compiled patterns.
type router struct {
	// bySegments holds the patterns of n segments, most specific first;
	// prefixes the patterns that end in {name...}.
	bySegments [maxSegments + 1][]*pathRoutes
	prefixes   []*pathRoutes
}

// pathRoutes are the rows of one pattern.
type pathRoutes struct {
	pattern string
	// segs are the pattern's segments: a literal, or "" for a parameter.
	segs []string
	// prefix is the literal text before a final {name...}, else "".
	prefix  string
	names   []string // the parameters' names, in order
	tenant  int      // the index of {tenant} in names, or -1
	rows    []*route // in table order
	allow   string   // the rows' methods for a 405's Allow header
	public  bool     // the rows are noToken
	metrics bool     // the rows are metricsToken
}

// find returns the row for method, or nil. HEAD takes the GET row where
// there is no HEAD row: the same answer, whose body fasthttp leaves out.
func (pr *pathRoutes) find(method []byte) *route {
	for _, r := range pr.rows {
		if r.method == string(method) || r.method == anyMethod {
			return r
		}
	}
	if string(method) == fasthttp.MethodHead {
		return pr.find([]byte(fasthttp.MethodGet))
	}
	return nil
}

// tenantOf is the path's {tenant}: "" when the pattern has none or pr is nil.
func (pr *pathRoutes) tenantOf(p pathParams) string {
	if pr == nil || pr.tenant < 0 {
		return ""
	}
	return p[pr.tenant]
}

// match finds the pattern of path and its parameters; nil when no pattern
// matches.
func (rt *router) match(path string) (*pathRoutes, pathParams) {
	var p pathParams
	if path == "" || path[0] != '/' {
		return nil, p
	}
	var segs [maxSegments]string
	n := 0
	for rest := path[1:]; len(path) > 1; n++ { // "/" has no segments
		if n == len(segs) {
			n++ // longer than any pattern
			break
		}
		i := strings.IndexByte(rest, '/')
		if i < 0 {
			segs[n] = rest
			n++
			break
		}
		segs[n], rest = rest[:i], rest[i+1:]
	}
	if n <= maxSegments {
	next:
		for _, pr := range rt.bySegments[n] {
			k := 0
			for i, lit := range pr.segs {
				switch {
				case lit != "":
					if segs[i] != lit {
						continue next
					}
				case segs[i] == "":
					continue next
				default:
					p[k] = segs[i]
					k++
				}
			}
			return pr, p
		}
	}
	for _, pr := range rt.prefixes {
		if rest, ok := strings.CutPrefix(path, pr.prefix); ok {
			p[0] = rest
			return pr, p
		}
	}
	return nil, p
}

// methodOrder is the order of methods in an Allow header.
var methodOrder = []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"}

// newRouter compiles rows, refusing a table that cannot be meant: a
// malformed pattern, a handler taking other parameters than its pattern
// names, a scope on a pattern without {tenant}, a method twice on one
// pattern, two patterns of the same shape, or a pattern whose rows
// disagree on needing a token.
func newRouter(rows []route) (*router, error) {
	rt := &router{}
	byShape := map[string]*pathRoutes{}
	var all []*pathRoutes
	for i := range rows {
		r := &rows[i]
		shape, pr, err := compilePattern(r.pattern)
		if err != nil {
			return nil, err
		}
		if r.handler.params != len(pr.names) {
			return nil, fmt.Errorf("%s %s: the handler takes %d path parameters; the pattern has %d", r.method, r.pattern, r.handler.params, len(pr.names))
		}
		if r.method == "" {
			return nil, fmt.Errorf("%s: no method", r.pattern)
		}
		if r.scope != adminOnly && r.scope != noToken && r.scope != metricsToken && r.scope != anyToken && pr.tenant < 0 {
			return nil, fmt.Errorf("%s %s: the route names scope %q but no {tenant} whose keys it would open to", r.method, r.pattern, r.scope)
		}
		if prev := byShape[shape]; prev != nil {
			if prev.pattern != r.pattern {
				return nil, fmt.Errorf("patterns %q and %q match the same paths", prev.pattern, r.pattern)
			}
			pr = prev
		} else {
			byShape[shape] = pr
			all = append(all, pr)
			pr.public = r.scope == noToken
			pr.metrics = r.scope == metricsToken
		}
		for _, o := range pr.rows {
			if o.method == r.method || o.method == anyMethod || r.method == anyMethod {
				return nil, fmt.Errorf("%s %s: the method is routed twice", r.method, r.pattern)
			}
		}
		if (r.scope == noToken) != pr.public || (r.scope == metricsToken) != pr.metrics {
			return nil, fmt.Errorf("%s %s: some methods of the pattern need a token and some do not", r.method, r.pattern)
		}
		pr.rows = append(pr.rows, r)
	}
	for _, pr := range all {
		var methods []string
		for _, m := range methodOrder {
			for _, r := range pr.rows {
				if r.method == m {
					methods = append(methods, m)
				}
			}
		}
		for _, r := range pr.rows {
			if !slices.Contains(methodOrder, r.method) && r.method != anyMethod {
				methods = append(methods, r.method)
			}
		}
		pr.allow = strings.Join(methods, ", ")
		if pr.prefix != "" {
			rt.prefixes = append(rt.prefixes, pr)
		} else {
			rt.bySegments[len(pr.segs)] = append(rt.bySegments[len(pr.segs)], pr)
		}
	}
	// A literal beats a parameter in the same place: …/events/batch before
	// …/events/{event}. The sort is stable, so table order breaks ties and
	// the hot publish pattern stays first among its peers.
	for _, prs := range rt.bySegments {
		slices.SortStableFunc(prs, func(a, b *pathRoutes) int {
			for i := range a.segs {
				if al, bl := a.segs[i] != "", b.segs[i] != ""; al != bl {
					if al {
						return -1
					}
					return 1
				}
			}
			return 0
		})
	}
	// The longest prefix first.
	slices.SortStableFunc(rt.prefixes, func(a, b *pathRoutes) int { return len(b.prefix) - len(a.prefix) })
	return rt, nil
}

// compilePattern parses a pattern; shape is the pattern with every
// parameter's name left out, equal for patterns that match the same paths.
func compilePattern(pattern string) (shape string, pr *pathRoutes, err error) {
	pr = &pathRoutes{pattern: pattern, tenant: -1}
	if !strings.HasPrefix(pattern, "/") {
		return "", nil, fmt.Errorf("pattern %q does not start with /", pattern)
	}
	if pattern == "/" {
		return "/", pr, nil // the root: no segments
	}
	parts := strings.Split(pattern[1:], "/")
	for i, seg := range parts {
		name, isParam := strings.CutPrefix(seg, "{")
		if !isParam {
			if seg == "" || strings.ContainsAny(seg, "{}") {
				return "", nil, fmt.Errorf("pattern %q: segment %d is empty or malformed", pattern, i+1)
			}
			pr.segs = append(pr.segs, seg)
			continue
		}
		name, ok := strings.CutSuffix(name, "}")
		if !ok || name == "" || strings.ContainsAny(name, "{}") {
			return "", nil, fmt.Errorf("pattern %q: segment %d is malformed", pattern, i+1)
		}
		if slices.Contains(pr.names, strings.TrimSuffix(name, "...")) {
			return "", nil, fmt.Errorf("pattern %q names {%s} twice", pattern, name)
		}
		if name, ok = strings.CutSuffix(name, "..."); ok {
			if i == 0 || i != len(parts)-1 || len(pr.names) > 0 {
				return "", nil, fmt.Errorf("pattern %q: only a last segment after literal ones may be {name...}", pattern)
			}
			pr.prefix = "/" + strings.Join(parts[:i], "/") + "/"
			pr.names = append(pr.names, name)
			return pr.prefix + "{...}", pr, nil
		}
		if name == "tenant" {
			pr.tenant = len(pr.names)
		}
		pr.names = append(pr.names, name)
		pr.segs = append(pr.segs, "")
	}
	if len(pr.segs) > maxSegments || len(pr.names) > maxParams {
		return "", nil, fmt.Errorf("pattern %q has more than %d segments or %d parameters", pattern, maxSegments, maxParams)
	}
	return "/" + strings.Join(pr.segs, "/"), pr, nil
}

func mustRouter(rows []route) *router {
	rt, err := newRouter(rows)
	if err != nil {
		panic("BUG: the route table: " + err.Error())
	}
	return rt
}

// principal is who a request acts as: the operator (admin token), or a
// tenant API key or portal session with its scopes.
type principal struct {
	admin   bool
	tenant  string        // the key's or session's tenant
	actor   access.Actor  // as the audit log names it
	scopes  access.Scopes // the key's or session's
	expires time.Time     // a portal session's end; zero for the others
}

// may reports whether who may use route r on a path whose {tenant} is
// tenant ("" for a path without one); r is nil when no route matched (an
// unknown path, or a method the path does not route). This is the one
// place a tenant key's access is decided. The admin token may use every
// route. A tenant key or portal session may use a route only under its
// own tenant and only when its scopes hold the route's scope: an
// adminOnly route, an unknown path and an unrouted method are closed to
// every key and session.
func (who principal) may(r *route, tenant string) bool {
	if who.admin || r != nil && r.scope == anyToken {
		return true
	}
	return r != nil && r.scope != adminOnly && tenant != "" && tenant == who.tenant && who.scopes.Has(r.scope)
}
