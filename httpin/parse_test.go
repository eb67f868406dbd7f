package httpin

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

func TestParseEventOK(t *testing.T) {
	f := func(body, wantType, wantPayload, wantKey string) {
		t.Helper()
		ev, perr := ParseEvent([]byte(body), ParseLimits{})
		if perr != nil {
			t.Fatalf("unexpected error for %q: %s", body, perr)
		}
		if ev.Type != wantType || string(ev.Payload) != wantPayload || ev.IdempotencyKey != wantKey {
			t.Fatalf("unexpected result for %q\ngot  type=%q payload=%q key=%q\nwant type=%q payload=%q key=%q",
				body, ev.Type, ev.Payload, ev.IdempotencyKey, wantType, wantPayload, wantKey)
		}
	}
	f(`{"type":"invoice.paid","payload":{"id":1}}`, "invoice.paid", `{"id":1}`, "")
	f(`{"payload":{"id":1},"type":"invoice.paid","idempotency_key":"k-1"}`, "invoice.paid", `{"id":1}`, "k-1")
	// The payload keeps its exact bytes: inner spaces, key order, escapes, number spelling.
	f(`{"type":"a","payload":{"x" : [1, 2 ]}}`, "a", `{"x" : [1, 2 ]}`, "")
	f(`{"type":"a","payload":{"z":1,"a":2,"m":"\u00e9\n\/"}}`, "a", `{"z":1,"a":2,"m":"\u00e9\n\/"}`, "")
	f(`{"type":"a","payload":123456789012345678901234567890.5e-400}`, "a", `123456789012345678901234567890.5e-400`, "")
	f(`{"type":"a","payload":-0}`, "a", `-0`, "")
	f(`{"type":"a","payload":1E+2}`, "a", `1E+2`, "")
	// Surrounding whitespace of the payload and of the body is not part of it.
	f(" \r\n\t{ \"type\" : \"a\" , \"payload\" :\n [ ] \t} \n", "a", `[ ]`, "")
	f(`{"type":"a","payload":null}`, "a", `null`, "")
	f(`{"type":"a","payload":"text"}`, "a", `"text"`, "")
	f(`{"type":"a","payload":true}`, "a", `true`, "")
	f(`{"type":"a","payload":false}`, "a", `false`, "")
	f(`{"type":"a","payload":[]}`, "a", `[]`, "")
	f(`{"type":"a","payload":{}}`, "a", `{}`, "")
	// "" and null mean "no idempotency key".
	f(`{"type":"a","payload":1,"idempotency_key":""}`, "a", `1`, "")
	f(`{"type":"a","payload":1,"idempotency_key":null}`, "a", `1`, "")
	f(`{"type":"a","payload":1,"idempotency_key":"caf\u00e9 \ud83d\ude00"}`, "a", `1`, "café 😀")
	f(`{"type":"a","payload":1,"idempotency_key":"`+strings.Repeat("k", 256)+`"}`, "a", `1`, strings.Repeat("k", 256))
	// Escaped keys and type values mean what they decode to.
	f(`{"typ\u0065":"inv\u006fice.paid","p\u0061yload":1}`, "invoice.paid", `1`, "")
	f(`{"type":"`+strings.Repeat("a", 128)+`","payload":1}`, strings.Repeat("a", 128), `1`, "")
	f(`{"type":"A-z_0:9.x","payload":1}`, "A-z_0:9.x", `1`, "")
	// Valid UTF-8 is kept as is; deep but allowed nesting parses.
	f(`{"type":"a","payload":"héllo wörld ✓ 😀"}`, "a", `"héllo wörld ✓ 😀"`, "")
	f(`{"type":"a","payload":`+nestedArrays(128)+`}`, "a", nestedArrays(128), "")
}

func nestedArrays(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }

func TestParseEventError(t *testing.T) {
	f := func(body, wantCode string) {
		t.Helper()
		ev, perr := ParseEvent([]byte(body), ParseLimits{MaxPayloadBytes: 1 << 16})
		if perr == nil {
			t.Fatalf("expected %s for %s, got %+v", wantCode, shortBody(body), ev)
		}
		if perr.Code != wantCode || perr.Index != -1 {
			t.Fatalf("unexpected error for %s: got code=%q index=%d (%s); want code=%q index=-1", shortBody(body), perr.Code, perr.Index, perr.Message, wantCode)
		}
		if perr.Message == "" || perr.Error() != perr.Code+": "+perr.Message {
			t.Fatalf("bad message for %q: %q", body, perr.Error())
		}
	}
	f(``, CodeEmptyBody)
	f(" \r\n\t ", CodeEmptyBody)

	f(`{`, CodeInvalidJSON)
	f(`{"type":"a","payload":1`, CodeInvalidJSON)
	f(`{"type":"a","payload":1} x`, CodeInvalidJSON)
	f(`{"type":"a","payload":1}{}`, CodeInvalidJSON)
	f(`[1]`, CodeInvalidJSON)
	f(`"x"`, CodeInvalidJSON)
	f(`null`, CodeInvalidJSON)
	f(`42`, CodeInvalidJSON)
	f(`x`, CodeInvalidJSON)
	f(`{"type":"a","payload":1,}`, CodeInvalidJSON)
	f(`{"type":"a" "payload":1}`, CodeInvalidJSON)
	f(`{"type" "a","payload":1}`, CodeInvalidJSON)
	f(`{type:"a","payload":1}`, CodeInvalidJSON)
	f(`{'type':'a','payload':1}`, CodeInvalidJSON)
	f(`{"type":"a","payload":01}`, CodeInvalidJSON)
	f(`{"type":"a","payload":1.}`, CodeInvalidJSON)
	f(`{"type":"a","payload":.5}`, CodeInvalidJSON)
	f(`{"type":"a","payload":+1}`, CodeInvalidJSON)
	f(`{"type":"a","payload":1e}`, CodeInvalidJSON)
	f(`{"type":"a","payload":-}`, CodeInvalidJSON)
	f(`{"type":"a","payload":NaN}`, CodeInvalidJSON)
	f(`{"type":"a","payload":tru}`, CodeInvalidJSON)
	f(`{"type":"a","payload":nulls}`, CodeInvalidJSON)
	f(`{"type":"a","payload":[1,]}`, CodeInvalidJSON)
	f(`{"type":"a","payload":[1 2]}`, CodeInvalidJSON)
	f(`{"type":"a","payload":{"x":1,}}`, CodeInvalidJSON)
	f(`{"type":"a","payload":{"x" 1}}`, CodeInvalidJSON)
	f(`{"type":"a","payload":{1:1}}`, CodeInvalidJSON)
	f(`{"type":"a","payload":"\x"}`, CodeInvalidJSON)
	f(`{"type":"a","payload":"\u12g4"}`, CodeInvalidJSON)
	f(`{"type":"a","payload":"\u12"}`, CodeInvalidJSON)
	f("{\"type\":\"\\u00\x100\",\"payload\":1}", CodeInvalidJSON) // found by FuzzParseEvent: 0x10|0x20 == '0'
	f(`{"type":"a","payload":"\u00G0"}`, CodeInvalidJSON)
	f(`{"type":"\uABCDef01","payload":1}`, CodeInvalidType)
	f("{\"type\":\"a\",\"payload\":\"a\x01b\"}", CodeInvalidJSON)
	f("{\"type\":\"a\",\"payload\":\"a\tb\"}", CodeInvalidJSON)
	f("{\"type\":\"a\",\"payload\":1}\x00", CodeInvalidJSON)
	f("{\"type\":\"a\",\"payload\":1}\v", CodeInvalidJSON)
	// Invalid UTF-8 is refused (encoding/json would accept it and sonic would pass it
	// on), because the payload is forwarded verbatim as application/json.
	f("{\"type\":\"a\",\"payload\":\"\xff\"}", CodeInvalidJSON)
	f("{\"type\":\"a\",\"payload\":\"\xed\xa0\x80\"}", CodeInvalidJSON) // UTF-8 encoded surrogate
	f("{\"type\":\"a\",\"payload\":\"\xe2\x82\"}", CodeInvalidJSON)     // truncated sequence
	f("{\"type\":\"a\xff\",\"payload\":1}", CodeInvalidJSON)
	f("{\"ty\xffpe\":\"a\",\"payload\":1}", CodeInvalidJSON)
	// Duplicates of known fields are ambiguous; they win over other semantic errors.
	f(`{"type":"a","type":"b","payload":1}`, CodeInvalidJSON)
	f(`{"type":"a","payload":1,"payload":2}`, CodeInvalidJSON)
	f(`{"type":"a","payload":1,"idempotency_key":"k","idempotency_key":"k"}`, CodeInvalidJSON)
	f(`{"type":null,"type":"a","payload":1}`, CodeInvalidJSON)
	f(`{"type":"a","typ\u0065":"a","payload":1}`, CodeInvalidJSON)
	// Broken JSON wins over a semantic error seen earlier.
	f(`{"paylod":1,"type":"a","payload":[}`, CodeInvalidJSON)
	f(`{}00`, CodeInvalidJSON)
	f(`{"type":"a b","payload":1} x`, CodeInvalidJSON)

	f(`{"type":"a","payload":"`+strings.Repeat("x", 1<<16)+`"}`, CodePayloadTooLarge)

	f(`{"payload":1}`, CodeMissingType)
	f(`{}`, CodeMissingType)
	f(`{"type":"","payload":1}`, CodeMissingType)
	f(`{"type":null,"payload":1}`, CodeMissingType)

	f(`{"type":1,"payload":1}`, CodeInvalidType)
	f(`{"type":true,"payload":1}`, CodeInvalidType)
	f(`{"type":["a"],"payload":1}`, CodeInvalidType)
	f(`{"type":{},"payload":1}`, CodeInvalidType)
	f(`{"type":"`+strings.Repeat("a", 129)+`","payload":1}`, CodeInvalidType)
	f(`{"type":"invoice paid","payload":1}`, CodeInvalidType)
	f(`{"type":"invoice/paid","payload":1}`, CodeInvalidType)
	f(`{"type":"invoice*","payload":1}`, CodeInvalidType)
	f(`{"type":"café","payload":1}`, CodeInvalidType)
	f(`{"type":"a\nb","payload":1}`, CodeInvalidType)
	f(`{"type":".a","payload":1}`, CodeInvalidType)
	f(`{"type":"a.","payload":1}`, CodeInvalidType)
	f(`{"type":".","payload":1}`, CodeInvalidType)

	f(`{"type":"a"}`, CodeMissingPayload)
	f(`{"type":"a","idempotency_key":"k"}`, CodeMissingPayload)

	f(`{"type":"a","payload":1,"idempotency_key":1}`, CodeInvalidIdempotencyKey)
	f(`{"type":"a","payload":1,"idempotency_key":["k"]}`, CodeInvalidIdempotencyKey)
	f(`{"type":"a","payload":1,"idempotency_key":false}`, CodeInvalidIdempotencyKey)
	f(`{"type":"a","payload":1,"idempotency_key":"`+strings.Repeat("k", 257)+`"}`, CodeInvalidIdempotencyKey)
	f(`{"type":"a","payload":1,"idempotency_key":"a\nb"}`, CodeInvalidIdempotencyKey)
	f(`{"type":"a","payload":1,"idempotency_key":"a\u0000b"}`, CodeInvalidIdempotencyKey)
	f("{\"type\":\"a\",\"payload\":1,\"idempotency_key\":\"a\x7fb\"}", CodeInvalidIdempotencyKey)
	f(`{"type":"a","payload":1,"idempotency_key":"a\u0085b"}`, CodeInvalidIdempotencyKey)

	f(`{"type":"a","paylod":1}`, CodeUnknownField)
	f(`{"type":"a","payload":1,"extra":null}`, CodeUnknownField)
	f(`{"Type":"a","payload":1}`, CodeUnknownField)
	f(`{"type":"a","payload":1,"":1}`, CodeUnknownField)
	// A semantic error seen first wins over a later one.
	f(`{"typ":"a","payload":1}`, CodeUnknownField)
	f(`{"type":"a b","paylod":1}`, CodeInvalidType)
}

