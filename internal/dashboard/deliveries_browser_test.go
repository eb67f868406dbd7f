package dashboard_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/chromedp"
)

// delivery is the part of the API's Delivery the tests read.
type delivery struct {
	EventID    string `json:"event_id"`
	EndpointID string `json:"endpoint_id"`
	EventType  string `json:"event_type"`
	Status     string `json:"status"`
	Attempts   int    `json:"attempts"`
}

func createEndpoint(t *testing.T, s *server, body map[string]any) string {
	t.Helper()
	var ep struct {
		ID string `json:"id"`
	}
	s.api(t, "POST", "/v1/tenants/acme/endpoints", "", body, 201, &ep)
	return ep.ID
}

func publish(t *testing.T, s *server, typ string, payload any) string {
	t.Helper()
	var r struct {
		ID string `json:"id"`
	}
	s.api(t, "POST", "/v1/tenants/acme/events", "", map[string]any{"type": typ, "payload": payload}, 202, &r)
	return r.ID
}

// listDeliveries reads every page of the tenant's log matching query.
func listDeliveries(t *testing.T, s *server, query url.Values) []delivery {
	t.Helper()
	var all []delivery
	for {
		var page struct {
			Data []delivery `json:"data"`
			Next string     `json:"next_cursor"`
		}
		query.Set("limit", "1000")
		s.api(t, "GET", "/v1/tenants/acme/deliveries?"+query.Encode(), "", nil, 200, &page)
		all = append(all, page.Data...)
		if page.Next == "" {
			return all
		}
		query.Set("cursor", page.Next)
	}
}

// waitDeliveries waits until the log matching query holds n rows (the
// attempt records, not the receiver, say a delivery is done).
func waitDeliveries(t *testing.T, s *server, query url.Values, n int) []delivery {
	t.Helper()
	var got []delivery
	waitFor(t, 60*time.Second, fmt.Sprintf("%d deliveries matching %s", n, query.Encode()), func() bool {
		got = listDeliveries(t, s, url.Values(cloneValues(query)))
		return len(got) == n
	})
	return got
}

func cloneValues(v url.Values) map[string][]string {
	c := map[string][]string{}
	for k, x := range v {
		c[k] = append([]string(nil), x...)
	}
	return c
}

