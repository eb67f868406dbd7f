package engine

import (
	"context"
	"fmt"
	"math"
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"hookline/httpout"
	"hookline/wal"
)

// TestLatBinQuantile: a latency comes back from its bin within the bins'
// 19%, from the fastest to past the slowest bin's start.
func TestLatBinQuantile(t *testing.T) {
	f := func(d time.Duration, wantBin int) {
		t.Helper()
		if got := latBin(d); got != wantBin {
			t.Fatalf("latBin(%s) = %d; want %d", d, got, wantBin)
		}
	}
	f(0, 0)
	f(-time.Second, 0)
	f(90*time.Microsecond, 0)
	f(91*time.Microsecond, 1)
	f(128*time.Microsecond, 2)
	f(time.Millisecond, 7)
	f(time.Hour, latBins-1)
	for us := int64(64); us < 45_000_000; us = us*9/8 + 1 {
		var a healthAgg
		a.lat[latBin(time.Duration(us)*time.Microsecond)] = 1
		got := *a.quantile(0.5) * 1000
		if r := got / float64(us); r < 1/1.19 || r > 1.19 {
			t.Fatalf("%d µs comes back as %.1f µs (%.2f×)", us, got, r)
		}
	}
}

// TestLaneHealthRecordNoAlloc: counting an attempt allocates nothing once
// the lane has its buckets.
func TestLaneHealthRecordNoAlloc(t *testing.T) {
	var h laneHealth
	t0 := time.Now()
	h.record(t0, 200, "", time.Millisecond, 1, wal.OutcomeSuccess)
	allocs := testing.AllocsPerRun(1000, func() {
		h.record(t0, 200, "", 3*time.Millisecond, 1, wal.OutcomeSuccess)
		h.record(t0, 503, "", 40*time.Millisecond, 1, wal.OutcomeRetry)
		h.record(t0, 0, httpout.ErrClassTimeout, 15*time.Second, 1, wal.OutcomeRetry)
	})
	if allocs != 0 {
		t.Fatalf("record allocates %.1f times per call", allocs/3)
	}
}

// TestLaneHealthBusyBucket: 200,000 attempts in one bucket keep exact
// counts, and the sampled latencies still give p50 and p95 within the
// bins' 19%; failure kinds past the bucket's three count as other.
func TestLaneHealthBusyBucket(t *testing.T) {
	var h laneHealth
	t0 := time.Date(2030, 1, 1, 0, 0, 1, 0, time.UTC)
	for i := range 200_000 {
		switch {
		case i%10 == 9:
			h.record(t0, 503, "", 500*time.Millisecond, 1, wal.OutcomeRetry)
		default:
			h.record(t0, 200, "", 10*time.Millisecond, 1, wal.OutcomeSuccess)
		}
	}
	for _, st := range []int{502, 504, 500, 429} {
		h.record(t0, st, "", time.Millisecond, 1, wal.OutcomeRetry)
	}
	var a healthAgg
	a.addSlot(&h.ring[uint32(t0.Unix()/healthSlotSecs)%healthSlots])
	w := a.window(0)
	if w.Attempts != 200_004 || w.Succeeded != 180_000 || w.Failed != 20_004 {
		t.Fatalf("counts %+v", w)
	}
	want := map[string]uint64{"503": 20_000, "502": 1, "504": 1, "other": 2}
	if fmt.Sprint(w.Failures) != fmt.Sprint(want) {
		t.Fatalf("failures %v; want %v", w.Failures, want)
	}
	near := func(name string, got *float64, want float64) {
		t.Helper()
		if got == nil || *got/want < 1/1.19 || *got/want > 1.19 {
			t.Fatalf("%s = %v ms; want %v ms within 19%%", name, got, want)
		}
	}
	near("p50", w.LatencyMs.P50, 10)
	near("p95", w.LatencyMs.P95, 500)
	if s := h.ring[uint32(t0.Unix()/healthSlotSecs)%healthSlots].lat.shift; s < 8 {
		t.Fatalf("shift %d: the histogram never scaled", s)
	}
}