func TestParseErrorMessage(t *testing.T) {
	f := func(body string, batch bool, wantMsg string) {
		t.Helper()
		var perr *ParseError
		if batch {
			_, perr = ParseBatch([]byte(body), false, ParseLimits{})
		} else {
			_, perr = ParseEvent([]byte(body), ParseLimits{})
		}
		if perr == nil || perr.Message != wantMsg {
			t.Fatalf("unexpected error for %q\ngot  %v\nwant %s", body, perr, wantMsg)
		}
	}
	f(`{"type":"a","payload":1} x`, false, "invalid JSON at offset 25: unexpected data after the event object")
	f(`{"type":"a","payload":[1 2]}`, false, "invalid JSON at offset 25: expected ',' or ']' after an array element")
	f(`{"type":"a","payload":1,"type":"b"}`, false, `invalid JSON at offset 24: duplicate field "type"`)
	f(`{"type":"a","paylod":1}`, false, `unknown field "paylod"; allowed fields are "type", "payload" and "idempotency_key"`)
	f(`{"type":"a b","payload":1}`, false, `field "type" value "a b" has a disallowed byte ' ' at position 1; allowed are A-Z a-z 0-9 . _ : -`)
	f(`{"type":5,"payload":1}`, false, `field "type" must be a string, got number`)
	f("\n{\"type\":\"a\",\"payload\":1}\r\n\n{\"type\":\"a\",\"payload\":x}\n", true,
		"event 1 (line 4): invalid JSON at offset 22 of the line: invalid character 'x' looking for the beginning of a value")
	f(`{"type":"a","payload":"`+"\x1b[31m"+`"}`, false, "invalid JSON at offset 23: control character in string")
	f(`[{"type":"a","payload":1},{"type":"a","payload":x}]`, true,
		"event 1: invalid JSON at offset 48: invalid character 'x' looking for the beginning of a value")
	f(`[{"type":"a","payload":1}] x`, true, "invalid JSON at offset 27: unexpected data after the batch array")
	f(`[{"type":"a","payload":1,"idempotency_key":7}]`, true, `event 0: field "idempotency_key" must be a string, got number`)
}

