package engine

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"strconv"
	"time"

	"hookline/httpout"
)

// The parts of endpoint health that hold numbers: a 10-minute bucket as the
// delivery path fills it (healthSlot), and the exact sums the API and the
// wal deal in (healthAgg), with the binary form of an hour in the wal.

const (
	// latBins log-scale latency bins, two per octave, from latMinUs up: a
	// bin is reported by its geometric middle, at most 19% off any latency
	// in it. The last bin (47 s and up) takes everything slower.
	latBins    = 40
	latMinUs   = 64 // 2^latMinLog2 µs: everything faster lands in bin 0
	latMinLog2 = 6

	// slotFailKeys is how many failure kinds (status or error class) a
	// bucket tells apart; further kinds count as "other". Few endpoints
	// fail in more than three ways within ten minutes.
	slotFailKeys = 3

	// maxFailKey bounds a failure key: HTTP statuses are 100-999, error
	// classes 1-99 (failClassNames), 0 is "other".
	maxFailKey = 999
)

// Failure keys of network errors, below any HTTP status. 0 is "other". The
// keys are stored in the wal's health records: append new classes, never
// renumber.
var failClassNames = [...]string{"other", "timeout", "refused", "dns", "tls", "ssrf", "network", "invalid_url", "response_headers_too_large"}

// failKey names a failed attempt for the failures table: its HTTP status, or
// its error class when no response came; 0 ("other") when it is neither.
func failKey(status int, class string) uint16 {
	if status != 0 {
		if status >= 100 && status <= maxFailKey {
			return uint16(status)
		}
		return 0
	}
	switch class {
	case httpout.ErrClassTimeout:
		return 1
	case httpout.ErrClassRefused:
		return 2
	case httpout.ErrClassDNS:
		return 3
	case httpout.ErrClassTLS:
		return 4
	case httpout.ErrClassSSRF:
		return 5
	case httpout.ErrClassNetwork:
		return 6
	case httpout.ErrClassInvalidURL:
		return 7
	case httpout.ErrClassResponseHeadersTooLarge:
		return 8
	}
	return 0
}

func failKeyName(k uint16) string {
	if int(k) < len(failClassNames) {
		return failClassNames[k]
	}
	return strconv.Itoa(int(k))
}

// latBin is the bin of latency d; no floating point, no allocation.
func latBin(d time.Duration) int {
	us := uint64(min(max(d.Microseconds(), 1), 1<<31-1))
	oct := bits.Len64(us) - 1
	i := 2 * oct
	// The upper half of the octave starts at 2^oct·√2; squared, that is
	// 2^(2·oct+1), exact in integers (us < 2^31, so no overflow).
	if us*us >= 1<<(2*oct+1) {
		i++
	}
	return min(max(i-2*latMinLog2, 0), latBins-1)
}

// latBinMs is the latency (ms) bin i stands for: its geometric middle.
func latBinMs(i int) float64 {
	return latMinUs * math.Exp2((float64(i)+0.5)/2) / 1000
}

// latHist counts latencies in latBins one-byte bins. When a bin would pass
// 255, every bin is halved and shift goes up by one; from then on only one
// response in 2^shift is counted (see add), so a bin stands for
// count<<shift responses. A few hundred samples per bin keep p50 and p95
// well inside the bins' own 19%, in 41 bytes instead of 320.
type latHist struct {
	bins  [latBins]uint8
	shift uint8
}

// add counts bin for the seq-th response of the lane: every 2^shift-th one,
// a systematic sample that needs no random numbers.
func (h *latHist) add(bin int, seq uint32) {
	if seq&(1<<h.shift-1) != 0 {
		return
	}
	if h.bins[bin] == math.MaxUint8 {
		for i := range h.bins {
			h.bins[i] >>= 1
		}
		h.shift = min(h.shift+1, 31)
	}
	h.bins[bin]++
}

// healthSlot is one 10-minute bucket of one endpoint, filled on the
// delivery path. 96 bytes: see laneHealth for the memory this bounds.
type healthSlot struct {
	num       uint32 // unix seconds / healthSlotSecs; 0: never used
	attempts  uint32
	succeeded uint32
	// The deliveries behind the attempts, for tenant stats: first
	// attempts, those of them that succeeded or were scheduled for a
	// retry, and deliveries dead-lettered (see laneHealth.record).
	first, firstOk, retried, dead uint32
	// lastOk and lastFail are when, in ms into the bucket plus one, the
	// last success and failure in it came back; 0: none.
	lastOk   uint32
	lastFail uint32
	failN    [slotFailKeys]uint32
	failKey  [slotFailKeys]uint16 // 0: unused
	lat      latHist
	dirty    bool // changed since the last flush
}

