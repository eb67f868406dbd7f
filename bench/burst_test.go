package bench

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// buildHookline builds the server binary the scenario spawns: the bench
// must measure the real program, which package bench cannot import.
func buildHookline(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "hookline")
	out, err := exec.Command("go", "build", "-o", bin, "hookline/cmd/hookline").CombinedOutput()
	if err != nil {
		t.Fatalf("cannot build hookline: %v\n%s", err, out)
	}
	return bin
}

// TestBurstDrainsEveryEvent runs the ceiling and a 2,000-event burst
// against a spawned server: every event is accepted once and delivered,
// and the rates, the ratio and the server's RSS are filled in. Speed is
// not judged here.
func TestBurstDrainsEveryEvent(t *testing.T) {
	bin := buildHookline(t)
	results, err := Run(context.Background(), Options{Scenario: "burst,ceiling", BurstEvents: 2000, BatchPublishers: 2,
		Duration: 300 * time.Millisecond, DrainTimeout: 2 * time.Minute, ServerBinary: bin})
	require_NoError(t, err)
	require_Equal(t, len(results), 2)
	require_Equal(t, results[0].Name(), "ceiling/client-to-sink") // the order of Scenarios, not of the list
	r := results[1]
	require_Equal(t, r.Name(), "burst/2k")
	require_Equal(t, r.Published, int64(2000))
	require_Equal(t, r.Expected, int64(2000))
	if r.Deliveries < 2000 || r.Missing != 0 {
		t.Fatalf("%d of 2000 delivered, %d missing", r.Deliveries, r.Missing)
	}
	if r.AcceptedPerSec <= 0 || r.DeliveriesPerSec <= 0 || r.CeilingRatio <= 0 || r.PeakRSSBytes <= 0 || r.LatencyMs.P99 <= 0 {
		t.Fatalf("measurements missing: %+v", r)
	}
	notes := strings.Join(r.Notes, "\n")
	for _, want := range []string{"2,000 events in batches of 100 from 2 publishers", "peak", "of the ceiling measured in this run"} {
		if !strings.Contains(notes, want) {
			t.Fatalf("notes lack %q:\n%s", want, notes)
		}
	}
}

func TestBurstVariant(t *testing.T) {
	require_Equal(t, burstVariant(200000), "200k")
	require_Equal(t, burstVariant(1000000), "1m")
	require_Equal(t, burstVariant(2000), "2k")
	require_Equal(t, burstVariant(1234), "1234")
}

func TestNoteBurstTargets(t *testing.T) {
	rs := []Result{{Scenario: "burst", Variant: "200k", DeliveriesPerSec: 30}}
	noteBurstTargets(rs)
	require_Equal(t, rs[0].Notes[0], "no ceiling in this run, so no ratio: run --scenario ceiling,burst")
	rs = []Result{{Scenario: "ceiling", DeliveriesPerSec: 100}, {Scenario: "burst", DeliveriesPerSec: 55}, {Scenario: "burst", DeliveriesPerSec: 40}}
	FillRatios(rs)
	noteBurstTargets(rs)
	require_Equal(t, len(rs[0].Notes), 0)
	require_Equal(t, rs[1].Notes[0], "end to end 0.55 of the ceiling measured in this run (target >= 0.55: met)")
	require_Equal(t, rs[2].Notes[0], "end to end 0.40 of the ceiling measured in this run (target >= 0.55: NOT MET)")
}

func TestScenarioSelection(t *testing.T) {
	valid := func(scenario string) error {
		o := Options{Scenario: scenario, ServerBinary: "hookline"}
		o.ensureDefaults()
		return o.validate()
	}
	for _, bad := range []string{"nope", "burst,nope", "all,burst", "burst,", ",burst", "burst ,ceiling"} {
		err := valid(bad)
		if err == nil || !strings.Contains(err.Error(), "unknown scenario") {
			t.Fatalf("%q: got %v; want an unknown scenario error", bad, err)
		}
	}
	require_NoError(t, valid("all"))
	require_NoError(t, valid("ceiling,burst,retry-backlog"))
	all := Options{Scenario: "all"}
	list := Options{Scenario: "ceiling,retry-backlog"}
	f := func(o Options, name string, want bool) {
		t.Helper()
		require_Equal(t, o.selects(name), want)
	}
	f(all, "burst", true)
	f(all, "retry-backlog", false)
	f(list, "ceiling", true)
	f(list, "retry-backlog", true)
	f(list, "burst", false)
}

func TestDurabilityOption(t *testing.T) {
	valid := func(o Options) error {
		o.ensureDefaults()
		return o.validate()
	}
	for _, d := range []string{"", "fsync", "os"} {
		require_NoError(t, valid(Options{Durability: d, ServerBinary: "hookline"}))
	}
	for _, d := range []string{"OS", "none", "sync"} {
		err := valid(Options{Durability: d, ServerBinary: "hookline"})
		if err == nil || !strings.Contains(err.Error(), "must be fsync or os") {
			t.Fatalf("durability %q: got %v; want a must be fsync or os error", d, err)
		}
	}
	err := valid(Options{Durability: "os", Target: "127.0.0.1:1", Token: "x"})
	if err == nil || !strings.Contains(err.Error(), "--target server") {
		t.Fatalf("durability with a target: got %v", err)
	}
}
