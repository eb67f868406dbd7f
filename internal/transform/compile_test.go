package transform

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestCompileInvalid(t *testing.T) {
	f := func(spec, rule, msgPart string) {
		t.Helper()
		_, m, err := ParseSpec([]byte(spec))
		if m != nil {
			t.Fatalf("%s: compiled, want invalid_mapping at %q", spec, rule)
		}
		e := requireCode(t, err, CodeInvalidMapping, rule)
		if !strings.Contains(e.Message, msgPart) {
			t.Fatalf("%s: message %q lacks %q", spec, e.Message, msgPart)
		}
	}
	deep := `{"path":"$.a","exists":true}`
	for range 8 {
		deep = `{"not":` + deep + `}`
	}
	many := `{"path":"$.a","exists":true}` + strings.Repeat(`,{"path":"$.a","exists":true}`, 256)
	manyFields := `"f0":"$"`
	for i := 1; i <= 100; i++ {
		manyFields += `,"f` + strings.Repeat("x", i) + `":"$"`
	}
	route := func(when string) string {
		return `{"type":"t","routes":[{"when":{"path":"$.a","exists":true},"type":"x"},{"when":` + when + `,"type":"x"}]}`
	}

	// Decoding.
	f(`{"type":"t","bogus":1}`, "", `unknown field "bogus"`)
	f(`{"type":"t"} {}`, "", "trailing data")
	f(`[]`, "", "cannot decode")
	f(`{"type":"t","payload":{"a":[1}}`, "", "cannot decode")
	f(`{"type":"t","payload":`+strings.Repeat(`{"a":`, 9)+`"$"`+strings.Repeat(`}`, 9)+`}`, "", "payload.a.a.a.a.a.a.a.a: objects and arrays nest deeper than 8")
	f(`{"type":"t","payload":{"a":`+strings.Repeat(`[`, 8)+`1`+strings.Repeat(`]`, 8)+`}}`, "", "payload.a[0][0][0][0][0][0][0]: objects and arrays nest deeper than 8")

	// Type and templates.
	f(`{}`, "type", "type is required")
	f(`{"type":"a b"}`, "type", `' ' may not appear`)
	f(`{"type":".a"}`, "type", "not a valid event type")
	f(`{"type":"a.{$.x"}`, "type", "unclosed {")
	f(`{"type":"a.}"}`, "type", "may not appear")
	f(`{"type":"a.{x}"}`, "type", "want a JSONPath ($...) or header:Name")
	f(`{"type":"a.{}"}`, "type", "want a JSONPath")
	f(`{"type":"a.{header:}"}`, "type", "not a valid HTTP header name")
	f(`{"type":"a.{header:X Y}"}`, "type", "not a valid HTTP header name")
	f(`{"type":"a.{$.a[}"}`, "type", "cannot parse JSONPath")
	f(`{"type":"a.{$.x[(foo)]}"}`, "type", "cannot parse JSONPath")
	f(`{"type":"a.{$$}"}`, "type", "unexpected $ at the end")
	f(`{"type":"a.{$.a@}"}`, "type", "unexpected @ at the end")
	f(`{"type":"a.{$.a..}"}`, "type", "ends with a recursive descent")
	f(`{"type":"a.{$..a..b}"}`, "type", "at most one recursive descent")
	f(`{"type":"`+strings.Repeat("a", 257)+`"}`, "type", "longer than 256")
	f(`{"type":"a.{$.`+strings.Repeat("a", 257)+`}"}`, "type", "longer than 256")

	// Id and payload sources.
	f(`{"type":"t","id":"id"}`, "id", "want a JSONPath")
	f(`{"type":"t","id":"body:text"}`, "id", "want a JSONPath")
	f(`{"type":"t","id":"$.["}`, "id", "cannot parse")
	f(`{"type":"t","payload":{"a":"$.x","b":"$nope"}}`, "payload.b", "(text that starts with $ is written $$)")
	f(`{"type":"t","payload":{"a":"$.x","b":"$.a["}}`, "payload.b", "cannot parse JSONPath")
	f(`{"type":"t","payload":{"a":{"b":"header:"}}}`, "payload.a.b", "not a valid HTTP header name")
	f(`{"type":"t","payload":{"a":"$","a":"$.x"}}`, "payload.a", "appears twice")
	f(`{"type":"t","payload":{"":"$"}}`, "payload", "empty name")
	f(`{"type":"t","payload":{`+manyFields+`}}`, "payload", "more than 100 values")
	f(`{"type":"t","payload":{"a":"`+strings.Repeat("{$.a}", 100)+`"}}`, "payload.a", "more than 100 values")
	f(`{"type":"t","payload":""}`, "payload", "want a JSONPath")
	f(`{"type":"t","payload":5}`, "payload", "want a JSONPath ($...), header:Name, body:text, an object or an array, got 5")
	f(`{"type":"t","payload":"PR {$.number}"}`, "payload", `got "PR {$.number}"`)
	f(`{"type":"t","payload":"$$5"}`, "payload", "want a JSONPath")

	// String templates in a payload.
	f(`{"type":"t","payload":{"a":"{x}"}}`, "payload.a", `want a JSONPath ($...) or header:Name, got "x"; write {{ for a literal {`)
	f(`{"type":"t","payload":{"a":"{body:text}"}}`, "payload.a", "want a JSONPath ($...) or header:Name")
	f(`{"type":"t","payload":{"a":"a {$.x"}}`, "payload.a", "unclosed {")
	f(`{"type":"t","payload":{"a":"a {$.x}}"}}`, "payload.a", "} outside a {value}")
	f(`{"type":"t","payload":{"a":"a}b"}}`, "payload.a", "write }} for a literal }")
	f(`{"type":"t","payload":{"a":"{$.a[}"}}`, "payload.a", "cannot parse JSONPath")
	f(`{"type":"t","payload":{"a":"{header:X Y}"}}`, "payload.a", "not a valid HTTP header name")
	f(`{"type":"t","payload":{"a":{"b":["x","{$.y"]}}}`, "payload.a.b[1]", "unclosed {")
	f(`{"type":"t","payload":{"a":[1,"$x"]}}`, "payload.a[1]", "cannot parse JSONPath")

	// Routes and unmatched.
	f(`{"type":"t","unmatched":"keep","routes":[{"when":{"path":"$.a","exists":true},"type":"x"}]}`, "unmatched", "want drop or default")
	f(`{"type":"t","unmatched":"drop"}`, "unmatched", "needs routes")
	f(`{"routes":[{"when":{"path":"$.a","exists":true},"type":"x"}],"unmatched":"default"}`, "type", "type is required")
	f(`{"type":"t","routes":[{"type":"x"}]}`, "routes[0].when", "needs a condition")
	f(`{"type":"t","routes":[{"when":{"path":"$.a","exists":true}}]}`, "routes[0].type", "needs a type or drop")
	f(`{"type":"t","routes":[{"when":{"path":"$.a","exists":true},"type":"x","drop":true}]}`, "routes[0].type", "drops has no type")
	f(`{"type":"t","routes":[{"when":{"path":"$.a","exists":true},"type":"x y"}]}`, "routes[0].type", "may not appear")
	f(`{"type":"t","routes":[`+strings.Repeat(`{"when":{"path":"$.a","exists":true},"type":"x"},`, 100)+`{"when":{"path":"$.a","exists":true},"type":"x"}]}`, "routes", "more than 100 routes")

	// Conditions.
	f(route(`{}`), "routes[1].when", "got 0")
	f(route(`{"path":"$.a"}`), "routes[1].when", "want exactly one of")
	f(route(`{"path":"$.a","equals":1,"prefix":"x"}`), "routes[1].when", "got 2 (equals, prefix)")
	f(route(`{"equals":1}`), "routes[1].when", "needs a path or a header")
	f(route(`{"path":"$.a","header":"X","equals":1}`), "routes[1].when", "not both")
	f(route(`{"path":"a.b","equals":1}`), "routes[1].when.path", "want a JSONPath")
	f(route(`{"path":"header:X","equals":1}`), "routes[1].when.path", "want a JSONPath")
	f(route(`{"path":"$.a[?(@.x ==]","equals":1}`), "routes[1].when.path", "cannot parse")
	f(route(`{"header":"X:Y","equals":"a"}`), "routes[1].when.header", "not a valid HTTP header name")
	f(route(`{"header":"X","equals":1}`), "routes[1].when.equals", "compares with strings")
	f(route(`{"header":"X","in":["a",null]}`), "routes[1].when.in[1]", "compares with strings")
	f(route(`{"path":"$.a","equals":{"x":1}}`), "routes[1].when.equals", "want a string, number, boolean or null")
	f(route(`{"path":"$.a","in":[1,[2]]}`), "routes[1].when.in[1]", "want a string, number")
	f(route(`{"path":"$.a","in":[]}`), "routes[1].when.in", "want 1 to 100 values, got 0")
	f(route(`{"path":"$.a","in":[`+strings.Repeat(`1,`, 100)+`1]}`), "routes[1].when.in", "got 101")
	f(route(`{"path":"$.a","prefix":""}`), "routes[1].when.prefix", "prefix is empty")
	f(route(`{"path":"$.a","matches":"("}`), "routes[1].when.matches", "missing closing )")
	f(route(`{"path":"$.a","matches":"`+strings.Repeat("a", 257)+`"}`), "routes[1].when.matches", "longer than 256")
	f(route(`{"path":"$.a","gt":"1"}`), "routes[1].when.gt", `want a number, got "1"`)
	f(route(`{"path":"$.a","gte":null}`), "routes[1].when.gte", "want a number, got null")
	f(route(`{"path":"$.a","lt":[1]}`), "routes[1].when.lt", "want a number")
	f(route(`{"path":"$.a","lte":true}`), "routes[1].when.lte", "want a number")
	f(route(`{"path":"$.a","lte":1e999}`), "routes[1].when.lte", "out of range")
	f(route(`{"path":"$.a","gt":1,"lt":2}`), "routes[1].when", "got 2 (gt, lt)")
	f(route(`{"path":"$.a","gte":1,"equals":2}`), "routes[1].when", "got 2 (equals, gte)")
	f(route(`{"header":"X","gt":1}`), "routes[1].when.gt", "a header is text")
	f(route(`{"all":[{"path":"$.a","exists":true},{"path":"$.b","gte":"x"}]}`), "routes[1].when.all[1].gte", "want a number")
	f(route(`{"all":[]}`), "routes[1].when.all", "all is empty")
	f(route(`{"any":[{"path":"$.a","exists":true},{"header":"X"}]}`), "routes[1].when.any[1]", "want exactly one of")
	f(route(`{"not":{"all":[{"path":"$.a","matches":"["}]}}`), "routes[1].when.not.all[0].matches", "missing closing ]")
	f(route(`{"all":[{"path":"$.a","exists":true}],"path":"$.a"}`), "routes[1].when", "all takes no path or header")
	f(route(`{"all":[{"path":"$.a","exists":true}],"any":[{"path":"$.a","exists":true}]}`), "routes[1].when", "got 2 (all, any)")
	f(route(deep), "routes[1].when"+strings.Repeat(".not", 8), "nest deeper than 8")
	f(route(`{"any":[`+many+`]}`), "routes[1].when.any[254]", "more than 256 conditions")
}

