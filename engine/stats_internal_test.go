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
		if !reflect.DeepEqual(st.Endpoints[0].DeliveryStats, st.Total) {
			t.Fatalf("one endpoint's stats %+v are not the total %+v", st.Endpoints[0].DeliveryStats, st.Total)
		}
		return st.Total
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
	if want := t0.Add(25*time.Hour - 7*24*time.Hour); !st.Since.Equal(want) {
		t.Fatalf("7d since %v; want %v", st.Since, want)
	}
}
