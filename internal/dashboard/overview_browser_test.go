package dashboard_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// apiReason sends an admin request with an X-Hookline-Reason header, as a
// careful operator would, and wants 200.
func (s *server) apiReason(t *testing.T, method, path string, body any, reason string) {
	t.Helper()
	raw, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(method, s.base+path, bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+adminToken)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Hookline-Reason", reason)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		got, _ := io.ReadAll(resp.Body)
		t.Fatalf("%s %s: %d: %s", method, path, resp.StatusCode, got)
	}
}

// statsBucket is a bucket of the stats series, as the charts over time
// show it.
type statsBucket struct {
	Start                 string `json:"start"`
	Published             int    `json:"published"`
	Sent                  int    `json:"sent"`
	FirstAttemptSucceeded int    `json:"first_attempt_succeeded"`
	Dead                  int    `json:"dead"`
	LatencyMs             struct {
		P95 *float64 `json:"p95"`
	} `json:"latency_ms"`
}

type tenantStats struct {
	Window string        `json:"window"`
	Since  string        `json:"since"`
	Series []statsBucket `json:"series"`
	Total  struct {
		Published               int      `json:"published"`
		Sent                    int      `json:"sent"`
		FirstAttemptSucceeded   int      `json:"first_attempt_succeeded"`
		FirstAttemptSuccessRate *float64 `json:"first_attempt_success_rate"`
		Retried                 int      `json:"retried"`
		Dead                    int      `json:"dead"`
		Attempts                int      `json:"attempts"`
		FailedAttempts          int      `json:"failed_attempts"`
		TopFailures             []struct {
			Reason string `json:"reason"`
			Count  int    `json:"count"`
		} `json:"top_failures"`
	} `json:"total"`
}

// deliveryFixture starts a server with tenant acme, an endpoint that
// answers 200 and one that answers 500 (one retry, then dead), publishes n
// events and waits until the stats count every first attempt and every
// dead letter. It returns the server, a browser signed in as the operator
// and the failing endpoint's id.
func deliveryFixture(t *testing.T, n int) (s *server, b *browser, badID string) {
	t.Helper()
	s = startServer(t)
	good, bad := newReceiver(t), newReceiver(t)
	bad.setStatus(500)
	s.api(t, "POST", "/v1/tenants", "", map[string]any{"id": "acme", "name": "Acme"}, 201, nil)
	var ep struct {
		ID string `json:"id"`
	}
	s.api(t, "POST", "/v1/tenants/acme/endpoints", "", map[string]any{"url": good.URL + "/ok", "event_types": []string{"*"}}, 201, &ep)
	s.api(t, "POST", "/v1/tenants/acme/endpoints", "", map[string]any{"url": bad.URL + "/broken", "event_types": []string{"*"}, "retry_schedule": []string{"1s"}}, 201, &ep)
	badID = ep.ID
	for i := range n {
		s.api(t, "POST", "/v1/tenants/acme/events", "", map[string]any{"type": "invoice.paid", "payload": map[string]any{"n": i}, "idempotency_key": fmt.Sprint("inv-", i)}, 202, nil)
	}
	// A repeat of the first: no new event, so neither published nor sent.
	s.api(t, "POST", "/v1/tenants/acme/events", "", map[string]any{"type": "invoice.paid", "payload": map[string]any{"n": 0}, "idempotency_key": "inv-0"}, 202, nil)
	waitFor(t, 90*time.Second, "every delivery sent and the failing ones dead", func() bool {
		var st tenantStats
		s.api(t, "GET", "/v1/tenants/acme/stats?window=1h", "", nil, 200, &st)
		return st.Total.Sent == 2*n && st.Total.Dead == n
	})
	b = newBrowser(t)
	b.signIn(s)
	return s, b, badID
}