// TestDeliveriesPage: published events show in the log; a failing
// receiver's attempts and answer show in the detail panel (opened from
// the keyboard); a replay from the page reaches the receiver; the status
// and type filters narrow the rows and live in the URL; retries are
// cancelled; a bulk replay is counted, confirmed twice and followed to
// its end; the export holds the filtered log and reaches the disk.
func TestDeliveriesPage(t *testing.T) {
	s := startServer(t)
	s.api(t, "POST", "/v1/tenants", "", map[string]any{"id": "acme", "name": "Acme"}, 201, nil)
	good, bad, slow := newReceiver(t), newReceiver(t), newReceiver(t)
	bad.setStatus(500)
	slow.setStatus(503)
	epGood := createEndpoint(t, s, map[string]any{"url": good.URL + "/good", "event_types": []string{"invoice.*"}})
	epBad := createEndpoint(t, s, map[string]any{"url": bad.URL + "/bad", "event_types": []string{"invoice.*"}, "retry_schedule": []string{"1s"}})
	// A retry an hour away stays pending for the cancel below.
	epSlow := createEndpoint(t, s, map[string]any{"url": slow.URL + "/slow", "event_types": []string{"order.*"}, "retry_schedule": []string{"1h"}})

	b := newBrowser(t)
	b.signIn(s)
	b.go_("#/t/acme/deliveries")
	b.waitText("table.log", "No deliveries yet")

	var events []string
	for i := 0; i < 3; i++ {
		events = append(events, publish(t, s, "invoice.paid", map[string]any{"n": i, "amount": 100 + i}))
	}
	orderEvt := publish(t, s, "order.created", map[string]any{"order": "o-1"})
	waitDeliveries(t, s, url.Values{"endpoint": {epBad}, "status": {"dead"}}, 3)
	waitDeliveries(t, s, url.Values{"endpoint": {epGood}, "status": {"succeeded"}}, 3)
	waitDeliveries(t, s, url.Values{"endpoint": {epSlow}, "status": {"retrying"}}, 1)

	b.click("button", "Refresh")
	b.waitJS("7 rows", `document.querySelectorAll("table.log tbody tr.selectable").length === 7`)
	b.waitText("table.log", events[2])
	b.shot("deliveries-list")

	// status=dead: the failing endpoint's three rows, and the URL says so.
	b.setValue("#f-status", "dead")
	b.waitJS("3 dead rows", `document.querySelectorAll("table.log tbody tr.selectable").length === 3`)
	if n := evalJS[int](b, `[...document.querySelectorAll("table.log tbody tr.selectable")].filter(r => r.querySelector(".badge.bad")).length`); n != 3 {
		t.Fatalf("%d rows with a red badge, want 3", n)
	}
	if h := evalJS[string](b, `location.hash`); !strings.Contains(h, "status=dead") {
		t.Fatalf("the filter is not in the URL: %s", h)
	}
	// The type filter, as a link would open it.
	b.go_("#/t/acme/deliveries?type=order.*")
	b.waitJS("the order row only", `document.querySelectorAll("table.log tbody tr.selectable").length === 1`)
	b.waitText("table.log", orderEvt)
	// A filter the API refuses: its error under that filter.
	b.fill("#f-type", "not a type")
	b.eval(`document.querySelector("#f-type").dispatchEvent(new Event("change", {bubbles: true}))`)
	b.waitText("#f-type-error", "invalid_type")

	// A link with the endpoint filter opens that view, its select set.
	b.go_("#/t/acme/deliveries?endpoint=" + epBad + "&status=dead")
	b.waitJS("the endpoint's 3 rows", `document.querySelectorAll("table.log tbody tr.selectable").length === 3 && document.querySelector("#f-endpoint").value === `+fmt.Sprintf("%q", epBad))

	// The detail, opened from the keyboard: both attempts, with the
	// request and the receiver's answer.
	b.eval(fmt.Sprintf(`document.querySelector('tr[data-event=%q]').focus()`, events[0]))
	b.run(chromedp.KeyEvent("\r"))
	b.waitText("#delivery-detail", "receiver answered 500")
	b.waitText("#delivery-detail", "Attempt 2")
	b.waitText("#delivery-detail", "POST "+bad.URL+"/bad")
	b.waitText("#delivery-detail", `"amount": 100`)
	if n := evalJS[int](b, `document.querySelectorAll("#delivery-detail li.attempt").length`); n != 2 {
		t.Fatalf("%d attempts shown, want 2", n)
	}
	b.shot("deliveries-detail")

	// Replay from the page, with the receiver healthy again.
	bad.setStatus(200)
	before := bad.count()
	b.click("#delivery-detail button", "Replay")
	b.waitText("#delivery-detail .success", "Replay queued")
	waitFor(t, 60*time.Second, "the replayed delivery to succeed", func() bool {
		var d delivery
		s.api(t, "GET", "/v1/tenants/acme/endpoints/"+epBad+"/deliveries/"+events[0], "", nil, 200, &d)
		return d.Status == "succeeded"
	})
	if got := bad.requests(); len(got) != before+1 || !strings.Contains(string(got[len(got)-1].Body), `"amount":100`) {
		t.Fatalf("receiver got %d requests after the replay, want %d, the last with the event's payload", len(got), before+1)
	}
	b.waitJS("the panel to show success", `document.querySelector("#delivery-detail .badge.ok")`)

	// Bulk replay of the two still dead: counted, confirmed twice, followed.
	b.click("button", "Refresh")
	b.waitJS("2 dead rows left", `document.querySelectorAll("table.log tbody tr.selectable").length === 2`)
	before = bad.count()
	b.click("#bulk-replay", "Replay matching")
	b.waitText("#bulk-count", "2")
	b.shot("deliveries-bulk-count")
	b.click("dialog button", "Replay 2…")
	b.waitText("dialog .notice", "Send 2 deliveries")
	if bad.count() != before {
		t.Fatal("the receiver got requests before the second confirmation")
	}
	b.click("dialog button", "Yes, replay 2 now")
	b.waitText("dialog .bulk-job", "completed")
	b.waitText("#bulk-done", "2")
	waitDeliveries(t, s, url.Values{"endpoint": {epBad}, "status": {"succeeded"}}, 3)
	if got := bad.count(); got != before+2 {
		t.Fatalf("receiver got %d requests after the bulk replay, want %d", got, before+2)
	}
	b.click("dialog button", "Close")

	// Cancel the slow endpoint's pending retry.
	b.go_("#/t/acme/deliveries?endpoint=" + epSlow)
	b.waitJS("the slow row", `document.querySelectorAll("table.log tbody tr.selectable").length === 1`)
	b.click("table.log tbody tr.selectable", orderEvt)
	b.waitText("#delivery-detail", "receiver answered 503")
	b.click("#delivery-detail button", "Cancel retries")
	b.waitText("#delivery-detail .success", "cancelled")
	waitDeliveries(t, s, url.Values{"endpoint": {epSlow}, "status": {"cancelled"}}, 1)

	// At tablet width the page does not scroll sideways (the table may,
	// inside its frame).
	b.run(chromedp.EmulateViewport(800, 1000))
	b.go_("#/t/acme/deliveries")
	b.waitJS("7 rows", `document.querySelectorAll("table.log tbody tr.selectable").length === 7`)
	b.click("table.log tbody tr.selectable", events[1])
	b.waitText("#delivery-detail", "Attempt 1")
	if w := evalJS[int](b, `document.documentElement.scrollWidth - document.documentElement.clientWidth`); w > 0 {
		t.Errorf("the page scrolls sideways by %dpx at 800px", w)
	}
	b.shot("deliveries-tablet")
	b.run(chromedp.EmulateViewport(1280, 900))

	// Export of the unfiltered log, as JSON: the rows the API holds, in a
	// file Chromium saved.
	dir := t.TempDir()
	allowDownloads(b, dir)
	b.go_("#/t/acme/deliveries")
	b.waitJS("7 rows", `document.querySelectorAll("table.log tbody tr.selectable").length === 7`)
	b.click("#export-json", "JSON")
	b.waitText(".export-done", "Exported 7 deliveries")
	var exported []delivery
	if err := json.Unmarshal([]byte(evalJS[string](b, `window.__hooklineLastExport.text`)), &exported); err != nil {
		t.Fatal(err)
	}
	want := listDeliveries(t, s, url.Values{})
	if fmt.Sprint(exported) != fmt.Sprint(want) {
		t.Fatalf("exported %v\nwant %v", exported, want)
	}
	name := evalJS[string](b, `window.__hooklineLastExport.name`)
	var onDisk []byte
	waitFor(t, 60*time.Second, "the download "+name, func() bool {
		var err error
		onDisk, err = os.ReadFile(filepath.Join(dir, name))
		return err == nil && len(onDisk) > 0
	})
	if string(onDisk) != evalJS[string](b, `window.__hooklineLastExport.text`) {
		t.Fatalf("the downloaded file differs from the export: %.200s", onDisk)
	}
	// CSV of a filtered view: a header and one line per row.
	b.go_("#/t/acme/deliveries?status=succeeded")
	b.waitJS("6 rows", `document.querySelectorAll("table.log tbody tr.selectable").length === 6`)
	b.click("#export-csv", "CSV")
	b.waitText(".export-done", "Exported 6 deliveries")
	csv := evalJS[string](b, `window.__hooklineLastExport.text`)
	lines := strings.Split(strings.TrimRight(csv, "\r\n"), "\r\n")
	if len(lines) != 7 || !strings.HasPrefix(lines[0], "event_id,event_type,") || !strings.Contains(csv, events[1]) {
		t.Fatalf("csv export:\n%s", csv)
	}
}

