package httpin

import (
	"strconv"
	"testing"
	"time"
)

// TestReplayLimitsForgetIdleEndpoints: the limiters stay bounded; past
// maxReplayLimiters the endpoints whose bucket is full again are
// forgotten (which changes nothing for them), and one still waiting is
// kept.
func TestReplayLimitsForgetIdleEndpoints(t *testing.T) {
	rl := newReplayLimits(1)
	t0 := time.Unix(1_000_000, 0)
	for i := range maxReplayLimiters - 1 {
		if d, _ := rl.reserve(strconv.Itoa(i), t0); d != 0 {
			t.Fatalf("first replay of endpoint %d waits %s", i, d)
		}
	}
	t1 := t0.Add(10 * time.Second)
	if d, _ := rl.reserve("busy", t1); d != 0 {
		t.Fatalf("first replay of busy waits %s", d)
	}
	if d, _ := rl.reserve("busy", t1); d <= 0 {
		t.Fatalf("second replay of busy at once is allowed")
	}
	if d, _ := rl.reserve("new", t1.Add(time.Millisecond)); d != 0 {
		t.Fatalf("first replay of new waits %s", d)
	}
	if n := len(rl.byEP); n != 2 {
		t.Fatalf("%d limiters kept; want busy and new", n)
	}
	if d, _ := rl.reserve("busy", t1.Add(2*time.Millisecond)); d <= 0 {
		t.Fatalf("busy's limiter was forgotten")
	}
	if newReplayLimits(-1) != nil {
		t.Fatalf("-1 makes a limit")
	}
}
