package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// FuzzRender: any JSON answer renders in every format without a panic;
// json output is the same value, and a table has a header line.
func FuzzRender(f *testing.F) {
	for _, s := range []string{`{"data":[{"id":"a","n":1,"tags":["x","y"],"o":{"k":1}}],"next_cursor":"c"}`,
		`{"id":"acme","max_endpoints":null}`, `[]`, `[1,"a",null]`, `"s"`, `12345678901234567890`, `{"data":"x"}`, `null`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		if !json.Valid(raw) {
			return
		}
		for _, format := range []string{"json", "yaml", "table"} {
			var b bytes.Buffer
			if err := render(&b, format, raw, nil); err != nil {
				t.Fatalf("%s of %q: %v", format, raw, err)
			}
			switch format {
			case "json":
				var got, want bytes.Buffer
				_ = json.Compact(&want, raw)
				_ = json.Compact(&got, bytes.TrimSuffix(b.Bytes(), []byte("\n")))
				if got.String() != want.String() {
					t.Fatalf("json of %q is %q", raw, b.String())
				}
			case "table":
				if !strings.HasSuffix(b.String(), "\n") {
					t.Fatalf("table of %q: %q", raw, b.String())
				}
			}
		}
	})
}

// FuzzFieldValue: a field flag's text is a value of the field's kind or an
// error, never a panic.
func FuzzFieldValue(f *testing.F) {
	for _, s := range []string{"1", "x", "a,b,,c", `{"a":1}`, "", "@", "-1", "99999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if strings.HasPrefix(s, "@") {
			return // names a file
		}
		for _, k := range []fieldKind{kString, kInt, kList, kJSON} {
			v, err := fieldValue(field{kind: k}, s)
			if err != nil {
				continue
			}
			if _, err := json.Marshal(v); err != nil {
				t.Fatalf("kind %d of %q: %v not JSON", k, s, v)
			}
			if list, ok := v.([]string); ok {
				for _, e := range list {
					if e == "" || strings.Contains(e, ",") {
						t.Fatalf("list of %q has %q", s, e)
					}
				}
			}
		}
	})
}

// FuzzExampleOf: any JSON Schema, however deep or odd, gives an example
// that encodes as JSON.
func FuzzExampleOf(f *testing.F) {
	for _, s := range []string{`{"type":"object","properties":{"a":{"type":"array","items":{"type":"string","format":"date-time"}}}}`,
		`{"examples":[1]}`, `{"enum":[]}`, `{"type":["integer","null"],"minimum":3}`, `{"properties":{"x":{"properties":{"y":{}}}}}`, `true`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		var s any
		if json.Unmarshal(raw, &s) != nil {
			return
		}
		if _, err := json.Marshal(exampleOf(s, 0)); err != nil {
			t.Fatalf("example of %s: %v", raw, err)
		}
	})
}

// TestExampleOf: the example a schema gives, case by case.
func TestExampleOf(t *testing.T) {
	f := func(schema, want string) {
		t.Helper()
		var s any
		require_NoError(t, json.Unmarshal([]byte(schema), &s))
		got, err := json.Marshal(exampleOf(s, 0))
		require_NoError(t, err)
		require_Equal(t, string(got), want)
	}
	f(`{"type":"object","properties":{"b":{"type":"boolean"},"a":{"type":"integer","minimum":5}}}`, `{"a":5,"b":false}`)
	f(`{"type":"array","items":{"type":"string","format":"email"}}`, `["user@example.com"]`)
	f(`{"type":"string","examples":["x"],"enum":["y"]}`, `"x"`)
	f(`{"const":3}`, `3`)
	f(`{"type":["string","null"]}`, `"string"`)
	f(`{}`, `null`)
}

// FuzzEventFlags: --type and --payload make an event that encodes as JSON,
// or an error, never a panic.
func FuzzEventFlags(f *testing.F) {
	for _, s := range []string{`{"a":1}`, "", "{", "[1,2]", `"s"`, "null", "1e999"} {
		f.Add("invoice.paid", s)
	}
	f.Add("", "{}")
	f.Fuzz(func(t *testing.T, typ, payload string) {
		ev, err := eventFlags(typ, payload)
		if err != nil {
			return
		}
		if typ == "" {
			t.Fatalf("no type, no error: %v", ev)
		}
		if _, err := json.Marshal(ev); err != nil {
			t.Fatalf("--type %q --payload %q: %v", typ, payload, err)
		}
	})
}

// FuzzOutcomes: any answer to a test or a replay is a success or an
// error, never a panic; a test succeeds only when it says so.
func FuzzOutcomes(f *testing.F) {
	for _, s := range []string{`{"success":true,"status":200}`, `{"success":false,"status":0,"error_class":"refused"}`,
		`{"outcome":"rejected","message":"m"}`, `{"outcome":"accepted"}`, `[]`, `null`, `{`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		var res struct{ Success bool }
		if testFailure(raw) == nil && json.Unmarshal(raw, &res) == nil && !res.Success {
			t.Fatalf("%s: a test that did not succeed passed", raw)
		}
		_ = replayFailure(raw)
	})
}