func TestParseDeepNesting(t *testing.T) {
	// Hostile nesting gets a clean error, never a stack overflow or a panic,
	// whatever the limit, even one above MaxPayloadDepthLimit.
	for _, depth := range []int{0, 3, MaxPayloadDepthLimit, 1 << 20} {
		lim := ParseLimits{MaxPayloadDepth: depth}
		f := func(body string, batch bool, wantCode string, wantIndex int) {
			t.Helper()
			var perr *ParseError
			if batch {
				_, perr = ParseBatch([]byte(body), false, lim)
			} else {
				_, perr = ParseEvent([]byte(body), lim)
			}
			if perr == nil || perr.Code != wantCode || perr.Index != wantIndex {
				t.Fatalf("limit %d: unexpected result for %s: %v; want code=%q index=%d", depth, shortBody(body), perr, wantCode, wantIndex)
			}
		}
		const ok = `{"type":"a","payload":1}`
		f(`{"type":"a","payload":`+nestedArrays(MaxPayloadDepthLimit+1)+`}`, false, CodePayloadTooDeep, -1)
		f(`{"type":"a","payload":`+strings.Repeat("[", 10000)+`}`, false, CodePayloadTooDeep, -1)
		f(`{"type":"a","payload":`+strings.Repeat(`{"a":`, 100000)+`}`, false, CodePayloadTooDeep, -1)
		f(`{"type":"a","payload":`+strings.Repeat(`[{"a":`, 600)+`1`+strings.Repeat(`}]`, 600)+`}`, false, CodePayloadTooDeep, -1)
		f(strings.Repeat("[", 10000), false, CodeInvalidJSON, -1)
		f(strings.Repeat("{", 10000), false, CodeInvalidJSON, -1)
		f(`[`+strings.Repeat("[", 10000), true, CodeInvalidJSON, 0)
		f(`[`+ok+`,`+strings.Repeat("{", 10000), true, CodeInvalidJSON, 1)
		f(ok+"\n"+ok+"\n"+strings.Repeat("{", 10000), true, CodeInvalidJSON, 2)
		f(ok+"\n"+`{"type":"a","payload":`+strings.Repeat("[", 10000), true, CodePayloadTooDeep, 1)
		// Broken JSON inside the allowed depth is still invalid_json.
		f(`{"type":"a","payload":[[[1,]]]}`, false, CodeInvalidJSON, -1)
	}
}