// TestOverview: the overview's cards show the stats API's numbers for each
// window (events published without the repeat of an idempotency key), the
// charts are drawn with bars, and the failing endpoint leads
// the worst success rates with its failure reason.
func TestOverview(t *testing.T) {
	const n = 4
	s, b, badID := deliveryFixture(t, n)
	b.go_("#/t/acme/overview?window=1h")
	for _, w := range []string{"1h", "24h", "7d"} {
		b.click("#window-"+w, w)
		b.waitJS("window "+w+" chosen", fmt.Sprintf(`document.querySelector("#window-%s").getAttribute("aria-pressed")==="true" && location.hash.endsWith("window=%s")`, w, w))
		var st tenantStats
		s.api(t, "GET", "/v1/tenants/acme/stats?window="+w, "", nil, 200, &st)
		if w == "1h" && (st.Total.Sent != 2*n || st.Total.FirstAttemptSucceeded != n || st.Total.Dead != n) {
			t.Fatalf("stats over 1h: %+v", st.Total)
		}
		// Published counts every event of the tenant's stream, the n
		// invoices (not the repeat) and hookline's own notices of the dead
		// letters, which come a little later: the event feed lists them all.
		waitFor(t, 30*time.Second, "published = the events in the feed", func() bool {
			var feed struct {
				Data []struct {
					Type string `json:"type"`
				} `json:"data"`
			}
			s.api(t, "GET", "/v1/tenants/acme/events?limit=100&wait=0s", "", nil, 200, &feed)
			invoices := 0
			for _, e := range feed.Data {
				if e.Type == "invoice.paid" {
					invoices++
				}
			}
			s.api(t, "GET", "/v1/tenants/acme/stats?window="+w, "", nil, 200, &st)
			if invoices != n {
				t.Fatalf("%d invoices in the feed; want %d", invoices, n)
			}
			return st.Total.Published == len(feed.Data)
		})
		b.waitText("#card-published .value", fmt.Sprint(st.Total.Published))
		b.waitText("#card-sent .value", fmt.Sprint(st.Total.Sent))
		b.waitText("#card-dead .value", fmt.Sprint(st.Total.Dead))
		if st.Total.FirstAttemptSuccessRate != nil {
			b.waitText("#card-rate .value", fmt.Sprintf("%g%%", *st.Total.FirstAttemptSuccessRate*100))
		}
		b.waitText("#card-attempts .hint", fmt.Sprintf("%d failed", st.Total.FailedAttempts))
		// The window's numbers, not another's, are on the page once it shows
		// them: the since line is the one the API gave for this window.
		b.waitJS("the charts' bars", `document.querySelectorAll("#chart-endpoints svg[role=img] rect.bar").length >= 2`)
		checkTimeCharts(t, b, w, st)
		label := evalJS[string](b, `document.querySelector("#chart-endpoints svg[role=img]").getAttribute("aria-label")`)
		if !strings.Contains(label, "failed") || !strings.Contains(label, "/broken") {
			t.Errorf("chart label %q does not say the numbers", label)
		}
		b.waitText("#worst-endpoints", badID)
		b.waitText("#worst-endpoints", "500")
		b.waitText("#worst-endpoints", "never") // its last success, from its health
		b.waitText("#chart-failures", "500")
		b.shot("overview-" + w)
	}
	// The failing endpoint leads the worst success rates, at 0%.
	first := evalJS[string](b, `document.querySelector("#worst-endpoints tbody tr").innerText`)
	if !strings.Contains(first, badID) || !strings.Contains(first, "0%") {
		t.Errorf("first of the worst endpoints: %q", first)
	}
	// The operator sees the queue depth card (from /metrics).
	b.waitJS("queue depth", `/^\d+$/.test(document.querySelector("#card-queue .value").innerText.trim())`)

	// At tablet width the page does not scroll sideways.
	b.run(chromedp.EmulateViewport(800, 1000))
	b.waitJS("the page within 800px", `document.documentElement.scrollWidth <= document.documentElement.clientWidth`)
	b.shot("overview-tablet")

	// A customer's portal session with deliveries:read sees the same
	// numbers, without the server's queue depth (that is the operator's)
	// and without the health column it may not read.
	var ps struct {
		Token string `json:"token"`
	}
	s.api(t, "POST", "/v1/tenants/acme/portal-sessions", "", map[string]any{"scopes": []string{"deliveries:read"}}, 201, &ps)
	c := newBrowser(t)
	c.open(s, "/portal#token="+ps.Token)
	c.waitText("#card-sent .value", fmt.Sprint(2*n))
	c.waitText("#worst-endpoints", badID)
	if evalJS[bool](c, `!!document.querySelector("#card-queue") || /Last success/.test(document.querySelector("#worst-endpoints").innerText)`) {
		t.Errorf("the portal shows the queue depth or endpoint health")
	}
	c.go_("#/t/acme/jobs")
	c.waitText("h1", "Jobs")
	c.waitText("#jobs-table", "No jobs yet")
}

// timeCharts are the overview's charts over time, by id, and the value
// of a bucket of the stats series each shows, as JavaScript's String()
// writes it ("" for none).
var timeCharts = map[string]func(bk statsBucket) string{
	"#chart-published": func(bk statsBucket) string { return fmt.Sprint(bk.Published) },
	"#chart-sent":      func(bk statsBucket) string { return fmt.Sprint(bk.Sent) },
	"#chart-dead-time": func(bk statsBucket) string { return fmt.Sprint(bk.Dead) },
	"#chart-rate": func(bk statsBucket) string {
		if bk.Sent == 0 {
			return ""
		}
		return strconv.FormatFloat(float64(bk.FirstAttemptSucceeded)/float64(bk.Sent), 'f', -1, 64)
	},
	"#chart-p95-time": func(bk statsBucket) string {
		if bk.LatencyMs.P95 == nil {
			return ""
		}
		return strconv.FormatFloat(*bk.LatencyMs.P95, 'f', -1, 64)
	},
}

