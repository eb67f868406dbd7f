package bench

import (
	"encoding/json"
	"fmt"
	"strconv"
)

// The shaped scenario (issue 13): the same batched load to one endpoint,
// first with the standard request, then with a shaped one (a URL template,
// bearer auth, a 5-field body template with two string templates, a filter
// that passes every event). Both run in the same invocation, so the ratio
// of their delivery rates is the cost of shaping on this machine; the
// target is >= 0.8.

// shapedTarget is the least shaped/unshaped delivery rate ratio accepted.
const shapedTarget = 0.8

// shapedEndpoint is the shaping the scenario gives its endpoint. The body
// keeps "data":{"t":...} first, where the sink reads the send time, and
// the standard signature, which the sink verifies over the rendered body.
var shapedEndpoint = endpointShape{
	URLSuffix: "?seq={$.data.seq}&type={$.type}",
	Auth:      json.RawMessage(`{"type":"bearer","token":"bench-crm-token-0123456789"}`),
	Body: json.RawMessage(`{"data":{"t":"$.data.t"},"text":"Event {$.type} number {$.data.seq}",` +
		`"summary":"{$.id} at {$.timestamp}","seq":"$.data.seq","filler":"$.data.filler"}`),
	Filter: json.RawMessage(`{"path":"$.data.seq","gte":0}`),
}

// endpointShape is the request shaping a phase gives its endpoints.
type endpointShape struct {
	URLSuffix string // appended to the sink URL, may hold placeholders
	Auth      json.RawMessage
	Body      json.RawMessage
	Filter    json.RawMessage
}

func (r *runner) shaped() ([]Result, error) {
	o := r.opts
	mk := func(variant string, shape *endpointShape) *phase {
		return &phase{scenario: "shaped", variant: variant, endpoints: 1, maxInFlight: 64,
			subscribe: func(int) []string { return []string{"*"} },
			eventType: func(int64) string { return "bench.event" },
			perEvent:  1, batch: o.BatchSize, publishers: o.BatchPublishers, verifyEvery: 100,
			maxEvents: int64(o.Duration.Seconds() * 200000), shape: shape}
	}
	plain, err := r.runPhase(mk("unshaped", nil))
	if err != nil {
		return nil, err
	}
	shaped, err := r.runPhase(mk("shaped", &shapedEndpoint))
	if err != nil {
		return []Result{plain}, err
	}
	if plain.DeliveriesPerSec > 0 {
		ratio := shaped.DeliveriesPerSec / plain.DeliveriesPerSec
		shaped.Notes = append(shaped.Notes, fmt.Sprintf("shaped/unshaped delivery rate %s (target >= %.1f: %s); URL template, bearer auth, a 5-field body template with two string templates, a filter that passes",
			strconv.FormatFloat(ratio, 'f', 2, 64), shapedTarget, verdict(ratio >= shapedTarget)))
	}
	return []Result{plain, shaped}, nil
}
