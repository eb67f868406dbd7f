package dashboard_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestLongValuesStayInTheirTables: a long endpoint URL and a long event
// type scroll inside their table at most, never the whole page (a
// screen-reader-only header escaped the table's scroll box and widened
// the document), and a URL keeps a readable column instead of breaking
// after every character beside an unbreakable type.
func TestLongValuesStayInTheirTables(t *testing.T) {
	s := startServer(t)
	rcv := newReceiver(t)
	s.api(t, "POST", "/v1/tenants", "", map[string]any{"id": "acme"}, 201, nil)
	long := "order.fulfilment.shipment.label_printed.carrier_assigned.with_a_very_long_event_type_name"
	s.api(t, "POST", "/v1/tenants/acme/event-types", "", map[string]any{"type": long, "description": "a " + long}, 201, nil)
	longURL := rcv.URL + "/a/long/path/" + strings.Repeat("segment/", 12) + "?query=" + strings.Repeat("y", 60)
	createEndpoint(t, s, map[string]any{"url": longURL, "event_types": []string{long}})
	publish(t, s, long, map[string]any{"n": 1})
	waitDeliveries(t, s, url.Values{"status": {"succeeded"}}, 1)

	b := newBrowser(t)
	b.signIn(s)
	pages := map[string]string{"endpoints": "table", "event-types": "table", "audit": "#audit-table", "deliveries": "table.log"}
	for _, w := range []int64{1280, 800} {
		b.run(chromedp.EmulateViewport(w, 900))
		for page, table := range pages {
			b.go_("#/t/acme/" + page)
			b.waitJS(page+" rows", fmt.Sprintf(`document.querySelector(%q) && document.querySelector(%q).innerText.includes("with_a_very_long") || document.querySelector(%q) && document.querySelector(%q).innerText.includes("segment/")`, table, table, table, table))
			b.shot(fmt.Sprintf("layout-%d-%s", w, page))
			if evalJS[bool](b, `document.documentElement.scrollWidth > document.documentElement.clientWidth`) {
				t.Errorf("%d px, %s: the page scrolls sideways (%d > %d)", w, page,
					evalJS[int](b, `document.documentElement.scrollWidth`), evalJS[int](b, `document.documentElement.clientWidth`))
			}
		}
		if w == 1280 {
			// At laptop width a long type wraps in its cell rather than
			// push the events' Deliveries column out of sight.
			b.go_("#/t/acme/events")
			b.waitText(".content table", "with_a_very_long")
			if evalJS[bool](b, `[...document.querySelectorAll(".table-wrap")].some(e => e.scrollWidth > e.clientWidth)`) {
				b.shot("layout-events-scrolls")
				t.Errorf("1280 px: the events table scrolls sideways")
			}
		}
		b.go_("#/t/acme/endpoints")
		b.waitText("table td.url", "segment/")
		// 10rem: a URL reads in a few lines, not a column of characters.
		if got := evalJS[int](b, `Math.round(document.querySelector("table td.url").getBoundingClientRect().width)`); got < 160 {
			t.Errorf("%d px: the URL column is %d px wide", w, got)
		}
	}
}

// TestAuditLinksToResources: an audit entry's resource opens its page
// (an endpoint's, an event's for a delivery replay, a source's logged
// request), and a credential that cannot read the page gets plain text.
func TestAuditLinksToResources(t *testing.T) {
	s := startServer(t)
	rcv := newReceiver(t)
	s.api(t, "POST", "/v1/tenants", "", map[string]any{"id": "acme"}, 201, nil)
	ep := createEndpoint(t, s, map[string]any{"url": rcv.URL + "/audited"})
	evt := publish(t, s, "invoice.paid", map[string]any{"n": 1})
	waitDeliveries(t, s, url.Values{"status": {"succeeded"}}, 1)
	s.api(t, "POST", "/v1/tenants/acme/endpoints/"+ep+"/deliveries/"+evt+"/replay", "", nil, 202, nil)

	b := newBrowser(t)
	b.signIn(s)
	b.go_("#/t/acme/audit")
	b.click("#audit-table a", evt) // the replay's resource is {endpoint}/{event}
	b.waitJS("the event's page", `location.hash === "#/t/acme/events/`+evt+`"`)
	b.waitText(".content", ep)
	b.go_("#/t/acme/audit")
	b.waitText("#audit-table", "endpoint.create")
	b.eval(fmt.Sprintf(`[...document.querySelectorAll("#audit-table a")].find(a => a.innerText === %q).click()`, ep))
	b.waitText("h1", "Endpoint")
	b.waitText(".content", rcv.URL+"/audited")

	// A portal session with audit but not endpoints: the id is text.
	var sess struct{ URL string }
	s.api(t, "POST", "/v1/tenants/acme/portal-sessions", "", map[string]any{"scopes": []string{"audit:read", "deliveries:read"}}, 201, &sess)
	pb := newBrowser(t)
	pb.open(s, sess.URL[strings.Index(sess.URL, "/portal"):])
	pb.go_("#/t/acme/audit")
	pb.waitText("#audit-table", ep)
	if n := evalJS[int](pb, fmt.Sprintf(`[...document.querySelectorAll("#audit-table a")].filter(a => a.innerText === %q).length`, ep)); n != 0 {
		t.Fatalf("the portal without endpoints:read links the endpoint %d times", n)
	}
	pb.click("#audit-table a", evt)
	pb.waitJS("the event's page", `location.hash === "#/t/acme/events/`+evt+`"`)
}

// TestDeliveryLinksToEventAndEndpoint: the delivery panel's event and
// endpoint ids open their pages; without endpoints:read the endpoint
// stays text.
func TestDeliveryLinksToEventAndEndpoint(t *testing.T) {
	s := startServer(t)
	rcv := newReceiver(t)
	s.api(t, "POST", "/v1/tenants", "", map[string]any{"id": "acme"}, 201, nil)
	ep := createEndpoint(t, s, map[string]any{"url": rcv.URL + "/linked"})
	evt := publish(t, s, "invoice.paid", map[string]any{"n": 1})
	waitDeliveries(t, s, url.Values{"status": {"succeeded"}}, 1)

	b := newBrowser(t)
	b.signIn(s)
	b.go_("#/t/acme/deliveries")
	b.click("table.log tbody tr.selectable", evt)
	b.click("#delivery-event-link", evt)
	b.waitJS("the event's page", `location.hash === "#/t/acme/events/`+evt+`"`)
	b.go_("#/t/acme/deliveries")
	b.click("table.log tbody tr.selectable", evt)
	b.click("#delivery-endpoint-link", ep)
	b.waitText(".content", rcv.URL+"/linked")

	var sess struct{ URL string }
	s.api(t, "POST", "/v1/tenants/acme/portal-sessions", "", map[string]any{"scopes": []string{"deliveries:read"}}, 201, &sess)
	pb := newBrowser(t)
	pb.open(s, sess.URL[strings.Index(sess.URL, "/portal"):])
	pb.go_("#/t/acme/deliveries")
	pb.click("table.log tbody tr.selectable", evt)
	pb.waitText("#delivery-detail", ep)
	if evalJS[bool](pb, `!!document.querySelector("#delivery-endpoint-link")`) {
		t.Fatal("a session without endpoints:read gets a link to the endpoint")
	}
	pb.click("#delivery-event-link", evt)
	pb.waitJS("the event's page", `location.hash === "#/t/acme/events/`+evt+`"`)
}
