package transform

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
)

// leadEvent is an envelope as the engine builds it for delivery, about
// 600 bytes.
const leadEvent = `{"id":"evt_2Jd8kQ3x9ZpL","type":"lead.won","timestamp":"2026-11-23T10:00:00Z","data":{` +
	`"lead":{"email":"ada@example.com","company":"Analytical Engines \"AE\" Ltd","score":87,"won":true,` +
	`"tags":["vip","eu"],"owner":{"name":"Charles","id":42},"notes":null,"empty":""},` +
	`"account":{"id":"acc_123/x y","region":"eu-west-1","plan":"enterprise","seats":250},` +
	`"profile":{"email":"ada+news@example.com","locale":"en-GB","consent":{"marketing":true,"updated":"2026-11-01"}},` +
	`"items":[{"sku":"A-1","qty":2,"price":19.99},{"sku":"B-2","qty":1,"price":5},{"sku":"C-3","qty":7,"price":0.5}],` +
	`"source":{"campaign":"autumn-2026","medium":"email","referrer":"https://example.org/landing?x=1"}}}`

func mustBody(t testing.TB, tmpl string) *Body {
	t.Helper()
	b, err := CompileBody([]byte(tmpl))
	if err != nil {
		t.Fatalf("CompileBody(%s): %v", tmpl, err)
	}
	return b
}

func TestBodyRender(t *testing.T) {
	f := func(tmpl, want string) {
		t.Helper()
		out, err := mustBody(t, tmpl).Render([]byte("prefix:"), []byte(leadEvent))
		if err != nil {
			t.Fatalf("%s: %v", tmpl, err)
		}
		requireEqual(t, tmpl, string(out), "prefix:"+want)
		if !json.Valid(out[len("prefix:"):]) {
			t.Fatalf("%s: %s is not JSON", tmpl, out)
		}
	}
	// Slack: text mixing words and values, JSON-escaped.
	f(`{"text":"New lead {$.data.lead.email} ({$.data.lead.company}), score {$.data.lead.score}"}`,
		`{"text":"New lead ada@example.com (Analytical Engines \"AE\" Ltd), score 87"}`)
	// Values whole, as raw JSON; an absent one leaves its field out.
	f(`{"score":"$.data.lead.score","tags":"$.data.lead.tags","owner":"$.data.lead.owner","gone":"$.data.nope","id":"$.id"}`,
		`{"score":87,"tags":["vip","eu"],"owner":{"name":"Charles","id":42},"id":"evt_2Jd8kQ3x9ZpL"}`)
	// Literals, arrays, nesting: Slack blocks.
	f(`{"channel":"#sales","unfurl":false,"n":1.50,"x":null,"blocks":[{"type":"section","text":{"type":"mrkdwn","text":"*{$.data.lead.company}*"}},{"type":"divider"},"$.data.nope","$.type"]}`,
		`{"channel":"#sales","unfurl":false,"n":1.50,"x":null,"blocks":[{"type":"section","text":{"type":"mrkdwn","text":"*Analytical Engines \"AE\" Ltd*"}},{"type":"divider"},"lead.won"]}`)
	// Text: numbers, booleans, objects and many values as compact JSON; "" is text.
	f(`{"t":"{$.data.lead.won}/{$.data.lead.owner}/{$.data.items[*].sku}/[{$.data.lead.empty}]"}`,
		`{"t":"true/{\"name\":\"Charles\",\"id\":42}/[\"A-1\",\"B-2\",\"C-3\"]/[]"}`)
	// Literal braces and dollars.
	f(`{"t":"{{\"k\": {$.data.lead.score}}}","p":"$${$.data.items[0].price}","d":"$$","j":"}}{{"}`,
		`{"t":"{\"k\": 87}","p":"$19.99","d":"$","j":"}{"}`)
	// A single path at the top is the body; so is an array.
	f(`"$.data.account"`, `{"id":"acc_123/x y","region":"eu-west-1","plan":"enterprise","seats":250}`)
	f(`["$.data.lead.score","$.nope","{$.type}"]`, `[87,"lead.won"]`)
	// Fallback paths as in the inbound payload.
	f(`{"big":"$.data.items[?(@.qty > 1)].sku","last":"$.data.items[-1].price","all":"$..email"}`,
		`{"big":["A-1","C-3"],"last":0.5,"all":["ada@example.com","ada+news@example.com"]}`)
}

