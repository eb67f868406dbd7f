package httpin

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
	"unicode/utf8"
)

var fuzzSeeds = []string{
	`{"type":"invoice.paid","payload":{"id":1}}`,
	`{"payload":{"x" : [1, 2 ]},"type":"a","idempotency_key":"k-1"}`,
	` {"type":"a","payload":"\u00e9\ud83d\ude00\n","idempotency_key":""} `,
	`{"type":"a","payload":-12.5e+300,"idempotency_key":null}`,
	`{"typ\u0065":"a","payload":[true,false,null,{}]}`,
	`{"type":"a","payload":1} x`,
	`{"type":"a","type":"a","payload":1}`,
	`{"type":"a b","payload":1}`,
	`{"type":".a","payload":1}`,
	`{"type":null,"payload":1}`,
	`{"type":7,"payload":1}`,
	`{"type":"a"}`,
	`{"type":"a","payload":1,"idempotency_key":"a\u0085"}`,
	`{"type":"a","paylod":1}`,
	`{"type":"a","payload":[1,]}`,
	`{"type":"a","payload":"\x"}`,
	"{\"type\":\"a\",\"payload\":\"\xff\"}",
	"{\"type\":\"a\",\"payload\":\"a\x01\"}",
	`{"type":"a","payload":01}`,
	`[1]`, `"x"`, `null`, `{}`, ``, ` `, `{`, `[`, `[]`,
	// Found by the fuzzers.
	`{}00`,
	"{\"type\":\"\\u00\x100\"",
	`[{"type":"a","payload":1},{"type":"b","payload":[2]}]`,
	`[{"type":"a","payload":1},]`,
	"{\"type\":\"a\",\"payload\":1}\r\n\r\n{\"type\":\"b\",\"payload\":2}\n",
	"{\"type\":\"a\",\"payload\":1}\n{\"type\":\"a\",",
	`{"type":"a","payload":` + strings.Repeat("[", 1100) + strings.Repeat("]", 1100) + `}`,
	`{"type":"a","payload":` + strings.Repeat(`{"a":`, 50) + `1` + strings.Repeat(`}`, 50) + `}`,
	// At and past fuzzLimits.MaxPayloadDepth (8), in each field and place.
	`{"type":"a","payload":[[[[[[[[1]]]]]]]]}`,
	`{"type":"a","payload":[[[[[[[[[1]]]]]]]]]}`,
	`{"type":"a","payload":{"a":{"b":[{"c":[[{"d":{"e":[]}}]]}]}}}`,
	`{"type":"a","payload":{"a":{"b":[{"c":[[{"d":{"e":[{}]}}]]}]}}}`,
	`{"type":"a","payload":[[[[[[[[[1,]]]]]]]]]}`,
	`{"type":"a","payload":[[[[[[[[[`,
	`{"type":"a","payload":1,"x":[[[[[[[[[[]]]]]]]]]]}`,
	`{"type":[[[[[[[[[[]]]]]]]]]],"payload":1}`,
	`{"type":"a b","payload":[[[[[[[[[[]]]]]]]]]]}`,
	`{"type":"a","payload":"[[[[[[[[[[\"]]]]]]]]]]"}`,
	`[{"type":"a","payload":[[[[[[[[1]]]]]]]]},{"type":"a","payload":[[[[[[[[[1]]]]]]]]]}]`,
	"{\"type\":\"a\",\"payload\":1}\n{\"type\":\"a\",\"payload\":[[[[[[[[[1]]]]]]]]]}\n",
	`{"payload":[[[[[[[[1]]]]]]]]}`,
	`{"payload":[[[[[[[[[1]]]]]]]]]}`,
	`{"x":[[[[[[[[[1]]]]]]]]],"payload":1}`,
}