// TestParseDepthOption: ParseLimits.MaxPayloadDepth sets the limit, 0 the
// default of 128, and a limit above MaxPayloadDepthLimit is taken as it.
func TestParseDepthOption(t *testing.T) {
	f := func(depth, payloadDepth int, wantCode string) {
		t.Helper()
		body := `{"type":"a","payload":` + strings.Repeat("[", payloadDepth) + "1" + strings.Repeat("]", payloadDepth) + `}`
		_, perr := ParseEvent([]byte(body), ParseLimits{MaxPayloadDepth: depth})
		switch {
		case wantCode == "" && perr != nil:
			t.Fatalf("limit %d, depth %d: unexpected error %s", depth, payloadDepth, perr)
		case wantCode != "" && (perr == nil || perr.Code != wantCode):
			t.Fatalf("limit %d, depth %d: got %v; want %s", depth, payloadDepth, perr, wantCode)
		case wantCode != "":
			limit := min(depth, MaxPayloadDepthLimit)
			if depth == 0 {
				limit = 128
			}
			require := fmt.Sprintf("deeper than %d levels", limit)
			if !strings.Contains(perr.Message, require) {
				t.Fatalf("limit %d: message %q lacks %q", depth, perr.Message, require)
			}
		}
	}
	f(1, 0, "")
	f(1, 1, "")
	f(1, 2, CodePayloadTooDeep)
	f(3, 3, "")
	f(3, 4, CodePayloadTooDeep)
	f(0, 128, "")
	f(0, 129, CodePayloadTooDeep)
	f(MaxPayloadDepthLimit, MaxPayloadDepthLimit, "")
	f(MaxPayloadDepthLimit, MaxPayloadDepthLimit+1, CodePayloadTooDeep)
	f(1<<20, MaxPayloadDepthLimit, "")
	f(1<<20, MaxPayloadDepthLimit+1, CodePayloadTooDeep)
}

// shortBody keeps failure output readable when a test body is huge.
func shortBody(s string) string {
	if len(s) > 200 {
		return fmt.Sprintf("%q... (%d bytes)", s[:200], len(s))
	}
	return fmt.Sprintf("%q", s)
}

func TestParseBatchOK(t *testing.T) {
	f := func(body string, ndjson bool, want ...string) {
		t.Helper()
		evs, perr := ParseBatch([]byte(body), ndjson, ParseLimits{})
		if perr != nil {
			t.Fatalf("unexpected error for %q: %s", body, perr)
		}
		var got []string
		for _, ev := range evs {
			got = append(got, ev.Type+" "+string(ev.Payload)+" "+ev.IdempotencyKey)
		}
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Fatalf("unexpected events for %q\ngot  %q\nwant %q", body, got, want)
		}
	}
	f(`[{"type":"a","payload":1}]`, false, "a 1 ")
	f(` [ {"type":"a","payload":{"x" : 1}} , {"type":"b","payload":[ 2 ],"idempotency_key":"k"} ] `, false, `a {"x" : 1} `, "b [ 2 ] k")
	// NDJSON: by flag, or by a first byte other than '['; blank lines, CRLF, missing final newline.
	f("{\"type\":\"a\",\"payload\":1}\n{\"type\":\"b\",\"payload\":2}\n", false, "a 1 ", "b 2 ")
	f("{\"type\":\"a\",\"payload\":1}\r\n\r\n  \r\n{\"type\":\"b\",\"payload\":\"x \"}\r\n", false, "a 1 ", `b "x " `)
	f("\n\n{\"type\":\"a\",\"payload\":1}", true, "a 1 ")
	f("\t{\"type\":\"a\",\"payload\":1}\t\n{\"type\":\"a\",\"payload\":2}", true, "a 1 ", "a 2 ")
	f(`{"type":"a","payload":1}`, true, "a 1 ")
}