func (s *healthSlot) addFailure(key uint16) {
	if key == 0 {
		return // counted as other: failed minus the kinds kept
	}
	for i := range s.failKey {
		switch s.failKey[i] {
		case key:
			s.failN[i]++
			return
		case 0:
			s.failKey[i], s.failN[i] = key, 1
			return
		}
	}
}

// healthAgg is exact sums over buckets and hours: what a window shows and
// what the wal keeps per hour. Latency bins hold estimated counts (see
// latHist).
type healthAgg struct {
	attempts, succeeded  uint64
	first, firstOk       uint64
	retried, dead        uint64
	lastOkMs, lastFailMs int64 // unix ms; 0: none
	fails                []failCount
	lat                  [latBins]uint64
}

type failCount struct {
	key uint16
	n   uint64
}

func (a *healthAgg) addFail(key uint16, n uint64) {
	for i := range a.fails {
		if a.fails[i].key == key {
			a.fails[i].n += n
			return
		}
	}
	a.fails = append(a.fails, failCount{key, n})
}

func (a *healthAgg) addSlot(s *healthSlot) {
	a.attempts += uint64(s.attempts)
	a.succeeded += uint64(s.succeeded)
	a.first += uint64(s.first)
	a.firstOk += uint64(s.firstOk)
	a.retried += uint64(s.retried)
	a.dead += uint64(s.dead)
	start := int64(s.num) * healthSlotSecs * 1000
	if s.lastOk != 0 {
		a.lastOkMs = max(a.lastOkMs, start+int64(s.lastOk)-1)
	}
	if s.lastFail != 0 {
		a.lastFailMs = max(a.lastFailMs, start+int64(s.lastFail)-1)
	}
	other := uint64(s.attempts - s.succeeded)
	for i, k := range s.failKey {
		if k != 0 {
			a.addFail(k, uint64(s.failN[i]))
			other -= uint64(s.failN[i])
		}
	}
	if other > 0 {
		a.addFail(0, other)
	}
	for i, n := range s.lat.bins {
		a.lat[i] += uint64(n) << s.lat.shift
	}
}

func (a *healthAgg) add(b *healthAgg) {
	a.addCounts(b)
	a.lastOkMs = max(a.lastOkMs, b.lastOkMs)
	a.lastFailMs = max(a.lastFailMs, b.lastFailMs)
	for _, f := range b.fails {
		a.addFail(f.key, f.n)
	}
}

// addCounts adds b's counters and latencies only: what a stats series
// bucket shows, which has no failure kinds or last times.
func (a *healthAgg) addCounts(b *healthAgg) {
	a.attempts += b.attempts
	a.succeeded += b.succeeded
	a.first += b.first
	a.firstOk += b.firstOk
	a.retried += b.retried
	a.dead += b.dead
	for i, n := range b.lat {
		a.lat[i] += n
	}
}

// quantile is the latency (ms) below which a fraction q of the sampled
// responses fall; nil when there were none.
func (a *healthAgg) quantile(q float64) *float64 {
	var total uint64
	for _, n := range a.lat {
		total += n
	}
	if total == 0 {
		return nil
	}
	rank := max(uint64(math.Ceil(q*float64(total))), 1)
	var cum uint64
	for i, n := range a.lat {
		if cum += n; cum >= rank {
			v := math.Round(latBinMs(i)*1000) / 1000
			return &v
		}
	}
	return nil // not reached: cum ends at total
}

// The first byte of an hour's record in the wal: its version. Version 2
// adds the delivery counters at the end; a version 1 record, written
// before them, decodes with zero for them.
const (
	healthRecordV1 = 1
	healthRecordV2 = 2
)

