package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
)

// Latency is a publish-to-receive latency summary in milliseconds.
type Latency struct {
	P50 float64 `json:"p50"`
	P90 float64 `json:"p90"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

// LatencyOf summarises h; all zero when h has no samples.
func LatencyOf(h *Histogram) Latency {
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	return Latency{
		P50: ms(h.Percentile(0.50)),
		P90: ms(h.Percentile(0.90)),
		P99: ms(h.Percentile(0.99)),
		Max: ms(h.Max()),
	}
}

// Result is one scenario's outcome.
type Result struct {
	Scenario         string        `json:"scenario"`
	Variant          string        `json:"variant,omitempty"` // e.g. "single", "batch100", "with-slow"
	DurationSec      float64       `json:"duration_seconds"`
	Published        int64         `json:"events_accepted"`
	Expected         int64         `json:"deliveries_expected"`
	Deliveries       int64         `json:"deliveries_unique"`
	Attempts         int64         `json:"requests_at_sink"`
	AcceptedPerSec   float64       `json:"events_accepted_per_second"`
	DeliveriesPerSec float64       `json:"deliveries_per_second"`
	LatencyMs        Latency       `json:"latency_ms"`
	CPUSecPer10k     float64       `json:"server_cpu_seconds_per_10k_deliveries"`
	PeakRSSBytes     int64         `json:"server_peak_rss_bytes"`
	Missing          int64         `json:"missing"`
	Duplicates       int64         `json:"duplicates"`
	AttemptsPerEvent float64       `json:"attempts_per_delivery,omitempty"`
	CeilingRatio     float64       `json:"ceiling_ratio"`           // DeliveriesPerSec / the ceiling's; 0 if unknown
	RetryBacklog     *BacklogStats `json:"retry_backlog,omitempty"` // retry-backlog only
	Inbound          *InboundStats `json:"inbound,omitempty"`       // inbound only
	Notes            []string      `json:"notes,omitempty"`
}

// Name is "scenario/variant", or the scenario alone without a variant.
func (r *Result) Name() string {
	if r.Variant == "" {
		return r.Scenario
	}
	return r.Scenario + "/" + r.Variant
}

// Report is the document `--out FILE.json` writes.
type Report struct {
	Started time.Time `json:"started"`
	Command string    `json:"command"`
	Machine Machine   `json:"machine"`
	Options any       `json:"options"`
	Results []Result  `json:"results"`
}

var tableHeader = []string{
	"scenario", "accepted/s", "delivered/s", "p50 ms", "p90 ms", "p99 ms", "max ms",
	"cpu s/10k", "peak RSS MiB", "missing", "dup", "ratio",
}

// tableRow renders r's cells in tableHeader order. Unknown values (no
// latency samples, no CPU or RSS sample, no ceiling) show as "-".
func tableRow(r *Result) []string {
	lat := [4]string{"-", "-", "-", "-"}
	if l := r.LatencyMs; l != (Latency{}) {
		lat = [4]string{humanFloat(l.P50), humanFloat(l.P90), humanFloat(l.P99), humanFloat(l.Max)}
	}
	orDash := func(v float64, format func(float64) string) string {
		if v == 0 {
			return "-"
		}
		return format(v)
	}
	return []string{
		r.Name(),
		humanRate(r.AcceptedPerSec),
		humanRate(r.DeliveriesPerSec),
		lat[0], lat[1], lat[2], lat[3],
		orDash(r.CPUSecPer10k, humanFloat),
		orDash(float64(r.PeakRSSBytes)/(1<<20), humanFloat),
		humanInt(r.Missing),
		humanInt(r.Duplicates),
		orDash(r.CeilingRatio, func(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }),
	}
}

// WriteTable writes results as an aligned plain-text table, the scenario
// column left-aligned and numbers right-aligned, then each result's notes
// as indented "name: note" lines.
func WriteTable(w io.Writer, results []Result) error {
	rows := [][]string{tableHeader}
	for i := range results {
		rows = append(rows, tableRow(&results[i]))
	}
	widths := make([]int, len(tableHeader))
	for _, row := range rows {
		for c, cell := range row {
			widths[c] = max(widths[c], len(cell))
		}
	}
	var b strings.Builder
	for _, row := range rows {
		for c, cell := range row {
			pad := strings.Repeat(" ", widths[c]-len(cell))
			switch c {
			case 0:
				b.WriteString(cell + pad)
			default:
				b.WriteString("  " + pad + cell)
			}
		}
		b.WriteByte('\n')
	}
	writeNotes(&b, results, "  ", "    ")
	return writeAll(w, b.String(), "table")
}

// WriteMarkdown writes the same table as Markdown, for bench/RESULTS.md,
// with the notes as a list under it.
func WriteMarkdown(w io.Writer, results []Result) error {
	var b strings.Builder
	line := func(cells []string) {
		for _, cell := range cells {
			b.WriteString("| " + strings.ReplaceAll(cell, "|", `\|`) + " ")
		}
		b.WriteString("|\n")
	}
	line(tableHeader)
	align := make([]string, len(tableHeader))
	for c := range align {
		align[c] = "---:"
	}
	align[0] = ":---"
	line(align)
	for i := range results {
		line(tableRow(&results[i]))
	}
	writeNotes(&b, results, "- ", "  ")
	return writeAll(w, b.String(), "Markdown table")
}

// writeNotes writes a blank line and then "<first>name: note" for every
// note, continuation lines of a multi-line note (a log tail) prefixed with
// cont. It writes nothing when no result has notes.
func writeNotes(b *strings.Builder, results []Result, first, cont string) {
	blank := false
	for i := range results {
		r := &results[i]
		for _, note := range r.Notes {
			if !blank {
				b.WriteByte('\n')
				blank = true
			}
			for j, l := range strings.Split(strings.TrimRight(note, "\n"), "\n") {
				if j == 0 {
					b.WriteString(first + r.Name() + ": " + l + "\n")
				} else {
					b.WriteString(cont + l + "\n")
				}
			}
		}
	}
}

func writeAll(w io.Writer, s, what string) error {
	if _, err := io.WriteString(w, s); err != nil {
		return fmt.Errorf("cannot write the %s of %d bytes: %w", what, len(s), err)
	}
	return nil
}

// WriteJSON writes r as indented JSON. encoding/json refuses NaN and ±Inf,
// which a division by a zero count can produce, so such a number in a
// result is written as 0 with a note saying so, rather than losing the
// whole report at the end of a run. r itself is not modified.
func WriteJSON(w io.Writer, r *Report) error {
	out := *r
	out.Results = make([]Result, len(r.Results))
	for i := range r.Results {
		out.Results[i] = finiteResult(r.Results[i])
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(&out); err != nil {
		return fmt.Errorf("cannot write the JSON report with %d results: %w", len(r.Results), err)
	}
	return nil
}

func finiteResult(r Result) Result {
	fields := []struct {
		name string
		v    *float64
	}{
		{"duration_seconds", &r.DurationSec},
		{"events_accepted_per_second", &r.AcceptedPerSec},
		{"deliveries_per_second", &r.DeliveriesPerSec},
		{"latency_ms.p50", &r.LatencyMs.P50},
		{"latency_ms.p90", &r.LatencyMs.P90},
		{"latency_ms.p99", &r.LatencyMs.P99},
		{"latency_ms.max", &r.LatencyMs.Max},
		{"server_cpu_seconds_per_10k_deliveries", &r.CPUSecPer10k},
		{"attempts_per_delivery", &r.AttemptsPerEvent},
		{"ceiling_ratio", &r.CeilingRatio},
	}
	copied := false
	for _, f := range fields {
		if math.IsNaN(*f.v) || math.IsInf(*f.v, 0) {
			if !copied { // do not append to the caller's Notes array
				r.Notes = append([]string(nil), r.Notes...)
				copied = true
			}
			r.Notes = append(r.Notes, fmt.Sprintf("%s was %v; written as 0", f.name, *f.v))
			*f.v = 0
		}
	}
	return r
}

// FillRatios sets CeilingRatio of every result to its DeliveriesPerSec over
// that of the first result with Scenario "ceiling". Without a ceiling it
// changes nothing; with a ceiling that delivered nothing, ratios become 0.
func FillRatios(results []Result) {
	ceiling := -1.0
	for i := range results {
		if results[i].Scenario == "ceiling" {
			ceiling = results[i].DeliveriesPerSec
			break
		}
	}
	if ceiling < 0 {
		return
	}
	for i := range results {
		r := &results[i]
		r.CeilingRatio = 0
		if ceiling > 0 && !math.IsInf(ceiling, 0) {
			r.CeilingRatio = r.DeliveriesPerSec / ceiling
		}
	}
}

// ProgressLine renders a one-line status for a terminal, without a newline:
//
//	throughput/batch100  12.0s  accepted 41,230/s  delivered 40,980/s  in flight 1,203
func ProgressLine(name string, elapsed time.Duration, acceptedPerSec, deliveredPerSec float64, inFlight int64) string {
	return name + "  " + strconv.FormatFloat(elapsed.Seconds(), 'f', 1, 64) + "s" +
		"  accepted " + humanRate(acceptedPerSec) + "/s" +
		"  delivered " + humanRate(deliveredPerSec) + "/s" +
		"  in flight " + humanInt(inFlight)
}

// humanInt formats n with thousands separators: 41230 -> "41,230".
func humanInt(n int64) string {
	s := strconv.FormatInt(n, 10)
	digits := strings.TrimPrefix(s, "-")
	if len(digits) <= 3 {
		return s
	}
	var b strings.Builder
	if n < 0 {
		b.WriteByte('-')
	}
	lead := len(digits) % 3
	if lead == 0 {
		lead = 3
	}
	b.WriteString(digits[:lead])
	for i := lead; i < len(digits); i += 3 {
		b.WriteString("," + digits[i:i+3])
	}
	return b.String()
}

// humanRate formats a per-second rate: a whole number with separators from
// 100 up, one decimal below, so a slow scenario's 2.5/s does not show as 2.
func humanRate(v float64) string {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return "-"
	case v == 0:
		return "0"
	case math.Abs(v) < 100:
		return strconv.FormatFloat(v, 'f', 1, 64)
	default:
		return humanInt(int64(math.Round(v)))
	}
}

// humanFloat formats a measurement with about three significant digits
// (0.412, 4.12, 12.3) and whole numbers with separators from 1,000 up.
func humanFloat(v float64) string {
	a := math.Abs(v)
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return "-"
	case v == 0:
		return "0"
	case a < 1:
		return strconv.FormatFloat(v, 'f', 3, 64)
	case a < 10:
		return strconv.FormatFloat(v, 'f', 2, 64)
	case a < 1000:
		return strconv.FormatFloat(v, 'f', 1, 64)
	default:
		return humanInt(int64(math.Round(v)))
	}
}
