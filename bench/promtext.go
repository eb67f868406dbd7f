package bench

import (
	"bytes"
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// promSamples maps a series, written as in the exposition ("name" or
// `name{label="v",...}`), to its value. Only what the bench reads of a
// hookline /metrics page is supported: no timestamps, no escaped quotes
// inside label values.
type promSamples map[string]float64

// parsePromText parses the Prometheus text exposition format. Comments and
// blank lines are skipped; any other line that is not "series value" is an
// error naming its line number, since a page the bench misreads would turn
// into wrong numbers in bench/RESULTS.md.
func parsePromText(text []byte) (promSamples, error) {
	out := promSamples{}
	n := 0
	for line := range bytes.Lines(text) {
		n++
		line = bytes.TrimSpace(line)
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		end := bytes.IndexAny(line, " \t")
		if brace := bytes.IndexByte(line, '{'); brace >= 0 && (end < 0 || brace < end) {
			rbrace := bytes.LastIndexByte(line, '}')
			if rbrace < brace {
				return nil, fmt.Errorf("metrics line %d: no '}' closing the labels of %.80q", n, line)
			}
			end = rbrace + 1
		}
		if end <= 0 || end >= len(line) {
			return nil, fmt.Errorf("metrics line %d: no value after the series in %.80q", n, line)
		}
		fields := bytes.Fields(line[end:])
		if len(fields) != 1 {
			return nil, fmt.Errorf("metrics line %d: want one value after the series, got %d fields in %.80q", n, len(fields), line)
		}
		v, err := strconv.ParseFloat(string(fields[0]), 64)
		if err != nil {
			return nil, fmt.Errorf("metrics line %d: cannot parse the value of %.80q: %w", n, line[:end], err)
		}
		out[string(line[:end])] = v
	}
	return out, nil
}

// value returns the sample of an unlabelled series and whether it exists.
func (s promSamples) value(name string) (float64, bool) {
	v, ok := s[name]
	return v, ok
}

// bucket is one cumulative histogram bucket: Count observations <= LE.
type bucket struct {
	LE    float64 // +Inf for the last
	Count float64
}

// histogram returns the buckets of histogram name in increasing le order.
// Prometheus buckets are cumulative and end with le="+Inf"; a page that
// breaks either rule is reported, not silently summarised.
func (s promSamples) histogram(name string) ([]bucket, error) {
	prefix := name + "_bucket{"
	var out []bucket
	for series, v := range s {
		labels, ok := strings.CutPrefix(series, prefix)
		if !ok {
			continue
		}
		_, le, ok := strings.Cut(labels, `le="`)
		if !ok {
			return nil, fmt.Errorf("histogram %s: series %q has no le label", name, series)
		}
		le, _, _ = strings.Cut(le, `"`)
		bound, err := strconv.ParseFloat(le, 64)
		if err != nil {
			return nil, fmt.Errorf("histogram %s: cannot parse le=%q: %w", name, le, err)
		}
		out = append(out, bucket{LE: bound, Count: v})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("histogram %s: no buckets on the metrics page", name)
	}
	slices.SortFunc(out, func(a, b bucket) int { return cmp.Compare(a.LE, b.LE) })
	if !math.IsInf(out[len(out)-1].LE, 1) {
		return nil, fmt.Errorf(`histogram %s: no le="+Inf" bucket`, name)
	}
	for i := 1; i < len(out); i++ {
		if out[i].Count < out[i-1].Count {
			return nil, fmt.Errorf("histogram %s: bucket le=%g holds %g, fewer than le=%g's %g; buckets must be cumulative",
				name, out[i].LE, out[i].Count, out[i-1].LE, out[i-1].Count)
		}
	}
	return out, nil
}

// bucketQuantile returns the upper bound of the first bucket holding the
// q-quantile (0 < q <= 1) of the observations: "at most this", which is all
// a bucketed histogram can say. q = 1 gives the bucket of the largest
// observation. ok is false when the histogram is empty.
func bucketQuantile(bs []bucket, q float64) (le float64, ok bool) {
	if len(bs) == 0 {
		return 0, false
	}
	total := bs[len(bs)-1].Count
	if total <= 0 {
		return 0, false
	}
	// The rank of the quantile observation, counted from 1: ceil so that
	// p99 of 100 observations is the 99th, and of 101 the 100th.
	rank := math.Ceil(q * total)
	for _, b := range bs {
		if b.Count >= rank {
			return b.LE, true
		}
	}
	return bs[len(bs)-1].LE, true
}

// formatLE renders a bucket bound as the le label shows it.
func formatLE(le float64) string {
	if math.IsInf(le, 1) {
		return "+Inf"
	}
	return strconv.FormatFloat(le, 'g', -1, 64)
}