// appendRecord encodes a as an hour's record: the version, then uvarints:
// attempts, succeeded, last success and failure (unix ms, 0 for none), the
// number of failure kinds and (key, count) for each, the number of non-empty
// latency bins and (bin, count) for each, and (version 2) first attempts,
// first attempts that succeeded, deliveries retried and dead-lettered. A
// busy hour takes ~50 bytes.
func (a *healthAgg) appendRecord(dst []byte) []byte {
	dst = append(dst, healthRecordV2)
	for _, v := range [...]uint64{a.attempts, a.succeeded, uint64(a.lastOkMs), uint64(a.lastFailMs), uint64(len(a.fails))} {
		dst = binary.AppendUvarint(dst, v)
	}
	for _, f := range a.fails {
		dst = binary.AppendUvarint(dst, uint64(f.key))
		dst = binary.AppendUvarint(dst, f.n)
	}
	bins := 0
	for _, n := range a.lat {
		if n != 0 {
			bins++
		}
	}
	dst = binary.AppendUvarint(dst, uint64(bins))
	for i, n := range a.lat {
		if n != 0 {
			dst = binary.AppendUvarint(dst, uint64(i))
			dst = binary.AppendUvarint(dst, n)
		}
	}
	for _, v := range [...]uint64{a.first, a.firstOk, a.retried, a.dead} {
		dst = binary.AppendUvarint(dst, v)
	}
	return dst
}

var errHealthRecord = errors.New("corrupt health record")

// decodeRecord decodes an hour's record, of either version, into a fresh
// aggregate.
func decodeRecord(src []byte) (*healthAgg, error) {
	a := new(healthAgg)
	if err := a.decode(src); err != nil {
		return nil, err
	}
	return a, nil
}

// decode sets a to an hour's record, of either version, reusing a's
// failure kinds: a window's scan decodes hundreds of thousands. It checks
// every count and index against its bounds and never panics: the bytes
// come from disk.
func (a *healthAgg) decode(src []byte) error {
	*a = healthAgg{fails: a.fails[:0]}
	if len(src) == 0 || src[0] != healthRecordV1 && src[0] != healthRecordV2 {
		return fmt.Errorf("%w: version %v", errHealthRecord, src[:min(len(src), 1)])
	}
	version := src[0]
	src = src[1:]
	next := func(what string, limit uint64) (uint64, error) {
		v, n := binary.Uvarint(src)
		if n <= 0 {
			return 0, fmt.Errorf("%w: %s is not a uvarint", errHealthRecord, what)
		}
		if v > limit {
			return 0, fmt.Errorf("%w: %s is %d, above %d", errHealthRecord, what, v, limit)
		}
		src = src[n:]
		return v, nil
	}
	var vals [5]uint64
	for i, what := range [...]string{"attempts", "succeeded", "last success", "last failure", "failure kinds"} {
		limit := uint64(math.MaxInt64)
		if i == 4 {
			limit = maxFailKey + 1
		}
		v, err := next(what, limit)
		if err != nil {
			return err
		}
		vals[i] = v
	}
	a.attempts, a.succeeded = vals[0], vals[1]
	a.lastOkMs, a.lastFailMs = int64(vals[2]), int64(vals[3])
	if a.succeeded > a.attempts {
		return fmt.Errorf("%w: %d succeeded of %d attempts", errHealthRecord, a.succeeded, a.attempts)
	}
	for range vals[4] {
		k, err := next("failure key", maxFailKey)
		if err != nil {
			return err
		}
		n, err := next("failure count", math.MaxInt64)
		if err != nil {
			return err
		}
		a.addFail(uint16(k), n)
	}
	bins, err := next("latency bins", latBins)
	if err != nil {
		return err
	}
	for range bins {
		i, err := next("latency bin", latBins-1)
		if err != nil {
			return err
		}
		n, err := next("latency count", math.MaxInt64)
		if err != nil {
			return err
		}
		a.lat[i] += n
	}
	if version >= healthRecordV2 {
		for _, c := range [...]struct {
			what string
			v    *uint64
		}{{"first attempts", &a.first}, {"first successes", &a.firstOk}, {"retried", &a.retried}, {"dead", &a.dead}} {
			if *c.v, err = next(c.what, math.MaxInt64); err != nil {
				return err
			}
		}
		// A first attempt is counted once in attempts and ends one way.
		if a.first > a.attempts || a.firstOk > a.succeeded || a.firstOk+a.retried > a.first {
			return fmt.Errorf("%w: %d first attempts (%d succeeded, %d retried) of %d attempts (%d succeeded)",
				errHealthRecord, a.first, a.firstOk, a.retried, a.attempts, a.succeeded)
		}
	}
	if len(src) != 0 {
		return fmt.Errorf("%w: %d bytes after the end", errHealthRecord, len(src))
	}
	return nil
}
