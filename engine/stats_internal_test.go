package engine

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"hookline/wal"
)

// TestStatsTopFailures: at most five reasons, most first, ties by reason;
// the rest still count in the failed attempts.
func TestStatsTopFailures(t *testing.T) {
	var a healthAgg
	a.attempts = 40
	for i, k := range []uint16{500, 503, 1, 2, 404, 502, 0} {
		a.addFail(k, uint64([]int{3, 9, 3, 9, 1, 2, 3}[i]))
	}
	st := a.stats()
	if got := fmt.Sprint(st.TopFailures); got != "[{503 9} {refused 9} {500 3} {other 3} {timeout 3}]" {
		t.Fatalf("top failures %s", got)
	}
	if st.FailedAttempts != 40 || st.FirstAttemptSuccessRate != nil {
		t.Fatalf("stats %+v", st)
	}
}

// TestStatsMergedQuantiles: a total's quantiles are those of the
// endpoints' histograms merged, not an average of their quantiles.
func TestStatsMergedQuantiles(t *testing.T) {
	var fast, slow, total healthAgg
	fast.lat[latBin(10*time.Millisecond)] = 90
	slow.lat[latBin(2*time.Second)] = 10
	total.add(&fast)
	total.add(&slow)
	f := func(name string, got *float64, want time.Duration) {
		t.Helper()
		w := float64(want.Milliseconds())
		if got == nil || *got/w < 1/1.19 || *got/w > 1.19 {
			t.Fatalf("%s = %v ms; want %v within 19%%", name, got, want)
		}
	}
	st := total.stats()
	f("p50", st.LatencyMs.P50, 10*time.Millisecond)
	// The 95th response of 100 is one of the 10 slow ones.
	f("p95", st.LatencyMs.P95, 2*time.Second)
	f("fast p95", fast.stats().LatencyMs.P95, 10*time.Millisecond)
}

