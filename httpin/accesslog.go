package httpin

import (
	"time"

	"github.com/valyala/fasthttp"
)

// accessRouteKey is the request's user value holding its accessRoute, set
// for the access log only.
type accessRouteKey struct{}

// accessRoute is the route pattern a request's path matched, whatever its
// answer (the metrics label of a 401 is "other"), and the path's {tenant}.
type accessRoute struct{ pattern, tenant string }

// logAccess writes the access log line of a request answered on the main
// listener: who did what, and how it went. The path is logged as its
// route pattern (its label when none matched), and never a body, query or header: they can hold tokens
// (a portal link's), secrets and customer data.
func (s *Server) logAccess(ctx *fasthttp.RequestCtx, label routeID, start time.Time) {
	p, _ := ctx.UserValue(principalKey{}).(principal)
	ar, ok := ctx.UserValue(accessRouteKey{}).(accessRoute)
	if !ok {
		ar.pattern = routeNames[label]
	}
	tenant := p.tenant
	if tenant == "" {
		tenant = ar.tenant
	}
	s.logger.Info("request",
		"method", string(ctx.Method()),
		"route", ar.pattern,
		"status", ctx.Response.StatusCode(),
		// Milliseconds, a number in either log format (a JSON duration
		// would be nanoseconds).
		"latency_ms", float64(time.Since(start).Microseconds())/1000,
		"tenant", tenant,
		"actor", p.actor.ID,
		"actor_type", p.actor.Type,
		"remote", ctx.RemoteIP().String())
}
