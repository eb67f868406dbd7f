package httpin

import (
	"time"

	"hookline/engine/access"
)

// Route is a row of the route table as the black-box tests see it.
type Route struct {
	Method  string // "*" for any method
	Pattern string
	Scope   access.Scope // "" for the admin token only
	NoToken bool
	// MetricsToken: open by default, else the metrics token's or the
	// admin token's (TestMetricsAccess).
	MetricsToken bool
	// AnyToken: any live credential (GET /v1/me).
	AnyToken bool
	// Dashboard: the dashboard's page and assets (no token, not API).
	Dashboard bool
}

// Routes lists the route table.
func Routes() []Route {
	out := make([]Route, 0, len(routeTable))
	for _, r := range routeTable {
		row := Route{Method: r.method, Pattern: r.pattern, Scope: r.scope, Dashboard: r.label == routeDashboard}
		switch r.scope {
		case anyToken:
			row.Scope, row.AnyToken = "", true
		case noToken:
			row.Scope, row.NoToken = "", true
		case metricsToken:
			row.Scope, row.MetricsToken = "", true
		}
		out = append(out, row)
	}
	return out
}

// SetReadTimeout shortens how long the server reads one request (30 s),
// for tests that wait for requests the server gave up on.
func SetReadTimeout(o *Options, d time.Duration) { o.readTimeout = d }

// PatternOf is the pattern of the route table's row path matches, "" when
// none does.
func PatternOf(path string) string {
	pr, _ := routes.match(routePath(path))
	if pr == nil {
		return ""
	}
	return pr.pattern
}
