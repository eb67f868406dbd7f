package httpin

import (
	"bytes"
	"encoding/json"
	"testing"
)

// FuzzParseTestBody: the test body parser never panics; what it accepts is
// an empty body or a JSON object (as encoding/json sees it) whose payload,
// when present, is valid JSON; what it refuses carries a known code.
func FuzzParseTestBody(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	for _, s := range []string{
		`{"payload":{"a":1}}`, ` {"payload" : null } `, `{"pay\u006coad":"x"}`,
		`{"payload":1,"payload":2}`, `{"payload":1,"x":2}`, `{"payload":1,}`, `{}`, `{ }`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		payload, perr := parseTestBody(body, fuzzLimits.MaxPayloadDepth)
		if perr != nil {
			if perr.Code != CodeInvalidJSON && perr.Code != CodeUnknownField && perr.Code != CodePayloadTooDeep {
				t.Fatalf("unexpected code %q for %q", perr.Code, body)
			}
			if perr.Code == CodePayloadTooDeep && nesting(body) <= fuzzLimits.MaxPayloadDepth+1 {
				t.Fatalf("%q nests %d levels, refused with %s", body, nesting(body), perr)
			}
			if perr.Message == "" {
				t.Fatalf("no message for %q", body)
			}
			return
		}
		trimmed := bytes.TrimSpace(body)
		if len(trimmed) == 0 {
			if payload != nil {
				t.Fatalf("empty body gave payload %q", payload)
			}
			return
		}
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(trimmed, &obj); err != nil {
			t.Fatalf("accepted %q, which encoding/json refuses as an object: %v", body, err)
		}
		if payload != nil && !json.Valid(payload) {
			t.Fatalf("accepted %q with invalid payload %q", body, payload)
		}
		if n := nesting(body); n > fuzzLimits.MaxPayloadDepth+1 {
			t.Fatalf("accepted %q, which nests %d levels", body, n)
		}
		if payload != nil && !bytes.Equal(bytes.TrimSpace(payload), payload) {
			t.Fatalf("payload %q of %q is not trimmed", payload, body)
		}
	})
}
