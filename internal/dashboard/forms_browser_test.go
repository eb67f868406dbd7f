package dashboard_test

import (
	"strconv"
	"testing"
)

// TestJSONFieldsNotSpellChecked: the text areas holding JSON, templates
// and headers are not spell-checked (a spellcheck="false" attribute
// reached the element as the string "false", which turned it on, and
// every JSON key came underlined in red). Prose (a description) is.
func TestJSONFieldsNotSpellChecked(t *testing.T) {
	s := startServer(t)
	rcv := newReceiver(t)
	s.api(t, "POST", "/v1/tenants", "", map[string]any{"id": "acme"}, 201, nil)
	ep := createEndpoint(t, s, map[string]any{"url": rcv.URL + "/in"})
	b := newBrowser(t)
	b.signIn(s)
	checkAreas := func(where string, want int) {
		t.Helper()
		b.waitJS(where+" text areas", `document.querySelectorAll("textarea").length >= `+strconv.Itoa(want))
		if n := evalJS[int](b, `[...document.querySelectorAll("textarea:not([id$=description])")].filter(t => t.spellcheck).length`); n != 0 {
			t.Errorf("%s: %d text areas are spell-checked", where, n)
		}
	}
	b.go_("#/t/acme/endpoints/new")
	checkAreas("the endpoint form", 3) // body, filter, preview payload
	b.go_("#/t/acme/endpoints/" + ep)
	checkAreas("the endpoint page", 2) // test payload, preview payload
	b.go_("#/t/acme/event-types")
	b.click("button", "New event type")
	checkAreas("the event type dialog", 2)
	if !evalJS[bool](b, `document.querySelector("#et-description").spellcheck`) {
		t.Error("the event type's description is not spell-checked")
	}
	b.go_("#/t/acme/sources")
	b.click("button", "New source")
	checkAreas("the source form", 1)
}

// TestFailedListSaysNoEmptiness: a list the API refused shows the error
// at its cause and no "nothing here" row beneath it (a refused filter
// read "No delivery matches these filters", as if it had been applied).
func TestFailedListSaysNoEmptiness(t *testing.T) {
	s := startServer(t)
	s.api(t, "POST", "/v1/tenants", "", map[string]any{"id": "acme"}, 201, nil)
	b := newBrowser(t)
	b.signIn(s)
	b.go_("#/t/acme/deliveries")
	b.waitText("table.log .empty", "No deliveries yet")
	b.go_("#/t/acme/deliveries?type=**bad")
	b.waitText("#f-type-error", "invalid_type")
	if evalJS[bool](b, `!!document.querySelector("table.log .empty")`) {
		b.shot("failed-list-empty-row")
		t.Fatal("a refused filter still says no delivery matches")
	}
}

// TestBackwardsRangeAsksNothing: a custom range whose end is before its
// start is refused under Until, and the page neither asks the API for it
// nor says that nothing matched.
func TestBackwardsRangeAsksNothing(t *testing.T) {
	s := startServer(t)
	s.api(t, "POST", "/v1/tenants", "", map[string]any{"id": "acme"}, 201, nil)
	b := newBrowser(t)
	b.signIn(s)
	b.go_("#/t/acme/deliveries?range=custom&since=2026-12-02T10:00:00&until=2026-12-01T10:00:00")
	b.waitText(".field-error", "until is not after since")
	b.waitJS("the log table", `document.querySelector("table.log")`)
	if evalJS[bool](b, `document.body.innerText.includes("No delivery matches")`) {
		t.Error("a backwards range says nothing matched")
	}
	if n := evalJS[int](b, `performance.getEntriesByType("resource").filter(e => e.name.includes("/deliveries?")).length`); n != 0 {
		t.Errorf("the page asked the API %d times for a backwards range", n)
	}
}