// checkTimeCharts: each chart over time has a bar slot and a table row for
// each bucket of window w (6, 24 or 168), each bucket with something in
// the API's series st shows its value, and the x-axis is labelled with
// times (an hour, a day) or days (a week).
func checkTimeCharts(t *testing.T, b *browser, w string, st tenantStats) {
	t.Helper()
	n := map[string]int{"1h": 6, "24h": 24, "7d": 168}[w]
	if len(st.Series) != n {
		t.Fatalf("%s: the API's series has %d buckets; want %d", w, len(st.Series), n)
	}
	for id, value := range timeCharts {
		b.waitJS(fmt.Sprintf("%s with %d buckets", id, n), fmt.Sprintf(`document.querySelectorAll("%s svg[role=img] g.bucket").length === %d && document.querySelectorAll("%s table tbody tr").length === %d`, id, n, id, n))
		shown := 0
		for _, bk := range st.Series {
			if bk.Published == 0 && bk.Sent == 0 && bk.Dead == 0 {
				continue
			}
			shown++
			want := value(bk)
			b.waitJS(fmt.Sprintf("%s's bucket at %s showing %q", id, bk.Start, want),
				fmt.Sprintf(`(document.querySelector('%s tr[data-start="%s"]') || {dataset: {}}).dataset.value === %q`, id, bk.Start, want))
		}
		if shown == 0 {
			t.Fatalf("%s: nothing in the API's series %+v", w, st.Series)
		}
	}
	label := evalJS[string](b, `document.querySelector("#chart-sent svg[role=img]").getAttribute("aria-label")`)
	if !strings.Contains(label, fmt.Sprintf("%d buckets", n)) || !strings.Contains(label, fmt.Sprintf("total %d", st.Total.Sent)) {
		t.Errorf("%s: time chart label %q does not sum it up", w, label)
	}
	label = evalJS[string](b, `document.querySelector("#chart-published svg[role=img]").getAttribute("aria-label")`)
	if !strings.Contains(label, fmt.Sprintf("total %d", st.Total.Published)) {
		t.Errorf("%s: published chart label %q does not say the total %d", w, label, st.Total.Published)
	}
	ticks := evalJS[[]string](b, `[...document.querySelectorAll("#chart-sent text.tick")].map(e => e.textContent)`)
	pattern, lo, hi := `^\d\d:\d\d$`, 6, 6 // every 10 minutes
	switch w {
	case "24h":
		lo, hi = 8, 8 // every third hour
	case "7d":
		pattern, lo, hi = `^\S+ \d{1,2}$`, 6, 7 // each day's first hour
	}
	re := regexp.MustCompile(pattern)
	for _, tk := range ticks {
		if !re.MatchString(tk) {
			t.Errorf("%s: x-axis label %q", w, tk)
		}
	}
	if len(ticks) < lo || len(ticks) > hi {
		t.Errorf("%s: x-axis labels %q; want %d to %d", w, ticks, lo, hi)
	}
}

