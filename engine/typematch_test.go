package engine

import (
	"strings"
	"testing"
)

// White-box tests of event-type rules and subscription patterns.

func TestValidEventType(t *testing.T) {
	f := func(typ string, want bool) {
		t.Helper()
		if got := ValidEventType(typ); got != want {
			t.Errorf("ValidEventType(%q) = %v, want %v", typ, got, want)
		}
	}
	f("invoice.paid", true)
	f("invoice", true)
	f("invoice.paid.late", true)
	f("a", true)
	f("Lead_Won:v2-beta", true)
	f("a..b", true)
	f(strings.Repeat("a", 128), true)

	f("", false)
	f(strings.Repeat("a", 129), false)
	f(".x", false)
	f("x.", false)
	f(".", false)
	f("a b", false)
	f("in*voice", false)
	f("invoice.*", false)
	f("*", false)
	f("**", false)
	f(`a"b`, false)
	f(`a\b`, false)
	f("a/b", false)
	f("é", false)
	f("a\x00", false)
	f("a\n", false)
}

func TestValidPattern(t *testing.T) {
	f := func(p string, want bool) {
		t.Helper()
		if got := validPattern(p); got != want {
			t.Errorf("validPattern(%q) = %v, want %v", p, got, want)
		}
	}
	f("*", true)
	f("invoice.*", true)
	f("invoice.paid", true)
	f("invoice", true)
	f("a.b.*", true)

	f("", false)
	f("invoice.", false)
	f(".x", false)
	f(".*", false)
	f("a b", false)
	f("a b.*", false)
	f("in*voice", false)
	f("invoice*", false)
	f("**", false)
	f("*.paid", false)
	f("invoice.**", false)
	f("invoice.*.*", false)
	f("invoice..*", false)
	f(strings.Repeat("a", 129), false)
}

func TestMatchType(t *testing.T) {
	f := func(p, typ string, want bool) {
		t.Helper()
		if got := matchType(p, typ); got != want {
			t.Errorf("matchType(%q, %q) = %v, want %v", p, typ, got, want)
		}
	}
	// Exact.
	f("invoice.paid", "invoice.paid", true)
	f("invoice.paid", "invoice.paid.late", false)
	f("invoice.paid", "invoice", false)
	f("invoice.paid", "Invoice.paid", false)
	f("invoice", "invoice.paid", false)
	// Prefix.
	f("invoice.*", "invoice.paid", true)
	f("invoice.*", "invoice.paid.late", true)
	f("invoice.*", "invoice", false)
	f("invoice.*", "invoices.x", false)
	f("invoice.*", "invoicex", false)
	f("invoice.*", "xinvoice.paid", false)
	f("invoice.*", "Invoice.paid", false)
	f("invoice.*", "lead.won", false)
	f("a.b.*", "a.b.c", true)
	f("a.b.*", "a.bc", false)
	f("a.b.*", "a.b", false)
	// All.
	f("*", "invoice.paid", true)
	f("*", "invoice", true)
	f("*", "x", true)
}

func TestEndpointSubscribes(t *testing.T) {
	ep := Endpoint{EventTypes: []string{"invoice.paid", "lead.*"}}
	f := func(typ string, want bool) {
		t.Helper()
		if got := ep.subscribes(typ); got != want {
			t.Errorf("subscribes(%q) = %v, want %v", typ, got, want)
		}
	}
	f("invoice.paid", true)
	f("lead.won", true)
	f("lead.won.big", true)
	f("invoice.created", false)
	f("lead", false)
}

// TestCatchAllLeavesOutReservedTypes: "*" takes every type but hookline's
// own; a pattern naming them takes them.
func TestCatchAllLeavesOutReservedTypes(t *testing.T) {
	f := func(patterns []string, typ string, want bool) {
		t.Helper()
		ep := Endpoint{EventTypes: patterns}
		if got := ep.subscribes(typ); got != want {
			t.Errorf("%v subscribes(%q) = %v, want %v", patterns, typ, got, want)
		}
	}
	f([]string{"*"}, "invoice.paid", true)
	f([]string{"*"}, EventDeliveryExhausted, false)
	f([]string{"*"}, EventEndpointDisabled, false)
	f([]string{"*", "hookline.*"}, EventEndpointFailing, true)
	f([]string{"hookline.*"}, EventEndpointRecovered, true)
	f([]string{"hookline.*"}, "invoice.paid", false)
	f([]string{"hookline.endpoint.*"}, EventEndpointFailing, true)
	f([]string{"hookline.endpoint.*"}, EventDeliveryExhausted, false)
	f([]string{EventDeliveryExhausted}, EventDeliveryExhausted, true)
}
