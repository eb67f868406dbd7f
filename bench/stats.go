package bench

import (
	"math/bits"
	"sync"
	"sync/atomic"
	"time"
)

// Histogram bucket layout: log-linear over nanoseconds, HDR-style.
//
// Values below 2*histSub ns have a bucket each. Above that, every power of
// two [2^k, 2^(k+1)) is split into histSub equal sub-buckets, so a bucket is
// at most 1/histSub of its lower bound wide. Percentile reports a bucket's
// midpoint, which is within 1/(2*histSub) (1.6%) of every value in it.
// Values at or above histLimit (2^40 ns, about 18 minutes) share the last
// bucket; Max still records them exactly.
const (
	histSubBits = 5
	histSub     = 1 << histSubBits
	histMaxExp  = 40
	histLimit   = 1 << histMaxExp
	histBuckets = (histMaxExp - histSubBits + 1) * histSub // 1152 counters, 9 KiB
)

// Histogram records durations from many goroutines at once.
//
// How it works:
//  1. Record maps a duration to a bucket with a bit-length and a shift (see
//     histBucket) and bumps that bucket's atomic counter. It also updates
//     exact count, sum, min and max with atomics; min and max use a CAS only
//     when the value beats the current one, which is rare after warm-up.
//  2. Percentile loads every counter into a stack snapshot, walks it to the
//     sample of the wanted rank and returns the midpoint of its bucket,
//     clamped to the exact [min, max].
//
// Invariants: no locks and no allocation in Record; the zero value is an
// empty histogram. Readers may run alongside Record and see a snapshot that
// is a few samples behind. Merge and Reset are not atomic with respect to
// concurrent Record: call them on histograms nobody is recording into.
type Histogram struct {
	count   atomic.Int64
	sum     atomic.Int64  // ns; overflows only after ~292 years of summed latency
	max     atomic.Int64  // ns; 0 with no samples, and values are >= 0
	minPlus atomic.Uint64 // min+1 in ns; 0 means no samples, so the zero value works
	buckets [histBuckets]atomic.Int64
}

// histBucket returns the bucket index of v ns.
func histBucket(v int64) int {
	if v >= histLimit {
		return histBuckets - 1
	}
	// Below 2*histSub the shift is 0 and the index is v itself; above, the
	// top histSubBits+1 bits of v select the power of two and the sub-bucket.
	shift := max(0, bits.Len64(uint64(v))-histSubBits-1)
	return shift<<histSubBits + int(v>>shift)
}

// histBucketMid returns the midpoint of bucket i in ns.
func histBucketMid(i int) int64 {
	if i < 2*histSub {
		return int64(i)
	}
	shift := i>>histSubBits - 1
	low := int64(histSub+i&(histSub-1)) << shift
	return low + int64(1)<<shift/2
}

// Record adds one sample. Negative durations count as 0.
func (h *Histogram) Record(d time.Duration) {
	v := max(int64(d), 0)
	h.buckets[histBucket(v)].Add(1)
	h.count.Add(1)
	h.sum.Add(v)
	for cur := h.max.Load(); v > cur; cur = h.max.Load() {
		if h.max.CompareAndSwap(cur, v) {
			break
		}
	}
	h.noteMin(uint64(v) + 1)
}

func (h *Histogram) noteMin(vPlus uint64) {
	for cur := h.minPlus.Load(); cur == 0 || vPlus < cur; cur = h.minPlus.Load() {
		if h.minPlus.CompareAndSwap(cur, vPlus) {
			return
		}
	}
}

// Count returns the number of samples.
func (h *Histogram) Count() int64 { return h.count.Load() }

// Max returns the largest sample exactly, or 0 with no samples.
func (h *Histogram) Max() time.Duration { return time.Duration(h.max.Load()) }

// Min returns the smallest sample exactly, or 0 with no samples.
func (h *Histogram) Min() time.Duration {
	if m := h.minPlus.Load(); m != 0 {
		return time.Duration(m - 1)
	}
	return 0
}

// Mean returns the exact mean, or 0 with no samples.
func (h *Histogram) Mean() time.Duration {
	n := h.count.Load()
	if n == 0 {
		return 0
	}
	return time.Duration(h.sum.Load() / n)
}

// Percentile returns the q-quantile (q in [0,1]): the sample of rank
// ceil(q*n) in sorted order, to within 1/64 of its value. The first and
// last ranks (so q <= 0 and q >= 1) return Min and Max, both exact. It
// returns 0 with no samples.
func (h *Histogram) Percentile(q float64) time.Duration {
	if !(q > 0) { // NaN too
		return h.Min()
	}
	if q >= 1 {
		return h.Max()
	}
	var snap [histBuckets]int64
	var total int64
	for i := range h.buckets {
		snap[i] = h.buckets[i].Load()
		total += snap[i]
	}
	if total == 0 {
		return 0
	}
	rank := int64(q * float64(total))
	if float64(rank) < q*float64(total) {
		rank++ // ceil
	}
	switch {
	case rank <= 1:
		return h.Min()
	case rank >= total:
		return h.Max()
	}
	var seen int64
	for i, c := range snap {
		if seen += c; seen >= rank {
			v := max(histBucketMid(i), int64(h.Min()))
			return time.Duration(min(v, h.max.Load()))
		}
	}
	return h.Max() // not reached: rank <= total
}

// Merge adds o's samples to h. o must not be h.
func (h *Histogram) Merge(o *Histogram) {
	if o == h {
		panic("BUG: Histogram.Merge of a histogram into itself")
	}
	n := o.count.Load()
	if n == 0 {
		return
	}
	for i := range o.buckets {
		if c := o.buckets[i].Load(); c != 0 {
			h.buckets[i].Add(c)
		}
	}
	h.count.Add(n)
	h.sum.Add(o.sum.Load())
	v := o.max.Load()
	for cur := h.max.Load(); v > cur; cur = h.max.Load() {
		if h.max.CompareAndSwap(cur, v) {
			break
		}
	}
	if m := o.minPlus.Load(); m != 0 {
		h.noteMin(m)
	}
}

// Reset empties h.
func (h *Histogram) Reset() {
	for i := range h.buckets {
		h.buckets[i].Store(0)
	}
	h.count.Store(0)
	h.sum.Store(0)
	h.max.Store(0)
	h.minPlus.Store(0)
}

// Rate is a count over an elapsed time, per second; 0 when elapsed <= 0.
func Rate(n int64, elapsed time.Duration) float64 {
	if elapsed <= 0 {
		return 0
	}
	return float64(n) / elapsed.Seconds()
}

// Meter counts events and tells the rate over the last window, for the
// progress line. The zero value is ready. Add is lock-free; Tick takes a
// mutex that Add never touches.
type Meter struct {
	n atomic.Int64

	mu    sync.Mutex // guards lastN and lastT
	lastN int64
	lastT time.Time
}

// Add counts n events.
func (m *Meter) Add(n int64) { m.n.Add(n) }

// Total returns the events counted so far.
func (m *Meter) Total() int64 { return m.n.Load() }

// Tick returns the rate per second over the window since the previous Tick
// and starts a new window at now. The first Tick only starts the window and
// returns 0, so call it once when counting starts. A now that is not after
// the window's start returns 0 and keeps the window.
func (m *Meter) Tick(now time.Time) float64 {
	n := m.n.Load()
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.lastT.IsZero() {
		m.lastN, m.lastT = n, now
		return 0
	}
	elapsed := now.Sub(m.lastT)
	if elapsed <= 0 {
		return 0
	}
	r := Rate(n-m.lastN, elapsed)
	m.lastN, m.lastT = n, now
	return r
}
