package httpin

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/bytedance/sonic"
)

// benchEvent is a realistic publish body: a ~600-byte invoice payload with nested
// objects, an array, numbers, a null, a non-ASCII name and an escaped string.
var benchEvent = []byte(`{"type":"invoice.paid","idempotency_key":"inv_1MtHbELkdIwHu7ixl4OzzPMv-paid","payload":{` +
	`"id":"in_1MtHbELkdIwHu7ixl4OzzPMv","object":"invoice","account_name":"Acme Müller GmbH",` +
	`"amount_due":12900,"amount_paid":12900,"amount_remaining":0,"attempted":true,` +
	`"currency":"eur","customer":"cus_NeZwdNtLEOXuvB",` +
	`"customer_email":"billing@example.com","customer_name":"Jenny Rosen","due_date":null,` +
	`"lines":{"object":"list","data":[{"id":"il_1MtHbELkdIwHu7ixdEvo9ENO","amount":12900,"quantity":3,` +
	`"description":"3 × Pro seat (at €43.00 / month)","period":{"start":1680644467,"end":1683236467}}],` +
	`"has_more":false},"paid":true,"status":"paid","tax":null,"total":12900,` +
	`"metadata":{"order_id":"6735","note":"paid \"on time\""}}}`)

func benchBatch(n int, sep, open, close string) []byte {
	var b bytes.Buffer
	b.WriteString(open)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteString(sep)
		}
		b.Write(benchEvent)
	}
	b.WriteString(close)
	return b.Bytes()
}

func BenchmarkParseEvent(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(benchEvent)))
	for b.Loop() {
		if _, perr := ParseEvent(benchEvent, ParseLimits{}); perr != nil {
			b.Fatalf("unexpected error: %s", perr)
		}
	}
}

func BenchmarkParseBatch100(b *testing.B) {
	body := benchBatch(100, ",", "[", "]")
	benchmarkParseBatch(b, body, false)
}

func BenchmarkParseNDJSON100(b *testing.B) {
	body := benchBatch(100, "\n", "", "\n")
	benchmarkParseBatch(b, body, true)
}

func benchmarkParseBatch(b *testing.B, body []byte, ndjson bool) {
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		evs, perr := ParseBatch(body, ndjson, ParseLimits{})
		if perr != nil || len(evs) != 100 {
			b.Fatalf("unexpected result: %d events, %v", len(evs), perr)
		}
	}
}

// The baselines decode into a struct, as a reference for the approaches the scanner
// replaced. They do less than ParseEvent: no duplicate-key detection, no type rules,
// and sonic does not validate strings inside the payload.

type structEvent struct {
	Type           string                 `json:"type"`
	Payload        sonic.NoCopyRawMessage `json:"payload"`
	IdempotencyKey string                 `json:"idempotency_key"`
}

func BenchmarkBaselineSonicStruct(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(benchEvent)))
	for b.Loop() {
		var ev structEvent
		if err := sonic.Unmarshal(benchEvent, &ev); err != nil || !sonic.Valid(ev.Payload) {
			b.Fatalf("unexpected error: %v", err)
		}
	}
}

func BenchmarkBaselineEncodingJSONStruct(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(benchEvent)))
	for b.Loop() {
		var ev struct {
			Type           string          `json:"type"`
			Payload        json.RawMessage `json:"payload"`
			IdempotencyKey string          `json:"idempotency_key"`
		}
		if err := json.Unmarshal(benchEvent, &ev); err != nil {
			b.Fatalf("unexpected error: %v", err)
		}
	}
}
