package engine

import (
	"strings"
	"testing"
	"time"

	"hookline/httpout"
)

func TestJitterSpreadsWithinTenPercent(t *testing.T) {
	const d = 10 * time.Second
	lo, hi := d, d
	for range 10000 {
		j := jitter(d)
		if j < d*9/10 || j > d*11/10 {
			t.Fatalf("jitter(%v) = %v: outside ±10%%", d, j)
		}
		lo, hi = min(lo, j), max(hi, j)
	}
	// 10,000 draws: both ends of the range are reached to within 1%.
	if lo > d*91/100 || hi < d*109/100 {
		t.Fatalf("jitter(%v) ranged only over [%v, %v]", d, lo, hi)
	}
	if jitter(0) != 0 {
		t.Fatalf("jitter(0) = %v", jitter(0))
	}
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
	// docs/design.md, "Defaults": immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h.
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
	f(0, httpout.ErrClassResponseHeadersTooLarge, verdictFinal)
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
