package wheel

import (
	"testing"
	"time"
)

func BenchmarkWheelAddAdvance(b *testing.B) {
	w := New[int](10*time.Millisecond, 4096, 0)
	b.ReportAllocs()
	now := int64(0)
	for i := 0; b.Loop(); i++ {
		w.Add(now+int64(i%30000), i)
		if i%64 == 0 {
			now += 10
			w.Advance(now, func(int) {})
		}
	}
}
