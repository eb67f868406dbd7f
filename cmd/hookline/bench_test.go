package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestBenchSmoke runs every bench scenario with tiny counts through the real
// binary and checks the JSON report: each scenario ran, nothing was lost, and
// the measurements are filled in. Speed is not judged here: that is what
// `hookline bench` itself is for.
func TestBenchSmoke(t *testing.T) {
	out := filepath.Join(t.TempDir(), "bench.json")
	p := startProc(t, []string{"bench", "--quiet", "--out", out,
		"--duration", "400ms", "--publishers", "4", "--batch-publishers", "2", "--batch", "10",
		"--fanout", "5", "--endpoints", "40", "--slow-delay", "1s", "--drain-timeout", "30s"}, nil)
	select {
	case <-p.exited:
	case <-time.After(4 * time.Minute):
		t.Fatalf("bench did not finish in 4 minutes")
	}
	if p.err != nil {
		t.Fatalf("bench failed: %v", p.err)
	}
	b, err := os.ReadFile(out)
	require_NoError(t, err)
	var rep struct {
		Machine struct {
			Cores     int    `json:"cores"`
			GoVersion string `json:"go_version"`
		} `json:"machine"`
		Results []struct {
			Scenario   string  `json:"scenario"`
			Variant    string  `json:"variant"`
			Accepted   int64   `json:"events_accepted"`
			Expected   int64   `json:"deliveries_expected"`
			Unique     int64   `json:"deliveries_unique"`
			PerSec     float64 `json:"deliveries_per_second"`
			Missing    int64   `json:"missing"`
			PeakRSS    int64   `json:"server_peak_rss_bytes"`
			Ratio      float64 `json:"ceiling_ratio"`
			AttemptsPE float64 `json:"attempts_per_delivery"`
			Latency    struct {
				P99 float64 `json:"p99"`
			} `json:"latency_ms"`
		} `json:"results"`
	}
	require_NoError(t, json.Unmarshal(b, &rep))
	if rep.Machine.Cores <= 0 || rep.Machine.GoVersion == "" {
		t.Fatalf("machine not described: %+v", rep.Machine)
	}
	seen := map[string]bool{}
	for _, r := range rep.Results {
		name := r.Scenario + "/" + r.Variant
		seen[r.Scenario] = true
		if r.Missing != 0 {
			t.Fatalf("%s: %d deliveries missing", name, r.Missing)
		}
		if r.Scenario == "throughput" && r.Variant == "single-ingest" {
			if r.Accepted == 0 {
				t.Fatalf("%s accepted nothing", name)
			}
			continue
		}
		if r.Unique == 0 || r.PerSec <= 0 || r.Latency.P99 <= 0 {
			t.Fatalf("%s measured nothing: %+v", name, r)
		}
		if r.Scenario != "ceiling" && (r.PeakRSS <= 0 || r.Ratio <= 0 || r.Unique < r.Expected) {
			t.Fatalf("%s: incomplete measurements: %+v", name, r)
		}
		if r.Scenario == "failing" && r.AttemptsPE <= 1 {
			t.Fatalf("failing scenario made %.2f attempts per delivery; 20%% of attempts fail, so more than 1", r.AttemptsPE)
		}
	}
	for _, s := range []string{"ceiling", "throughput", "fanout", "many-endpoints", "slow-endpoint", "failing", "crash"} {
		if !seen[s] {
			t.Fatalf("scenario %s missing from the report", s)
		}
	}
}
