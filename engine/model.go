package engine

import (
	"strings"
	"time"

	"hookline/internal/transform"
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
func ParseEndpointID(s string) (wal.ID, bool) { return parsePrefixedID(s, endpointPrefix) }

// parsePrefixedID parses an API ID: prefix + ULID.
func parsePrefixedID(s, prefix string) (wal.ID, bool) {
	rest, ok := strings.CutPrefix(s, prefix)
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
	ID          string   `json:"id"`
	Tenant      string   `json:"tenant"`
	URL         string   `json:"url"`
	Description string   `json:"description"`
	EventTypes  []string `json:"event_types"`
	MaxInFlight int      `json:"max_in_flight"`
	// RateLimit caps requests per second to the endpoint; 0 means none.
	RateLimit int `json:"rate_limit"`
	// Ordering "fifo" delivers strictly in publish order, one request at a
	// time, a failing head holding the rest; "" delivers concurrently.
	Ordering      string   `json:"ordering,omitempty"`
	RetrySchedule []string `json:"retry_schedule,omitempty"`
	// Paused endpoints keep receiving events into their queue but send
	// nothing until resumed. Disabled endpoints receive no new events.
	Paused   bool `json:"paused"`
	Disabled bool `json:"disabled"`
	// DisabledReason says why hookline disabled the endpoint itself:
	// "gone" (it answered 410) or "failing" (its circuit stayed open for
	// the configured time). Empty when an operator disabled it.
	DisabledReason string     `json:"disabled_reason,omitempty"`
	DisabledAt     *time.Time `json:"disabled_at,omitempty"`
	// FailingSince is when the endpoint's circuit first opened without
	// closing since; it survives restarts, so a 5-day outage is measured
	// as one.
	FailingSince *time.Time `json:"failing_since,omitempty"`
	// Circuit is the breaker's live state; shown by the API, not stored.
	Circuit   *CircuitView `json:"circuit,omitempty"`
	Secret    string       `json:"secret,omitempty"`
	CreatedAt time.Time    `json:"created_at"`
	UpdatedAt time.Time    `json:"updated_at"`

	// PreviousSecrets are the secrets replaced by rotations whose overlap
	// window is still open, newest first; deliveries are signed with them
	// too until they expire (see Engine.RotateSecret). Stored, never shown.
	PreviousSecrets []PreviousSecret `json:"previous_secrets,omitempty"`
	// SecretRotatedAt is when the secret was last rotated. Stored and shown.
	SecretRotatedAt *time.Time `json:"secret_rotated_at,omitempty"`
	// PreviousSecretExpiresAt is when the last previous secret stops
	// signing; shown by the API (derived from PreviousSecrets), not stored.
	PreviousSecretExpiresAt *time.Time `json:"previous_secret_expires_at,omitempty"`

	// PreviousURLs are the URLs the endpoint had before, newest first, each
	// with when it stopped being used (at most maxPreviousURLs): the attempt
	// log names the URL of each attempt from them without storing it per
	// attempt. Stored, not shown.
	PreviousURLs []PreviousURL `json:"previous_urls,omitempty"`
}

// PreviousURL is a URL the endpoint delivered to until Until.
type PreviousURL struct {
	URL   string    `json:"url"`
	Until time.Time `json:"until"`
}

const maxPreviousURLs = 20

// urlAt returns the URL the endpoint delivered to at t.
func (ep *Endpoint) urlAt(t time.Time) string {
	url := ep.URL
	for _, p := range ep.PreviousURLs { // newest first
		if t.Before(p.Until) {
			url = p.URL
		} else {
			break
		}
	}
	return url
}

// PreviousSecret is a rotated-out secret still signing until ExpiresAt.
type PreviousSecret struct {
	Secret    string    `json:"secret"`
	ExpiresAt time.Time `json:"expires_at"`
}

// CircuitView is an endpoint's circuit breaker as the API shows it.
type CircuitView struct {
	// State is closed (sending), open (sending nothing) or half_open (one
	// probe request decides).
	State string `json:"state"`
	// OpenedAt is when the circuit last opened; NextProbeAt when an open
	// circuit lets its probe through.
	OpenedAt    *time.Time `json:"opened_at,omitempty"`
	NextProbeAt *time.Time `json:"next_probe_at,omitempty"`
	// Requests and Failures count the current window (closed state).
	Requests            uint32 `json:"requests"`
	Failures            uint32 `json:"failures"`
	ConsecutiveFailures uint32 `json:"consecutive_failures"`
}

// Ordering values.
const (
	OrderingFIFO = "fifo"
)

// EndpointInput carries the fields of a create or patch request; nil means
// absent (keep the current value on patch, the default on create).
type EndpointInput struct {
	URL           *string   `json:"url"`
	Description   *string   `json:"description"`
	EventTypes    *[]string `json:"event_types"`
	MaxInFlight   *int      `json:"max_in_flight"`
	RateLimit     *int      `json:"rate_limit"`
	Ordering      *string   `json:"ordering"`
	RetrySchedule *[]string `json:"retry_schedule"`
	Paused        *bool     `json:"paused"`
	Disabled      *bool     `json:"disabled"`
	Secret        *string   `json:"secret"`
}

// SecretRotation carries a rotate-secret request; nil means absent.
type SecretRotation struct {
	// Overlap is how long the replaced secret keeps signing, as a Go
	// duration ("1h", "0s"); absent: Options.SecretOverlap.
	Overlap *string `json:"overlap"`
	// Secret is the new secret; absent: a random one.
	Secret *string `json:"secret"`
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
	maxTypeLen        = transform.MaxTypeLen
	maxInFlightLimit  = 1000
	maxRateLimit      = 100000
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
// delivery bodies unescaped, so this is also what keeps those bodies valid
// JSON. The rule lives in transform, which inbound mappings check it in.
func ValidEventType(s string) bool { return transform.ValidEventType(s) }

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
