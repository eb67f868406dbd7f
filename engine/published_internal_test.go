package engine

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"hookline/wal"
)

// publishN publishes n events to tenant t in one call, with idempotency
// key key on the first if not empty.
func publishN(t testing.TB, e *Engine, n int, key string) {
	t.Helper()
	evs := make([]PublishEvent, n)
	for i := range evs {
		evs[i] = PublishEvent{Type: "a", Payload: []byte(`1`)}
	}
	evs[0].IdempotencyKey = key
	if err := e.Publish("t", evs, make([]wal.AppendResult, n)); err != nil {
		t.Fatal(err)
	}
}

// requirePublished checks the tenant's published total over w and its
// series, as "i:n" for the buckets that have any.
func requirePublished(t testing.TB, e *Engine, name string, w StatsWindow, total uint64, series string) {
	t.Helper()
	st, err := e.TenantStats("t", w)
	if err != nil {
		t.Fatal(err)
	}
	got := ""
	var sum uint64
	for i, b := range st.Series {
		sum += b.Published
		if b.Published > 0 {
			got += fmt.Sprintf("%d:%d ", i, b.Published)
		}
	}
	if st.Total.Published != total || got != series || sum != total {
		t.Fatalf("%s %s: published %d, series %q (sum %d); want %d, %q", name, w, st.Total.Published, got, sum, total, series)
	}
}

// TestPublishedWindows: accepted events count in their 10-minute bucket
// for 1h and in their hour for 24h and 7d, from memory and then from the
// wal; an event answered for a repeated idempotency key does not count.
func TestPublishedWindows(t *testing.T) {
	t0 := time.Date(2030, 1, 7, 5, 0, 0, 0, time.UTC)
	clock := new(fakeClock)
	clock.set(t0.Add(5 * time.Minute))
	e, _, _ := clockEngine(t, t.TempDir(), clock, true)

	publishN(t, e, 2, "")
	publishN(t, e, 1, "k1")
	publishN(t, e, 1, "k1") // a duplicate: the same event again
	publishN(t, e, 3, "k1") // its first event is that duplicate too
	requirePublished(t, e, "at +5m", StatsHour, 5, "5:5 ")
	requirePublished(t, e, "at +5m", StatsDay, 5, "23:5 ")

	clock.set(t0.Add(25 * time.Minute))
	publishN(t, e, 4, "")
	requirePublished(t, e, "at +25m", StatsHour, 9, "3:5 5:4 ")
	requirePublished(t, e, "at +25m", StatsWeek, 9, "167:9 ")
	e.flushHealth(clock.now())

	// Past the ring: the hour comes from the wal.
	clock.set(t0.Add(2*time.Hour + 5*time.Minute))
	publishN(t, e, 1, "")
	requirePublished(t, e, "at +2h5m", StatsHour, 1, "5:1 ")
	requirePublished(t, e, "at +2h5m", StatsDay, 10, "21:9 23:1 ")
	requirePublished(t, e, "at +2h5m", StatsWeek, 10, "165:9 167:1 ")
	e.flushHealth(clock.now())

	// A day later the first hour has left the 24 h window, not the 7 d one.
	clock.set(t0.Add(24*time.Hour + 30*time.Minute))
	requirePublished(t, e, "a day on", StatsDay, 1, "1:1 ")
	requirePublished(t, e, "a day on", StatsWeek, 10, "143:9 145:1 ")
}