var parseCodes = map[string]bool{
	CodeInvalidJSON: true, CodeEmptyBody: true, CodeBatchEmpty: true, CodeBatchTooLarge: true,
	CodePayloadTooLarge: true, CodeMissingType: true, CodeInvalidType: true, CodeMissingPayload: true,
	CodeInvalidIdempotencyKey: true, CodeUnknownField: true, CodePayloadTooDeep: true,
}

var fuzzLimits = ParseLimits{MaxPayloadBytes: 4096, MaxBatchEvents: 8, MaxPayloadDepth: 8}

func FuzzParseEvent(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		ev, perr := ParseEvent(body, fuzzLimits)
		if perr != nil {
			checkParseError(t, perr, 0)
			if perr.Index != -1 {
				t.Fatalf("single event error with index %d", perr.Index)
			}
			// Too deep means too deep: the scan stops there, broken JSON after it or not.
			if perr.Code == CodePayloadTooDeep && nesting(body) <= fuzzLimits.MaxPayloadDepth+1 {
				t.Fatalf("%q nests %d levels, refused with %s", body, nesting(body), perr)
			}
			// Differential check against encoding/json in both directions.
			valid := json.Valid(body) && utf8.Valid(body)
			if !valid && perr.Code != CodeInvalidJSON && perr.Code != CodePayloadTooLarge && perr.Code != CodeEmptyBody && perr.Code != CodePayloadTooDeep {
				t.Fatalf("invalid JSON %q refused with %s", body, perr)
			}
			if valid && perr.Code == CodeInvalidJSON && !refRefuses(body) {
				t.Fatalf("valid event object %q refused with %s", body, perr)
			}
			return
		}
		checkFuzzEvent(t, body, ev)
		if !json.Valid(body) {
			t.Fatalf("accepted invalid JSON %q", body)
		}
		if n := nesting(body); n > fuzzLimits.MaxPayloadDepth+1 {
			t.Fatalf("accepted %q, which nests %d levels", body, n)
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(body, &m); err != nil {
			t.Fatalf("accepted %q that encoding/json cannot decode: %s", body, err)
		}
		var typ string
		if err := json.Unmarshal(m["type"], &typ); err != nil || typ != ev.Type || !bytes.Equal(m["payload"], ev.Payload) {
			t.Fatalf("result for %q differs from encoding/json: type %q vs %q, payload %q vs %q", body, ev.Type, typ, ev.Payload, m["payload"])
		}
	})
}

func FuzzParseBatch(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	f.Fuzz(func(t *testing.T, body []byte, ndjson bool) {
		evs, perr := ParseBatch(body, ndjson, fuzzLimits)
		if perr != nil {
			checkParseError(t, perr, fuzzLimits.MaxBatchEvents)
			if evs != nil {
				t.Fatalf("events returned with an error")
			}
			if perr.Code == CodePayloadTooDeep && nesting(body) <= fuzzLimits.MaxPayloadDepth+1 {
				t.Fatalf("%q nests %d levels, refused with %s", body, nesting(body), perr)
			}
			return
		}
		if len(evs) == 0 || len(evs) > fuzzLimits.MaxBatchEvents {
			t.Fatalf("accepted a batch of %d events", len(evs))
		}
		for _, ev := range evs {
			checkFuzzEvent(t, body, ev)
		}
		if trimmed := bytes.TrimLeft(body, " \t\r\n"); !ndjson && len(trimmed) > 0 && trimmed[0] == '[' {
			var ref []map[string]json.RawMessage
			if err := json.Unmarshal(body, &ref); err != nil || len(ref) != len(evs) {
				t.Fatalf("accepted array %q that encoding/json decodes differently: %v", body, err)
			}
			if n := nesting(body); n > fuzzLimits.MaxPayloadDepth+2 {
				t.Fatalf("accepted array %q, which nests %d levels", body, n)
			}
			for i, m := range ref {
				if !bytes.Equal(m["payload"], evs[i].Payload) {
					t.Fatalf("event %d payload %q differs from encoding/json %q", i, evs[i].Payload, m["payload"])
				}
			}
			return
		}
		// Every NDJSON line must parse exactly as a single event does.
		i := 0
		for _, line := range bytes.Split(body, []byte("\n")) {
			if len(bytes.Trim(line, " \t\r")) == 0 {
				continue
			}
			ev, perr := ParseEvent(line, fuzzLimits)
			if perr != nil || ev.Type != evs[i].Type || ev.IdempotencyKey != evs[i].IdempotencyKey || !bytes.Equal(ev.Payload, evs[i].Payload) {
				t.Fatalf("NDJSON line %q parses differently alone: %+v, %v vs %+v", line, ev, perr, evs[i])
			}
			i++
		}
	})
}