func TestBodyRenderErrors(t *testing.T) {
	f := func(tmpl, event, rule, msg string) {
		t.Helper()
		dst := []byte("keep")
		out, err := mustBody(t, tmpl).Render(dst, []byte(event))
		e := requireCode(t, err, CodeRenderFailed, rule)
		if !strings.Contains(e.Message, msg) {
			t.Fatalf("%s: message %q lacks %q", tmpl, e.Message, msg)
		}
		requireEqual(t, "dst after an error", string(out), "keep")
	}
	f(`{"text":"lead {$.data.lead.phone}"}`, leadEvent, "body.text", "{$.data.lead.phone} is missing")
	f(`{"a":{"blocks":[1,2,{"text":"{$.data.lead.notes}"}]}}`, leadEvent, "body.a.blocks[2].text", "{$.data.lead.notes} is null")
	f(`"$.data.nope"`, leadEvent, "body", "body $.data.nope is missing")
	f(`{"a":"$.x"}`, `{"x":`, "body", "not valid JSON")
	f(`{"a":"$.x"}`, "", "body", "not valid JSON")
	f(`{"a":"$.x"}`, `{"x":"\u0001`+"\x01"+`"}`, "body", "not valid JSON")
	f(`{"a":"{$.x}"}`, `{"x":"`+"\xff"+`"}`, "body", "not valid JSON")
	f(`{"a":"{$.x}"}`, `{"x":{"y":"\0"}}`, "body", "not valid JSON")
	f(`{"a":"$.y"}`, `{"x":"\q","y":1}`, "body", "not valid JSON")

	b := mustBody(t, `{"a":"$.x[*]"}`)
	b.budget = 100
	_, err := b.Render(nil, []byte(`{"x":[`+strings.Repeat(`1,`, 1000)+`1]}`))
	e := requireCode(t, err, CodeRenderFailed, "body.a")
	if !strings.Contains(e.Message, "went over the budget") {
		t.Fatalf("want the budget error, got %v", e)
	}
}

func TestCompileBodyInvalid(t *testing.T) {
	f := func(tmpl, rule, msg string) {
		t.Helper()
		b, err := CompileBody([]byte(tmpl))
		if b != nil {
			t.Fatalf("%s: compiled, want invalid_template at %q", tmpl, rule)
		}
		e := requireCode(t, err, CodeInvalidTemplate, rule)
		if !strings.Contains(e.Message, msg) {
			t.Fatalf("%s: message %q lacks %q", tmpl, e.Message, msg)
		}
	}
	f(``, "body", "cannot decode")
	f(`{"a":}`, "body.a", "cannot decode")
	f(`{"a":"$.x"} 1`, "body", "trailing data")
	f(`{"a":"$.x"`, "body", "cannot decode")
	f(`{"text":"New lead {$.data.lead.email"}`, "body.text", "unclosed {")
	f(`{"text":"New lead {data.lead.email}"}`, "body.text", `want a JSONPath ($...), got "data.lead.email"; write {{ for a literal {`)
	f(`{"text":"a } b"}`, "body.text", "write }} for a literal }")
	f(`{"blocks":[{},{},{"text":"{$.a[}"}]}`, "body.blocks[2].text", "cannot parse JSONPath")
	f(`{"blocks":[{},{},{"text":"$.a.."}]}`, "body.blocks[2].text", "ends with a recursive descent")
	f(`{"price":"$5 off"}`, "body.price", "text that starts with $ is written $$")
	f(`{"h":"header:X-Foo"}`, "body.h", "an outbound template reads the event only")
	f(`{"h":"body:text"}`, "body.h", "an outbound template reads the event only")
	f(`{"h":"from {header:X-Foo}"}`, "body.h", "an outbound template reads the event only")
	f(`{"a":"$.x","a":"$.y"}`, "body.a", "appears twice")
	f(`{"":"$.x"}`, "body", "empty name")
	f(`"plain"`, "body", "want a JSONPath ($...), an object or an array, got \"plain\"")
	f(`"score {$.x}"`, "body", "want a JSONPath")
	f(`42`, "body", "want a JSONPath")
	f(`null`, "body", "want a JSONPath")
	f(`{"a":{"b":{"c":{"d":{"e":{"f":{"g":{"h":{"i":1}}}}}}}}}`, "body.a.b.c.d.e.f.g.h", "nest deeper than 8")
	f(`[[[[[[[[[1]]]]]]]]]`, "body[0][0][0][0][0][0][0][0]", "nest deeper than 8")
	f(`[`+strings.Repeat(`1,`, 100)+`1]`, "body", "more than 100 values")
	f(`{"t":"`+strings.Repeat(`{$.a}`, 101)+`"}`, "body.t", "more than 100 values")
	f(`{"t":"`+strings.Repeat(`x`, maxTemplateLen)+`"}`, "body", "longer than 65536 bytes")
	f(`{"t":"{$..a..b}"}`, "body.t", "at most one recursive descent")
}

