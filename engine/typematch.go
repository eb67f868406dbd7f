package engine

import (
	"fmt"
	"strings"

	"hookline/internal/transform"
)

// ValidEventType reports whether s may be an event type: 1..128 bytes of
// [A-Za-z0-9._:-], not starting or ending with a dot. Types are written into
// delivery bodies unescaped, so this is also what keeps those bodies valid
// JSON. The rule lives in transform, which inbound mappings check it in.
func ValidEventType(s string) bool { return transform.ValidEventType(s) }

// ReservedTypePrefix starts every event type hookline makes itself
// (EventTest, EventEndpointDisabled): receivers trust such an event to
// come from hookline. No publisher, inbound source or catalogue entry may
// use it, in any case ("Hookline.test" misleads as much); endpoints may
// subscribe to it ("hookline.*"; "*" leaves it out), which is how
// operators get these events.
const ReservedTypePrefix = "hookline."

// ReservedEventType reports whether typ starts with ReservedTypePrefix,
// ignoring case.
func ReservedEventType(typ string) bool {
	n := len(ReservedTypePrefix)
	return len(typ) >= n && strings.EqualFold(typ[:n], ReservedTypePrefix)
}

// ReservedType is the error refusing a reserved type; the format and args
// say which and where, e.g. ("event %d: type %q is reserved", i, typ).
func ReservedType(format string, args ...any) *Error {
	return Invalid("reserved_event_type", "%s: types starting with %q are hookline's own events", fmt.Sprintf(format, args...), ReservedTypePrefix)
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

// subscribes reports whether the endpoint takes events of type typ. "*"
// takes every type but hookline's own, which only a pattern naming them
// ("hookline.*", "hookline.endpoint.*", an exact type) takes: a customer's
// catch-all receiver would otherwise get a hookline.delivery.exhausted for
// each of its own dead deliveries (see notify.go).
func (ep *Endpoint) subscribes(typ string) bool {
	for _, p := range ep.EventTypes {
		if p == "*" && ReservedEventType(typ) {
			continue
		}
		if matchType(p, typ) {
			return true
		}
	}
	return false
}