// TestStatsWindowsAndOldRecords: with the clock moved by hand, 1h holds the
// last hour's buckets and 24h the day's hours, an hour stored by version 1
// (before the delivery counters) adds its attempts with no deliveries, and
// a dead letter with no attempt counts alone.
func TestStatsWindowsAndOldRecords(t *testing.T) {
	t0 := time.Date(2030, 1, 7, 10, 0, 0, 0, time.UTC)
	clock := new(fakeClock)
	clock.set(t0)
	e, ln, _ := clockEngine(t, t.TempDir(), clock, true)
	// Three hours back, as a version 1 process left it.
	oldHour := uint32(t0.Unix()/3600) - 3
	if err := e.log.PutHealth([]wal.HealthHour{{Endpoint: ln.id, Hour: oldHour, Value: healthRecordV1Busy}}); err != nil {
		t.Fatal(err)
	}
	h := &ln.health
	h.record(t0.Add(time.Minute), 200, "", 10*time.Millisecond, 1, wal.OutcomeSuccess)
	h.record(t0.Add(2*time.Minute), 503, "", 30*time.Millisecond, 1, wal.OutcomeRetry)
	h.record(t0.Add(3*time.Minute), 200, "", 20*time.Millisecond, 2, wal.OutcomeSuccess)
	h.recordDead(t0.Add(4 * time.Minute))

	at := func(d time.Duration, w StatsWindow) DeliveryStats {
		t.Helper()
		clock.set(t0.Add(d))
		e.flushHealth(clock.now())
		st, err := e.TenantStats("t", w)
		if err != nil {
			t.Fatal(err)
		}
		if len(st.Endpoints) != 1 || st.Endpoints[0].EndpointID != ln.config().ep.ID || st.Endpoints[0].URL != "http://127.0.0.1:9/" {
			t.Fatalf("endpoints %+v", st.Endpoints)
		}
		if !reflect.DeepEqual(st.Endpoints[0].DeliveryStats, st.Total.DeliveryStats) {
			t.Fatalf("one endpoint's stats %+v are not the total %+v", st.Endpoints[0].DeliveryStats, st.Total)
		}
		return st.Total.DeliveryStats
	}
	f := func(name string, got DeliveryStats, sent, firstOk, retried, dead, attempts uint64, failures string) {
		t.Helper()
		if got.Sent != sent || got.FirstAttemptSucceeded != firstOk || got.Retried != retried || got.Dead != dead || got.Attempts != attempts || fmt.Sprint(got.TopFailures) != failures {
			t.Fatalf("%s: %+v; want sent %d, first ok %d, retried %d, dead %d, attempts %d, failures %s", name, got, sent, firstOk, retried, dead, attempts, failures)
		}
	}
	f("1h", at(10*time.Minute, StatsHour), 2, 1, 1, 1, 3, "[{503 1}]")
	f("24h", at(10*time.Minute, StatsDay), 2, 1, 1, 1, 13, "[{503 3} {timeout 1}]")
	if r := at(10*time.Minute, StatsDay).FirstAttemptSuccessRate; r == nil || *r != 0.5 {
		t.Fatalf("first attempt success rate %v", r)
	}
	// 70 minutes on, the buckets are out of 1h but their hour is in 24h.
	f("1h later", at(70*time.Minute, StatsHour), 0, 0, 0, 0, 0, "[]")
	f("24h later", at(70*time.Minute, StatsDay), 2, 1, 1, 1, 13, "[{503 3} {timeout 1}]")
	// A day on, only the week holds them.
	f("24h a day later", at(25*time.Hour, StatsDay), 0, 0, 0, 0, 0, "[]")
	f("7d a day later", at(25*time.Hour, StatsWeek), 2, 1, 1, 1, 13, "[{503 3} {timeout 1}]")

	if _, err := e.CreateTenant(context.Background(), TenantInput{ID: ptrTo("empty"), Name: ptrTo("E")}); err != nil {
		t.Fatal(err)
	}
	st, err := e.TenantStats("empty", StatsWeek)
	if err != nil || len(st.Endpoints) != 0 || st.Total.Attempts != 0 || st.Total.TopFailures == nil || st.Window != StatsWeek {
		t.Fatalf("empty tenant: %+v, %v", st, err)
	}
	// On the hour, the week is the 168 hours up to the one just begun: the
	// hour that began exactly seven days ago is out.
	if want := t0.Add(25*time.Hour - 7*24*time.Hour + time.Hour); !st.Since.Equal(want) {
		t.Fatalf("7d since %v; want %v", st.Since, want)
	}
}