// allowDownloads makes Chromium save downloads into dir under the names
// the page gives them (headless Chromium refuses downloads otherwise).
func allowDownloads(b *browser, dir string) {
	b.t.Helper()
	b.run(chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, cdpbrowser.SetDownloadBehavior, cdpbrowser.SetDownloadBehaviorParams{
			Behavior: cdpbrowser.SetDownloadBehaviorBehaviorAllow, DownloadPath: dir,
		})
		return err
	}))
}

// TestDeliveriesPagingAndTiming: a 100-row page renders (timed from the
// API's answer to the frame after the rows; logged, not bounded), the
// next page holds the rest, and the export walks both with its count.
func TestDeliveriesPagingAndTiming(t *testing.T) {
	s := startServer(t)
	s.api(t, "POST", "/v1/tenants", "", map[string]any{"id": "acme"}, 201, nil)
	rcv := newReceiver(t)
	createEndpoint(t, s, map[string]any{"url": rcv.URL + "/in"})
	batch := make([]map[string]any, 130)
	for i := range batch {
		batch[i] = map[string]any{"type": "user.created", "payload": map[string]any{"i": i}}
	}
	s.api(t, "POST", "/v1/tenants/acme/events/batch", "", batch, 202, nil)
	waitDeliveries(t, s, url.Values{"status": {"succeeded"}}, 130)

	b := newBrowser(t)
	b.signIn(s)
	b.go_("#/t/acme/deliveries")
	b.waitJS("100 rows", `document.querySelectorAll("table.log tbody tr.selectable").length === 100`)
	b.waitJS("the render timing", `window.__hooklineTimings && window.__hooklineTimings.deliveriesRender.some(x => x.rows === 100)`)
	ms := evalJS[float64](b, `window.__hooklineTimings.deliveriesRender.find(x => x.rows === 100).ms`)
	timing(t, "deliveries page of 100 rows: API answer to rows rendered", time.Duration(ms*float64(time.Millisecond)))

	b.click("nav.pager button", "Older")
	b.waitJS("30 rows", `document.querySelectorAll("table.log tbody tr.selectable").length === 30`)
	b.click("nav.pager button", "Newer")
	b.waitJS("100 rows again", `document.querySelectorAll("table.log tbody tr.selectable").length === 100`)
	// The same page again, warm: a second number for the issue.
	b.waitJS("the second render timing", `window.__hooklineTimings.deliveriesRender.filter(x => x.rows === 100).length >= 2`)
	ms = evalJS[float64](b, `window.__hooklineTimings.deliveriesRender.filter(x => x.rows === 100).pop().ms`)
	timing(t, "deliveries page of 100 rows (again): API answer to rows rendered", time.Duration(ms*float64(time.Millisecond)))

	// Time ranges: the last hour holds them all; a custom range in the
	// future none, and the URL keeps it.
	b.setValue("#f-range", "1h")
	b.waitJS("the 1h view", `location.hash.includes("range=1h") && document.querySelectorAll("table.log tbody tr.selectable").length === 100`)
	b.setValue("#f-range", "custom")
	b.setValue("#f-since", "2099-01-01T00:00:00")
	b.waitText("table.log", "No delivery matches these filters")
	if h := evalJS[string](b, `location.hash`); !strings.Contains(h, "range=custom") || !strings.Contains(h, "since=2099") {
		t.Fatalf("the custom range is not in the URL: %s", h)
	}
	b.click("button", "Clear filters")
	b.waitJS("100 rows", `document.querySelectorAll("table.log tbody tr.selectable").length === 100`)

	b.click("#export-csv", "CSV")
	b.waitText(".export-done", "Exported 130 deliveries")
	if n := evalJS[int](b, `window.__hooklineLastExport.text.trim().split("\r\n").length`); n != 131 {
		t.Fatalf("csv export has %d lines, want 131", n)
	}
}

