package engine

import (
	"context"
	"testing"
	"time"

	"hookline/wal"
)

// BenchmarkTenantStats: a tenant of 1,000 endpoints, each with a busy
// record for every hour of the week on disk. The cost grows with endpoints
// × hours in the window, not with deliveries.
func BenchmarkTenantStats(b *testing.B) {
	const endpoints = 1000
	t0 := time.Date(2030, 1, 14, 0, 30, 0, 0, time.UTC)
	clock := new(fakeClock)
	clock.set(t0)
	e, _, _ := clockEngine(b, b.TempDir(), clock, true)
	for range endpoints - 1 {
		if _, err := e.CreateEndpoint(context.Background(), "t", EndpointInput{URL: ptrTo("http://127.0.0.1:9/"), Paused: ptrTo(true)}); err != nil {
			b.Fatal(err)
		}
	}
	var busy healthAgg
	busy.attempts, busy.succeeded, busy.first, busy.firstOk, busy.retried, busy.dead = 36_000, 35_000, 30_000, 29_500, 500, 20
	busy.lastOkMs, busy.lastFailMs = t0.UnixMilli(), t0.UnixMilli()
	busy.addFail(503, 900)
	busy.addFail(1, 100)
	for i := 5; i < 20; i++ {
		busy.lat[i] = uint64(1000 * i)
	}
	rec := busy.appendRecord(nil)
	now := uint32(t0.Unix() / 3600)
	var hours []wal.HealthHour
	for _, ln := range e.lanes {
		hours = hours[:0]
		for h := now - 7*24; h < now; h++ {
			hours = append(hours, wal.HealthHour{Endpoint: ln.id, Hour: h, Value: rec})
		}
		if err := e.log.PutHealth(hours); err != nil {
			b.Fatal(err)
		}
	}
	for _, w := range []StatsWindow{StatsHour, StatsDay, StatsWeek} {
		b.Run(string(w), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				st, err := e.TenantStats("t", w)
				if err != nil {
					b.Fatal(err)
				}
				if w != StatsHour && st.Total.Sent == 0 || len(st.Series) == 0 {
					b.Fatal("no deliveries or no series")
				}
			}
		})
	}
}
