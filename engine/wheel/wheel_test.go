package wheel

import (
	"math/rand/v2"
	"testing"
	"time"
)

func TestWheelFiresAtDue(t *testing.T) {
	w := New[int](10*time.Millisecond, 8, 1000)
	f := func(due int64, wantAdded bool) {
		t.Helper()
		if got := w.Add(due, int(due)); got != wantAdded {
			t.Fatalf("Add(%d) = %v; want %v (horizon %d)", due, got, wantAdded, w.HorizonMs())
		}
	}
	f(995, true)  // already past: fires on the next Advance
	f(1005, true) // inside the current tick
	f(1015, true)
	f(1079, true)
	f(1080, false) // horizon: 8 slots of 10ms from tick 100
	f(5000, false)
	if w.Len() != 4 {
		t.Fatalf("Len = %d; want 4", w.Len())
	}
	var fired []int
	collect := func(v int) { fired = append(fired, v) }
	w.Advance(1000, collect)
	if len(fired) != 1 || fired[0] != 995 {
		t.Fatalf("at 1000 fired %v; want [995]", fired)
	}
	w.Advance(1004, collect)
	if len(fired) != 1 {
		t.Fatalf("at 1004 fired %v; want only [995]", fired)
	}
	w.Advance(1015, collect)
	if len(fired) != 3 {
		t.Fatalf("at 1015 fired %v; want 995, 1005, 1015", fired)
	}
	w.Advance(1078, collect)
	if len(fired) != 3 {
		t.Fatalf("at 1078 fired %v early", fired)
	}
	w.Advance(1079, collect)
	if len(fired) != 4 || w.Len() != 0 {
		t.Fatalf("at 1079 fired %v, Len %d; want all 4 and empty", fired, w.Len())
	}
}

func TestWheelLongPauseFiresEverything(t *testing.T) {
	w := New[int](time.Millisecond, 64, 0)
	for i := range 60 {
		if !w.Add(int64(i), i) {
			t.Fatalf("Add(%d) refused", i)
		}
	}
	n := 0
	w.Advance(1_000_000_000, func(int) { n++ })
	if n != 60 || w.Len() != 0 {
		t.Fatalf("fired %d, left %d; want 60 and 0", n, w.Len())
	}
	if !w.Add(1_000_000_010, 1) {
		t.Fatalf("Add after the pause refused; horizon %d", w.HorizonMs())
	}
}

// TestWheelRandomNeverEarlyNeverLate checks the invariant against a model:
// an entry fires at the first Advance whose now is at or past its deadline.
func TestWheelRandomNeverEarlyNeverLate(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	w := New[int64](5*time.Millisecond, 256, 0)
	now := int64(0)
	pending := map[int64]int64{} // id -> due
	id := int64(0)
	for step := 0; step < 20000; step++ {
		if rng.IntN(3) > 0 {
			due := now + rng.Int64N(1500) - 100
			if w.Add(due, id) {
				pending[id] = due
			} else if due < w.HorizonMs() {
				t.Fatalf("Add(%d) refused below horizon %d", due, w.HorizonMs())
			}
			id++
			continue
		}
		now += rng.Int64N(40)
		w.Advance(now, func(v int64) {
			due, ok := pending[v]
			if !ok {
				t.Fatalf("fired unknown or twice: %d", v)
			}
			if due > now {
				t.Fatalf("entry %d due %d fired early at %d", v, due, now)
			}
			delete(pending, v)
		})
		for v, due := range pending {
			if due <= now {
				t.Fatalf("entry %d due %d not fired at %d", v, due, now)
			}
		}
	}
	if w.Len() != len(pending) {
		t.Fatalf("Len %d; model has %d", w.Len(), len(pending))
	}
}

// TestFiredThrough: what FiredThroughMs names has fired, even inside the
// current tick's slot; what is due after it has not.
func TestFiredThrough(t *testing.T) {
	w := New[int](10*time.Millisecond, 8, 1000)
	if got := w.FiredThroughMs(); got != 0 {
		t.Fatalf("before any Advance: %d, want 0", got)
	}
	w.Add(1002, 1)
	w.Add(1006, 2)
	var fired []int
	w.Advance(1004, func(v int) { fired = append(fired, v) })
	if w.FiredThroughMs() != 1004 || len(fired) != 1 || fired[0] != 1 {
		t.Fatalf("after Advance(1004): through %d, fired %v", w.FiredThroughMs(), fired)
	}
	w.Advance(1003, func(v int) { fired = append(fired, v) }) // time does not go back
	if w.FiredThroughMs() != 1004 || len(fired) != 1 {
		t.Fatalf("after Advance(1003): through %d, fired %v", w.FiredThroughMs(), fired)
	}
}