// TestDeliveriesReplayLimitInPortal: a customer (portal session) replays
// one delivery; the next, past delivery.replays_per_second, is refused in
// the panel with the API's code and its Retry-After.
func TestDeliveriesReplayLimitInPortal(t *testing.T) {
	s := startServer(t, "--config", writeConfig(t, "delivery:\n  replays_per_second: 0.001\n"))
	s.api(t, "POST", "/v1/tenants", "", map[string]any{"id": "acme", "name": "Acme"}, 201, nil)
	rcv := newReceiver(t)
	rcv.setStatus(500)
	ep := createEndpoint(t, s, map[string]any{"url": rcv.URL + "/in", "retry_schedule": []string{"1s"}})
	e1 := publish(t, s, "invoice.paid", map[string]any{"n": 1})
	e2 := publish(t, s, "invoice.paid", map[string]any{"n": 2})
	waitDeliveries(t, s, url.Values{"status": {"dead"}}, 2)

	var sess struct {
		URL string `json:"url"`
	}
	s.api(t, "POST", "/v1/tenants/acme/portal-sessions", "", map[string]any{}, 201, &sess)
	b := newBrowser(t)
	b.open(s, sess.URL[strings.Index(sess.URL, "/portal"):])
	b.go_("#/t/acme/deliveries?endpoint=" + ep)
	b.waitJS("2 rows", `document.querySelectorAll("table.log tbody tr.selectable").length === 2`)

	b.click("table.log tbody tr.selectable", e1)
	b.waitText("#delivery-detail", "receiver answered 500")
	b.click("#delivery-detail button", "Replay")
	b.waitText("#delivery-detail .success", "Replay queued")

	b.click("table.log tbody tr.selectable", e2)
	b.waitText("#delivery-detail", e2)
	b.waitText("#delivery-detail", "receiver answered 500")
	b.click("#delivery-detail button", "Replay")
	b.waitText("#delivery-action-error", "replay_rate_limited")
	b.waitText("#delivery-detail .retry-after", "Try again in")

	// A session without deliveries:replay sees the log and no replay.
	var ro struct {
		URL string `json:"url"`
	}
	s.api(t, "POST", "/v1/tenants/acme/portal-sessions", "", map[string]any{"scopes": []string{"deliveries:read", "endpoints:read"}}, 201, &ro)
	b2 := newBrowser(t)
	b2.open(s, ro.URL[strings.Index(ro.URL, "/portal"):])
	b2.go_("#/t/acme/deliveries?endpoint=" + ep)
	b2.waitJS("2 rows", `document.querySelectorAll("table.log tbody tr.selectable").length === 2`)
	b2.click("table.log tbody tr.selectable", e2)
	b2.waitText("#delivery-detail", "receiver answered 500")
	if n := evalJS[int](b2, `[...document.querySelectorAll("button")].filter(e => /Replay|Cancel retries/.test(e.innerText)).length`); n != 0 {
		t.Fatalf("a read-only session sees %d replay or cancel buttons", n)
	}
}

