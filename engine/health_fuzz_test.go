package engine

import (
	"bytes"
	"errors"
	"testing"
	"time"
)

func healthRecordSeeds() [][]byte {
	var busy healthAgg
	busy.attempts, busy.succeeded = 1_000_000, 999_000
	busy.lastOkMs, busy.lastFailMs = 1_900_000_000_000, 1_899_999_999_999
	busy.addFail(503, 900)
	busy.addFail(1, 99)
	busy.addFail(0, 1)
	busy.lat[0], busy.lat[7], busy.lat[latBins-1] = 1, 998_000, 1<<40
	var one healthAgg
	one.attempts = 1
	one.addFail(999, 1)
	return [][]byte{(&healthAgg{}).appendRecord(nil), busy.appendRecord(nil), one.appendRecord(nil)}
}

// TestHealthRecordRoundTrip: what appendRecord writes decodes to the same
// aggregate.
func TestHealthRecordRoundTrip(t *testing.T) {
	var a healthAgg
	var h laneHealth
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	h.record(t0, 200, "", 3*time.Millisecond, true)
	h.record(t0.Add(time.Second), 0, "refused", 0, false)
	h.record(t0.Add(2*time.Second), 503, "", 80*time.Millisecond, false)
	a.addSlot(&h.ring[uint32(t0.Unix()/healthSlotSecs)%healthSlots])
	got, err := decodeRecord(a.appendRecord(nil))
	if err != nil {
		t.Fatal(err)
	}
	if got.attempts != 3 || got.succeeded != 1 || got.lastOkMs != t0.UnixMilli() || got.lastFailMs != t0.UnixMilli()+2000 {
		t.Fatalf("decoded %+v", got)
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
	f([]byte{2, 0, 0, 0, 0, 0, 0})
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
	})
}
