package transform

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestValidJSON(t *testing.T) {
	f := func(s string, want bool) {
		t.Helper()
		if got := validJSON([]byte(s)); got != want {
			t.Fatalf("validJSON(%q) = %v, want %v", s, got, want)
		}
		if std := json.Valid([]byte(s)) && utf8.ValidString(s); std != want {
			t.Fatalf("BUG in the test: encoding/json and utf8 say %v for %q", std, s)
		}
	}
	long := strings.Repeat("x", 70)
	f("{\n\t\"a\": \"b\"\r\n}", true)
	f(`{"a\"":"\\","b":"\"","c":"\\\""}`, true)
	f("{\"a\":\"x\ny\"}", false)
	f("{\"a\":\"x\ty\"}", false)
	f("{\"\":{\"\":{\"\":\"\x00\"}}}", false)
	f("{\"a\\\"\":\"\\\\\",\"b\":\"\\\"\n\"}", false)
	f(`{"`+long+`":"`+long+"\x1f"+`"}`, false)
	f(`{"`+long+`":"`+long+`\\"}`+"\n", true)
	f(`{"`+long+`\\\\":"`+long+"\r\"}", false)
	f("{\"a\":\"\xff\"}", false)
	f("{\"a\":\"é\"}", true)
	f(`{"a":1,}`, false)
	f(` "x" `, true)
	f(``, false)
	// Escapes: only RFC 8259's, \u with four hex digits, across the 8-byte
	// words the check reads.
	f(`{"":"\0"}`, false)
	f(`"\q"`, false)
	f(`"\u00eu"`, false)
	f(`"\u12"`, false)
	f(`"\u00e9\u00E9\/\b\f\n\r\t"`, true)
	for pad := range 9 {
		p := strings.Repeat("x", pad)
		f(`"`+p+`\u00e9"`, true)
		f(`"`+p+`\u0x41"`, false)
		f(`"`+p+`\x"`, false)
	}
	f(string(readFixture(t, "github/pull_request_opened.json")), true)
}
