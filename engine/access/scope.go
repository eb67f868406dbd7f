package access

import (
	"slices"
	"strings"

	"hookline/engine"
)

// Scope names one right a tenant credential may hold. The route table in
// httpin names the scope each route requires; a route that names none is
// the admin token's alone.
type Scope string

// The scopes, as the project's design contract names them (outside tests
// rely on the names). PortalCreate lets a key create, list and revoke its
// tenant's portal sessions; a session never holds it.
const (
	EventsPublish    Scope = "events:publish"
	EndpointsRead    Scope = "endpoints:read"
	EndpointsWrite   Scope = "endpoints:write"
	DeliveriesRead   Scope = "deliveries:read"
	DeliveriesReplay Scope = "deliveries:replay"
	SourcesRead      Scope = "sources:read"
	SourcesWrite     Scope = "sources:write"
	EventTypesRead   Scope = "event-types:read"
	EventTypesWrite  Scope = "event-types:write"
	AuditRead        Scope = "audit:read"
	PortalCreate     Scope = "portal:create"
)

// AllScopes lists every scope.
var AllScopes = []Scope{
	EventsPublish, EndpointsRead, EndpointsWrite, DeliveriesRead, DeliveriesReplay,
	SourcesRead, SourcesWrite, EventTypesRead, EventTypesWrite, AuditRead, PortalCreate,
}

// DefaultKeyScopes are the rights of a tenant API key created without
// scopes: publish to its tenant and read its data (endpoints, deliveries,
// events, jobs, health, sources and their request log, the event-type
// catalogue), but change nothing and not read the audit log.
var DefaultKeyScopes = Scopes{EventsPublish, EndpointsRead, DeliveriesRead, SourcesRead, EventTypesRead}

// Valid reports whether s is one of AllScopes.
func (s Scope) Valid() bool {
	for _, v := range AllScopes {
		if v == s {
			return true
		}
	}
	return false
}

// Scopes is a credential's set of scopes.
type Scopes []Scope

// Has reports whether the set holds s, itself or through a write scope
// that implies it (see implies).
func (ss Scopes) Has(s Scope) bool {
	for _, v := range ss {
		if v == s || v.implies(s) {
			return true
		}
	}
	return false
}

// implies reports whether holding s gives r too: a write scope gives its
// read scope, since a page that changes endpoints (or sources, or event
// types) must list them to, and a key that may change them learns what
// they hold anyway. Nothing else implies anything: deliveries:replay
// does not read the log, nor does a read scope give anything.
func (s Scope) implies(r Scope) bool {
	switch s {
	case EndpointsWrite:
		return r == EndpointsRead
	case SourcesWrite:
		return r == SourcesRead
	case EventTypesWrite:
		return r == EventTypesRead
	}
	return false
}

// ParseScopes checks a credential's requested scopes: nil gives
// DefaultKeyScopes; otherwise 1 or more of AllScopes, each once (a
// repeat is dropped), in AllScopes' order.
func ParseScopes(in []string) (Scopes, error) {
	if in == nil {
		return slices.Clone(DefaultKeyScopes), nil
	}
	if len(in) == 0 {
		return nil, engine.Invalid("invalid_scopes", "scopes is empty; give at least one of %s, or leave it out for the default (%s)", joinScopes(AllScopes), joinScopes(DefaultKeyScopes))
	}
	want := make(map[Scope]bool, len(in))
	for _, s := range in {
		if !Scope(s).Valid() {
			return nil, engine.Invalid("invalid_scopes", "scope %q is not one of %s", s, joinScopes(AllScopes))
		}
		want[Scope(s)] = true
	}
	var out Scopes
	for _, s := range AllScopes {
		if want[s] {
			out = append(out, s)
		}
	}
	return out, nil
}

func joinScopes(ss []Scope) string {
	parts := make([]string, len(ss))
	for i, s := range ss {
		parts[i] = string(s)
	}
	return strings.Join(parts, ", ")
}
