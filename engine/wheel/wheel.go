// Package wheel is a hashed timing wheel for near-term deadlines: adding and
// firing are O(1) per entry, independent of how many are pending. It holds only
// deadlines within its horizon (slots × tick); callers keep later ones
// elsewhere (hookline keeps them in the on-disk retry index) and add them as
// time advances. A Wheel is not safe for concurrent use.
package wheel

import (
	"fmt"
	"time"
)

type entry[T any] struct {
	dueMs int64
	v     T
}

// Wheel maps absolute tick t = dueMs/tick to slot t & mask. Because Add refuses
// deadlines past the horizon, a slot only ever holds entries of one tick.
type Wheel[T any] struct {
	tickMs int64
	mask   int64
	slots  [][]entry[T]
	cur    int64 // absolute tick of the earliest slot not yet fully fired
	fired  int64 // the latest nowMs given to Advance
	n      int
}

// New returns a wheel whose first tick contains nowMs. slots must be a power
// of two and tick at least a millisecond.
func New[T any](tick time.Duration, slots int, nowMs int64) *Wheel[T] {
	if slots <= 0 || slots&(slots-1) != 0 {
		panic(fmt.Sprintf("BUG: wheel slots must be a power of two; got %d", slots))
	}
	if tick < time.Millisecond {
		panic(fmt.Sprintf("BUG: wheel tick must be at least 1ms; got %s", tick))
	}
	tickMs := tick.Milliseconds()
	return &Wheel[T]{
		tickMs: tickMs,
		mask:   int64(slots - 1),
		slots:  make([][]entry[T], slots),
		cur:    nowMs / tickMs,
	}
}

// HorizonMs is the first deadline Add refuses.
func (w *Wheel[T]) HorizonMs() int64 { return (w.cur + w.mask + 1) * w.tickMs }

// FiredThroughMs is the time at or before which every deadline has fired:
// the last Advance's nowMs (0 before the first). Entries due later are
// still in the wheel.
func (w *Wheel[T]) FiredThroughMs() int64 { return w.fired }

// Len is the number of pending entries.
func (w *Wheel[T]) Len() int { return w.n }

// Add schedules v at dueMs. Deadlines already past fire on the next Advance.
// It returns false, adding nothing, when dueMs is at or past the horizon.
func (w *Wheel[T]) Add(dueMs int64, v T) bool {
	t := dueMs / w.tickMs
	if t < w.cur {
		t = w.cur
	}
	if t > w.cur+w.mask {
		return false
	}
	s := &w.slots[t&w.mask]
	*s = append(*s, entry[T]{dueMs: dueMs, v: v})
	w.n++
	return true
}

// Advance fires, in no particular order within a tick, every entry due at or
// before nowMs.
func (w *Wheel[T]) Advance(nowMs int64, fire func(v T)) {
	w.fired = max(w.fired, nowMs)
	target := nowMs / w.tickMs
	// After a long pause every slot is due: visit each once, not once per tick.
	for steps := int64(0); w.cur < target && steps <= w.mask; steps++ {
		w.fireSlot(w.cur&w.mask, fire)
		w.cur++
	}
	if w.cur < target {
		w.cur = target
	}
	// The current tick fires only what is due; the rest waits for a later call.
	s := &w.slots[w.cur&w.mask]
	kept := (*s)[:0]
	for _, e := range *s {
		if e.dueMs <= nowMs {
			w.n--
			fire(e.v)
		} else {
			kept = append(kept, e)
		}
	}
	clear((*s)[len(kept):])
	*s = kept
}

func (w *Wheel[T]) fireSlot(i int64, fire func(v T)) {
	s := w.slots[i]
	for _, e := range s {
		fire(e.v)
	}
	w.n -= len(s)
	clear(s)
	// Drop big backing arrays so a burst does not pin memory forever.
	if cap(s) > 1024 {
		w.slots[i] = nil
	} else {
		w.slots[i] = s[:0]
	}
}