func TestParseBatchError(t *testing.T) {
	f := func(body string, ndjson bool, wantCode string, wantIndex int) {
		t.Helper()
		evs, perr := ParseBatch([]byte(body), ndjson, ParseLimits{MaxPayloadBytes: 100, MaxBatchEvents: 3})
		if perr == nil {
			t.Fatalf("expected %s for %s, got %d events", wantCode, shortBody(body), len(evs))
		}
		if evs != nil {
			t.Fatalf("events returned together with an error for %q", body)
		}
		if perr.Code != wantCode || perr.Index != wantIndex {
			t.Fatalf("unexpected error for %s: got code=%q index=%d (%s); want code=%q index=%d", shortBody(body), perr.Code, perr.Index, perr.Message, wantCode, wantIndex)
		}
	}
	const ok = `{"type":"a","payload":1}`
	arr := func(evs ...string) string { return "[" + strings.Join(evs, ",") + "]" }
	nd := func(evs ...string) string { return strings.Join(evs, "\n") + "\n" }

	f(`[]`, false, CodeBatchEmpty, -1)
	f(" [ \n ] ", false, CodeBatchEmpty, -1)
	f(``, false, CodeBatchEmpty, -1)
	f("\n\r\n \n", true, CodeBatchEmpty, -1)
	f(``, true, CodeBatchEmpty, -1)

	f(arr(ok, ok, ok, ok), false, CodeBatchTooLarge, 3)
	f(nd(ok, ok, ok, ok), false, CodeBatchTooLarge, 3)
	f(nd(ok, "", ok, "", ok, ok), true, CodeBatchTooLarge, 3)

	big := `{"type":"a","payload":"` + strings.Repeat("x", 100) + `"}`
	f(arr(ok, big), false, CodePayloadTooLarge, 1)
	f(arr(big), false, CodePayloadTooLarge, 0)
	f(arr(ok, ok, big[:90]), false, CodeInvalidJSON, 2) // ends inside the size limit: broken, not too large
	f(nd(ok, big), true, CodePayloadTooLarge, 1)

	f(`[1]`, false, CodeInvalidJSON, 0)
	f(arr(ok, `"x"`), false, CodeInvalidJSON, 1)
	f(arr(ok, `null`), false, CodeInvalidJSON, 1)
	f(arr(ok, `{"type":"a","payload":[}`), false, CodeInvalidJSON, 1)
	f(arr(ok, ok)+" x", false, CodeInvalidJSON, -1)
	f(arr(ok, ok)+"]", false, CodeInvalidJSON, -1)
	f(`[`+ok, false, CodeInvalidJSON, -1)
	f(`[`+ok+` `+ok+`]`, false, CodeInvalidJSON, -1)
	f(`[`+ok+`,]`, false, CodeInvalidJSON, 1)
	f(`[`+ok+`,`, false, CodeInvalidJSON, 1)
	f(`[`, false, CodeInvalidJSON, 0)
	f(`[] x`, false, CodeInvalidJSON, -1)
	f(nd(ok, ok+" x"), true, CodeInvalidJSON, 1)
	f(nd(ok, `{"payload":1} x`), true, CodeInvalidJSON, 1)
	f(nd(ok, `{"type":"a",`, `"payload":1}`), true, CodeInvalidJSON, 1)
	f(nd(ok, "", `[1]`), true, CodeInvalidJSON, 1)
	f(arr(ok), true, CodeInvalidJSON, 0) // NDJSON by flag: an array line is not an event
	f(nd(`"x"`), false, CodeInvalidJSON, 0)
	f(nd(ok, "{\"type\":\"a\",\"payload\":\"\xff\"}"), true, CodeInvalidJSON, 1)
	f(nd(ok, `{"type":"a","type":"a","payload":1}`), true, CodeInvalidJSON, 1)

	for _, tc := range []struct{ ev, code string }{
		{`{"payload":1}`, CodeMissingType},
		{`{"type":"a b","payload":1}`, CodeInvalidType},
		{`{"type":"a"}`, CodeMissingPayload},
		{`{"type":"a","payload":1,"idempotency_key":7}`, CodeInvalidIdempotencyKey},
		{`{"type":"a","payload":1,"x":7}`, CodeUnknownField},
	} {
		f(arr(ok, ok, tc.ev), false, tc.code, 2)
		f(arr(tc.ev, ok), false, tc.code, 0)
		f(nd(ok, tc.ev), true, tc.code, 1)
		f("\r\n"+nd(ok, "", tc.ev, ok), false, tc.code, 1)
	}
}

