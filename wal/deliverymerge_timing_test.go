package wal

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// BenchmarkListMergedDeliveries lists pages of 100 out of one tenant's
// 10,000,000 deliveries (HOOKLINE_BENCH_DELIVERIES sets another count)
// spread round-robin over 20 endpoints (HOOKLINE_BENCH_ENDPOINTS), one
// event in 50 delivered to two of them (ties), beside another tenant's
// 2,000,000 on 5 endpoints whose keys interleave with the first's; each
// endpoint sees the mix of BenchmarkListDeliveries (90% succeeded, 5%
// retrying, 4% dead, 1% pending). The store is written in bulk and
// compacted once per run, or kept and reused across runs under
// HOOKLINE_BENCH_CACHE when that names a directory.
func BenchmarkListMergedDeliveries(b *testing.B) {
	n, k := 10_000_000, 20
	if s := os.Getenv("HOOKLINE_BENCH_DELIVERIES"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	if s := os.Getenv("HOOKLINE_BENCH_ENDPOINTS"); s != "" {
		k, _ = strconv.Atoi(s)
	}
	var eps, noise []ID
	for i := range k + 5 {
		// Two bytes of index, so the tenants' endpoints interleave in
		// key order: noise sits between the tenant's.
		ep := testEndpoint(byte(i))
		ep[14] = byte(i >> 8)
		if i%(k/5+1) == 1 && len(noise) < 5 {
			noise = append(noise, ep)
		} else {
			eps = append(eps, ep)
		}
	}
	eps = eps[:k]
	l, mid := mergedBenchLog(b, n, eps, noise)
	defer l.Close()

	page := func(b *testing.B, q MergedQuery) {
		b.ReportAllocs()
		for b.Loop() {
			got := 0
			if _, err := l.ListMergedDeliveries(q, func(*Delivery) bool { got++; return got < 100 }); err != nil {
				b.Fatal(err)
			}
			if got != 100 {
				b.Fatalf("page of %d rows", got)
			}
		}
	}
	deep := Position{Event: mid, Endpoint: eps[k/2]}
	b.Run("newest", func(b *testing.B) { page(b, MergedQuery{Endpoints: eps}) })
	b.Run("deep-cursor", func(b *testing.B) { page(b, MergedQuery{Endpoints: eps, Before: deep}) })
	b.Run("dead-4pct", func(b *testing.B) { page(b, MergedQuery{Endpoints: eps, Status: StatusDead}) })
	b.Run("dead-4pct-deep", func(b *testing.B) { page(b, MergedQuery{Endpoints: eps, Status: StatusDead, Before: deep}) })
	b.Run("retrying-5pct-deep", func(b *testing.B) { page(b, MergedQuery{Endpoints: eps, Status: StatusRetrying, Before: deep}) })
	b.Run("pending-1pct-deep", func(b *testing.B) { page(b, MergedQuery{Endpoints: eps, Status: StatusPending, Before: deep}) })
	b.Run("endpoint", func(b *testing.B) { page(b, MergedQuery{Endpoints: eps[3:4]}) })
	b.Run("endpoint-deep", func(b *testing.B) { page(b, MergedQuery{Endpoints: eps[3:4], Before: deep}) })
	b.Run("time-range", func(b *testing.B) {
		page(b, MergedQuery{Endpoints: eps, After: IDAt(mid.Time().Add(-24 * time.Hour).UnixMilli()), Before: Position{Event: mid}})
	})
	// The same endpoint through the per-endpoint listing, for comparison.
	b.Run("one-endpoint-listing-deep", func(b *testing.B) {
		for b.Loop() {
			got := 0
			if _, err := l.ListDeliveries(DeliveryQuery{Endpoint: eps[3], Before: mid}, func(*Delivery) bool { got++; return got < 100 }); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// mergedBenchLog opens the store of BenchmarkListMergedDeliveries, written
// now or reused from HOOKLINE_BENCH_CACHE, and returns it with the event
// halfway through its history.
func mergedBenchLog(b *testing.B, n int, eps, noise []ID) (*Log, ID) {
	dir := b.TempDir()
	cache := os.Getenv("HOOKLINE_BENCH_CACHE")
	var done string
	if cache != "" {
		dir = filepath.Join(cache, "merged-v2-"+strconv.Itoa(n)+"-"+strconv.Itoa(len(eps)))
		done = dir + ".mid" // written last: the store in dir is whole
		if s, err := os.ReadFile(done); err == nil {
			mid, err := ParseID(string(s))
			if err != nil {
				b.Fatal(err)
			}
			l, err := Open(dir, nil)
			if err != nil {
				b.Fatal(err)
			}
			b.Logf("reusing %s", dir)
			return l, mid
		}
		if err := os.RemoveAll(dir); err != nil {
			b.Fatal(err)
		}
	}
	l, err := Open(dir, nil)
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	k := len(eps)
	// The tenant's jth event goes to endpoint j%k with a status that
	// cycles through the mix along each endpoint's history (7 is prime to
	// 100) and is shifted from one endpoint to the next, so statuses do
	// not line up in time across endpoints; every sixth event is the
	// other tenant's.
	total := n * 6 / 5
	ids := fillDeliveries(b, l, total, func(i int) ([]ID, int) {
		if i%6 == 5 {
			return noise[i%len(noise) : i%len(noise)+1], i % 100
		}
		j := i - i/6
		ep, r := eps[j%k], (j/k*7+j%k*13)%100
		if j%50 == 0 {
			return []ID{ep, eps[(j+1)%k]}, r
		}
		return []ID{ep}, r
	})
	b.Logf("%d events to %d endpoints written in %s", total, k+len(noise), time.Since(start).Round(time.Second))
	mid := ids[len(ids)/2]
	if done != "" {
		if err := os.WriteFile(done, []byte(mid.String()), 0o600); err != nil {
			b.Fatal(err)
		}
	}
	return l, mid
}
