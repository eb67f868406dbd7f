package bench

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"os"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"
)

func testResults() []Result {
	return []Result{
		{
			Scenario: "ceiling", DurationSec: 10, Published: 500_000, Expected: 500_000, Deliveries: 500_000, Attempts: 500_000,
			AcceptedPerSec: 50_000, DeliveriesPerSec: 50_000,
			LatencyMs:    Latency{P50: 0.412, P90: 1.05, P99: 12.34, Max: 1234.5},
			CPUSecPer10k: 0.85, PeakRSSBytes: 123 << 20,
		},
		{
			Scenario: "throughput", Variant: "batch100", DurationSec: 12, Published: 494_760, Expected: 494_760, Deliveries: 491_760, Attempts: 491_800,
			AcceptedPerSec: 41_230.4, DeliveriesPerSec: 40_980,
			LatencyMs:    Latency{P50: 3.5, P90: 8.25, P99: 45.6, Max: 210},
			CPUSecPer10k: 1.5, PeakRSSBytes: 300 << 20, Missing: 3_000, Duplicates: 12,
			AttemptsPerEvent: 1.0001,
			Notes:            []string{"3,000 events still queued at the end", "server log:\nline one\nline two"},
		},
		{Scenario: "slow|endpoint", AcceptedPerSec: 2.5}, // nothing delivered: latency, CPU, RSS, ratio unknown
	}
}

