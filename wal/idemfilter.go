package wal

import (
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/bits-and-blooms/bloom/v3"
	"github.com/cockroachdb/pebble/v2"
	"github.com/oklog/ulid/v2"
)

// Bloom filter parameters: 10 bits and 7 hash functions a key give a
// false-positive rate of 0.82% for a segment at its planned capacity, less
// below it. 10 million live keys cost about 12 MiB.
const (
	idemFilterBitsPerKey = 10
	idemFilterHashes     = 7
)

// Defaults of the filter's partitioning (Options.idemPeriodMs and
// Options.idemSegmentKeys, which tests set lower): a segment per UTC day,
// the first of a day planned for at least 64 Ki keys (80 KiB).
const (
	idemFilterPeriodMs = 24 * 60 * 60 * 1000
	idemFilterMinKeys  = 1 << 16
)

// idemFilter answers "certainly not stored" for most fresh idempotency
// keys, so that the writer reads Pebble only for keys it may have seen:
// every inbound request has a key (its provider's delivery id), a fresh one
// is never found, and the point Get that proves it walks the memtables and
// every overlapping L0 table.
//
// How it works:
//  1. The filter is a list of Bloom filters (segments), each holding the
//     keys of events whose ID time falls in one period (a UTC day). A key
//     is hashed once per lookup and tested against every segment.
//  2. The writer adds each key it writes to its event's period; the first
//     segment of a period is planned for as many keys as the newest earlier
//     period received (at least minKeys), and a segment that reaches its
//     planned count gets a successor of twice its size for the same period.
//     So each segment's false-positive rate stays below its planned one
//     whatever the load; the filter's is at most their sum.
//  3. Open fills it with one scan of the x index (both key forms) before
//     the writer starts.
//  4. Expire drops the segments whose whole period lies below its cutoff,
//     after it has deleted their keys.
//
// Invariant: every idempotency key of an event that retention has not
// expired is in the filter (false positives, never false negatives). The x
// index holds an entry for each such key (the writer writes both in one
// batch; Open gives stores older than the index their entries before the
// filter is filled); an i key without one names an expired event, and
// retention promises such a key makes a new event. Keys that a tenant
// deletion range-deleted stay in the filter until their period expires:
// a false positive costs the Get that every lookup cost before.
//
// The writer adds and tests, Expire drops: mu orders them. The counters
// are atomic so Stats needs no lock on the writer's path.
type idemFilter struct {
	periodMs int64
	minKeys  uint

	mu   sync.Mutex
	segs []*idemSegment // by period, then by creation: the last of a period takes new keys

	skipped, gets, falsePositives atomic.Uint64
}

// idemSegment is one Bloom filter of a period's keys.
type idemSegment struct {
	period int64 // event ID time / periodMs
	keys   uint  // added so far
	plan   uint  // keys it was sized for
	bf     *bloom.BloomFilter
}

func newIdemFilter(periodMs int64, minKeys int) *idemFilter {
	return &idemFilter{periodMs: periodMs, minKeys: uint(minKeys)}
}

// add records k (an i key without its kind byte) as stored for event ev.
func (f *idemFilter) add(k []byte, ev ID) {
	period := int64(ulid.ULID(ev).Time()) / f.periodMs
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.segmentLocked(period)
	s.bf.Add(k)
	s.keys++
}

// segmentLocked returns the segment of period that takes new keys, making
// one if the period has none or its last one is full.
func (f *idemFilter) segmentLocked(period int64) *idemSegment {
	// New keys go to the newest period but for clock steps and the scan at
	// Open (which is in ID order too), so the search from the end is short.
	i := len(f.segs)
	for i > 0 && f.segs[i-1].period > period {
		i--
	}
	var plan uint
	switch {
	case i > 0 && f.segs[i-1].period == period:
		last := f.segs[i-1]
		if last.keys < last.plan {
			return last
		}
		plan = 2 * last.plan
	default:
		plan = f.minKeys
		if i > 0 {
			plan = max(plan, f.periodKeysLocked(f.segs[i-1].period, i))
		}
	}
	s := &idemSegment{period: period, plan: plan, bf: bloom.New(plan*idemFilterBitsPerKey, idemFilterHashes)}
	f.segs = append(f.segs, nil)
	copy(f.segs[i+1:], f.segs[i:])
	f.segs[i] = s
	return s
}

// periodKeysLocked sums the keys of period's segments, which end at end.
func (f *idemFilter) periodKeysLocked(period int64, end int) uint {
	var n uint
	for i := end - 1; i >= 0 && f.segs[i].period == period; i-- {
		n += f.segs[i].keys
	}
	return n
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

// expire drops the segments whose whole period lies below cutoffMs.
func (f *idemFilter) expire(cutoffMs int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for n < len(f.segs) && (f.segs[n].period+1)*f.periodMs <= cutoffMs {
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
func (l *Log) IdempotencyFilter() IdempotencyFilterStats {
	f := l.idem
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
	it, err := l.db.NewIter(&pebble.IterOptions{LowerBound: []byte{kindIdemIndex}, UpperBound: []byte{kindIdemIndex + 1}})
	if err != nil {
		return fmt.Errorf("cannot scan the idempotency index: %w", err)
	}
	var ev ID
	for ok := it.First(); ok; ok = it.Next() {
		k := it.Key()
		if len(k) != 17 && (len(k) != 18 || k[17] != 1) {
			continue
		}
		copy(ev[:], k[1:17])
		l.idem.add(it.Value(), ev)
	}
	err = it.Error()
	if cerr := it.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("cannot scan the idempotency index: %w", err)
	}
	return nil
}