func TestCompileValid(t *testing.T) {
	f := func(spec string) {
		t.Helper()
		mustParse(t, spec)
	}
	f(`{"type":"t"}`)
	f(`{"type":"a.{$['a}b']}.{$[\"x\"]}"}`)
	f(`{"type":"a:{header:X-Y}-{$.a[0].b}_c"}`)
	f(`{"routes":[{"when":{"path":"$.a","exists":true},"drop":true}],"unmatched":"drop"}`)
	f(`{"type":"t","payload":{"a":{"b":{"c":"$..x"}},"d":"body:text"}}`)
	f(`{"type":"t","payload":{"a":[1,"x",null,true,{"b":"$.b"},[]],"n":"nope","e":"","t":"{{x}} {$.a} {header:X}"}}`)
	f(`{"type":"t","payload":["$.a"]}`)
	f(`{"type":"t","routes":[{"when":{"path":"$.a","equals":null},"type":"x"}]}`)
}

// The spec goes back to JSON as it came, payload order included, so the
// API can show a source's mapping.
func TestSpecRoundTrip(t *testing.T) {
	in := `{"type":"t","id":"$.id","payload":{"z":"$.z","a":{"y":"$.y","b":"header:B"},"l":[1.50e2,true,null,"x {{$}} {$.a}",[],{}]},"routes":[{"when":{"any":[{"path":"$.a","equals":1},{"not":{"header":"X","exists":false}},{"path":"$.s","gte":80}]},"type":"x"}],"unmatched":"default"}`
	spec, _, err := ParseSpec([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	out, err := json.Marshal(spec)
	if err != nil {
		t.Fatal(err)
	}
	requireEqual(t, "round trip", string(out), in)
}

func TestPathModes(t *testing.T) {
	f := func(src string, mode pathMode, gj string) {
		t.Helper()
		p, err := compilePath(src)
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		if p.mode != mode || p.gj != gj {
			t.Fatalf("%s: got mode %d %q, want %d %q", src, p.mode, p.gj, mode, gj)
		}
	}
	f("$", modeRoot, "")
	f("$.a.b", modeGJSON, "a.b")
	f("$.a[0].b", modeGJSON, "a.0.b")
	f("$['a b']", modeGJSON, "a b")
	f(`$.a["x.y"]`, modeGJSON, `a.x\.y`)
	f(`$['@x']['#']['*?|!=<>%\\']`, modeGJSON, `\@x.\#.\*\?\|\!\=\<\>\%\\`)
	f("$.a['']", modeWalk, "")
	f("$.a[-1]", modeFallback, "")
	f("$[''][-1]", modeFallback, "")
	f("$.a[*]", modeFallback, "")
	f("$..a", modeFallback, "")
	f("$.a[1:2]", modeFallback, "")
	f("$.a[0,1]", modeFallback, "")
	f("$.a[?(@.b == 1)]", modeFallback, "")
}

// Keys that gjson's path syntax treats specially must still be found.
func TestGJSONEscapes(t *testing.T) {
	for _, k := range []string{"a.b", "a b", "@x", "#", "*", "?", "a|b", "!x", `a\b`, "é", `a"b`, "x=1", "%", "(", ")", "[", "]", "{", "}", ",", ":", "~", "'", "$", "0", "-1", "\t"} {
		kj, _ := json.Marshal(k)
		src := "$[" + string(kj) + "]"
		p, err := compilePath(src)
		if err != nil {
			t.Fatalf("%q: %v", k, err)
		}
		body := []byte(`{"z":0,` + string(kj) + `:42}`)
		d := newDoc(body, DefaultStepBudget)
		r, _ := d.first(&p)
		if r.Raw != "42" {
			t.Fatalf("key %q (path %q, gjson %q): got %q", k, src, p.gj, r.Raw)
		}
	}
}
