package engine

import (
	"strings"
	"testing"
	"time"

	"hookline/httpout"
	"hookline/wal"
)

// White-box tests of the pure functions: type patterns, retry schedules,
// classification of attempt results, ID forms and the delivery body.

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

func TestParseRetrySchedule(t *testing.T) {
	good := func(s string, want ...time.Duration) {
		t.Helper()
		got, err := ParseRetrySchedule(s)
		if err != nil {
			t.Errorf("ParseRetrySchedule(%q): unexpected error %v", s, err)
			return
		}
		if len(got) != len(want) {
			t.Errorf("ParseRetrySchedule(%q) = %v, want %v", s, got, want)
			return
		}
		for i := range got {
			if got[i] != want[i] {
				t.Errorf("ParseRetrySchedule(%q) = %v, want %v", s, got, want)
				return
			}
		}
	}
	good("5s", 5*time.Second)
	good("5s,5m,30m", 5*time.Second, 5*time.Minute, 30*time.Minute)
	good(" 1s , 2s ", time.Second, 2*time.Second)
	good("100ms,1h30m", 100*time.Millisecond, 90*time.Minute)
	good("168h", 7*24*time.Hour)
	good(strings.TrimSuffix(strings.Repeat("1s,", 50), ","), func() []time.Duration {
		d := make([]time.Duration, 50)
		for i := range d {
			d[i] = time.Second
		}
		return d
	}()...)

	bad := func(s string) {
		t.Helper()
		if got, err := ParseRetrySchedule(s); err == nil {
			t.Errorf("ParseRetrySchedule(%q) = %v, want an error", s, got)
		}
	}
	bad("")
	bad("   ")
	bad("5")
	bad("5x")
	bad("five seconds")
	bad("0s")
	bad("-1s")
	bad("5s,")
	bad(",5s")
	bad("5s,,5m")
	bad("168h1s")
	bad("8d")
	bad(strings.TrimSuffix(strings.Repeat("1s,", 51), ","))
}

func TestDefaultRetrySchedule(t *testing.T) {
	// DESIGN.md: immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h.
	want := []time.Duration{5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour, 10 * time.Hour, 10 * time.Hour}
	if len(DefaultRetrySchedule) != len(want) {
		t.Fatalf("DefaultRetrySchedule = %v, want %v", DefaultRetrySchedule, want)
	}
	for i := range want {
		if DefaultRetrySchedule[i] != want[i] {
			t.Fatalf("DefaultRetrySchedule = %v, want %v", DefaultRetrySchedule, want)
		}
	}
}

func TestClassify(t *testing.T) {
	f := func(status int, errClass string, want verdict) {
		t.Helper()
		res := &httpout.Result{Status: status, ErrClass: errClass}
		if got := classify(res); got != want {
			t.Errorf("classify(status %d, err %q) = %d, want %d", status, errClass, got, want)
		}
	}
	for _, s := range []int{200, 201, 202, 204, 299} {
		f(s, "", verdictSuccess)
	}
	for _, s := range []int{408, 429, 500, 502, 503, 504, 599} {
		f(s, "", verdictRetry)
	}
	for _, s := range []int{100, 300, 301, 302, 304, 307, 400, 401, 403, 404, 409, 410, 413, 422} {
		f(s, "", verdictFinal)
	}
	for _, c := range []string{httpout.ErrClassTimeout, httpout.ErrClassRefused, httpout.ErrClassDNS, httpout.ErrClassTLS, httpout.ErrClassNetwork} {
		f(0, c, verdictRetry)
	}
	f(0, httpout.ErrClassSSRF, verdictFinal)
	f(0, httpout.ErrClassInvalidURL, verdictFinal)
}

func TestStatusClass(t *testing.T) {
	f := func(status int, want string) {
		t.Helper()
		if got := classNames[classOf(&httpout.Result{Status: status})]; got != want {
			t.Errorf("classOf(%d) = %q, want %q", status, got, want)
		}
	}
	f(0, "error")
	f(200, "2xx")
	f(204, "2xx")
	f(301, "3xx")
	f(404, "4xx")
	f(429, "4xx")
	f(500, "5xx")
	f(503, "5xx")
}

func TestIDForms(t *testing.T) {
	id := wal.NewID()
	require := func(ok bool, format string, args ...any) {
		t.Helper()
		if !ok {
			t.Fatalf(format, args...)
		}
	}
	require(FormatEventID(id) == "evt_"+id.String(), "FormatEventID = %q", FormatEventID(id))
	got, ok := ParseEndpointID("ep_" + id.String())
	require(ok && got == id, "ParseEndpointID round trip: %v %v", got, ok)
	for _, s := range []string{"", "ep_", "ep_x", "evt_" + id.String(), id.String(), "EP_" + id.String(), "ep_" + id.String() + "0"} {
		_, ok := ParseEndpointID(s)
		require(!ok, "ParseEndpointID(%q) accepted", s)
	}
}

func TestAppendBody(t *testing.T) {
	ts := time.Date(2026, 11, 23, 10, 0, 0, 123e6, time.FixedZone("CET", 3600))
	f := func(typ, payload, want string) {
		t.Helper()
		var p []byte
		if payload != "" {
			p = []byte(payload)
		}
		if got := string(appendBody([]byte("prefix|"), typ, ts, p)); got != "prefix|"+want {
			t.Errorf("appendBody(%q, %q) = %s, want %s", typ, payload, got, want)
		}
	}
	f("invoice.paid", `{"amount":1200}`, `{"type":"invoice.paid","timestamp":"2026-11-23T09:00:00.123Z","data":{"amount":1200}}`)
	f("x", ` [1, 2] `, `{"type":"x","timestamp":"2026-11-23T09:00:00.123Z","data": [1, 2] }`)
	f("x", ``, `{"type":"x","timestamp":"2026-11-23T09:00:00.123Z","data":null}`)
}
