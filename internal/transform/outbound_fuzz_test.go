package transform

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/tidwall/gjson"
)

// requireOutboundError: err is an *Error with the code and a rule under
// prefix.
func requireOutboundError(t *testing.T, what string, err error, code, prefix string) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) || e.Code != code || !strings.HasPrefix(e.Rule, prefix) {
		t.Fatalf("%s: want *Error %s at %s..., got %#v", what, code, prefix, err)
	}
}

// checkBody holds for every Render: valid JSON appended to dst, or
// render_failed with dst as it was.
func checkBody(t *testing.T, tmpl string, b *Body, event []byte) {
	t.Helper()
	dst := []byte("[")
	out, err := b.Render(dst, event)
	if err != nil {
		requireOutboundError(t, tmpl, err, CodeRenderFailed, "body")
		if string(out) != "[" {
			t.Fatalf("%s: dst %q after an error", tmpl, out)
		}
		return
	}
	if string(out[:1]) != "[" || !json.Valid(out[1:]) || !utf8.Valid(out) {
		t.Fatalf("%s on %q: not JSON: %q", tmpl, event, out)
	}
}

var outboundEvents = []string{
	leadEvent,
	`{"id":"e","type":"t","data":{"a":[1,{"b":"x\"y"}],"s":"caf\u00e9","n":-1.5e3,"z":null,"o":{}}}`,
	`{"data":"just text"}`,
	`[1,2,3]`,
}

func FuzzCompileBody(f *testing.F) {
	for _, s := range []string{slackBody,
		`{"text":"New lead {$.data.lead.email} ({$.data.lead.company})","score":"$.data.lead.score"}`,
		`{"blocks":[{"type":"section","text":{"type":"mrkdwn","text":"*{$.type}* {{x}} $$"}},"$.data.a[*]",1,true,null]}`,
		`"$.data"`, `["$..b","{$.data.a[?(@.b)]}"]`, `{"p":"$${$.data.n}","o":"{$.data.o}","m":"{$.data.a[*]}"}`,
		`{"a":"{$.data['}']}"}`, `{"h":"header:X"}`, `{"a":"}"}`, `"x"`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, tmpl []byte) {
		b, err := CompileBody(tmpl)
		if err != nil {
			requireOutboundError(t, string(tmpl), err, CodeInvalidTemplate, "body")
			if b != nil {
				t.Fatalf("%s: a Body with an error", tmpl)
			}
			return
		}
		for _, ev := range outboundEvents {
			checkBody(t, string(tmpl), b, []byte(ev))
		}
	})
}

func FuzzRenderBody(f *testing.F) {
	tmpls := []string{slackBody,
		`"$.data"`,
		`{"all":"$","d":"$.data","t":"{$.type}: {$.data}","w":"$.data.a[*]","m":"{$.data.a[*]}","f":"$.data[?(@.b)]","l":"$.data.a[-1]","k":"{$..b}"}`,
		`["$.id",{"x":"{$.data.s} {$.data.n} {$.data.o}"},"lit",2,null,"$.data.a[1:]"]`,
		`{"e":"$.data['']","r":"{$}","q":"{$.data['a b']}"}`,
	}
	bs := make([]*Body, len(tmpls))
	for i, s := range tmpls {
		bs[i] = mustBody(f, s)
	}
	for _, ev := range outboundEvents {
		f.Add([]byte(ev))
	}
	f.Add([]byte(`{"data":{"":{"a b":"\u0000\ud800"},"a":[{"b":{"b":[]}}]}}`))
	f.Add([]byte("{\"data\":\"\x01\xff\"}"))
	f.Add([]byte(`{"data":{"o":{ "k" : [ 1 , "a\\\"b" ] }}}`))
	text := mustBody(f, `{"t":"<{$.data}>"}`)
	f.Fuzz(func(t *testing.T, event []byte) {
		for i, b := range bs {
			checkBody(t, tmpls[i], b, event)
		}
		// A value in a string template reads back as its text: a string
		// unescaped, anything else as encoding/json compacts it.
		out, err := text.Render(nil, event)
		if err != nil {
			return
		}
		var got struct{ T string }
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("%q: %v", out, err)
		}
		data := gjson.GetBytes(event, "data")
		want := data.Str
		if data.Type != gjson.String {
			var b bytes.Buffer
			if err := json.Compact(&b, []byte(data.Raw)); err != nil {
				t.Fatalf("%q: %v", data.Raw, err)
			}
			want = b.String()
		}
		if got.T != "<"+want+">" {
			t.Fatalf("event %q: text %q, want %q", event, got.T, "<"+want+">")
		}
	})
}