func TestWriteTable(t *testing.T) {
	results := testResults()
	FillRatios(results)
	var b bytes.Buffer
	require_NoError(t, WriteTable(&b, results))
	want := `` +
		"scenario             accepted/s  delivered/s  p50 ms  p90 ms  p99 ms  max ms  cpu s/10k  peak RSS MiB  missing  dup  ratio\n" +
		"ceiling                  50,000       50,000   0.412    1.05    12.3   1,235      0.850         123.0        0    0   1.00\n" +
		"throughput/batch100      41,230       40,980    3.50    8.25    45.6   210.0       1.50         300.0    3,000   12   0.82\n" +
		"slow|endpoint               2.5            0       -       -       -       -          -             -        0    0      -\n" +
		"\n" +
		"  throughput/batch100: 3,000 events still queued at the end\n" +
		"  throughput/batch100: server log:\n" +
		"    line one\n" +
		"    line two\n"
	if b.String() != want {
		t.Fatalf("got:\n%s\nwant:\n%s", b.String(), want)
	}

	// No notes: no trailing blank line.
	b.Reset()
	require_NoError(t, WriteTable(&b, results[:1]))
	require_Equal(t, strings.Count(b.String(), "\n"), 2)
	b.Reset()
	require_NoError(t, WriteTable(&b, nil))
	require_Equal(t, strings.Count(b.String(), "\n"), 1)

	err := WriteTable(failingWriter{}, results)
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("got %v; want the writer's error", err)
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestWriteMarkdown(t *testing.T) {
	results := testResults()
	FillRatios(results)
	var b bytes.Buffer
	require_NoError(t, WriteMarkdown(&b, results))
	lines := strings.Split(b.String(), "\n")
	require_Equal(t, lines[0], "| scenario | accepted/s | delivered/s | p50 ms | p90 ms | p99 ms | max ms | cpu s/10k | peak RSS MiB | missing | dup | ratio |")
	require_Equal(t, lines[1], "| :--- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
	require_Equal(t, lines[3], "| throughput/batch100 | 41,230 | 40,980 | 3.50 | 8.25 | 45.6 | 210.0 | 1.50 | 300.0 | 3,000 | 12 | 0.82 |")
	require_Equal(t, lines[4], `| slow\|endpoint | 2.5 | 0 | - | - | - | - | - | - | 0 | 0 | - |`)
	for _, l := range lines[:5] {
		require_Equal(t, strings.Count(strings.ReplaceAll(l, `\|`, ""), "|"), len(tableHeader)+1)
	}
	require_Equal(t, strings.Join(lines[5:], "\n"), "\n"+
		"- throughput/batch100: 3,000 events still queued at the end\n"+
		"- throughput/batch100: server log:\n"+
		"  line one\n"+
		"  line two\n")
}

func TestWriteJSON(t *testing.T) {
	opts := map[string]any{"duration": "10s", "scenarios": []any{"ceiling", "throughput"}}
	r := &Report{
		Started: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC),
		Command: "hookline bench --out results.json",
		Machine: Machine{Cores: 2, MemoryBytes: 4 << 30, CPUModel: "Test CPU <x>", GoVersion: "go1.26", OS: "linux", Arch: "amd64", Hostname: "box"},
		Options: opts,
		Results: testResults(),
	}
	FillRatios(r.Results)
	var b bytes.Buffer
	require_NoError(t, WriteJSON(&b, r))
	if !strings.Contains(b.String(), "\n  \"started\": \"2026-11-23T10:00:00Z\",\n") {
		t.Fatalf("not indented as expected:\n%s", b.String())
	}
	if !strings.Contains(b.String(), "Test CPU <x>") {
		t.Fatalf("HTML-escaped output:\n%s", b.String())
	}

	// Field names as the JSON report documents them.
	var m map[string]any
	require_NoError(t, json.Unmarshal(b.Bytes(), &m))
	for _, k := range []string{"started", "command", "machine", "options", "results"} {
		if _, ok := m[k]; !ok {
			t.Fatalf("missing top-level key %q in %v", k, m)
		}
	}
	machine := m["machine"].(map[string]any)
	for _, k := range []string{"cores", "memory_bytes", "cpu_model", "go_version", "os", "arch", "hostname"} {
		if _, ok := machine[k]; !ok {
			t.Fatalf("missing machine key %q in %v", k, machine)
		}
	}
	res := m["results"].([]any)
	require_Equal(t, len(res), 3)
	tp := res[1].(map[string]any)
	f := func(key string, want any) {
		t.Helper()
		if got := tp[key]; !reflect.DeepEqual(got, want) {
			t.Fatalf("%s = %#v; want %#v", key, got, want)
		}
	}
	f("scenario", "throughput")
	f("variant", "batch100")
	f("duration_seconds", 12.0)
	f("events_accepted", 494760.0)
	f("deliveries_expected", 494760.0)
	f("deliveries_unique", 491760.0)
	f("requests_at_sink", 491800.0)
	f("events_accepted_per_second", 41230.4)
	f("deliveries_per_second", 40980.0)
	f("latency_ms", map[string]any{"p50": 3.5, "p90": 8.25, "p99": 45.6, "max": 210.0})
	f("server_cpu_seconds_per_10k_deliveries", 1.5)
	f("server_peak_rss_bytes", float64(300<<20))
	f("missing", 3000.0)
	f("duplicates", 12.0)
	f("attempts_per_delivery", 1.0001)
	f("ceiling_ratio", 40980.0/50000)
	require_Equal(t, len(tp), 17)
	ceiling := res[0].(map[string]any)
	for _, k := range []string{"variant", "attempts_per_delivery", "notes"} {
		if _, ok := ceiling[k]; ok {
			t.Fatalf("empty %q not omitted: %v", k, ceiling)
		}
	}

	// And back into the types.
	var back Report
	require_NoError(t, json.Unmarshal(b.Bytes(), &back))
	require_Equal(t, back.Started, r.Started)
	require_Equal(t, back.Machine, r.Machine)
	if !reflect.DeepEqual(back.Results, r.Results) {
		t.Fatalf("results changed in the round trip:\n got %+v\nwant %+v", back.Results, r.Results)
	}
	if !reflect.DeepEqual(back.Options, opts) {
		t.Fatalf("options changed in the round trip: %#v", back.Options)
	}
}

func TestWriteJSONNonFinite(t *testing.T) {
	notes := make([]string, 1, 4)
	notes[0] = "kept"
	r := &Report{Results: []Result{{Scenario: "failing", AttemptsPerEvent: math.NaN(), LatencyMs: Latency{P99: math.Inf(1)}, Notes: notes}}}
	var b bytes.Buffer
	require_NoError(t, WriteJSON(&b, r))
	var back Report
	require_NoError(t, json.Unmarshal(b.Bytes(), &back))
	got := back.Results[0]
	require_Equal(t, got.AttemptsPerEvent, 0.0)
	require_Equal(t, got.LatencyMs.P99, 0.0)
	require_Equal(t, strings.Join(got.Notes, "; "), "kept; latency_ms.p99 was +Inf; written as 0; attempts_per_delivery was NaN; written as 0")
	// The caller's report is left alone, backing array included.
	if !math.IsNaN(r.Results[0].AttemptsPerEvent) || len(r.Results[0].Notes) != 1 || notes[:2][1] != "" {
		t.Fatalf("WriteJSON modified its input: %+v", r.Results[0])
	}

	if err := WriteJSON(&b, &Report{Options: func() {}}); err == nil {
		t.Fatalf("options that cannot be encoded gave no error")
	}
}

func TestFillRatios(t *testing.T) {
	f := func(in []Result, want ...float64) {
		t.Helper()
		FillRatios(in)
		for i := range in {
			if math.Abs(in[i].CeilingRatio-want[i]) > 1e-12 {
				t.Fatalf("result %d (%s): ratio %g; want %g", i, in[i].Name(), in[i].CeilingRatio, want[i])
			}
		}
	}
	f([]Result{{Scenario: "throughput", DeliveriesPerSec: 25_000}, {Scenario: "ceiling", DeliveriesPerSec: 50_000}, {Scenario: "fanout", DeliveriesPerSec: 60_000}},
		0.5, 1, 1.2)
	f([]Result{{Scenario: "throughput", DeliveriesPerSec: 25_000, CeilingRatio: 0.7}}, 0.7) // no ceiling: unchanged
	f([]Result{{Scenario: "ceiling"}, {Scenario: "throughput", DeliveriesPerSec: 25_000, CeilingRatio: 0.7}}, 0, 0)
	f([]Result{{Scenario: "ceiling", Variant: "a", DeliveriesPerSec: 10}, {Scenario: "ceiling", Variant: "b", DeliveriesPerSec: 20}}, 1, 2)
	f(nil)
}

func TestLatencyOf(t *testing.T) {
	var h Histogram
	require_Equal(t, LatencyOf(&h), Latency{})
	h.Record(1500 * time.Microsecond)
	require_Equal(t, LatencyOf(&h), Latency{P50: 1.5, P90: 1.5, P99: 1.5, Max: 1.5})
	for i := 0; i < 98; i++ {
		h.Record(time.Millisecond)
	}
	h.Record(250 * time.Millisecond) // 100 samples: p99 is the 99th, 1.5ms
	l := LatencyOf(&h)
	require_Equal(t, l.Max, 250.0)
	if math.Abs(l.P50-1) > histMaxRelErr || math.Abs(l.P90-1) > histMaxRelErr || math.Abs(l.P99-1.5)/1.5 > histMaxRelErr {
		t.Fatalf("LatencyOf = %+v; want p50 and p90 near 1ms, p99 near 1.5ms", l)
	}
}

func TestProgressLine(t *testing.T) {
	f := func(name string, elapsed time.Duration, acc, del float64, inFlight int64, want string) {
		t.Helper()
		require_Equal(t, ProgressLine(name, elapsed, acc, del, inFlight), want)
	}
	f("throughput/batch100", 12*time.Second, 41_230.4, 40_980, 1_203,
		"throughput/batch100  12.0s  accepted 41,230/s  delivered 40,980/s  in flight 1,203")
	f("slow-endpoint", 1250*time.Millisecond, 2.5, 0, 0,
		"slow-endpoint  1.2s  accepted 2.5/s  delivered 0/s  in flight 0")
	f("crash", 95*time.Second, 1_234_567.6, 999.5, -3,
		"crash  95.0s  accepted 1,234,568/s  delivered 1,000/s  in flight -3")
}

func TestHumanFormats(t *testing.T) {
	i := func(n int64, want string) {
		t.Helper()
		require_Equal(t, humanInt(n), want)
	}
	i(0, "0")
	i(999, "999")
	i(1000, "1,000")
	i(41230, "41,230")
	i(1234567, "1,234,567")
	i(-1234, "-1,234")
	i(-999, "-999")
	i(math.MinInt64, "-9,223,372,036,854,775,808")

	fl := func(v float64, want string) {
		t.Helper()
		require_Equal(t, humanFloat(v), want)
	}
	fl(0, "0")
	fl(0.4123, "0.412")
	fl(4.123, "4.12")
	fl(12.34, "12.3")
	fl(999.4, "999.4")
	fl(1234.5, "1,235")
	fl(-2.5, "-2.50")
	fl(math.NaN(), "-")
	fl(math.Inf(1), "-")

	r := func(v float64, want string) {
		t.Helper()
		require_Equal(t, humanRate(v), want)
	}
	r(0, "0")
	r(2.54, "2.5")
	r(99.9, "99.9")
	r(100, "100")
	r(41230.4, "41,230")
	r(math.Inf(1), "-")
}

func TestReadMachine(t *testing.T) {
	m := ReadMachine()
	require_Equal(t, m.Cores, runtime.NumCPU())
	require_Equal(t, m.GoVersion, runtime.Version())
	require_Equal(t, m.OS, runtime.GOOS)
	require_Equal(t, m.Arch, runtime.GOARCH)
	if h, err := os.Hostname(); err == nil {
		require_Equal(t, m.Hostname, h)
	}
	if runtime.GOOS == "linux" && m.MemoryBytes <= 0 {
		t.Fatalf("MemoryBytes = %d on Linux", m.MemoryBytes)
	}
	t.Logf("%+v", m)
}

func TestCPUModel(t *testing.T) {
	f := func(cpuinfo, want string) {
		t.Helper()
		require_Equal(t, cpuModel([]byte(cpuinfo)), want)
	}
	f("processor\t: 0\nvendor_id\t: GenuineIntel\nmodel\t\t: 85\nmodel name\t: Intel(R) Xeon(R) Gold 6148 CPU @ 2.40GHz\n\nprocessor\t: 1\nmodel name\t: other\n",
		"Intel(R) Xeon(R) Gold 6148 CPU @ 2.40GHz")
	f("processor\t: 0\nBogoMIPS\t: 50.00\nCPU part\t: 0xd0c\n\nHardware\t: Graviton\n", "Graviton")
	f("model name\t:\nProcessor\t: ARMv7 Processor rev 4 (v7l)\n", "ARMv7 Processor rev 4 (v7l)")
	f("processor\t: 0\n", "")
	f("", "")
}
