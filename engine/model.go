package engine

import (
	"strings"
	"time"

	"hookline/wal"
)

// ID prefixes: IDs are shown as prefix + ULID so their kind is readable.
const (
	eventPrefix    = "evt_"
	endpointPrefix = "ep_"
)

// FormatEventID returns the API form of an event ID.
func FormatEventID(id wal.ID) string { return eventPrefix + id.String() }

// ParseEndpointID parses the API form of an endpoint ID.
func ParseEndpointID(s string) (wal.ID, bool) {
	rest, ok := strings.CutPrefix(s, endpointPrefix)
	if !ok {
		return wal.ID{}, false
	}
	id, err := wal.ParseID(rest)
	return id, err == nil
}

// Tenant is one customer account: endpoints and events belong to one.
type Tenant struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Endpoint is a customer URL receiving the events it subscribes to. The
// stored record carries Secret; API views show it on creation only.
type Endpoint struct {
	ID            string    `json:"id"`
	Tenant        string    `json:"tenant"`
	URL           string    `json:"url"`
	Description   string    `json:"description"`
	EventTypes    []string  `json:"event_types"`
	MaxInFlight   int       `json:"max_in_flight"`
	RetrySchedule []string  `json:"retry_schedule,omitempty"`
	Disabled      bool      `json:"disabled"`
	Secret        string    `json:"secret,omitempty"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
}

// EndpointInput carries the fields of a create or patch request; nil means
// absent (keep the current value on patch, the default on create).
type EndpointInput struct {
	URL           *string   `json:"url"`
	Description   *string   `json:"description"`
	EventTypes    *[]string `json:"event_types"`
	MaxInFlight   *int      `json:"max_in_flight"`
	RetrySchedule *[]string `json:"retry_schedule"`
	Disabled      *bool     `json:"disabled"`
	Secret        *string   `json:"secret"`
}

// TenantInput carries the fields of a tenant create or patch request.
type TenantInput struct {
	ID   *string `json:"id"`
	Name *string `json:"name"`
}

const (
	maxTenantIDLen    = 64
	maxNameLen        = 200
	maxDescriptionLen = 1000
	maxEventTypes     = 100
	maxTypeLen        = 128
	maxInFlightLimit  = 1000
)

func validTenantID(s string) bool {
	if s == "" || len(s) > maxTenantIDLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case (c == '-' || c == '_') && i > 0:
		default:
			return false
		}
	}
	return true
}

// ValidEventType reports whether s may be an event type: 1..128 bytes of
// [A-Za-z0-9._:-], not starting or ending with a dot. Types are written into
// delivery bodies unescaped, so this is also what keeps those bodies valid JSON.
func ValidEventType(s string) bool {
	if s == "" || len(s) > maxTypeLen || s[0] == '.' || s[len(s)-1] == '.' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !typeChar(s[i]) {
			return false
		}
	}
	return true
}

func typeChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '.' || c == '_' || c == ':' || c == '-'
}

// validPattern accepts an exact type, "prefix.*" or "*".
func validPattern(p string) bool {
	if p == "*" {
		return true
	}
	if prefix, ok := strings.CutSuffix(p, ".*"); ok {
		return ValidEventType(prefix)
	}
	return ValidEventType(p)
}

// matchType reports whether event type typ matches pattern p: "*" matches all,
// "invoice.*" matches "invoice.paid" and "invoice.paid.late" but not "invoice".
func matchType(p, typ string) bool {
	if p == "*" {
		return true
	}
	if n := len(p); n >= 2 && p[n-1] == '*' && p[n-2] == '.' {
		return len(typ) > n-1 && typ[:n-1] == p[:n-1]
	}
	return p == typ
}

func (ep *Endpoint) subscribes(typ string) bool {
	for _, p := range ep.EventTypes {
		if matchType(p, typ) {
			return true
		}
	}
	return false
}
