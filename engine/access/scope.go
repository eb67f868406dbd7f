package access

// Scope names one right a tenant credential may hold. The route table in
// httpin names the scope each route requires; a route that names none is
// the admin token's alone.
type Scope string

// The scopes, as the project's design contract names them (outside tests
// rely on the names). PortalCreate is reserved for portal sessions, which
// no route issues yet.
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
var DefaultKeyScopes = []Scope{EventsPublish, EndpointsRead, DeliveriesRead, SourcesRead, EventTypesRead}

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

// Has reports whether the set holds s.
func (ss Scopes) Has(s Scope) bool {
	for _, v := range ss {
		if v == s {
			return true
		}
	}
	return false
}
