package engine

import (
	"slices"
	"testing"
	"time"

	"github.com/sony/gobreaker/v2"
)

// TestCircuitHalfOpenRule: a half-open circuit admits one attempt at a
// time; a failed probe lets the next one through until HalfOpenProbes have
// failed, which opens the circuit again; the first success closes it; an
// attempt that never reached the receiver counts for nothing; and the
// failures start from zero in each half-open state.
func TestCircuitHalfOpenRule(t *testing.T) {
	var changes []string
	probeFailures := 0
	o := CircuitOptions{ConsecutiveFailures: 1, FailureRatio: 1, MinRequests: 1 << 20, Window: time.Minute, OpenFor: 20 * time.Millisecond, HalfOpenProbes: 3}
	c := newCircuit(o, func() int { return 0 }, func(_, to gobreaker.State) {
		changes = append(changes, stateName(to))
	}, func() { probeFailures++ })

	admit := func() func(error) {
		t.Helper()
		done, retryAt := c.allow()
		if done == nil {
			t.Fatalf("the %s circuit refused an attempt (retry at %v)", c.view().State, retryAt)
		}
		return done
	}
	refuse := func() time.Time {
		t.Helper()
		done, retryAt := c.allow()
		if done != nil {
			t.Fatalf("the %s circuit admitted an attempt", c.view().State)
		}
		return retryAt
	}
	state := func(want string, wantFailures uint32) {
		t.Helper()
		v := c.view()
		if v.State != want || v.Failures != wantFailures {
			t.Fatalf("circuit %s with %d failures; want %s with %d", v.State, v.Failures, want, wantFailures)
		}
	}
	waitHalfOpen := func() {
		t.Helper()
		retryAt := refuse()
		if retryAt.IsZero() {
			t.Fatalf("an open circuit gave no time to ask again")
		}
		time.Sleep(time.Until(retryAt) + time.Millisecond)
	}

	admit()(errAttemptFailed)
	state("open", 0)
	waitHalfOpen()

	probe := admit()
	state("half_open", 0)
	if again := refuse(); !again.IsZero() { // one at a time: ask again when the probe finishes
		t.Fatalf("a half-open circuit with a probe in flight said to ask again at %v", again)
	}
	probe(errNotAttempted)
	state("half_open", 0)
	admit()(errAttemptFailed)
	state("half_open", 1)
	admit()(errAttemptFailed)
	state("half_open", 2)
	if probeFailures != 2 {
		t.Fatalf("onProbeFailed ran %d times; want 2", probeFailures)
	}
	admit()(errAttemptFailed) // the third failure
	state("open", 0)
	if probeFailures != 2 {
		t.Fatalf("onProbeFailed ran for the failure that opened the circuit")
	}

	waitHalfOpen()
	admit()(errAttemptFailed)
	state("half_open", 1)
	admit()(nil)
	state("closed", 0)
	want := []string{"open", "half_open", "open", "half_open", "closed"}
	if !slices.Equal(changes, want) {
		t.Fatalf("transitions %v; want %v", changes, want)
	}
}
