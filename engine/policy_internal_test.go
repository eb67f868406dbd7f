package engine

import (
	"testing"
	"time"
)

func TestJitterSpreadsWithinTenPercent(t *testing.T) {
	const d = 10 * time.Second
	lo, hi := d, d
	for range 10000 {
		j := jitter(d)
		if j < d*9/10 || j > d*11/10 {
			t.Fatalf("jitter(%v) = %v: outside ±10%%", d, j)
		}
		lo, hi = min(lo, j), max(hi, j)
	}
	// 10,000 draws: both ends of the range are reached to within 1%.
	if lo > d*91/100 || hi < d*109/100 {
		t.Fatalf("jitter(%v) ranged only over [%v, %v]", d, lo, hi)
	}
	if jitter(0) != 0 {
		t.Fatalf("jitter(0) = %v", jitter(0))
	}
}
