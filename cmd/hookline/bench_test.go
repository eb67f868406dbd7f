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
		"--fanout", "5", "--endpoints", "40", "--burst-events", "2000", "--slow-delay", "1s", "--drain-timeout", "30s"}, nil)
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
			Inbound *struct {
				Answered       int64 `json:"answered_200"`
				Accepted       int64 `json:"accepted"`
				Errors         int64 `json:"errors"`
				UniqueIDs      int64 `json:"unique_event_ids"`
				Repeats        int64 `json:"repeats"`
				RepeatsMatched int64 `json:"repeats_matched"`
				ServerAccepted int64 `json:"server_accepted"`
				ServerIngested int64 `json:"server_ingested"`
				ReadBack       int64 `json:"read_back"`
				ReadBackOK     int64 `json:"read_back_ok"`
			} `json:"inbound"`
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
		if r.Scenario == "inbound" {
			// Signed requests to a source: every one answered, each new one
			// a distinct event the server counted and can read back, and
			// every repeat answered with its first event.
			in := r.Inbound
			if in == nil || in.Accepted == 0 || in.Errors != 0 || in.UniqueIDs != in.Accepted ||
				in.ServerAccepted != in.Accepted || in.ServerIngested != in.Accepted ||
				in.ReadBack == 0 || in.ReadBackOK != in.ReadBack || in.RepeatsMatched != in.Repeats || r.Latency.P99 <= 0 {
				t.Fatalf("%s: %+v", name, in)
			}
			// A worker's second request is a repeat: with more answers
			// than the 4 workers, one of them sent one. (A count, not a
			// time: a loaded machine answered 27 requests in the 200ms.)
			if r.Variant == "1k-10pct-repeats" && in.Answered > 4 && in.Repeats == 0 {
				t.Fatalf("%s sent no repeated delivery ids in %d requests", name, in.Answered)
			}
			if r.Variant == "1k-sink" && r.Unique < r.Expected {
				t.Fatalf("%s: %d of %d events delivered", name, r.Unique, r.Expected)
			}
			continue
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
	for _, s := range []string{"ceiling", "throughput", "burst", "fanout", "many-endpoints", "slow-endpoint", "failing", "crash", "inbound"} {
		if !seen[s] {
			t.Fatalf("scenario %s missing from the report", s)
		}
	}
}

// TestBenchRetryBacklogSmoke runs retry-backlog with 2,000 retries and
// second-long probe delays: the backlog must reach the count, every probe
// retry must fire, and after the SIGKILL the backlog must come back and the
// restart probes fire from the retry index on disk. Fire delays are only
// reported, not judged: on a loaded test machine a tick can be late.
func TestBenchRetryBacklogSmoke(t *testing.T) {
	out := filepath.Join(t.TempDir(), "bench.json")
	p := startProc(t, []string{"bench", "--quiet", "--out", out, "--scenario", "retry-backlog",
		"--retries", "2000", "--probe-delay", "1s", "--batch-publishers", "2", "--drain-timeout", "30s"}, nil)
	select {
	case <-p.exited:
	case <-time.After(2 * time.Minute):
		t.Fatalf("bench did not finish in 2 minutes")
	}
	if p.err != nil {
		t.Fatalf("bench failed: %v", p.err)
	}
	b, err := os.ReadFile(out)
	require_NoError(t, err)
	type stats struct {
		Target         int64   `json:"backlog_target"`
		Backlog        int64   `json:"backlog"`
		LoadedFromDisk int64   `json:"loaded_from_disk"`
		RSS            int64   `json:"rss_bytes"`
		FireCount      int64   `json:"fire_delay_count"`
		FireMax        string  `json:"fire_delay_max_le"`
		Expected       int64   `json:"probes_expected"`
		Fired          int64   `json:"probes_fired"`
		Early          int64   `json:"probes_early"`
		Repeated       int64   `json:"probes_repeated"`
		RestartSec     float64 `json:"restart_seconds"`
	}
	var rep struct {
		Results []struct {
			Scenario string `json:"scenario"`
			Variant  string `json:"variant"`
			Missing  int64  `json:"missing"`
			PeakRSS  int64  `json:"server_peak_rss_bytes"`
			Backlog  *stats `json:"retry_backlog"`
		} `json:"results"`
	}
	require_NoError(t, json.Unmarshal(b, &rep))
	if len(rep.Results) != 2 {
		t.Fatalf("got %d results; want the full backlog and after-restart rows: %s", len(rep.Results), b)
	}
	for i, variant := range []string{"2k", "after-restart"} {
		r := rep.Results[i]
		s := r.Backlog
		if r.Scenario != "retry-backlog" || r.Variant != variant || s == nil {
			t.Fatalf("result %d is %s/%s with stats %v; want retry-backlog/%s with stats", i, r.Scenario, r.Variant, s, variant)
		}
		// No long retry is due for 13.5 minutes, so the index holds exactly
		// one delivery per event, before the kill and after it.
		if s.Target != 2000 || s.Backlog != 2000 {
			t.Fatalf("%s: backlog %d of %d; want 2000 of 2000", variant, s.Backlog, s.Target)
		}
		if r.Missing != 0 || s.Expected == 0 || s.Fired != s.Expected || s.Early != 0 {
			t.Fatalf("%s: %d missing; probes fired %d of %d, %d early", variant, r.Missing, s.Fired, s.Expected, s.Early)
		}
		if s.FireCount < s.Fired || s.FireMax == "" || s.RSS <= 0 || r.PeakRSS < s.RSS {
			t.Fatalf("%s: measurements incomplete: %+v, peak RSS %d", variant, *s, r.PeakRSS)
		}
	}
	s := rep.Results[1].Backlog
	// The restart probes must have come back from the retry index, not
	// been attempted from scratch because their records were lost.
	if s.LoadedFromDisk < s.Expected || s.Repeated != 0 || s.RestartSec <= 0 {
		t.Fatalf("after restart: %d retries loaded from disk, %d probes started over, restart %.2fs; want >= %d, 0, > 0",
			s.LoadedFromDisk, s.Repeated, s.RestartSec, s.Expected)
	}
}
