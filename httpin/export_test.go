package httpin

import "hookline/engine/access"

// Route is a row of the route table as the black-box tests see it.
type Route struct {
	Method  string // "*" for any method
	Pattern string
	Scope   access.Scope // "" for the admin token only
	NoToken bool
}

// Routes lists the route table.
func Routes() []Route {
	out := make([]Route, 0, len(routeTable))
	for _, r := range routeTable {
		row := Route{Method: r.method, Pattern: r.pattern, Scope: r.scope}
		if r.scope == noToken {
			row.Scope, row.NoToken = "", true
		}
		out = append(out, row)
	}
	return out
}
