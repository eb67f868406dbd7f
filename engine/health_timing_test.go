package engine

import (
	"testing"
	"time"

	"hookline/wal"
)

// BenchmarkLaneHealthRecord: the cost an attempt pays for endpoint health.
func BenchmarkLaneHealthRecord(b *testing.B) {
	var h laneHealth
	t0 := time.Now()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if i%8 == 0 {
			h.record(t0, 503, "", 40*time.Millisecond, 1, wal.OutcomeRetry)
		} else {
			h.record(t0, 200, "", 3*time.Millisecond, 1, wal.OutcomeSuccess)
		}
	}
}

// BenchmarkLaneHealthRecordParallel: attempts of one endpoint finishing on
// many goroutines at once contend on its lock.
func BenchmarkLaneHealthRecordParallel(b *testing.B) {
	var h laneHealth
	t0 := time.Now()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			h.record(t0, 200, "", 3*time.Millisecond, 1, wal.OutcomeSuccess)
		}
	})
}
