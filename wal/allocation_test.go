package wal

import (
	"bytes"
	"testing"
)

// Hot-path allocation checks, in the style of fasthttp's allocation_test.go.
// The race detector allocates on its own, so they only run without it.

func TestReadEventAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under -race")
	}
	l, _ := openLog(t, nil)
	f := func(body []byte) {
		t.Helper()
		id := appendOne(t, l, mkEvent("acme", body, testEndpoint(1))).ID
		var r EventRecord
		var buf EventBuf
		require_NoError(t, l.ReadEvent(id, &r, &buf)) // grow the buffers once
		allocs := testing.AllocsPerRun(100, func() {
			if err := l.ReadEvent(id, &r, &buf); err != nil {
				t.Fatal(err)
			}
		})
		require_Bytes(t, r.Body, body)
		// EventBuf exists so that a reader does not allocate per delivery.
		require_Equal(t, allocs, 0.0)
	}
	f(bytes.Repeat([]byte("x"), 600))
	f(compressible(8 << 10))
}

func TestAppendAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under -race")
	}
	l, _ := openLog(t, nil)
	evs := []AppendEvent{mkEvent("acme", bytes.Repeat([]byte("x"), 600), testEndpoint(1))}
	res := make([]AppendResult, 1)
	require_NoError(t, l.Append(evs, res))
	allocs := testing.AllocsPerRun(100, func() {
		if err := l.Append(evs, res); err != nil {
			t.Fatal(err)
		}
	})
	require_Equal(t, allocs, 0.0)
}

// TestRecordAttemptKeepsScratch: RecordAttempt borrows a scratch buffer from
// scratchPool for its keys and attempt record; the buffer it puts back must
// not be smaller than the one it took, or the pool degrades into allocating.
func TestRecordAttemptKeepsScratch(t *testing.T) {
	l, _ := openLog(t, nil)
	ep := testEndpoint(1)
	id := appendOne(t, l, mkEvent("t", []byte("x"), ep)).ID
	var from int64
	for i := 1; i <= 50; i++ {
		require_NoError(t, l.RecordAttempt(&Move{Endpoint: ep, Event: id, FromDueMs: from, Attempt: Attempt{Attempt: i, Outcome: OutcomeRetry, NextMs: int64(i), Response: []byte("HTTP/1.1 503")}}))
		from = int64(i)
	}
	// sync.Pool may drop buffers (always under -race, sometimes on GC): then
	// Get returns a fresh 512-byte one and the check passes trivially.
	bp := scratchPool.Get().(*[]byte)
	defer scratchPool.Put(bp)
	require_True(t, cap(*bp) >= 512, "scratch buffer shrank to cap %d", cap(*bp))
}
