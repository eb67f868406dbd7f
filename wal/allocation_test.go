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

// TestRecordAttemptAllocs: outcomes are committed in groups by one goroutine
// that reuses its scratch buffer; a caller's RecordAttempt must not allocate
// per attempt (it runs once per delivery).
func TestRecordAttemptAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under -race")
	}
	l, _ := openLog(t, nil)
	ep := testEndpoint(1)
	id := appendOne(t, l, mkEvent("t", []byte("x"), ep)).ID
	// One Move reused across calls, as each delivery worker does.
	m := &Move{Endpoint: ep, Event: id, Attempt: Attempt{Outcome: OutcomeRetry, Response: []byte("HTTP/1.1 503")}}
	from := int64(0)
	i := 0
	allocs := testing.AllocsPerRun(200, func() {
		i++
		m.FromDueMs, m.Attempt.Attempt, m.Attempt.NextMs = from, i, int64(i)
		if err := l.RecordAttempt(m); err != nil {
			t.Fatal(err)
		}
		from = int64(i)
	})
	require_True(t, allocs == 0, "RecordAttempt allocates %.1f times per call", allocs)
}
