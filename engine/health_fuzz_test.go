package engine

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
	"time"

	"hookline/wal"
)

func healthRecordSeeds() [][]byte {
	var busy healthAgg
	busy.attempts, busy.succeeded = 1_000_000, 999_000
	busy.lastOkMs, busy.lastFailMs = 1_900_000_000_000, 1_899_999_999_999
	busy.addFail(503, 900)
	busy.addFail(1, 99)
	busy.addFail(0, 1)
	busy.lat[0], busy.lat[7], busy.lat[latBins-1] = 1, 998_000, 1<<40
	busy.first, busy.firstOk, busy.retried, busy.dead = 990_000, 989_000, 900, 100
	var one healthAgg
	one.attempts = 1
	one.addFail(999, 1)
	var dead healthAgg
	dead.dead = 3 // dead letters with no attempt (laneHealth.recordDead)
	return [][]byte{(&healthAgg{}).appendRecord(nil), busy.appendRecord(nil), one.appendRecord(nil), dead.appendRecord(nil), healthRecordV1Busy}
}

// healthRecordV1Busy is a record as version 1 wrote it, before the
// delivery counters: 10 attempts, 7 succeeded, last success and failure
// at 1,900,000,000,000 and 1,900,000,000,001 ms, failures 503 ×2 and
// timeout ×1, 9 responses in latency bin 7.
var healthRecordV1Busy = []byte{
	healthRecordV1, 10, 7,
	0x80, 0xf0, 0xcc, 0x86, 0xa6, 0x37, // 1,900,000,000,000
	0x81, 0xf0, 0xcc, 0x86, 0xa6, 0x37, // 1,900,000,000,001
	2, 0xf7, 0x03, 2, 1, 1, // 503: 2, timeout: 1
	1, 7, 9,
}

// TestHealthRecordV1: a record of the first version decodes with zero
// delivery counters, and is written again as version 2.
func TestHealthRecordV1(t *testing.T) {
	a, err := decodeRecord(healthRecordV1Busy)
	if err != nil {
		t.Fatal(err)
	}
	if a.attempts != 10 || a.succeeded != 7 || a.lastOkMs != 1_900_000_000_000 || a.lastFailMs != 1_900_000_000_001 || a.lat[7] != 9 {
		t.Fatalf("decoded %+v", a)
	}
	if a.first != 0 || a.firstOk != 0 || a.retried != 0 || a.dead != 0 {
		t.Fatalf("a version 1 record has delivery counters %+v", a)
	}
	w := a.window(0)
	if fmt.Sprint(w.Failures) != "map[503:2 timeout:1]" {
		t.Fatalf("failures %v", w.Failures)
	}
	st := a.stats()
	if st.Sent != 0 || st.FirstAttemptSuccessRate != nil || st.Attempts != 10 || st.FailedAttempts != 3 || fmt.Sprint(st.TopFailures) != "[{503 2} {timeout 1}]" {
		t.Fatalf("stats %+v", st)
	}
	enc := a.appendRecord(nil)
	if enc[0] != healthRecordV2 {
		t.Fatalf("written as version %d", enc[0])
	}
	b, err := decodeRecord(enc)
	if err != nil || !bytes.Equal(b.appendRecord(nil), enc) {
		t.Fatalf("version 2 of it %x decodes to %+v, %v", enc, b, err)
	}
}

// TestHealthRecordRoundTrip: what appendRecord writes decodes to the same
// aggregate.
func TestHealthRecordRoundTrip(t *testing.T) {
	var a healthAgg
	var h laneHealth
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	h.record(t0, 200, "", 3*time.Millisecond, 1, wal.OutcomeSuccess)
	h.record(t0.Add(time.Second), 0, "refused", 0, 1, wal.OutcomeRetry)
	h.record(t0.Add(2*time.Second), 503, "", 80*time.Millisecond, 2, wal.OutcomeDead)
	h.recordDead(t0.Add(3 * time.Second))
	a.addSlot(&h.ring[uint32(t0.Unix()/healthSlotSecs)%healthSlots])
	got, err := decodeRecord(a.appendRecord(nil))
	if err != nil {
		t.Fatal(err)
	}
	if got.attempts != 3 || got.succeeded != 1 || got.lastOkMs != t0.UnixMilli() || got.lastFailMs != t0.UnixMilli()+2000 {
		t.Fatalf("decoded %+v", got)
	}
	if got.first != 2 || got.firstOk != 1 || got.retried != 1 || got.dead != 2 {
		t.Fatalf("decoded delivery counters %+v", got)
	}
	if !bytes.Equal(got.appendRecord(nil), a.appendRecord(nil)) {
		t.Fatalf("decoded %+v; want %+v", got, a)
	}
}

// TestHealthRecordCorrupt: every cut of a record, and records breaking a
// bound, are errors.
func TestHealthRecordCorrupt(t *testing.T) {
	f := func(rec []byte) {
		t.Helper()
		if _, err := decodeRecord(rec); !errors.Is(err, errHealthRecord) {
			t.Fatalf("decodeRecord(%x) = %v; want errHealthRecord", rec, err)
		}
	}
	for _, rec := range healthRecordSeeds() {
		for n := range len(rec) {
			f(rec[:n])
		}
		f(append(bytes.Clone(rec), 0))
	}
	f([]byte{3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})                 // no such version
	f([]byte{healthRecordV2, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0})    // a first attempt of no attempts
	f([]byte{healthRecordV2, 1, 0, 0, 0, 0, 0, 1, 1, 0, 0})    // a first success of no success
	f([]byte{healthRecordV2, 2, 1, 0, 0, 0, 0, 1, 1, 1, 0})    // one first attempt, succeeded and retried
	f([]byte{healthRecordV1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})    // version 1 has no counters
	f([]byte{healthRecordV1, 1, 2, 0, 0, 0, 0})                // succeeded > attempts
	f([]byte{healthRecordV1, 1, 1, 0, 0, 1, 0xe8, 0x07, 1, 0}) // failure key 1000
	f([]byte{healthRecordV1, 1, 1, 0, 0, 0, 1, latBins, 1})    // latency bin out of range
	f([]byte{healthRecordV1, 1, 1, 0, 0, 0, latBins + 1})      // more bins than there are
}

// FuzzHealthRecord: any bytes decode to an error or to an aggregate that
// encodes and decodes to itself; never a panic.
func FuzzHealthRecord(f *testing.F) {
	for _, s := range healthRecordSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, rec []byte) {
		a, err := decodeRecord(rec)
		if err != nil {
			return
		}
		enc := a.appendRecord(nil)
		b, err := decodeRecord(enc)
		if err != nil {
			t.Fatalf("re-encoded record %x does not decode: %v", enc, err)
		}
		if again := b.appendRecord(nil); !bytes.Equal(again, enc) {
			t.Fatalf("round trip changed %x to %x", enc, again)
		}
		w := a.window(0)
		if w.Failed > w.Attempts {
			t.Fatalf("window %+v", w)
		}
		st := a.stats()
		if st.FailedAttempts > st.Attempts || st.FirstAttemptSucceeded+st.Retried > st.Sent || len(st.TopFailures) > topFailures {
			t.Fatalf("stats %+v", st)
		}
	})
}
