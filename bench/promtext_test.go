package bench

import (
	"bytes"
	"math"
	"strings"
	"testing"

	"github.com/VictoriaMetrics/metrics"
)

func TestParsePromText(t *testing.T) {
	f := func(text, series string, want float64) {
		t.Helper()
		s, err := parsePromText([]byte(text))
		if err != nil {
			t.Fatalf("cannot parse %q: %v", text, err)
		}
		got, ok := s[series]
		if !ok {
			t.Fatalf("series %q missing from %v", series, s)
		}
		if got != want && !(math.IsNaN(got) && math.IsNaN(want)) {
			t.Fatalf("series %q = %v; want %v", series, got, want)
		}
	}
	f("hookline_retry_backlog_deliveries 1000000\n", "hookline_retry_backlog_deliveries", 1e6)
	f("# HELP x y\n# TYPE x gauge\n\nx 2.5", "x", 2.5)
	f(`a_bucket{le="0.1"} 7`+"\n", `a_bucket{le="0.1"}`, 7)
	// A space inside a label value must not end the series.
	f(`a{path="/v1 x",le="+Inf"} 3`, `a{path="/v1 x",le="+Inf"}`, 3)
	f("go_memstats_heap_inuse_bytes 1.2345e+08", "go_memstats_heap_inuse_bytes", 1.2345e8)
	f("x NaN", "x", math.NaN())
	f("x\t4", "x", 4)
}

func TestParsePromTextErrors(t *testing.T) {
	f := func(text, wantErr string) {
		t.Helper()
		_, err := parsePromText([]byte(text))
		if err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Fatalf("parsePromText(%q) = %v; want an error containing %q", text, err, wantErr)
		}
	}
	f("ok 1\nlonely\n", "line 2: no value")
	f(`x{le="1" 3`, "no '}'")
	f("x 1 2 3", "want one value")
	f("x one", "cannot parse the value")
	f(`x{le="1"}`, "no value")
}

func TestHistogramQuantiles(t *testing.T) {
	page := `# TYPE d histogram
d_bucket{le="0.1"} 90
d_bucket{le="+Inf"} 100
d_bucket{le="1"} 99
d_bucket{le="0.5"} 95
d_sum 12.5
d_count 100
other_bucket{le="+Inf"} 5
`
	s, err := parsePromText([]byte(page))
	require_NoError(t, err)
	bs, err := s.histogram("d")
	require_NoError(t, err)
	if len(bs) != 4 || bs[0].LE != 0.1 || !math.IsInf(bs[3].LE, 1) {
		t.Fatalf("buckets not sorted by le or other histograms mixed in: %+v", bs)
	}
	f := func(q float64, want string) {
		t.Helper()
		le, ok := bucketQuantile(bs, q)
		if !ok || formatLE(le) != want {
			t.Fatalf("quantile %v = %s (ok %v); want %s", q, formatLE(le), ok, want)
		}
	}
	f(0.5, "0.1")
	f(0.9, "0.1")
	f(0.91, "0.5")
	f(0.99, "1")
	// One observation above the last finite bound: the max is unbounded.
	f(1, "+Inf")
}

func TestHistogramRejectsBadPages(t *testing.T) {
	f := func(page, wantErr string) {
		t.Helper()
		s, err := parsePromText([]byte(page))
		require_NoError(t, err)
		_, err = s.histogram("d")
		if err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Fatalf("histogram of %q = %v; want an error containing %q", page, err, wantErr)
		}
	}
	f("x 1\n", "no buckets")
	f(`d_bucket{le="1"} 3`, `no le="+Inf"`)
	f(`d_bucket{le="1"} 3`+"\n"+`d_bucket{le="+Inf"} 2`, "cumulative")
	f(`d_bucket{x="1"} 3`, "no le label")
	f(`d_bucket{le="soon"} 3`, "cannot parse le")
}

func TestBucketQuantileEmpty(t *testing.T) {
	if _, ok := bucketQuantile([]bucket{{LE: 1}, {LE: math.Inf(1)}}, 0.99); ok {
		t.Fatalf("a histogram without observations has no quantile")
	}
	if _, ok := bucketQuantile(nil, 0.99); ok {
		t.Fatalf("no buckets has no quantile")
	}
}

// TestHistogramFromMetricsLibrary reads what the server's own metrics
// library writes, with the engine's fire-delay buckets, so a change in its
// output format breaks this test rather than the bench's numbers.
func TestHistogramFromMetricsLibrary(t *testing.T) {
	set := metrics.NewSet()
	h := set.NewPrometheusHistogramExt(`hookline_retry_fire_delay_seconds`,
		[]float64{.01, .05, .1, .2, .3, .5, .75, 1, 2, 5, 10, 60})
	for range 980 {
		h.Update(0.08)
	}
	for range 19 {
		h.Update(0.15)
	}
	h.Update(3)
	var page bytes.Buffer
	set.WritePrometheus(&page)
	s, err := parsePromText(page.Bytes())
	require_NoError(t, err)
	bs, err := s.histogram(`hookline_retry_fire_delay_seconds`)
	require_NoError(t, err)
	require_Equal(t, bs[len(bs)-1].Count, 1000)
	p99, _ := bucketQuantile(bs, 0.99)
	maxLE, _ := bucketQuantile(bs, 1)
	require_Equal(t, formatLE(p99), "0.2")
	require_Equal(t, formatLE(maxLE), "5")
	n, ok := s.value(`hookline_retry_fire_delay_seconds_count`)
	if !ok || n != 1000 {
		t.Fatalf("_count = %v (present %v); want 1000", n, ok)
	}
}
