package wal

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// BenchmarkListDeliveries lists pages of 100 out of one endpoint's history
// of 10,000,000 deliveries (HOOKLINE_BENCH_DELIVERIES sets another count):
// 90% succeeded, 5% retrying, 4% dead, 1% pending, each with its attempt
// records, on a real directory, written in bulk once per run. The target
// is under 50 ms per page.
func BenchmarkListDeliveries(b *testing.B) {
	n := 10_000_000
	if s := os.Getenv("HOOKLINE_BENCH_DELIVERIES"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	l, err := Open(b.TempDir(), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	ep := testEndpoint(1)
	start := time.Now()
	ids := fillDeliveries(b, l, n, func(i int) ([]ID, int) { return []ID{ep}, i % 100 })
	b.Logf("%d deliveries written in %s", n, time.Since(start).Round(time.Second))
	mid := ids[len(ids)/2]

	page := func(b *testing.B, q DeliveryQuery) {
		for b.Loop() {
			got := 0
			if _, err := l.ListDeliveries(q, func(*Delivery) bool { got++; return got < 100 }); err != nil {
				b.Fatal(err)
			}
			if got != 100 {
				b.Fatalf("page of %d rows", got)
			}
		}
	}
	b.Run("newest", func(b *testing.B) { page(b, DeliveryQuery{Endpoint: ep}) })
	b.Run("middle", func(b *testing.B) { page(b, DeliveryQuery{Endpoint: ep, Before: mid}) })
	b.Run("succeeded", func(b *testing.B) { page(b, DeliveryQuery{Endpoint: ep, Status: StatusSucceeded, Before: mid}) })
	b.Run("retrying-5pct", func(b *testing.B) { page(b, DeliveryQuery{Endpoint: ep, Status: StatusRetrying, Before: mid}) })
	b.Run("dead-4pct", func(b *testing.B) { page(b, DeliveryQuery{Endpoint: ep, Status: StatusDead, Before: mid}) })
	b.Run("pending-1pct", func(b *testing.B) { page(b, DeliveryQuery{Endpoint: ep, Status: StatusPending, Before: mid}) })
	b.Run("time-range", func(b *testing.B) {
		page(b, DeliveryQuery{Endpoint: ep, After: ids[len(ids)/4], Before: mid})
	})
}

// fillDeliveries writes the keys the wal would have written for n events,
// event i delivered to the endpoints plan(i) names with the status it
// gives (see fillDelivery), in large unsynced batches (through
// RecordAttempt it would take hours). Event IDs are spread over the last
// 30 days.
func fillDeliveries(b *testing.B, l *Log, n int, plan func(i int) (eps []ID, r int)) []ID {
	ids := make([]ID, 0, n)
	t0 := time.Now().Add(-30 * 24 * time.Hour)
	step := 30 * 24 * time.Hour / time.Duration(n)
	var g idGen
	batch := l.db.NewBatch()
	var k, v []byte
	for i := range n {
		id := g.next(t0.Add(time.Duration(i) * step))
		ids = append(ids, id)
		set := func(key, val []byte) {
			if err := batch.Set(key, val, nil); err != nil {
				b.Fatal(err)
			}
		}
		eps, r := plan(i)
		for _, ep := range eps {
			fillDelivery(r, ep, id, set, &k, &v)
		}
		if batch.Len() > 8<<20 {
			if err := batch.Commit(pebble.NoSync); err != nil {
				b.Fatal(err)
			}
			batch = l.db.NewBatch()
		}
	}
	if err := batch.Commit(pebble.Sync); err != nil {
		b.Fatal(err)
	}
	// Read from sstables, as a long-running server would, not memtables.
	if err := l.db.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := l.db.Compact(context.Background(), []byte{0}, []byte{0xff}, true); err != nil {
		b.Fatal(err)
	}
	return ids
}

// fillDelivery writes a delivery's keys through set, with its attempt
// records; r from 0 to 99 picks its status so that r spread evenly gives
// 90% succeeded, 5% retrying, 4% dead, 1% pending.
func fillDelivery(r int, ep, id ID, set func(key, val []byte), k, v *[]byte) {
	att := func(a Attempt) {
		*k = attemptKey((*k)[:0], ep, id, a.Attempt)
		*v = appendAttempt((*v)[:0], &a)
		set(*k, *v)
	}
	switch {
	case r < 90:
		att(Attempt{Attempt: 1, Outcome: OutcomeSuccess, Status: 200, TimeMs: 1, LatencyUs: 900, Response: []byte("ok")})
	case r < 95:
		att(Attempt{Attempt: 1, Outcome: OutcomeRetry, Status: 503, TimeMs: 1, NextMs: 2})
		att(Attempt{Attempt: 2, Outcome: OutcomeRetry, Status: 503, TimeMs: 2, NextMs: 3})
	case r < 99:
		att(Attempt{Attempt: 1, Outcome: OutcomeDead, Status: 500, TimeMs: 1})
		set(deadKey((*k)[:0], ep, id), []byte{1, 1})
	default:
		set(queueKey((*k)[:0], ep, id), nil)
	}
}
