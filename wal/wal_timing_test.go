package wal

import (
	"bytes"
	"fmt"
	"sync/atomic"
	"testing"
)

// Benchmarks run on a real directory (b.TempDir), so Append numbers include
// the fsync of the disk under the temp dir.

func benchLog(b *testing.B, opts *Options) *Log {
	b.Helper()
	l, err := Open(b.TempDir(), opts)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = l.Close() })
	return l
}

// BenchmarkAppendSingle: many publishers, one event per Append: the group
// commit case. SetParallelism(8) runs 8*GOMAXPROCS publishers.
func BenchmarkAppendSingle(b *testing.B) {
	l := benchLog(b, nil)
	body := bytes.Repeat([]byte("x"), 600)
	ep := testEndpoint(1)
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		evs := []AppendEvent{{Tenant: "acme", Type: "order.created", TimeMs: 1, Body: body, Endpoints: []ID{ep}}}
		res := make([]AppendResult, 1)
		for pb.Next() {
			if err := l.Append(evs, res); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkAppendBatch100: one publisher, 100 events per Append.
func BenchmarkAppendBatch100(b *testing.B) {
	l := benchLog(b, nil)
	body := bytes.Repeat([]byte("x"), 600)
	ep := testEndpoint(1)
	evs := make([]AppendEvent, 100)
	for i := range evs {
		evs[i] = AppendEvent{Tenant: "acme", Type: "order.created", TimeMs: 1, Body: body, Endpoints: []ID{ep}}
	}
	res := make([]AppendResult, len(evs))
	b.ReportAllocs()
	b.SetBytes(int64(len(evs) * len(body)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := l.Append(evs, res); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(evs))/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkRecordAttempt: the steady state of a retrying delivery: delete its
// retry entry, write the next one and the attempt record, in one unsynced batch.
func BenchmarkRecordAttempt(b *testing.B) {
	const pool = 1000
	l := benchLog(b, nil)
	ep := testEndpoint(1)
	evs := make([]AppendEvent, pool)
	for i := range evs {
		evs[i] = mkEvent("acme", []byte("x"), ep)
	}
	res := make([]AppendResult, pool)
	if err := l.Append(evs, res); err != nil {
		b.Fatal(err)
	}
	due := make([]int64, pool) // 0: still in the queue
	resp := bytes.Repeat([]byte("h"), 200)
	m := &Move{Endpoint: ep}
	b.ReportAllocs()
	b.SetBytes(int64(len(resp)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		j := i % pool
		next := int64(i + 1)
		m.Event, m.FromDueMs = res[j].ID, due[j]
		m.Attempt = Attempt{TimeMs: next, Attempt: i/pool + 1, Outcome: OutcomeRetry, Status: 503, LatencyUs: 800, NextMs: next, Response: resp}
		if err := l.RecordAttempt(m); err != nil {
			b.Fatal(err)
		}
		due[j] = next
	}
}

func BenchmarkReadEvent(b *testing.B) {
	f := func(name string, body []byte) {
		b.Run(name, func(b *testing.B) {
			l := benchLog(b, nil)
			const n = 1000
			evs := make([]AppendEvent, n)
			for i := range evs {
				evs[i] = mkEvent("acme", body, testEndpoint(1))
			}
			res := make([]AppendResult, n)
			if err := l.Append(evs, res); err != nil {
				b.Fatal(err)
			}
			var r EventRecord
			var buf EventBuf
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := l.ReadEvent(res[i%n].ID, &r, &buf); err != nil {
					b.Fatal(err)
				}
			}
			if !bytes.Equal(r.Body, body) {
				b.Fatal("wrong body")
			}
		})
	}
	f("plain600", bytes.Repeat([]byte("x"), 600))
	f("zstd8KiB", compressible(8<<10))
}

// BenchmarkReadEventParallel: delivery lanes read concurrently.
func BenchmarkReadEventParallel(b *testing.B) {
	l := benchLog(b, nil)
	body := compressible(8 << 10)
	const n = 1000
	evs := make([]AppendEvent, n)
	for i := range evs {
		evs[i] = mkEvent("acme", body, testEndpoint(1))
	}
	res := make([]AppendResult, n)
	if err := l.Append(evs, res); err != nil {
		b.Fatal(err)
	}
	var next atomic.Int64
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		var r EventRecord
		var buf EventBuf
		for pb.Next() {
			if err := l.ReadEvent(res[next.Add(1)%n].ID, &r, &buf); err != nil {
				b.Error(fmt.Errorf("read: %w", err))
				return
			}
		}
	})
}

// BenchmarkBacklogRead: a lane reading its backlog's events from sstables,
// 256 at a time (engine's readAhead): one point Get each, against one
// ReadRawEvents per 256 and a decode each. An op is one event.
func BenchmarkBacklogRead(b *testing.B) {
	l := benchLog(b, nil)
	const n, ahead = 50_000, 256
	body := bytes.Repeat([]byte(`{"field":"value","n":12345},`), 25) // ~700 bytes
	ids := make([]ID, 0, n)
	evs := make([]AppendEvent, 100)
	res := make([]AppendResult, 100)
	for len(ids) < n {
		for i := range evs {
			evs[i] = mkEvent("acme", body, testEndpoint(1))
		}
		if err := l.Append(evs, res); err != nil {
			b.Fatal(err)
		}
		for _, r := range res {
			ids = append(ids, r.ID)
		}
	}
	if err := l.db.Flush(); err != nil {
		b.Fatal(err)
	}
	b.Run("get", func(b *testing.B) {
		var r EventRecord
		var buf EventBuf
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if err := l.ReadEvent(ids[i%n], &r, &buf); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("iterator", func(b *testing.B) {
		var r EventRecord
		var buf EventBuf
		var raw RawEvents
		b.ReportAllocs()
		for i := 0; i < b.N; i += ahead {
			start := i % n
			chunk := ids[start:min(start+ahead, n)]
			if err := l.ReadRawEvents(chunk, &raw); err != nil {
				b.Fatal(err)
			}
			for j := range chunk {
				if err := l.DecodeEvent(chunk[j], raw.Get(j), &r, &buf); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}