func mustURL(t testing.TB, s string) *URL {
	t.Helper()
	u, err := CompileURL(s)
	if err != nil {
		t.Fatalf("CompileURL(%s): %v", s, err)
	}
	return u
}

func TestURLRender(t *testing.T) {
	f := func(tmpl, want string) {
		t.Helper()
		u := mustURL(t, tmpl)
		out, err := u.Render([]byte("x"), []byte(leadEvent))
		if err != nil {
			t.Fatalf("%s: %v", tmpl, err)
		}
		requireEqual(t, tmpl, string(out), "x"+want)
		requireEqual(t, tmpl+" static", u.Static(), !strings.Contains(tmpl, "{$"))
	}
	f("https://crm.example.com/accounts/{$.data.account.id}", "https://crm.example.com/accounts/acc_123%2Fx%20y")
	f("https://esp.example.com/lists/7/subscribers/{$.data.profile.email}", "https://esp.example.com/lists/7/subscribers/ada%2Bnews%40example.com")
	f("https://h.example/v1/{$.data.lead.score}/{$.data.lead.won}?q={$.data.lead.company}&r={$['type']}#top",
		"https://h.example/v1/87/true?q=Analytical%20Engines%20%22AE%22%20Ltd&r=lead.won#top")
	f("https://h.example:8443/a?{$.data.source.medium}={$.data.source.referrer}", "https://h.example:8443/a?email=https%3A%2F%2Fexample.org%2Flanding%3Fx%3D1")
	f("https://h.example/x{$.data.items[-1].sku}y/{$.data.account.plan}", "https://h.example/xC-3y/enterprise")
	f("https://h.example?e={$.data.lead.email}", "https://h.example?e=ada%40example.com")
	f("https://h.example/static?a=1", "https://h.example/static?a=1")
	f("https://h.example/{{braces}}/{$.id}", "https://h.example/%7Bbraces%7D/evt_2Jd8kQ3x9ZpL")
	f("https://h.example/{{static}}", "https://h.example/%7Bstatic%7D")
	f("https://h.example/é/{$.data.lead.email}", "https://h.example/é/ada%40example.com")
	f("https://h.example/{$.data['lead'].owner.id}", "https://h.example/42")

	// Escapes in the event are read, then encoded.
	u := mustURL(t, "https://h.example/{$.a}")
	out, err := u.Render(nil, []byte(`{"a":"caf\u00e9\/\n"}`))
	if err != nil {
		t.Fatal(err)
	}
	requireEqual(t, "escaped", string(out), "https://h.example/caf%C3%A9%2F%0A")
}

