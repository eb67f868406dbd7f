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