// TestPublishedRestart: the hour in progress at a restart is read back
// and added to, not overwritten; the 1 h window starts empty.
func TestPublishedRestart(t *testing.T) {
	t0 := time.Date(2030, 1, 7, 5, 0, 0, 0, time.UTC)
	dir := t.TempDir()
	clock := new(fakeClock)
	clock.set(t0.Add(5 * time.Minute))
	e, _, stop := clockEngine(t, dir, clock, true)
	publishN(t, e, 3, "k1")
	stop()

	for i := range 2 {
		clock.set(t0.Add(time.Duration(20+i) * time.Minute))
		e, _, stop := clockEngine(t, dir, clock, false)
		publishN(t, e, 1, "k1") // still a duplicate after the restart
		publishN(t, e, 2, "")
		e.flushHealth(clock.now())
		requirePublished(t, e, fmt.Sprint("after restart ", i+1), StatsDay, uint64(5+2*i), fmt.Sprintf("23:%d ", 5+2*i))
		requirePublished(t, e, fmt.Sprint("after restart ", i+1), StatsHour, 2, "5:2 ")
		stop()
	}
	e, _, _ = clockEngine(t, dir, clock, false)
	requirePublished(t, e, "after the last restart", StatsWeek, 7, "167:7 ")
}

// TestPublishedTenantDeleted: deleting a tenant deletes its counts, so a
// tenant made again under its name starts from none; the hourly pass
// deletes hours past keeping.
func TestPublishedTenantDeleted(t *testing.T) {
	t0 := time.Date(2030, 1, 7, 5, 0, 0, 0, time.UTC)
	clock := new(fakeClock)
	clock.set(t0.Add(5 * time.Minute))
	e, _, _ := clockEngine(t, t.TempDir(), clock, true)
	stored := func() (n uint64) {
		t.Helper()
		if err := e.log.ScanPublished("t", 0, 1<<32-1, func(_ uint32, c uint64) { n += c }); err != nil {
			t.Fatal(err)
		}
		return n
	}
	publishN(t, e, 3, "")
	e.flushHealth(clock.now())
	if n := stored(); n != 3 {
		t.Fatalf("stored %d; want 3", n)
	}
	if err := e.DeleteTenant(context.Background(), "t"); err != nil {
		t.Fatal(err)
	}
	e.flushHealth(clock.now())
	if n := stored(); n != 0 {
		t.Fatalf("stored %d after the tenant's deletion", n)
	}
	if _, err := e.CreateTenant(context.Background(), TenantInput{ID: ptrTo("t"), Name: ptrTo("T")}); err != nil {
		t.Fatal(err)
	}
	requirePublished(t, e, "made again", StatsWeek, 0, "")

	publishN(t, e, 2, "")
	e.flushHealth(clock.now())
	clock.set(t0.Add(8*24*time.Hour + 2*time.Hour))
	publishN(t, e, 1, "")
	e.flushHealth(clock.now())
	if n := stored(); n != 1 {
		t.Fatalf("stored %d after eight days; want the new hour's 1", n)
	}
}

// TestPublishedAddNoAlloc: counting allocates nothing.
func TestPublishedAddNoAlloc(t *testing.T) {
	var p tenantPublished
	t0 := time.Now()
	if allocs := testing.AllocsPerRun(1000, func() { p.add(t0, 3) }); allocs != 0 {
		t.Fatalf("add allocates %.1f times per call", allocs)
	}
}

// TestPublishedAddConcurrent: adds racing each other and a bucket's
// claim 70 minutes on all count, each in its bucket.
func TestPublishedAddConcurrent(t *testing.T) {
	t0 := time.Date(2030, 1, 7, 5, 0, 0, 0, time.UTC)
	var p tenantPublished
	p.add(t0, 5) // the slot that t0+70m claims
	later := t0.Add(healthSlots * healthSlotSecs * time.Second)
	var wg sync.WaitGroup
	for g := range 6 { // buckets 1-6 on, each its own slot
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 1000 {
				p.add(later, 1)
				p.add(later.Add(time.Duration(g+1)*10*time.Minute), 2)
			}
		}()
	}
	wg.Wait()
	cur := uint32(later.UnixMilli()/slotMs) + 6
	nums, ns := p.snapshot(cur)
	got := map[uint32]uint64{}
	for i := range nums {
		if ns[i] > 0 {
			got[nums[i]-uint32(later.UnixMilli()/slotMs)] = ns[i]
		}
	}
	want := map[uint32]uint64{0: 6000, 1: 2000, 2: 2000, 3: 2000, 4: 2000, 5: 2000, 6: 2000}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("buckets %v; want %v", got, want)
	}
}