func TestURLRenderErrors(t *testing.T) {
	f := func(tmpl, event, msg string) {
		t.Helper()
		out, err := mustURL(t, tmpl).Render([]byte("keep"), []byte(event))
		e := requireCode(t, err, CodeRenderFailed, "url")
		if !strings.Contains(e.Message, msg) {
			t.Fatalf("%s: message %q lacks %q", tmpl, e.Message, msg)
		}
		requireEqual(t, "dst after an error", string(out), "keep")
	}
	f("https://h.example/a/{$.data.nope}", leadEvent, "{$.data.nope} is missing")
	f("https://h.example/a/{$.data.lead.notes}", leadEvent, "{$.data.lead.notes} is null")
	f("https://h.example/a/{$.data.lead.owner}", leadEvent, "{$.data.lead.owner} is an object or array")
	f("https://h.example/a/{$.data.lead.tags}", leadEvent, "is an object or array")
	f("https://h.example/a/{$.data.lead.empty}/b", leadEvent, "{$.data.lead.empty} is an empty string")
	f("https://h.example/a/{$.x}/b", `{"x":".."}`, `{$.x} is "..", which would move up the path`)
	f("https://h.example/a/{$.x}", `{"x":"."}`, "would move up the path")
	f("https://h.example/a/{$.x}", `{"x":`, "not valid JSON")
	f("https://h.example/a/{$.x}", `{"x":"a"} x`, "not valid JSON")
	f("https://h.example/a/{$.x}", `{"x":"a\0"}`, "not valid JSON")

	// A dot segment in the query is only text.
	out, err := mustURL(t, "https://h.example/a?up={$.x}").Render(nil, []byte(`{"x":".."}`))
	if err != nil || string(out) != "https://h.example/a?up=.." {
		t.Fatalf("query ..: %s, %v", out, err)
	}
}

func TestCompileURLInvalid(t *testing.T) {
	f := func(s, msg string) {
		t.Helper()
		u, err := CompileURL(s)
		if u != nil {
			t.Fatalf("%s: compiled, want invalid_template", s)
		}
		e := requireCode(t, err, CodeInvalidTemplate, "url")
		if !strings.Contains(e.Message, msg) {
			t.Fatalf("%s: message %q lacks %q", s, e.Message, msg)
		}
	}
	f("https://{$.data.host}/a", "in the scheme, userinfo, host or port")
	f("https://api.{$.data.region}.example.com/a", "in the scheme, userinfo, host or port")
	f("https://h.example:{$.data.port}/a", "in the scheme, userinfo, host or port")
	f("https://{$.data.user}@h.example/a", "in the scheme, userinfo, host or port")
	f("{$.data.scheme}://h.example/a", "in the scheme, userinfo, host or port")
	f("https://h.example{$.data.path}", "in the scheme, userinfo, host or port")
	f("https://h.example/a#{$.data.frag}", "in the fragment")
	f("https://h.example/a?b#c{$.id}", "in the fragment")
	f("/relative/{$.id}", "must be absolute")
	f("h.example/{$.id}", "must be absolute")
	f("https://h.example/{$.data.items[*].sku}", "can match many values")
	f("https://h.example/{header:X-Id}", "an outbound template reads the event only")
	f("https://h.example/{id}", `want a JSONPath ($...), got "id"`)
	f("https://h.example/{$.id", "unclosed {")
	f("https://h.example/}", "write }} for a literal }")
	f("https://h.example/{$.a[}", "cannot parse JSONPath")
	f("https://h.example/{$$}", "unexpected $ at the end")
	f("https://h.ex\x7fample/{$.id}", "cannot parse URL")
	f("https://h.example/"+strings.Repeat("a", maxTemplateLen), "longer than")
	f("http://[::1/{$.id}", "cannot parse URL")
	f("https://h.example/"+strings.Repeat("{$.id}", 101), "more than 100 values")
}

func mustFilter(t testing.TB, s string) *Filter {
	t.Helper()
	f, err := CompileFilter([]byte(s))
	if err != nil {
		t.Fatalf("CompileFilter(%s): %v", s, err)
	}
	return f
}