func FuzzURL(f *testing.F) {
	for _, s := range []string{
		"https://crm.example.com/accounts/{$.data.account.id}",
		"https://esp.example.com/subscribers/{$.data.profile.email}?x={$.type}&y={$.data.n}#f",
		"http://h:8080/{{a}}/{$.data.s}/{$['data']['a'][0]}",
		"https://h/{$.data.o}", "https://{$.id}/", "https://h/a#{$.id}", "https://h/static",
	} {
		f.Add(s, []byte(outboundEvents[1]))
	}
	f.Add("https://h/{$.data.a[1].b}", []byte(leadEvent))
	f.Fuzz(func(t *testing.T, tmpl string, event []byte) {
		u, err := CompileURL(tmpl)
		if err != nil {
			requireOutboundError(t, tmpl, err, CodeInvalidTemplate, "url")
			return
		}
		out, err := u.Render([]byte("x"), event)
		if err != nil {
			requireOutboundError(t, tmpl, err, CodeRenderFailed, "url")
			if string(out) != "x" {
				t.Fatalf("%s: dst %q after an error", tmpl, out)
			}
			return
		}
		rendered := string(out[1:])
		p, err := url.Parse(rendered)
		if err != nil {
			t.Fatalf("%s rendered %q, which does not parse: %v", tmpl, rendered, err)
		}
		if u.Static() {
			return
		}
		// A value never reaches the host, the userinfo or the fragment:
		// they are the template's own text.
		if !strings.Contains(tmpl, "://"+p.Host) && !strings.Contains(tmpl, "@"+p.Host) {
			t.Fatalf("%s rendered %q: host %q is not the template's", tmpl, rendered, p.Host)
		}
		if p.User != nil && !strings.Contains(tmpl, p.User.String()+"@") {
			t.Fatalf("%s rendered %q: userinfo %q is not the template's", tmpl, rendered, p.User)
		}
		if i := strings.IndexByte(rendered, '#'); i >= 0 && !strings.HasSuffix(tmpl, rendered[i:]) {
			t.Fatalf("%s rendered %q: fragment is not the template's", tmpl, rendered)
		}
	})
}

func FuzzFilter(f *testing.F) {
	for _, s := range []string{
		`{"path":"$.data.lead.score","gte":80}`,
		`{"all":[{"path":"$.type","prefix":"lead."},{"not":{"path":"$.data.a[*].b","in":["x\"y",1]}}]}`,
		`{"any":[{"path":"$.data.n","lt":-1e3},{"path":"$..b","matches":"^x"},{"path":"$.data.z","exists":true}]}`,
		`{"path":"$.data.a[?(@.b == 'x\"y')]","exists":false}`,
		`{"header":"X","equals":"a"}`, `{"path":"$.a","gt":"1"}`,
	} {
		f.Add([]byte(s), []byte(outboundEvents[1]))
	}
	f.Fuzz(func(t *testing.T, cond, event []byte) {
		flt, err := CompileFilter(cond)
		if err != nil {
			requireOutboundError(t, string(cond), err, CodeInvalidTemplate, "filter")
			return
		}
		for _, ev := range append(outboundEvents, string(event)) {
			ok, err := flt.Match([]byte(ev))
			if err != nil {
				requireOutboundError(t, string(cond), err, CodeRenderFailed, "filter")
				if ok {
					t.Fatalf("%s: an errored filter matched", cond)
				}
			}
		}
	})
}