// TestLaneHealthMemory: 10,000 endpoints delivering keep their buckets in
// a few MiB.
func TestLaneHealthMemory(t *testing.T) {
	const n = 10_000
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	hs := make([]laneHealth, n)
	t0 := time.Now()
	for i := range hs {
		for s := range healthSlots {
			hs[i].record(t0.Add(time.Duration(s)*healthSlotSecs*time.Second), 200, "", time.Millisecond, 1, wal.OutcomeSuccess)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	// TotalAlloc only grows: HeapAlloc can shrink under the test when
	// goroutines of earlier tests free memory, and the difference wrap.
	used := after.TotalAlloc - before.TotalAlloc
	t.Logf("%d endpoints: %.2f MiB (%d bytes each; a bucket is %d bytes)", n, float64(used)/(1<<20), used/n, unsafe.Sizeof(healthSlot{}))
	if used > 8<<20 {
		t.Fatalf("%d endpoints take %d bytes", n, used)
	}
	runtime.KeepAlive(hs)
}

// fakeClock is a clock the test moves by hand.
type fakeClock struct{ ms atomic.Int64 }

func (c *fakeClock) now() time.Time  { return time.UnixMilli(c.ms.Load()) }
func (c *fakeClock) set(t time.Time) { c.ms.Store(t.UnixMilli()) }
func ptrTo[T any](v T) *T            { return &v }

// clockEngine is an engine on a fresh wal whose health runs on clock, with
// the flusher goroutine stopped so the test flushes by hand. It returns the
// lane of one endpoint and a func that stops it (also called at cleanup).
func clockEngine(t testing.TB, dir string, clock *fakeClock, create bool) (*Engine, *Lane, func()) {
	t.Helper()
	l, err := wal.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	sender := httpout.NewSender(httpout.Options{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
	e, err := New(l, sender, Options{now: clock.now})
	if err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	stop := func() {
		once.Do(func() {
			e.Stop(context.Background())
			_ = l.Close()
		})
	}
	t.Cleanup(stop)
	e.stopHealth()
	if create {
		if _, err := e.CreateTenant(context.Background(), TenantInput{ID: ptrTo("t"), Name: ptrTo("T")}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.CreateEndpoint(context.Background(), "t", EndpointInput{URL: ptrTo("http://127.0.0.1:9/"), Paused: ptrTo(true)}); err != nil {
			t.Fatal(err)
		}
	}
	for _, ln := range e.lanes {
		return e, ln, stop
	}
	t.Fatal("no endpoint")
	return nil, nil, nil
}

type windowWant struct {
	attempts, succeeded uint64
	failures            string
}

func requireWindow(t *testing.T, name string, w HealthWindow, want windowWant) {
	t.Helper()
	if w.Attempts != want.attempts || w.Succeeded != want.succeeded || w.Failed != want.attempts-want.succeeded || fmt.Sprint(w.Failures) != want.failures {
		t.Fatalf("%s window: %d attempts, %d succeeded, %d failed, failures %v; want %d, %d, %s",
			name, w.Attempts, w.Succeeded, w.Failed, w.Failures, want.attempts, want.succeeded, want.failures)
	}
	if (w.SuccessRate == nil) != (w.Attempts == 0) {
		t.Fatalf("%s window: success rate %v with %d attempts", name, w.SuccessRate, w.Attempts)
	}
}

// TestHealthWindows: with the clock moved by hand, buckets older than an
// hour leave the 1h window but stay in 24h; hours older than a day leave
// 24h but stay in 7d; a week later they leave 7d, and past eight days the
// wal drops them.
func TestHealthWindows(t *testing.T) {
	t0 := time.Date(2030, 1, 7, 0, 0, 0, 0, time.UTC)
	clock := new(fakeClock)
	clock.set(t0)
	e, ln, _ := clockEngine(t, t.TempDir(), clock, true)
	h := &ln.health
	for range 4 {
		h.record(t0.Add(time.Minute), 200, "", 10*time.Millisecond, 1, wal.OutcomeSuccess)
	}
	h.record(t0.Add(2*time.Minute), 503, "", 30*time.Millisecond, 1, wal.OutcomeRetry)
	h.record(t0.Add(15*time.Minute), 0, httpout.ErrClassTimeout, 15*time.Second, 1, wal.OutcomeRetry)

	at := func(d time.Duration) EndpointHealth {
		t.Helper()
		clock.set(t0.Add(d))
		e.flushHealth(clock.now())
		got, err := e.endpointHealth(ln, clock.now())
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	all := windowWant{6, 4, "map[503:1 timeout:1]"}
	none := windowWant{0, 0, "map[]"}
	got := at(20 * time.Minute)
	requireWindow(t, "1h", got.Windows.Hour, all)
	requireWindow(t, "24h", got.Windows.Day, all)
	requireWindow(t, "7d", got.Windows.Week, all)
	if r := *got.Windows.Hour.SuccessRate; r != 0.6667 {
		t.Fatalf("success rate %v", r)
	}
	if p := got.Windows.Day.LatencyMs.P50; p == nil || *p < 10/1.19 || *p > 10*1.19 {
		t.Fatalf("p50 %v", p)
	}
	if p := got.Windows.Day.LatencyMs.P95; p == nil || *p < 30/1.19 || *p > 30*1.19 {
		t.Fatalf("p95 %v (the timeout has no latency)", p)
	}
	if got.LastSuccessAt == nil || !got.LastSuccessAt.Equal(t0.Add(time.Minute)) || got.LastFailureAt == nil || !got.LastFailureAt.Equal(t0.Add(15*time.Minute)) {
		t.Fatalf("last success %v, last failure %v", got.LastSuccessAt, got.LastFailureAt)
	}

	// 61 minutes on, the first bucket (00:00-00:10) started more than an
	// hour ago; the one at 00:15 did not.
	got = at(61 * time.Minute)
	requireWindow(t, "1h", got.Windows.Hour, windowWant{1, 0, "map[timeout:1]"})
	requireWindow(t, "24h", got.Windows.Day, all)
	if !got.Windows.Hour.Since.Equal(t0.Add(10 * time.Minute)) {
		t.Fatalf("1h window since %v", got.Windows.Hour.Since)
	}
	got = at(71 * time.Minute)
	requireWindow(t, "1h", got.Windows.Hour, none)
	requireWindow(t, "24h", got.Windows.Day, all)
	if got.Windows.Hour.LatencyMs.P50 != nil || got.Windows.Hour.SuccessRate != nil {
		t.Fatalf("empty 1h window has latency %v, success rate %v", got.Windows.Hour.LatencyMs.P50, got.Windows.Hour.SuccessRate)
	}

	// A day and more later the first hour is in 7d only.
	h.record(t0.Add(30*time.Hour), 200, "", time.Millisecond, 1, wal.OutcomeSuccess)
	got = at(30*time.Hour + time.Minute)
	one := windowWant{1, 1, "map[]"}
	requireWindow(t, "1h", got.Windows.Hour, one)
	requireWindow(t, "24h", got.Windows.Day, one)
	requireWindow(t, "7d", got.Windows.Week, windowWant{7, 5, "map[503:1 timeout:1]"})
	if !got.LastSuccessAt.Equal(t0.Add(30*time.Hour)) || !got.LastFailureAt.Equal(t0.Add(15*time.Minute)) {
		t.Fatalf("last success %v, last failure %v", got.LastSuccessAt, got.LastFailureAt)
	}

	// A week after the first hour began, it is out of 7d.
	got = at(7*24*time.Hour + 30*time.Minute)
	requireWindow(t, "7d", got.Windows.Week, one)
	requireWindow(t, "24h", got.Windows.Day, none)
	if !got.Windows.Week.Since.Equal(t0.Add(time.Hour)) {
		t.Fatalf("7d window since %v", got.Windows.Week.Since)
	}

	hours := func() string {
		var s string
		err := e.log.ScanHealth(ln.id, 0, math.MaxUint32, func(hour uint32, _ []byte) {
			s += fmt.Sprintf("+%dh ", int64(hour)-t0.Unix()/3600)
		})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	if got := hours(); got != "+0h +30h " {
		t.Fatalf("stored hours %s", got)
	}
	// Past eight days the first hour is deleted.
	at(8*24*time.Hour + 2*time.Hour)
	if got := hours(); got != "+30h " {
		t.Fatalf("stored hours after eight days %s", got)
	}
}

// TestHealthRestartSameHour: after a restart within the hour, the hour's
// stored part is added to what comes after, not overwritten by it.
func TestHealthRestartSameHour(t *testing.T) {
	t0 := time.Date(2030, 1, 7, 5, 0, 0, 0, time.UTC)
	dir := t.TempDir()
	clock := new(fakeClock)
	clock.set(t0.Add(5 * time.Minute))
	_, ln, stop := clockEngine(t, dir, clock, true)
	ln.health.record(t0.Add(4*time.Minute), 200, "", time.Millisecond, 1, wal.OutcomeSuccess)
	ln.health.record(t0.Add(4*time.Minute), 500, "", time.Millisecond, 1, wal.OutcomeRetry)
	stop()

	for i, want := range []windowWant{{3, 2, "map[500:1]"}, {4, 3, "map[500:1]"}} {
		clock.set(t0.Add(time.Duration(20+i) * time.Minute))
		e, ln, stop := clockEngine(t, dir, clock, false)
		ln.health.record(clock.now(), 200, "", time.Millisecond, 1, wal.OutcomeSuccess)
		e.flushHealth(clock.now())
		got, err := e.endpointHealth(ln, clock.now())
		if err != nil {
			t.Fatal(err)
		}
		requireWindow(t, fmt.Sprint("24h after restart ", i+1), got.Windows.Day, want)
		// The 1 h window restarts empty: only hours are on disk.
		requireWindow(t, fmt.Sprint("1h after restart ", i+1), got.Windows.Hour, windowWant{1, 1, "map[]"})
		stop()
	}
}

// TestFailKeyNames: every error class has its own failure key, named by
// failClassNames, and an unknown class is "other".
func TestFailKeyNames(t *testing.T) {
	f := func(class string) {
		t.Helper()
		k := failKey(0, class)
		if k == 0 || failKeyName(k) != class {
			t.Fatalf("failKey(0, %q) = %d, named %q", class, k, failKeyName(k))
		}
	}
	f(httpout.ErrClassTimeout)
	f(httpout.ErrClassRefused)
	f(httpout.ErrClassDNS)
	f(httpout.ErrClassTLS)
	f(httpout.ErrClassSSRF)
	f(httpout.ErrClassNetwork)
	f(httpout.ErrClassInvalidURL)
	f(httpout.ErrClassResponseHeadersTooLarge)
	if k := failKey(0, "no such class"); k != 0 || failKeyName(k) != "other" {
		t.Fatalf("an unknown class has key %d (%s); want 0 (other)", k, failKeyName(k))
	}
	if k := failKey(503, httpout.ErrClassTimeout); failKeyName(k) != "503" {
		t.Fatalf("a status is its own key; got %s", failKeyName(k))
	}
}