func TestFilterMatch(t *testing.T) {
	f := func(cond string, want bool) {
		t.Helper()
		ok, err := mustFilter(t, cond).Match([]byte(leadEvent))
		if err != nil {
			t.Fatalf("%s: %v", cond, err)
		}
		requireEqual(t, cond, ok, want)
	}
	f(`{"path":"$.data.lead.score","gte":80}`, true)
	f(`{"path":"$.data.lead.score","gte":87.5}`, false)
	f(`{"path":"$.data.lead.score","gt":87}`, false)
	f(`{"path":"$.data.lead.score","lte":87}`, true)
	f(`{"path":"$.data.lead.score","lt":1e2}`, true)
	f(`{"path":"$.data.lead.email","gt":0}`, false)
	f(`{"path":"$.type","equals":"lead.won"}`, true)
	f(`{"all":[{"path":"$.type","prefix":"lead."},{"path":"$.data.items[*].qty","gte":7}]}`, true)
	f(`{"any":[{"path":"$.data.lead.tags[*]","in":["apac"]},{"not":{"path":"$.data.lead.won","equals":true}}]}`, false)
	f(`{"path":"$.data.items[?(@.price < 1)].sku","equals":"C-3"}`, true)
	f(`{"path":"$.data.nope","exists":false}`, true)
}

func TestFilterErrors(t *testing.T) {
	f := func(s, rule, msg string) {
		t.Helper()
		flt, err := CompileFilter([]byte(s))
		if flt != nil {
			t.Fatalf("%s: compiled, want invalid_template at %q", s, rule)
		}
		e := requireCode(t, err, CodeInvalidTemplate, rule)
		if !strings.Contains(e.Message, msg) {
			t.Fatalf("%s: message %q lacks %q", s, e.Message, msg)
		}
	}
	f(`{"path":"$.a","gte":"80"}`, "filter.gte", "want a number")
	f(`{"all":[{"path":"$.a","exists":true},{"path":"$.b","gte":[]}]}`, "filter.all[1].gte", "want a number")
	f(`{"any":[{"path":"$.a","gte":true}]}`, "filter.any[0].gte", "want a number")
	f(`{"path":"$.a","gte":1,"lt":2}`, "filter", "got 2 (gte, lt)")
	f(`{"header":"X-Kind","equals":"a"}`, "filter.header", "an outbound template reads the event only")
	f(`{"not":{"header":"X","exists":true}}`, "filter.not.header", "an outbound template reads the event only")
	f(`{"path":"data.x","equals":1}`, "filter.path", "want a JSONPath")
	f(`{"path":"$.a","exists":true,"bogus":1}`, "filter", `unknown field "bogus"`)
	f(`{"path":"$.a","exists":true} {}`, "filter", "trailing data")
	f(`[]`, "filter", "cannot decode")
	f(``, "filter", "cannot decode")
	f(`{}`, "filter", "got 0")

	flt := mustFilter(t, `{"path":"$.a","exists":true}`)
	for _, ev := range []string{``, `{"a":`, `{"a":1}}`, "{\"a\":\"\xff\"}x"} {
		ok, err := flt.Match([]byte(ev))
		requireCode(t, err, CodeRenderFailed, "filter")
		if ok {
			t.Fatalf("%q: an errored filter matched", ev)
		}
	}
	slow := mustFilter(t, `{"path":"$.x[*]","equals":-1}`)
	slow.budget = 100
	if _, err := slow.Match([]byte(`{"x":[` + strings.Repeat(`1,`, 1000) + `1]}`)); err == nil || !strings.Contains(err.Error(), "went over the budget") {
		t.Fatalf("want the budget error, got %v", err)
	}
}

