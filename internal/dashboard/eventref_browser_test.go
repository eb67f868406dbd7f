package dashboard_test

import (
	"bytes"
	"encoding/json"
	"net/url"
	"os/exec"
	"reflect"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// refTypes is a catalogue covering the example builder's rules: a
// schema's own examples, built objects (nested, arrays, formats, enum,
// minimum, const, default), Go's escaping of <>& and a type without a
// schema.
var refTypes = []map[string]any{
	{"type": "invoice.paid", "description": "An invoice was paid in full.", "schema": map[string]any{
		"type":     "object",
		"required": []string{"amount", "currency", "paid_at", "customer", "lines", "livemode"},
		"properties": map[string]any{
			"amount":   map[string]any{"type": "integer", "minimum": 1},
			"currency": map[string]any{"type": "string", "enum": []string{"usd", "eur"}},
			"paid_at":  map[string]any{"type": "string", "format": "date-time"},
			"customer": map[string]any{"properties": map[string]any{
				"email": map[string]any{"type": "string", "format": "email"},
				"site":  map[string]any{"type": []string{"string", "null"}, "format": "uri"},
			}, "required": []string{"email"}},
			"lines": map[string]any{"type": "array", "minItems": 1, "items": map[string]any{
				"type": "object", "properties": map[string]any{"sku": map[string]any{"type": "string"}, "qty": map[string]any{"type": "number", "default": 1.5}},
			}},
			"livemode": map[string]any{"type": "boolean"},
			"note":     map[string]any{"type": "string", "const": "<b>Tom & Jerry</b>"},
			"meta":     map[string]any{"type": "object"},
		},
		"additionalProperties": false,
	}},
	{"type": "customer.created", "description": "", "schema": map[string]any{
		"type":     "object",
		"required": []string{"id"},
		"properties": map[string]any{
			"id": map[string]any{"type": "string", "pattern": "^cus_"},
		},
		"examples": []any{map[string]any{"id": "cus_123", "name": "Ada"}},
	}},
	{"type": "ping", "description": "A liveness check; no payload schema."},
	// Where Go's JSON and JavaScript's differ: key order of numeric keys,
	// U+2028, -0, exponents.
	{"type": "edge.cases", "description": "Numbers & strings at their edges.", "schema": json.RawMessage(`{"type":"object","properties":{
		"z":{"const":"line\u2028sep & é 😀"},"n":{"type":"number","default":-0},"big":{"type":"number","minimum":1e21},
		"tiny":{"type":"number","minimum":1e-7},"10":{"type":"integer"},"2":{"type":"boolean"}}}`)},
}

// refArticle is what the page shows of one event type.
type refArticle struct {
	Type, Desc, Schema, Example string
}

func readReference(b *browser) []refArticle {
	b.t.Helper()
	return evalJS[[]refArticle](b, `[...document.querySelectorAll("#event-reference article")].map(a => ({
		Type: a.querySelector("h2").innerText.trim(),
		Desc: (a.querySelector(".desc") || {innerText: ""}).innerText.trim(),
		Schema: (a.querySelector(".ref-schema") || {textContent: ""}).textContent,
		Example: (a.querySelector(".ref-example") || {textContent: ""}).textContent,
	}))`)
}

// TestEventReferencePage: the operator's Event reference shows each
// event type of the catalogue with its description, its schema and an
// example that passes the schema (checked by the schema library the
// engine uses and by publishing it: the engine accepts it, and refuses a
// payload missing a required field); the example can be copied; the
// Markdown download is byte for byte what `hookline docs events` writes.
func TestEventReferencePage(t *testing.T) {
	s := startServer(t)
	s.api(t, "POST", "/v1/tenants", "", map[string]any{"id": "acme", "name": "Acme Corp"}, 201, nil)
	b := newBrowser(t)
	b.signIn(s)
	b.go_("#/t/acme/event-reference")
	b.waitText("#ref-empty", "No event types are registered yet")
	for _, et := range refTypes {
		s.api(t, "POST", "/v1/tenants/acme/event-types", "", et, 201, nil)
	}
	b.run(chromedp.Reload())
	b.waitText("#event-reference", "invoice.paid")
	nav := evalJS[[]string](b, `[...document.querySelectorAll("nav.side a")].map(a => a.innerText.trim())`)
	if i := strings.Index(strings.Join(nav, ","), "Event types,Event reference"); i < 0 {
		t.Fatalf("the navigation has no Event reference after Event types: %q", nav)
	}

	got := readReference(b)
	if len(got) != len(refTypes) {
		t.Fatalf("the page shows %d event types, want %d: %+v", len(got), len(refTypes), got)
	}
	byType := map[string]refArticle{}
	for _, a := range got {
		byType[a.Type] = a
	}
	for _, et := range refTypes {
		typ := et["type"].(string)
		a, ok := byType[typ]
		if !ok {
			t.Fatalf("%s is not in the reference: %+v", typ, got)
		}
		if a.Desc != et["description"] {
			t.Errorf("%s: description %q, want %q", typ, a.Desc, et["description"])
		}
		if et["schema"] == nil {
			if a.Schema != "" || a.Example != "" {
				t.Errorf("%s has no schema but the page shows %q / %q", typ, a.Schema, a.Example)
			}
			continue
		}
		var shown, want any
		raw, err := json.Marshal(et["schema"])
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(raw, &want); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal([]byte(a.Schema), &shown); err != nil || !reflect.DeepEqual(shown, want) {
			t.Errorf("%s: the schema shown %s is not the one registered %s (%v)", typ, a.Schema, raw, err)
		}
		checkExample(t, s, typ, raw, a.Example)
	}
	// The page shows the JSON without Go's HTML escapes (the Markdown
	// keeps them, as the CLI's does).
	if ex := byType["invoice.paid"].Example; !strings.Contains(ex, `"note": "<b>Tom & Jerry</b>"`) {
		t.Errorf("invoice.paid's example: %s", ex)
	}
	// The schema's own example is used as it is.
	if ex := byType["customer.created"].Example; !strings.Contains(ex, `"name": "Ada"`) {
		t.Errorf("customer.created's example is not the schema's own: %s", ex)
	}
	// A payload the schema refuses is refused: the check above can fail.
	s.api(t, "POST", "/v1/tenants/acme/events", "", map[string]any{"type": "invoice.paid", "payload": map[string]any{"amount": 5}}, 400, nil)

	b.click(".event-ref button", "Copy")
	b.waitJS("the example copied or selected", `(() => { const btn = document.querySelector(".event-ref button");
		const ex = document.querySelector(".ref-example").textContent;
		return btn.innerText === "Copied" || getSelection().toString().trim() === ex.trim(); })()`)
	b.shot("event-reference")
	// The contents scroll to a type and leave the route as it is.
	b.click(".ref-toc a", "ping")
	b.waitJS("ping scrolled into view", `(() => { const r = [...document.querySelectorAll("#event-reference article")].find(a => a.innerText.includes("ping")).getBoundingClientRect();
		return r.top >= 0 && r.top < innerHeight; })()`)
	if h := evalJS[string](b, `location.hash`); h != "#/t/acme/event-reference" {
		t.Fatalf("the contents link changed the route to %q", h)
	}

	href := evalJS[string](b, `document.querySelector("#ref-download").href`)
	if dl := evalJS[string](b, `document.querySelector("#ref-download").getAttribute("download")`); dl != "events-acme.md" {
		t.Errorf("download name %q", dl)
	}
	const prefix = "data:text/markdown;charset=utf-8,"
	if !strings.HasPrefix(href, prefix) {
		t.Fatalf("Download Markdown href %.80q", href)
	}
	md, err := url.PathUnescape(href[len(prefix):])
	if err != nil {
		t.Fatal(err)
	}
	cli, err := exec.Command(binPath, "docs", "events", "--tenant", "acme", "--server", s.base, "--token", adminToken).Output()
	if err != nil {
		t.Fatalf("hookline docs events: %v", err)
	}
	if md != string(cli) {
		t.Fatalf("the page's Markdown differs from the CLI's.\npage:\n%s\ncli:\n%s", md, cli)
	}

	// At tablet width the page does not scroll sideways.
	b.run(chromedp.EmulateViewport(800, 1000))
	b.waitJS("no sideways scroll at 800px", `document.documentElement.scrollWidth <= document.documentElement.clientWidth`)
	b.shot("event-reference-800")

	// An API error shows with its code.
	b.go_("#/t/nosuch/event-reference")
	b.waitText(".error", "tenant_not_found")
}

// checkExample: the example shown for typ passes the schema, by the
// schema library the engine uses and by the engine itself on publish.
func checkExample(t *testing.T, s *server, typ string, schema []byte, example string) {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schema))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("urn:test:"+typ, doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("urn:test:" + typ)
	if err != nil {
		t.Fatal(err)
	}
	inst, err := jsonschema.UnmarshalJSON(strings.NewReader(example))
	if err != nil {
		t.Fatalf("%s: the example is not JSON: %v\n%s", typ, err, example)
	}
	if err := sch.Validate(inst); err != nil {
		t.Errorf("%s: the example does not pass the schema: %v\n%s", typ, err, example)
	}
	s.api(t, "POST", "/v1/tenants/acme/events", "", map[string]any{"type": typ, "payload": json.RawMessage(example)}, 202, nil)
}