// TestEventsPage: an event is found by its id and shows its delivery to
// each endpoint, with the attempts; browsing by type lists the events of
// that type only.
func TestEventsPage(t *testing.T) {
	s := startServer(t)
	s.api(t, "POST", "/v1/tenants", "", map[string]any{"id": "acme"}, 201, nil)
	r1, r2 := newReceiver(t), newReceiver(t)
	r2.setStatus(500)
	ep1 := createEndpoint(t, s, map[string]any{"url": r1.URL + "/one"})
	ep2 := createEndpoint(t, s, map[string]any{"url": r2.URL + "/two", "retry_schedule": []string{"1s"}})
	paid := publish(t, s, "invoice.paid", map[string]any{"invoice": "in_42"})
	created := publish(t, s, "user.created", map[string]any{"user": "u_7"})
	waitDeliveries(t, s, url.Values{"status": {"dead"}}, 2)
	waitDeliveries(t, s, url.Values{"status": {"succeeded"}}, 2)

	b := newBrowser(t)
	b.signIn(s)
	b.go_("#/t/acme/events")
	b.waitText("table.events", paid)
	b.waitText("table.events", created)

	b.fill("#event-search", paid)
	b.click("button[type=submit]", "Find")
	b.waitText(".event-view", `"invoice": "in_42"`)
	b.waitText("table.event-deliveries", ep1)
	b.waitText("table.event-deliveries", ep2)
	if n := evalJS[int](b, `document.querySelectorAll("table.event-deliveries tbody tr").length`); n != 2 {
		t.Fatalf("%d deliveries shown, want 2", n)
	}
	b.waitJS("a green and a red badge", `document.querySelector("table.event-deliveries .badge.ok") && document.querySelector("table.event-deliveries .badge.bad")`)
	b.eval(fmt.Sprintf(`document.querySelector('table.event-deliveries tr[data-endpoint=%q]').focus()`, ep2))
	b.run(chromedp.KeyEvent("\r"))
	b.waitText("#delivery-detail", "receiver answered 500")
	b.shot("events-detail")
	b.run(chromedp.EmulateViewport(800, 1000))
	if w := evalJS[int](b, `document.documentElement.scrollWidth - document.documentElement.clientWidth`); w > 0 {
		t.Errorf("the page scrolls sideways by %dpx at 800px", w)
	}
	b.shot("events-tablet")
	b.run(chromedp.EmulateViewport(1280, 900))

	b.fill("#event-search", "evt_nope")
	b.click("button[type=submit]", "Find")
	b.waitText("#event-error", "not_found")

	b.go_("#/t/acme/events?type=user.*")
	b.waitText("table.events", created)
	if n := evalJS[int](b, `document.querySelectorAll("table.events tbody tr").length`); n != 1 {
		t.Fatalf("%d events of type user.*, want 1", n)
	}
	b.shot("events-browse")
}
