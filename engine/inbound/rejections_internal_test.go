package inbound

import (
	"testing"
	"time"
)

// TestFailureBucket: the failure bucket's arithmetic on a clock of its
// own: a burst, then the rate, and how long until the next token.
func TestFailureBucket(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	var rs rejectState
	// f takes a token at t0+at and checks the answer.
	f := func(at time.Duration, wantOK bool, wantWait time.Duration) {
		t.Helper()
		wait, ok := rs.take(t0.Add(at), 10, 3)
		if ok != wantOK || wait != wantWait {
			t.Fatalf("at %v: got (%v, %v), want (%v, %v)", at, wait, ok, wantWait, wantOK)
		}
	}
	f(0, true, 0)
	f(0, true, 0)
	f(0, true, 0)
	f(0, false, 100*time.Millisecond)
	f(40*time.Millisecond, false, 60*time.Millisecond)
	f(100*time.Millisecond, true, 0)
	f(100*time.Millisecond, false, 100*time.Millisecond)
	f(time.Hour, true, 0) // refilled to the burst, not beyond
	f(time.Hour, true, 0)
	f(time.Hour, true, 0)
	f(time.Hour, false, 100*time.Millisecond)
	f(time.Hour-time.Second, false, 100*time.Millisecond) // a clock that went back adds nothing

	var unlimited rejectState
	for range 1000 {
		if _, ok := unlimited.take(t0, -1, 1); !ok {
			t.Fatal("a negative rate limits")
		}
	}
}
