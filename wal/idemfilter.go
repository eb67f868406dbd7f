package wal

import (
	"sync"
	"sync/atomic"

	"github.com/bits-and-blooms/bloom/v3"
	"github.com/oklog/ulid/v2"
)

// Bloom filter parameters: 10 bits and 7 hash functions a key give a
// false-positive rate of 0.82% for a segment at its planned count, less
// below it.
const (
	idemFilterBitsPerKey = 10
	idemFilterHashes     = 7
)

// idemFilterMinKeys is the smallest segment's plan (80 KiB); Options'
// idemSegmentKeys replaces it in tests.
const idemFilterMinKeys = 1 << 16

// idemFilter answers "certainly not stored" for most fresh idempotency
// keys, so that the writer reads Pebble only for keys it may have seen:
// every inbound request has a key (its provider's delivery id), a fresh one
// is never found, and the point Get that proves it walks the memtables and
// every overlapping L0 table.
//
// How it works:
//  1. The filter is a list of Bloom filters (segments) in event ID order.
//     Keys arrive in that order (the writer assigns IDs in commit order,
//     and Open scans the x index, which is sorted by event ID), and the
//     last segment takes them until it holds the count it was planned for.
//  2. A new segment is planned for half the keys in the live ones (at
//     least minKeys): a segment's false-positive rate stays below its
//     planned one whatever the load, and under a steady load about three
//     segments live, as a segment spans about half the retention period.
//     A lookup hashes the key once and tests every segment, so the
//     filter's rate is at most their sum.
//  3. Open fills it with one scan of the x index (both key forms) before
//     the writer starts; the writer adds each key it writes.
//  4. Expire, after deleting the keys below its cutoff, drops the
//     segments whose newest event is below it.
//
// Invariant: every idempotency key of an event that retention has not
// expired is in the filter (false positives, never false negatives). The x
// index holds an entry for each such key (the writer writes both in one
// batch; Open gives stores older than the index their entries before the
// filter is filled); an i key without one names an expired event, and
// retention promises such a key makes a new event. Keys of expired events
// stay in a segment until its newest event expires (at most about half the
// retention period longer), and keys a tenant deletion range-deleted until
// theirs do: as false positives, each costs the Get every lookup cost
// before.
//
// Why not a segment per day, which Expire could drop exactly: with 30 days
// retained a lookup tests 30 segments. With 10 million live keys
// (BenchmarkIdemFilterMiss) that measured 1.55 us a fresh key and 22%
// false positives, against 0.48 us and 1.8% for this design's three
// segments in the steady state (17.5 MiB rather than 12, for the keys
// that linger). A Pebble Get of a fresh key cost about 12 us at 1 KB
// inbound.
//
// The writer adds and tests, Expire drops: mu orders them. The counters
// are atomic so stats needs no lock on the writer's path.
type idemFilter struct {
	minKeys uint

	mu   sync.Mutex
	segs []*idemSegment // in event ID order: the last takes new keys

	skipped, gets, falsePositives atomic.Uint64
}

// idemSegment is one Bloom filter of consecutive events' keys.
type idemSegment struct {
	newestMs int64 // time of its newest event
	keys     uint  // added so far
	plan     uint  // keys it was sized for
	bf       *bloom.BloomFilter
}

func newIdemFilter(minKeys int) *idemFilter {
	return &idemFilter{minKeys: uint(minKeys)}
}

// add records k (an i key without its kind byte) as stored for event ev.
func (f *idemFilter) add(k []byte, ev ID) {
	ms := int64(ulid.ULID(ev).Time())
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.lastLocked()
	s.bf.Add(k)
	s.keys++
	s.newestMs = max(s.newestMs, ms)
}

// lastLocked returns the segment that takes new keys, making one if the
// last is full.
func (f *idemFilter) lastLocked() *idemSegment {
	n := len(f.segs)
	if n > 0 && f.segs[n-1].keys < f.segs[n-1].plan {
		return f.segs[n-1]
	}
	var live uint
	for _, s := range f.segs {
		live += s.keys
	}
	plan := max(f.minKeys, live/2)
	s := &idemSegment{plan: plan, bf: bloom.New(plan*idemFilterBitsPerKey, idemFilterHashes)}
	f.segs = append(f.segs, s)
	return s
}

// mayContain reports whether k may be stored: false means it certainly is not.
func (f *idemFilter) mayContain(k []byte) bool {
	f.mu.Lock()
	found := false
	switch len(f.segs) {
	case 0:
	case 1:
		found = f.segs[0].bf.Test(k)
	default:
		locs := bloom.Locations(k, idemFilterHashes)
		for _, s := range f.segs {
			if s.bf.TestLocations(locs) {
				found = true
				break
			}
		}
	}
	f.mu.Unlock()
	if found {
		f.gets.Add(1)
	} else {
		f.skipped.Add(1)
	}
	return found
}

// expire drops the segments whose newest event is older than cutoffMs.
func (f *idemFilter) expire(cutoffMs int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for n < len(f.segs) && f.segs[n].newestMs < cutoffMs {
		n++
	}
	if n == 0 {
		return
	}
	clear(f.segs[:n])
	f.segs = append(f.segs[:0], f.segs[n:]...)
}

// IdempotencyFilterStats describes the in-memory filter in front of the
// idempotency keys (see the package comment, "Commit path"). Counters run
// from Open.
type IdempotencyFilterStats struct {
	Segments int
	Keys     uint64 // keys in the live segments
	Bytes    uint64 // the segments' bit arrays
	// Skipped counts lookups the filter answered alone (a fresh key, no
	// read); Gets the lookups it passed on to Pebble, of which
	// FalsePositives found nothing.
	Skipped, Gets, FalsePositives uint64
}

// IdempotencyFilter returns the filter's size and counters.
func (l *Log) IdempotencyFilter() IdempotencyFilterStats { return l.idem.stats() }

func (f *idemFilter) stats() IdempotencyFilterStats {
	st := IdempotencyFilterStats{Skipped: f.skipped.Load(), Gets: f.gets.Load(), FalsePositives: f.falsePositives.Load()}
	f.mu.Lock()
	defer f.mu.Unlock()
	st.Segments = len(f.segs)
	for _, s := range f.segs {
		st.Keys += uint64(s.keys)
		st.Bytes += uint64(s.bf.Cap() / 8)
	}
	return st
}

// fillIdemFilter adds every key the x index names, in one scan, before
// the writer starts.
func (l *Log) fillIdemFilter() error {
	var ev ID
	return l.scan([]byte{kindIdemIndex}, func(k, v []byte) {
		if !isIdemIndexKey(k) {
			return
		}
		copy(ev[:], k[1:17])
		l.idem.add(v, ev)
	})
}
