package bench

import (
	"strconv"
	"testing"
	"time"
)

// TestBacklogPlanRoutesEachTypeToOneEndpoint checks the layout the scenario
// relies on: every event type reaches exactly one endpoint, so the retry
// index holds one delivery per event, and the long delays span 15 min to
// 24 h, so none comes due during the run.
func TestBacklogPlanRoutesEachTypeToOneEndpoint(t *testing.T) {
	p := newBacklogPlan(20 * time.Second)
	require_Equal(t, p.endpoints(), backlogLongEndpoints+len(probeFactors)+1)
	owners := map[string]int{}
	for i := range p.endpoints() {
		subs := p.subscribe(i)
		require_Equal(t, len(subs), 1)
		owners[subs[0]]++
		sched := p.schedule(i)
		require_Equal(t, len(sched), 1)
		d, err := time.ParseDuration(sched[0])
		require_NoError(t, err)
		if d <= 0 || d > 7*24*time.Hour {
			t.Fatalf("endpoint %d: delay %s outside what the server accepts", i, d)
		}
	}
	for typ, n := range owners {
		if n != 1 {
			t.Fatalf("type %q reaches %d endpoints; want 1", typ, n)
		}
	}
	for k := range backlogLongEndpoints {
		if owners[longType(k)] != 1 {
			t.Fatalf("long type %q has no endpoint", longType(k))
		}
	}
	f := func(i int, want string) {
		t.Helper()
		require_Equal(t, p.schedule(i)[0], want)
	}
	f(0, "15m0s")
	f(backlogLongEndpoints-1, "24h0m0s")
	f(backlogLongEndpoints, "20s")
	f(backlogLongEndpoints+len(probeFactors)-1, "40s")
	f(p.endpoints()-1, "1m0s")
	// The first long retry comes due at 13.5 min at the earliest (-10%
	// jitter): the fill and the waits must end before.
	if backlogFillTimeout+3*time.Minute > time.Duration(0.9*float64(backlogLongStep)) {
		t.Fatalf("fill timeout %s leaves too little of the first long delay", backlogFillTimeout)
	}
}

func TestProbeLog(t *testing.T) {
	l := newProbeLog()
	t0 := time.Unix(1763900000, 0)
	d := 10 * time.Second
	see := func(id string, attempt int, at time.Duration, wantStatus int) {
		t.Helper()
		got := l.see(&Delivery{ID: id, Attempt: attempt, Received: t0.Add(at)})
		require_Equal(t, got, wantStatus)
	}
	for i := range 5 {
		l.expect("evt_"+strconv.Itoa(i), d)
	}
	see("evt_0", 1, 0, 503)
	see("evt_0", 2, 10*time.Second, 200) // on time
	see("evt_0", 2, 30*time.Second, 200) // a duplicate: the first retry counts
	see("evt_1", 1, 0, 503)
	see("evt_1", 2, 8*time.Second, 200) // before 0.9 d: early
	see("evt_2", 1, 0, 503)
	see("evt_2", 2, 12100*time.Millisecond, 200) // past 1.1 d + 1 s: late
	see("evt_3", 1, 0, 503)
	see("evt_3", 1, 5*time.Second, 503)        // started over after a lost record
	see("evt_3", 2, 5*time.Second+d+d/20, 200) // on time from the second attempt 1
	see("evt_4", 1, time.Second, 503)          // never retried: missing
	see("evt_x", 2, time.Second, 200)          // not a probe the bench accepted
	s := l.summary()
	got := [6]int64{s.expected, s.firstSeen, s.fired, s.early, s.late, s.repeats}
	want := [6]int64{5, 5, 4, 1, 1, 1}
	if got != want {
		t.Fatalf("expected, firstSeen, fired, early, late, repeats = %v; want %v", got, want)
	}
	require_Equal(t, s.earliestFirst, t0)
}

func TestCountName(t *testing.T) {
	f := func(n int, want string) {
		t.Helper()
		require_Equal(t, countName(n), want)
	}
	f(1000000, "1M")
	f(3000000, "3M")
	f(2000, "2k")
	f(1500000, "1500k")
	f(1500, "1500")
	f(7, "7")
}

func TestFireDelayVerdict(t *testing.T) {
	f := func(maxLE string, want bool) {
		t.Helper()
		s := BacklogStats{FireDelayMax: maxLE}
		require_Equal(t, s.fireDelayMet(), want)
	}
	f("0.1", true)
	f("1", true)
	f("2", false)
	f("+Inf", false)
	f("", false) // nothing fired: nothing shown to be on time
}