// TestStatsSeries: with the clock moved by hand, the series holds the
// window's buckets oldest first, each with exactly the attempts made in
// it, summed over the tenant's endpoints, from the 10-minute buckets in
// memory (1h) or the hours in memory and on disk (24h, 7d); empty buckets
// are there with zeros; a bucket that began exactly a window ago is out;
// the buckets add up to the total.
func TestStatsSeries(t *testing.T) {
	t0 := time.Date(2030, 1, 7, 10, 0, 0, 0, time.UTC) // on the hour
	clock := new(fakeClock)
	clock.set(t0)
	e, a, _ := clockEngine(t, t.TempDir(), clock, true)
	if _, err := e.CreateEndpoint(context.Background(), "t", EndpointInput{URL: ptrTo("http://127.0.0.1:9/b"), Paused: ptrTo(true)}); err != nil {
		t.Fatal(err)
	}
	var b *Lane
	for _, ln := range e.lanes {
		if ln != a {
			b = ln
		}
	}
	// Hours stored by an earlier process: sent, first ok, retried, dead,
	// attempts, succeeded.
	stored := func(ln *Lane, back time.Duration, c [6]uint64) {
		t.Helper()
		var h healthAgg
		h.first, h.firstOk, h.retried, h.dead, h.attempts, h.succeeded = c[0], c[1], c[2], c[3], c[4], c[5]
		h.lat[latBin(40*time.Millisecond)] = c[5]
		if err := e.log.PutHealth([]wal.HealthHour{{Endpoint: ln.id, Hour: uint32(t0.Add(-back).Unix() / 3600), Value: h.appendRecord(nil)}}); err != nil {
			t.Fatal(err)
		}
	}
	stored(a, 3*time.Hour, [6]uint64{5, 4, 1, 0, 6, 5})
	stored(b, 3*time.Hour, [6]uint64{2, 0, 0, 2, 2, 0})
	stored(a, 30*time.Hour, [6]uint64{7, 7, 0, 0, 7, 7})
	stored(b, 167*time.Hour, [6]uint64{1, 1, 0, 0, 1, 1})
	stored(b, 168*time.Hour, [6]uint64{9, 9, 0, 0, 9, 9}) // a week and more ago
	// This hour's attempts, in memory.
	a.health.record(t0.Add(1*time.Minute), 200, "", 10*time.Millisecond, 1, wal.OutcomeSuccess)
	a.health.record(t0.Add(12*time.Minute), 503, "", 30*time.Millisecond, 1, wal.OutcomeRetry)
	b.health.record(t0.Add(13*time.Minute), 200, "", 20*time.Millisecond, 2, wal.OutcomeSuccess)
	b.health.recordDead(t0.Add(25 * time.Minute))
	b.health.record(t0.Add(55*time.Minute), 500, "", 5*time.Millisecond, 1, wal.OutcomeDead)

	stats := func(at time.Duration, w StatsWindow) TenantStats {
		t.Helper()
		clock.set(t0.Add(at))
		st, err := e.TenantStats("t", w)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	// series checks the buckets' number, starts and sum, and gives the
	// non-empty ones as "offset from since: sent ok retried dead attempts
	// failed".
	series := func(name string, st TenantStats, n int, unit time.Duration) string {
		t.Helper()
		if len(st.Series) != n {
			t.Fatalf("%s: %d buckets; want %d", name, len(st.Series), n)
		}
		var sum DeliveryStats
		var s string
		for i, bk := range st.Series {
			if want := st.Since.Add(time.Duration(i) * unit); !bk.Start.Equal(want) || bk.Start.Location() != time.UTC {
				t.Fatalf("%s: bucket %d starts %v; want %v", name, i, bk.Start, want)
			}
			sum.Sent += bk.Sent
			sum.FirstAttemptSucceeded += bk.FirstAttemptSucceeded
			sum.Retried += bk.Retried
			sum.Dead += bk.Dead
			sum.Attempts += bk.Attempts
			sum.FailedAttempts += bk.FailedAttempts
			// Every attempt here got a response.
			if (bk.LatencyMs.P50 == nil) != (bk.Attempts == 0) {
				t.Fatalf("%s: bucket %d latency %v with %d attempts", name, i, bk.LatencyMs.P50, bk.Attempts)
			}
			if bk != (StatsBucket{Start: bk.Start, LatencyMs: bk.LatencyMs}) {
				s += fmt.Sprintf("%v: %d %d %d %d %d %d; ", bk.Start.Sub(st.Since), bk.Sent, bk.FirstAttemptSucceeded, bk.Retried, bk.Dead, bk.Attempts, bk.FailedAttempts)
			}
		}
		tot := st.Total
		if sum.Sent != tot.Sent || sum.FirstAttemptSucceeded != tot.FirstAttemptSucceeded || sum.Retried != tot.Retried || sum.Dead != tot.Dead || sum.Attempts != tot.Attempts || sum.FailedAttempts != tot.FailedAttempts {
			t.Fatalf("%s: buckets sum to %+v; total %+v", name, sum, tot)
		}
		return s
	}
	want := func(name, got, want string) {
		t.Helper()
		if got != want {
			t.Fatalf("%s:\n got %s\nwant %s", name, got, want)
		}
	}

	// 10:58: the hour's six buckets, 10:00 to 10:50.
	st := stats(58*time.Minute, StatsHour)
	if !st.Since.Equal(t0) {
		t.Fatalf("1h since %v", st.Since)
	}
	want("1h", series("1h", st, 6, 10*time.Minute), "0s: 1 1 0 0 1 0; 10m0s: 1 0 1 0 2 1; 20m0s: 0 0 0 1 0 0; 50m0s: 1 0 0 1 1 1; ")
	if p := st.Series[0].LatencyMs.P50; p == nil || *p < 10/1.19 || *p > 10*1.19 {
		t.Fatalf("10:00 bucket p50 %v; want 10 ms", p)
	}
	if st.Series[2].LatencyMs.P50 != nil || st.Series[3].LatencyMs.P95 != nil {
		t.Fatalf("latency without responses: %+v", st.Series[2:4])
	}
	// At 11:00 sharp the 10:00 bucket began an hour ago: out.
	want("1h at 11:00", series("1h at 11:00", stats(60*time.Minute, StatsHour), 6, 10*time.Minute),
		"0s: 1 0 1 0 2 1; 10m0s: 0 0 0 1 0 0; 40m0s: 1 0 0 1 1 1; ")
	want("1h a millisecond before", series("1h at 10:59:59.999", stats(time.Hour-time.Millisecond, StatsHour), 6, 10*time.Minute),
		"0s: 1 1 0 0 1 0; 10m0s: 1 0 1 0 2 1; 20m0s: 0 0 0 1 0 0; 50m0s: 1 0 0 1 1 1; ")

	// 24h at 10:58: the hours from 11:00 yesterday; 07:00 from disk (both
	// endpoints), 10:00 from memory.
	st = stats(58*time.Minute, StatsDay)
	want("24h", series("24h", st, 24, time.Hour), "20h0m0s: 7 4 1 2 8 3; 23h0m0s: 3 1 1 2 4 2; ")
	if p := st.Series[20].LatencyMs.P95; p == nil || *p < 40/1.19 || *p > 40*1.19 {
		t.Fatalf("07:00 bucket p95 %v; want 40 ms", p)
	}
	// 7d: a week of hours, the oldest from exactly 167 hours back; the
	// one 168 hours back is out.
	want("7d", series("7d", stats(58*time.Minute, StatsWeek), 168, time.Hour),
		"0s: 1 1 0 0 1 0; 137h0m0s: 7 7 0 0 7 0; 164h0m0s: 7 4 1 2 8 3; 167h0m0s: 3 1 1 2 4 2; ")

	// The 10:00 hour, flushed, is read from disk once its buckets are gone.
	e.flushHealth(clock.now())
	want("24h a day on", series("24h a day on", stats(24*time.Hour-time.Millisecond, StatsDay), 24, time.Hour), "0s: 3 1 1 2 4 2; ")
	want("24h at 10:00 a day on", series("24h at 10:00 a day on", stats(24*time.Hour, StatsDay), 24, time.Hour), "")
	want("7d a day on", series("7d a day on", stats(24*time.Hour, StatsWeek), 168, time.Hour),
		"113h0m0s: 7 7 0 0 7 0; 140h0m0s: 7 4 1 2 8 3; 143h0m0s: 3 1 1 2 4 2; ")

	// A tenant without endpoints: every bucket, all zero.
	if _, err := e.CreateTenant(context.Background(), TenantInput{ID: ptrTo("empty"), Name: ptrTo("E")}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		w    StatsWindow
		n    int
		unit time.Duration
	}{{StatsHour, 6, 10 * time.Minute}, {StatsDay, 24, time.Hour}, {StatsWeek, 168, time.Hour}} {
		clock.set(t0.Add(90 * time.Minute))
		st, err := e.TenantStats("empty", c.w)
		if err != nil {
			t.Fatal(err)
		}
		want("empty "+string(c.w), series("empty "+string(c.w), st, c.n, c.unit), "")
		if last := st.Series[c.n-1].Start; last.After(clock.now()) || !last.Add(c.unit).After(clock.now()) {
			t.Fatalf("empty %s: the last bucket starts %v, not the one holding %v", c.w, last, clock.now())
		}
	}
}
