package wal

import (
	"fmt"
	"testing"

	"github.com/bits-and-blooms/bloom/v3"
)

// BenchmarkIdemFilterMiss: the filter's answer for a fresh key, the case
// it exists for. A lookup tests every segment, so its cost grows with
// their number:
//   - "64Ki": a server's first keys, one segment.
//   - "ramp-10M": 10 million keys written from an empty store, the
//     segments growing with them.
//   - "steady-10M": 10 million live keys at a steady rate, with 30 days
//     retained and a retention pass a day, after 60 days.
//   - "days-10M": for comparison, the design not taken, a segment per
//     day for 30 days.
func BenchmarkIdemFilterMiss(b *testing.B) {
	const dayMs = 24 * 60 * 60 * 1000
	f := func(name string, fill func(fl *idemFilter)) {
		b.Run(name, func(b *testing.B) {
			fl := newIdemFilter(idemFilterMinKeys)
			fill(fl)
			keys := make([][]byte, 1<<16)
			for i := range keys {
				keys[i] = fmt.Appendf(nil, "acme\x00\x01src\x00evt_fresh_%d", i)
			}
			st := fl.stats()
			b.ReportAllocs()
			b.ResetTimer()
			hits := 0
			for i := 0; i < b.N; i++ {
				if fl.mayContain(keys[i&(len(keys)-1)]) {
					hits++
				}
			}
			b.ReportMetric(float64(hits)/float64(b.N), "fp/op")
			b.ReportMetric(float64(st.Segments), "segments")
			b.ReportMetric(float64(st.Bytes)/(1<<20), "MiB")
		})
	}
	// days keys over days days, a retention pass with a cutoff of keep
	// days after each (keep 0: none).
	spread := func(fl *idemFilter, days, keep, keys int) {
		perDay := keys / days
		for d := 0; d < days; d++ {
			for i := 0; i < perDay; i++ {
				ev := IDAt(int64(d)*dayMs + int64(i)*dayMs/int64(perDay))
				fl.add(fmt.Appendf(nil, "acme\x00\x01src\x00evt_%d_%d", d, i), ev)
			}
			if keep > 0 {
				fl.expire(int64(d+1-keep) * dayMs)
			}
		}
	}
	f("64Ki", func(fl *idemFilter) { spread(fl, 1, 0, 1<<16) })
	f("ramp-10M", func(fl *idemFilter) { spread(fl, 1, 0, 10_000_000) })
	f("steady-10M", func(fl *idemFilter) { spread(fl, 60, 30, 20_000_000) })
	f("days-10M", func(fl *idemFilter) {
		perDay := uint(10_000_000 / 30)
		for d := 0; d < 30; d++ {
			s := &idemSegment{plan: perDay, bf: bloom.New(perDay*idemFilterBitsPerKey, idemFilterHashes)}
			for i := uint(0); i < perDay; i++ {
				s.bf.Add(fmt.Appendf(nil, "acme\x00\x01src\x00evt_%d_%d", d, i))
				s.keys++
			}
			fl.segs = append(fl.segs, s)
		}
	})
}

// BenchmarkIdemFilterAdd: what the writer and the scan at Open pay per key.
func BenchmarkIdemFilterAdd(b *testing.B) {
	fl := newIdemFilter(idemFilterMinKeys)
	keys := make([][]byte, 1<<16)
	for i := range keys {
		keys[i] = fmt.Appendf(nil, "acme\x00\x01src\x00evt_%d", i)
	}
	ev := IDAt(0)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		fl.add(keys[i&(len(keys)-1)], ev)
	}
}