// The examples of docs/mapping.md, "Outbound", give what it says.
func TestDocsOutboundExamples(t *testing.T) {
	event := []byte(`{"id": "evt_2Jd8kQ3x9ZpL", "type": "lead.won", "timestamp": "2026-11-23T10:00:00Z",
 "data": {"lead": {"email": "ada@example.com", "company": "Analytical Engines", "score": 87},
 "account": {"id": "acc_123"}, "profile": {"email": "ada+news@example.com"}}}`)
	b := mustBody(t, `{"text": "New lead {$.data.lead.email} ({$.data.lead.company}), score {$.data.lead.score}",
 "blocks": [
   {"type": "section", "text": {"type": "mrkdwn", "text": "*{$.data.lead.company}* won, score {$.data.lead.score}"}},
   {"type": "context", "elements": [{"type": "mrkdwn", "text": "event {$.id} at {$.timestamp}"}]}
 ]}`)
	out, err := b.Render(nil, event)
	if err != nil {
		t.Fatal(err)
	}
	requireEqual(t, "slack", string(out), `{"text":"New lead ada@example.com (Analytical Engines), score 87","blocks":[{"type":"section","text":{"type":"mrkdwn","text":"*Analytical Engines* won, score 87"}},{"type":"context","elements":[{"type":"mrkdwn","text":"event evt_2Jd8kQ3x9ZpL at 2026-11-23T10:00:00Z"}]}]}`)
	if ok, err := mustFilter(t, `{"path": "$.data.lead.score", "gte": 80}`).Match(event); !ok || err != nil {
		t.Fatalf("filter: %v %v", ok, err)
	}
	f := func(tmpl, want string) {
		t.Helper()
		out, err := mustURL(t, tmpl).Render(nil, event)
		if err != nil {
			t.Fatal(err)
		}
		requireEqual(t, tmpl, string(out), want)
	}
	f("https://crm.example.com/accounts/{$.data.account.id}", "https://crm.example.com/accounts/acc_123")
	f("https://esp.example.com/lists/7/subscribers/{$.data.profile.email}", "https://esp.example.com/lists/7/subscribers/ada%2Bnews%40example.com")
	f("https://api.example.com/v1/search?q={$.data.lead.company}", "https://api.example.com/v1/search?q=Analytical%20Engines")
}

// One compiled template serves every delivery at once: the fallback
// paths' pooled scratch must not leak between them.
func TestOutboundConcurrent(t *testing.T) {
	body := mustBody(t, `{"t":"{$.data.lead.email} {$.data.items[?(@.qty > 1)].sku}","all":"$..sku","n":"$.data.items[-1].qty"}`)
	u := mustURL(t, "https://h.example/{$.data.items[-1].sku}?e={$.data.lead.email}")
	flt := mustFilter(t, `{"path":"$.data.items[?(@.price < 1)].qty","gte":7}`)
	events := [][]byte{[]byte(leadEvent), []byte(strings.Replace(leadEvent, `"C-3","qty":7`, `"Z-9","qty":9`, 1))}
	type want struct {
		body, url string
		match     bool
	}
	wants := make([]want, len(events))
	for i, ev := range events {
		b, err1 := body.Render(nil, ev)
		s, err2 := u.Render(nil, ev)
		ok, err3 := flt.Match(ev)
		if err := errors.Join(err1, err2, err3); err != nil {
			t.Fatal(err)
		}
		wants[i] = want{string(b), string(s), ok}
	}
	if wants[0] == wants[1] {
		t.Fatal("the two events render alike: the test would see no mix-up")
	}
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var b, s []byte
			for i := range 100 {
				k := (g + i) % len(events)
				var err error
				if b, err = body.Render(b[:0], events[k]); err != nil || string(b) != wants[k].body {
					errs <- fmt.Errorf("body %q, %v; want %q", b, err, wants[k].body)
					return
				}
				if s, err = u.Render(s[:0], events[k]); err != nil || string(s) != wants[k].url {
					errs <- fmt.Errorf("url %q, %v; want %q", s, err, wants[k].url)
					return
				}
				if ok, err := flt.Match(events[k]); err != nil || ok != wants[k].match {
					errs <- fmt.Errorf("filter %v, %v; want %v", ok, err, wants[k].match)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}