func TestParseBatchSharesTypeAndAliasesBody(t *testing.T) {
	body := []byte(`[{"type":"a.b","payload":{"n":1}},{"type":"a.b","payload":{"n":2}}]`)
	evs, perr := ParseBatch(body, false, ParseLimits{})
	if perr != nil {
		t.Fatalf("unexpected error: %s", perr)
	}
	if len(evs) != 2 || evs[0].Type != "a.b" || evs[1].Type != "a.b" {
		t.Fatalf("unexpected events: %+v", evs)
	}
	// The payload aliases the body, and its capacity ends with it so appends cannot clobber the body.
	for _, ev := range evs {
		if i := bytes.Index(body, ev.Payload); i < 0 || &body[i] != &ev.Payload[0] || cap(ev.Payload) != len(ev.Payload) {
			t.Fatalf("payload %q does not alias the body with a tight capacity", ev.Payload)
		}
	}
}

func TestParseEventAllocs(t *testing.T) {
	body := []byte(`{"type":"invoice.paid","payload":{"id":"in_1","amount":1200},"idempotency_key":"k1"}`)
	n := testing.AllocsPerRun(100, func() {
		if _, perr := ParseEvent(body, ParseLimits{}); perr != nil {
			t.Fatalf("unexpected error: %s", perr)
		}
	})
	if n > 2 {
		t.Fatalf("ParseEvent allocates %v times per event; want at most 2 (type and key)", n)
	}
}

// TestParseDepthLimit: payloads nest at most 128 levels by default (each
// object or array one level; the event object itself does not count), past
// it the code is payload_too_deep and the message names the limit and the
// event. Scalars are depth 0.
func TestParseDepthLimit(t *testing.T) {
	objs := func(n int) string { return strings.Repeat(`{"k":`, n) + `"v"` + strings.Repeat(`}`, n) }
	ev := func(payload string) string { return `{"type":"a","payload":` + payload + `}` }
	f := func(body string, batch bool, wantCode string, wantIndex int, wantInMsg string) {
		t.Helper()
		var perr *ParseError
		if batch {
			_, perr = ParseBatch([]byte(body), false, ParseLimits{})
		} else {
			_, perr = ParseEvent([]byte(body), ParseLimits{})
		}
		switch {
		case wantCode == "" && perr != nil:
			t.Fatalf("unexpected error for %s: %s", shortBody(body), perr)
		case wantCode == "":
			return
		case perr == nil || perr.Code != wantCode || perr.Index != wantIndex || !strings.Contains(perr.Message, wantInMsg):
			t.Fatalf("unexpected result for %s: %v; want code=%q index=%d and %q in the message", shortBody(body), perr, wantCode, wantIndex, wantInMsg)
		}
	}
	f(ev(nestedArrays(128)), false, "", 0, "")
	f(ev(objs(128)), false, "", 0, "")
	f(ev(`[`+objs(127)+`,1,[]]`), false, "", 0, "")
	f(ev(nestedArrays(129)), false, "payload_too_deep", -1, `"payload" nests deeper than 128 levels`)
	f(ev(objs(129)), false, "payload_too_deep", -1, "128")
	f(ev(`[1,`+objs(128)+`]`), false, "payload_too_deep", -1, "128")
	f(ev(strings.Repeat("[", 10000)), false, "payload_too_deep", -1, "128")
	// Other fields are bounded alike, so their error names them.
	f(`{"type":"a","payload":1,"x":`+nestedArrays(200)+`}`, false, "payload_too_deep", -1, `field "x" nests deeper`)
	f(`[`+ev("1")+`,`+ev(nestedArrays(129))+`]`, true, "payload_too_deep", 1, "event 1: ")
	f(ev("1")+"\n\n"+ev(objs(300))+"\n", true, "payload_too_deep", 1, "event 1 (line 3): ")
}
