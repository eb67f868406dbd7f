package transform

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"unicode/utf8"
)

func addFixtureSeeds(f *testing.F, add func(body []byte)) {
	names, _ := filepath.Glob(filepath.Join(fixtures, "*", "*.json"))
	for _, n := range names {
		if b, err := os.ReadFile(n); err == nil {
			add(b)
		}
	}
}

// checkResult holds for every Apply: an *Error with an Apply code, or a
// valid event type and a JSON payload, or a drop.
func checkResult(t *testing.T, spec string, r *Result, err error) {
	t.Helper()
	if err != nil {
		var e *Error
		if !errors.As(err, &e) || (e.Code != CodeInvalidJSON && e.Code != CodeMappingFailed) || r.Reason != e.Message {
			t.Fatalf("%s: want *Error invalid_json or mapping_failed with the reason, got %#v", spec, err)
		}
		return
	}
	if r.Dropped {
		if r.Type != "" || r.Payload != nil {
			t.Fatalf("%s: dropped with a type or payload: %+v", spec, r)
		}
		return
	}
	if !ValidEventType(r.Type) {
		t.Fatalf("%s: invalid type %q", spec, r.Type)
	}
	if !json.Valid(r.Payload) || !utf8.Valid(r.Payload) {
		t.Fatalf("%s: payload is not valid JSON: %q", spec, r.Payload)
	}
}

func FuzzCompile(f *testing.F) {
	for _, s := range []string{stripeSpec, githubSpec, slackSpec, githubFiveFields,
		`{"type":"t","payload":{"a":{"b":"$..x"},"c":"body:text","d":"$.a[?(@.b > 1)]"}}`,
		`{"routes":[{"when":{"not":{"any":[{"path":"$.a","in":[1,"x",null]},{"header":"X","matches":"^a+$"}]}},"type":"a.{$['k}']}"},{"when":{"path":"$.b[-1]","exists":false},"drop":true}],"unmatched":"drop"}`,
		`{"type":"{$.a[*]}","id":"$.b[0:2]","payload":"$"}`,
		`{"type":"t","payload":{"s":"$.a[::-1]","u":"$['a','k}',0,-1]","n":"$..a[?(@.b)]","f":"$..[?(@.x == 'y')].b"}}`,
		`{"type":"t","payload":{"x":"$.a[?(@.b[*] == 1)]","c":"$.a[?(count(@[*]) > 1 && @.b[*] == 2)]"}}`,
		`{"type":"t","payload":{"l":[1,"x {{y}} {$.a[0]}",null,{"h":"{header:X} $"},"$.b[*]"],"p":"$${$.id}","n":-0.5e1}}`,
		`{"type":"t","routes":[{"when":{"any":[{"path":"$.id","gte":7},{"path":"$.a[*]","lt":-1}]},"type":"n"}]}`,
	} {
		f.Add([]byte(s))
	}
	bodies := [][]byte{[]byte(`{"a":[1,{"b":2,"x":"y"}],"b":[true,null],"k}":"v","type":"q","id":7}`), []byte("a=b"), readFixture(f, "slack/event_callback_message.json")}
	h := headers("X", "aaa", "X-GitHub-Event", "push")
	f.Fuzz(func(t *testing.T, spec []byte) {
		_, m, err := ParseSpec(spec)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Code != CodeInvalidMapping || m != nil {
				t.Fatalf("%s: want *Error invalid_mapping, got %#v", spec, err)
			}
			return
		}
		var r Result
		for _, b := range bodies {
			_, err := m.Apply(b, h, &r, nil)
			checkResult(t, string(spec), &r, err)
		}
	})
}

func FuzzApply(f *testing.F) {
	specs := []string{stripeSpec, githubSpec, slackSpec, githubFiveFields,
		`{"type":"t","payload":{"all":"$","s":"$.s","n":"$.a[0].b","e":"$['']","h":"header:X-GitHub-Event","raw":"body:text"}}`,
		`{"type":"t.{$.s}","payload":{"w":"$.a[*]","d":"$..b","f":"$.a[?(@.b > 1)]","l":"$.a[-1]"}}`,
		`{"type":"t","routes":[{"when":{"path":"$.a[*].b","in":[1,"x"]},"type":"r.{$.s}"},{"when":{"path":"$.s","matches":"^[a-z]+$"},"drop":true},{"when":{"not":{"path":"$.s","exists":true}},"type":"n"}]}`,
		`{"type":"form.{header:X-GitHub-Event}","payload":{"body":"body:text"}}`,
		`{"type":"t","payload":{"s":"$.a[1:-1:2]","r":"$.a[::-1]","u":"$['s','a',0,-1,'s']","e":"$..['']","k":"$..*.b"}}`,
		`{"type":"t","payload":{"f":"$..[?(@.b > 1)]","g":"$.a[?(@.b)][?(@ > 1)]","h":"$..a[?(@.b == 'x')]"}}`,
		`{"type":"t","payload":["$.s","{$.s}/{$.a}/{$.a[*].b}/{header:X-GitHub-Event}",{"k":"$..b"},true],"routes":[{"when":{"path":"$.a[*].b","gte":2},"type":"big"}]}`,
	}
	ms := make([]*Mapping, len(specs))
	for i, s := range specs {
		ms[i] = mustParse(f, s)
	}
	addFixtureSeeds(f, func(b []byte) { f.Add(b, "push") })
	f.Add([]byte(`{"s":"abc","a":[{"b":2},{"b":"x"}],"":{"":1}}`), "")
	f.Add([]byte(`[1,2,{"s":"\u00e9\ud800"}]`), "a\xff\"")
	f.Add([]byte(`"just a string"`), "x")
	f.Add([]byte(`{"a":[{"b":1,"b":2},{"b":"x"}],"a":{"":[{"":{"b":3}}]},"s":"q\"\\"}`), "dup")
	f.Add([]byte(`[[[[{"a":[{"b":2}]}]]],{"a":{"a":{"a":[]}}}]`), "deep")
	f.Add([]byte("a=b&c=\x00"), "x y")
	f.Fuzz(func(t *testing.T, body []byte, event string) {
		if got, want := validJSON(body), json.Valid(body) && utf8.Valid(body); got != want {
			t.Fatalf("validJSON(%q) = %v, encoding/json and utf8 say %v", body, got, want)
		}
		h := headers("X-GitHub-Event", event, "X-GitHub-Delivery", "d")
		var r Result
		buf := make([]byte, 0, 64)
		for i, m := range ms {
			var err error
			buf, err = m.Apply(body, h, &r, buf)
			checkResult(t, specs[i], &r, err)
		}
	})
}