// TestHealthJobsAudit: the server health page lists the failing endpoint;
// a replay job shows on the jobs page and stops (or completes); the audit
// log shows the endpoint's creation by the admin and opens its before and
// after.
func TestHealthJobsAudit(t *testing.T) {
	const n = 4
	s, b, badID := deliveryFixture(t, n)

	b.go_("#/health")
	b.waitText("#card-ready", "ready")
	b.waitText("#card-tenants .value", "1")
	b.waitText("#attention-table", badID)
	b.waitText("#metrics-cards", "Queue depth")
	b.shot("health")

	// A slow replay of the dead deliveries, so it is still running when
	// the page shows it (it may finish first on a fast day: both are fine).
	var job struct {
		ID string `json:"id"`
	}
	s.api(t, "POST", "/v1/tenants/acme/endpoints/"+badID+"/replay", "", map[string]any{"status": "dead", "rate_per_second": 1}, 202, &job)
	b.go_("#/t/acme/jobs")
	row := "#job-" + job.ID
	b.waitText(row, "replay")
	b.waitText(row, "matched")
	b.shot("jobs")
	if evalJS[bool](b, `!![...document.querySelectorAll("`+row+` button")].find(e => e.innerText === "Stop")`) {
		b.click(row+" button", "Stop")
		b.waitText("dialog", job.ID)
		b.click("dialog button", "Stop job")
	}
	b.waitJS("the job stopped or completed", `/stopped|completed/.test(document.querySelector("`+row+`").innerText)`)
	var got struct {
		State string `json:"state"`
	}
	s.api(t, "GET", "/v1/tenants/acme/jobs/"+job.ID, "", nil, 200, &got)
	if got.State != "stopped" && got.State != "completed" {
		t.Fatalf("job state %q", got.State)
	}
	b.waitText(row, got.State)

	// An endpoint made by an API key, whose name the audit log shows.
	var key struct {
		ID  string `json:"id"`
		Key string `json:"key"`
	}
	s.api(t, "POST", "/v1/tenants/acme/api-keys", "", map[string]any{"name": "ci-bot", "scopes": []string{"endpoints:write"}}, 201, &key)
	s.api(t, "POST", "/v1/tenants/acme/endpoints", key.Key, map[string]any{"url": "http://127.0.0.1:9/by-key", "event_types": []string{"*"}}, 201, nil)
	// An edit, with a reason, for the audit log's diff.
	s.apiReason(t, "PATCH", "/v1/tenants/acme/endpoints/"+badID, map[string]any{"description": "billing hook"}, "ticket 42")
	b.go_("#/t/acme/audit")
	b.waitText("#audit-table", "endpoint.create")
	var audit struct {
		Data []struct {
			ID       string `json:"id"`
			Action   string `json:"action"`
			Resource string `json:"resource"`
		} `json:"data"`
	}
	s.api(t, "GET", "/v1/tenants/acme/audit", "", nil, 200, &audit)
	var create, update string
	for _, e := range audit.Data {
		switch {
		case e.Action == "endpoint.create" && e.Resource == badID:
			create = e.ID
		case e.Action == "endpoint.update" && e.Resource == badID:
			update = e.ID
		}
	}
	if create == "" || update == "" {
		t.Fatalf("no endpoint.create and endpoint.update entries for %s in %+v", badID, audit.Data)
	}
	row = "#audit-" + create
	b.waitText(row, "admin")
	b.click(row+" button", "Show changes")
	b.waitText("#audit-changes-"+create, "Nothing (created)")
	b.waitText("#audit-changes-"+create+" pre.json", "/broken")
	b.click(row+" button", "Hide changes")
	b.waitJS("the changes closed", `!document.querySelector("#audit-changes-`+create+`")`)

	row = "#audit-" + update
	b.waitText(row, "endpoint.update")
	b.waitText(row, "ticket 42")
	b.click(row+" button", "Show changes")
	diff := "#audit-changes-" + update + " table.diff"
	b.waitText(diff, "description")
	b.waitText(diff, "billing hook")
	if got := evalJS[int](b, `document.querySelectorAll("`+diff+` tbody tr").length`); got > 2 {
		// description, and updated_at at most: not the whole record.
		t.Errorf("the diff shows %d keys: %s", got, evalJS[string](b, `document.querySelector("`+diff+`").innerText`))
	}
	b.waitJS("the key's entry with its name and id", `[...document.querySelectorAll("#audit-table tbody tr")].some(r => /endpoint\.create/.test(r.innerText) && /api key/.test(r.innerText) && r.innerText.includes("ci-bot") && r.innerText.includes(`+fmt.Sprintf("%q", key.ID)+`))`)
	b.shot("audit")
}

// TestOverviewEmpty: a tenant with nothing sent shows its empty states, not
// empty charts; an unknown tenant's overview shows the API's error and code.
func TestOverviewEmpty(t *testing.T) {
	s := startServer(t)
	s.api(t, "POST", "/v1/tenants", "", map[string]any{"id": "quiet"}, 201, nil)
	b := newBrowser(t)
	b.signIn(s)
	b.go_("#/t/quiet/overview")
	b.waitText("#card-published .value", "0")
	b.waitText("#card-sent .value", "0")
	b.waitText("#card-rate .value", "–")
	b.waitText("#chart-endpoints", "Nothing sent in the last day")
	b.waitText("#worst-endpoints", "Nothing sent in the last day")
	b.waitText("#card-queue .value", "0")
	b.waitText("#chart-failures", "No failed attempts")
	// The charts over time keep their 24 hours, empty.
	b.waitJS("an empty day over time", `document.querySelectorAll("#chart-sent table tbody tr").length === 24 && document.querySelectorAll("#chart-sent rect.bar, #chart-rate rect.bar").length === 0 && /nothing in any bucket/.test(document.querySelector("#chart-sent svg[role=img]").getAttribute("aria-label"))`)
	b.shot("overview-empty")

	b.go_("#/health")
	b.waitText("#attention-table", "Every endpoint checked is healthy")
	b.go_("#/t/quiet/jobs")
	b.waitText("#jobs-table", "No jobs yet")

	b.go_("#/t/nobody/overview")
	b.waitText(".error", "tenant_not_found")
}