func checkParseError(t *testing.T, perr *ParseError, maxIndex int) {
	t.Helper()
	if !parseCodes[perr.Code] || perr.Message == "" || perr.Index < -1 || perr.Index > maxIndex {
		t.Fatalf("bad error: %+v", perr)
	}
}

func checkFuzzEvent(t *testing.T, body []byte, ev EventInput) {
	t.Helper()
	if n := len(ev.Type); n == 0 || n > maxTypeLen || ev.Type[0] == '.' || ev.Type[n-1] == '.' {
		t.Fatalf("accepted bad type %q", ev.Type)
	}
	for i := 0; i < len(ev.Type); i++ {
		if !strings.ContainsRune("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-", rune(ev.Type[i])) {
			t.Fatalf("accepted type %q with a disallowed byte", ev.Type)
		}
	}
	if len(ev.IdempotencyKey) > maxKeyLen || strings.ContainsFunc(ev.IdempotencyKey, func(r rune) bool { return r < 0x20 || r >= 0x7f && r <= 0x9f }) {
		t.Fatalf("accepted bad idempotency key %q", ev.IdempotencyKey)
	}
	if !json.Valid(ev.Payload) || !utf8.Valid(ev.Payload) {
		t.Fatalf("accepted invalid payload %q", ev.Payload)
	}
	if !aliasesBody(body, ev.Payload) {
		t.Fatalf("payload %q is not a sub-slice of the body", ev.Payload)
	}
}

// aliasesBody reports whether sub lies inside the memory of body.
func aliasesBody(body, sub []byte) bool {
	for i := range body {
		if &body[i] == &sub[0] {
			return i+len(sub) <= len(body)
		}
	}
	return false
}

// nesting is the deepest nesting of brackets outside strings in b: for JSON,
// the document's depth (a scalar is 0), and for a prefix of JSON that breaks
// off, the depth its valid part reached.
func nesting(b []byte) int {
	depth, most := 0, 0
	inStr, esc := false, false
	for _, c := range b {
		switch {
		case esc:
			esc = false
		case inStr && c == '\\':
			esc = true
		case c == '"':
			inStr = !inStr
		case inStr:
		case c == '{' || c == '[':
			depth++
			most = max(most, depth)
		case c == '}' || c == ']':
			depth--
		}
	}
	return most
}

// refRefuses decides with encoding/json whether a valid JSON body must still be refused
// as invalid_json: it is not an object, or repeats a known field.
func refRefuses(body []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(body))
	seen := map[string]bool{}
	depth := 0
	expectKey := false // the next string token at depth 1 is a key
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return false
		}
		if err != nil {
			return true
		}
		switch v := tok.(type) {
		case json.Delim:
			if v == '{' || v == '[' {
				if depth == 0 && v == '[' {
					return true
				}
				depth++
			} else {
				depth--
			}
			expectKey = depth == 1
		case string:
			if depth == 0 {
				return true
			}
			if depth == 1 && expectKey {
				if (v == "type" || v == "payload" || v == "idempotency_key") && seen[v] {
					return true
				}
				seen[v] = true
				expectKey = false
				continue
			}
			expectKey = depth == 1
		default:
			if depth == 0 {
				return true
			}
			expectKey = depth == 1
		}
	}
}