// TestEventReferencePortal: a portal session with event-types:read has
// the Event reference with the tenant's types; one without it has no
// such page in its navigation and is refused it by the hash.
func TestEventReferencePortal(t *testing.T) {
	f := newPortalFixture(t)
	s := f.s
	for _, et := range refTypes {
		s.api(t, "POST", "/v1/tenants/acme/event-types", "", et, 201, nil)
	}
	s.api(t, "POST", "/v1/tenants/other/event-types", "", map[string]any{"type": "other.secret_type", "schema": map[string]any{"type": "object"}}, 201, nil)

	_, withURL, _ := f.session(t, map[string]any{"scopes": []string{"event-types:read"}})
	c := newBrowser(t)
	c.run(chromedp.Navigate(withURL))
	c.waitText(".banner", "Acme Corp")
	c.click("nav.side a", "Event reference")
	c.waitText("#event-reference", "invoice.paid")
	got := readReference(c)
	if len(got) != len(refTypes) {
		t.Fatalf("the portal's reference shows %d types, want %d: %+v", len(got), len(refTypes), got)
	}
	if evalJS[bool](c, `document.documentElement.outerHTML.includes("other.secret_type")`) {
		t.Fatal("another tenant's event type is in the portal's reference")
	}
	if !evalJS[bool](c, `!!document.querySelector("#ref-download")`) {
		t.Fatal("no Download Markdown in the portal")
	}
	c.shot("event-reference-portal")

	_, withoutURL, _ := f.session(t, map[string]any{"scopes": []string{"deliveries:read"}})
	d := newBrowser(t)
	d.run(chromedp.Navigate(withoutURL))
	d.waitText(".banner", "Acme Corp")
	nav := evalJS[[]string](d, `[...document.querySelectorAll("nav.side a")].map(a => a.innerText.trim())`)
	for _, n := range nav {
		if n == "Event reference" || n == "Event types" {
			t.Fatalf("a deliveries:read session's navigation has %q: %q", n, nav)
		}
	}
	d.go_("#/t/acme/event-reference")
	d.waitText(".error", "forbidden")
	if evalJS[bool](d, `!!document.querySelector("#event-reference")`) {
		t.Fatal("the reference shows without event-types:read")
	}
}
