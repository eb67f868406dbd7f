package engine

import (
	"testing"
	"time"
)

// BenchmarkPublishedAddParallel is the hot path's cost of counting a
// Publish call: one atomic add into a bucket every publisher shares.
func BenchmarkPublishedAddParallel(b *testing.B) {
	var p tenantPublished
	t0 := time.Now()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			p.add(t0, 1)
		}
	})
}
