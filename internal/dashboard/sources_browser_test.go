package dashboard_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"hookline/internal/verify"
)

// TestProviderPresetsMatch: the provider list the source form offers
// (pages/providers.js, kept by hand as the API lists no presets) names
// exactly the presets internal/verify registers, and marks as needing a
// mapping exactly those without a default one.
func TestProviderPresetsMatch(t *testing.T) {
	js, err := os.ReadFile("assets/js/pages/providers.js")
	if err != nil {
		t.Fatal(err)
	}
	entry := regexp.MustCompile(`\{ name: '([^']+)'[^}]*\}`)
	var names []string
	for _, m := range entry.FindAllSubmatch(js, -1) {
		name := string(m[1])
		names = append(names, name)
		p, ok := verify.Lookup(name)
		if !ok {
			t.Errorf("providers.js offers %q, which internal/verify does not register", name)
			continue
		}
		own := bytes.Contains(m[0], []byte("own: true"))
		if own != (p.DefaultType == "") {
			t.Errorf("providers.js: %q own=%v, but its preset's default mapping type is %q", name, own, p.DefaultType)
		}
	}
	slices.Sort(names)
	if want := verify.Names(); !slices.Equal(names, want) {
		t.Fatalf("providers.js lists %v; internal/verify registers %v", names, want)
	}
}

// send posts body to a source's URL (its path, from the API) as a
// provider would, and returns the status and the Hookline-Request-Id.
func send(t *testing.T, s *server, url, body string) (int, string) {
	t.Helper()
	resp, err := http.Post(s.base+url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, resp.Header.Get("Hookline-Request-Id")
}

// TestSourcesPage: a source created in the form with a mapping (a rule
// the API refuses is named under the mapping field); a dry run of a pasted
// body shows the event it would make, one the rule cannot map shows the
// rule at fault; real requests to the source's URL show in the request
// log with their outcomes; a refused one is opened, loaded into the dry
// run, and replayed after the mapping is fixed.
func TestSourcesPage(t *testing.T) {
	s := startServer(t)
	s.api(t, "POST", "/v1/tenants", "", map[string]any{"id": "acme", "name": "Acme"}, 201, nil)
	b := newBrowser(t)
	b.signIn(s)
	b.go_("#/t/acme/sources")
	b.waitText("table", "No sources yet")

	b.click("button", "New source")
	b.fill("#source-name", "Orders")
	b.setValue("#source-provider", "none")
	// Provider none has no default mapping: said before anything is sent.
	b.click("dialog button[type=submit]", "Create source")
	b.waitText("dialog .field-error", "no default mapping")
	// An unclosed template part: the API names the rule under the field.
	b.setValue("#source-mapping", `{"type": "order.{$.kind", "id": "$.n"}`)
	b.click("dialog button[type=submit]", "Create source")
	b.waitText("dialog .field-error", "Rule at fault: mapping.type")
	b.waitText("dialog .field-error", "invalid_mapping")
	b.shot("source-form-rule-at-fault")
	b.setValue("#source-mapping", `{"type": "order.{$.kind}.v1", "id": "$.n"}`)
	b.click("dialog button[type=submit]", "Create source")
	b.waitText("h1", "Orders")

	var list struct {
		Data []struct{ ID, URL, Provider string } `json:"data"`
	}
	s.api(t, "GET", "/v1/tenants/acme/sources", "", nil, 200, &list)
	if len(list.Data) != 1 || list.Data[0].Provider != "none" {
		t.Fatalf("sources after create: %+v", list.Data)
	}
	src := list.Data[0]
	if got := evalJS[string](b, `document.querySelector("#source-url").value`); got != s.base+src.URL {
		t.Fatalf("the page gives the provider %q, want %q", got, s.base+src.URL)
	}

	// A dry run of a pasted body: the event it would make.
	b.setValue("#dryrun-body", `{"kind": "paid", "n": 7, "total": 12.5}`)
	b.setValue("#dryrun-headers", "X-Test: one")
	b.click("#dryrun-run", "Dry run")
	b.waitText("#dryrun-result", "Would make this event")
	b.waitText("#dryrun-result", "order.paid.v1")
	b.waitText("#dryrun-result", `"total": 12.5`)
	b.shot("source-mapping-dryrun")
	// A body the type rule cannot map: the rule at fault, with its value.
	b.setValue("#dryrun-body", `{"n": 8}`)
	b.click("#dryrun-run", "Dry run")
	b.waitText("#dryrun-result", "Would be refused")
	b.waitText("#dryrun-result", "Rule at fault: mapping.type")
	b.waitText("#dryrun-result", `"order.{$.kind}.v1"`)
	b.waitText("#dryrun-result", "mapping_failed")
	b.shot("source-dryrun-rule-at-fault")
	// Headers that are not "Name: value" are refused before sending.
	b.setValue("#dryrun-headers", "no colon here")
	b.click("#dryrun-run", "Dry run")
	b.waitText(".field-error", "line 1")
	b.setValue("#dryrun-headers", "")

	// Real requests: accepted, its duplicate, and one the mapping refuses.
	if st, _ := send(t, s, src.URL, `{"kind":"paid","n":1}`); st/100 != 2 {
		t.Fatalf("first request: %d", st)
	}
	if st, _ := send(t, s, src.URL, `{"kind":"paid","n":1}`); st/100 != 2 {
		t.Fatalf("duplicate request: %d", st)
	}
	st, rejected := send(t, s, src.URL, `{"n":2}`)
	if st != 422 || rejected == "" {
		t.Fatalf("unmappable request: %d, request id %q", st, rejected)
	}

	b.click(".tabs a", "Request log")
	b.waitText("table.requests", "rejected")
	b.waitText("table.requests", "duplicate")
	b.waitText("table.requests", "accepted")
	b.waitText("table.requests", "mapping_failed")
	b.shot("source-requests")

	// Open the refused request: its body and headers.
	b.click("table.requests tr", "rejected")
	b.waitText("#request-body", `"n": 2`)
	b.waitText("#request-headers", "Content-Type: application/json")
	b.shot("source-request-detail")
	// Into the dry run: its body comes along.
	b.click("button", "Use in dry run")
	b.waitJS("the logged body in the dry run", `document.querySelector("#dryrun-body") && document.querySelector("#dryrun-body").value.includes('"n":2')`)

	// Fix the mapping in the editor, then replay the refused request.
	b.setValue("#mapping-editor", `{"type": "order.{$.kind}.v1", "id": "$.n", "routes": [{"when": {"path": "$.kind", "exists": false}, "type": "order.unknown"}]}`)
	b.click("#mapping-save", "Save mapping")
	b.waitText(".success", "Mapping saved")
	b.click("#dryrun-run", "Dry run")
	b.waitText("#dryrun-result", "order.unknown")

	b.go_("#/t/acme/sources/" + src.ID + "/requests/" + rejected)
	b.click("#request-replay", "Replay")
	b.waitText("#replay-result", "accepted")
	var reqs struct {
		Data []struct {
			Outcome   string `json:"outcome"`
			ReplayOf  string `json:"replay_of"`
			EventType string `json:"event_type"`
		} `json:"data"`
	}
	s.api(t, "GET", "/v1/tenants/acme/sources/"+src.ID+"/requests", "", nil, 200, &reqs)
	if len(reqs.Data) != 4 || reqs.Data[0].ReplayOf != rejected || reqs.Data[0].Outcome != "accepted" || reqs.Data[0].EventType != "order.unknown" {
		t.Fatalf("request log after the replay: %+v", reqs.Data)
	}
	b.click("#replay-result a", "log entry")
	b.waitText("dl.props", rejected)

	b.go_("#/t/acme/sources")
	b.waitText("table.sources", "Orders")
	if got := evalJS[string](b, `document.querySelector("#source-url-0").textContent`); got != s.base+src.URL {
		t.Fatalf("the list gives the provider %q, want %q", got, s.base+src.URL)
	}
	b.shot("sources")

	// At tablet width the page scrolls only inside its tables.
	b.run(chromedp.EmulateViewport(800, 1000))
	b.go_("#/t/acme/sources/" + src.ID)
	b.waitText("#dryrun-h", "Dry run")
	b.shot("source-tablet")
	if w := evalJS[bool](b, `document.documentElement.scrollWidth > document.documentElement.clientWidth`); w {
		t.Errorf("the source page scrolls sideways at 800px")
	}

	b.click("button", "Delete")
	b.click("dialog button", "Delete source")
	b.waitText("table.sources", "No sources yet")
	st, _ = send(t, s, src.URL, `{"kind":"paid","n":3}`)
	if st != 404 {
		t.Fatalf("a deleted source's URL answers %d", st)
	}
}

// TestSourceDraftDryRun: the dry run maps with the mapping in the editor
// before it is saved, and saving stays explicit: the source keeps its
// saved mapping. A draft the API refuses shows the rule at fault under
// the mapping, as a save would.
func TestSourceDraftDryRun(t *testing.T) {
	s := startServer(t)
	s.api(t, "POST", "/v1/tenants", "", map[string]any{"id": "acme"}, 201, nil)
	var src struct {
		ID      string          `json:"id"`
		Mapping json.RawMessage `json:"mapping"`
	}
	const saved = `{"type":"order.{$.kind}"}`
	s.api(t, "POST", "/v1/tenants/acme/sources", "", map[string]any{"name": "Orders", "provider": "none", "mapping": json.RawMessage(saved)}, 201, &src)
	savedMapping := func() string {
		t.Helper()
		var got struct {
			Mapping json.RawMessage `json:"mapping"`
		}
		s.api(t, "GET", "/v1/tenants/acme/sources/"+src.ID, "", nil, 200, &got)
		return string(got.Mapping)
	}

	b := newBrowser(t)
	b.signIn(s)
	b.go_("#/t/acme/sources/" + src.ID)
	b.waitJS("the saved mapping in the editor", `document.querySelector("#mapping-editor") && document.querySelector("#mapping-editor").value.includes("order.{$.kind}")`)
	b.setValue("#dryrun-body", `{"kind": "paid", "n": 3}`)
	b.click("#dryrun-run", "Dry run")
	b.waitText("#dryrun-result", "order.paid")

	// An unsaved edit: the dry run shows the draft's event.
	b.setValue("#mapping-editor", `{"type": "draft.{$.kind}", "id": "$.n"}`)
	b.waitText("#dryrun-h + .hint", "unsaved")
	b.click("#dryrun-run", "Dry run")
	b.waitText("#dryrun-result", "draft.paid")
	b.waitText("#dryrun-result dl.props", "3")
	b.waitText("#dryrun-result h3", "unsaved mapping")
	b.shot("source-draft-dryrun")
	if got := savedMapping(); got != saved {
		t.Fatalf("a dry run saved the draft: the source's mapping is %s, want %s", got, saved)
	}
	if evalJS[bool](b, `document.querySelector("#mapping-save").disabled`) {
		t.Fatalf("the draft is no longer unsaved after a dry run")
	}

	// A draft the API refuses: the rule at fault under the mapping, no
	// result, nothing saved.
	b.setValue("#mapping-editor", `{"type": "x", "routes": [{"when": {"path": "$.a"}, "type": "y"}]}`)
	b.click("#dryrun-run", "Dry run")
	b.waitText("#mapping-editor-error", "Rule at fault: mapping.routes[0].when")
	b.waitText("#mapping-editor-error", "invalid_mapping")
	b.waitText("#dryrun-refused", "see the error under it")
	b.shot("source-draft-rule-at-fault")
	if evalJS[bool](b, `!!document.querySelector("#dryrun-result")`) {
		t.Fatalf("a refused draft shows a dry run result")
	}
	if got := savedMapping(); got != saved {
		t.Fatalf("a refused draft changed the source's mapping to %s", got)
	}
	// Text that is not JSON is caught before sending, under the mapping.
	b.setValue("#mapping-editor", `{"type": `)
	b.waitJS("the refusal cleared by the edit", `!document.querySelector("#mapping-editor-error") && !document.querySelector("#dryrun-refused")`)
	b.click("#dryrun-run", "Dry run")
	b.waitText("#mapping-editor-error", "not JSON")

	// Discarding the draft: the dry run is back on the saved mapping.
	b.click("button", "Discard changes")
	b.waitJS("the draft discarded", `!document.querySelector("#mapping-editor-error") && document.querySelector("#mapping-editor").value.includes("order.{$.kind}")`)
	b.click("#dryrun-run", "Dry run")
	b.waitText("#dryrun-result", "order.paid")
	if evalJS[bool](b, `document.querySelector("#dryrun-result h3").innerText.includes("unsaved")`) {
		t.Fatalf("a dry run of the saved mapping says it used an unsaved one")
	}
	if got := savedMapping(); got != saved {
		t.Fatalf("the source's mapping is %s, want %s", got, saved)
	}
}

// TestSourceSecretAndScopes: a source whose provider takes a secret shows
// it once after create and rotate; a key with sources:read only sees the
// sources and their log but no write action.
func TestSourceSecretAndScopes(t *testing.T) {
	s := startServer(t)
	s.api(t, "POST", "/v1/tenants", "", map[string]any{"id": "acme"}, 201, nil)
	b := newBrowser(t)
	b.signIn(s)
	b.go_("#/t/acme/sources")
	b.click("button", "New source")
	b.fill("#source-name", "GitHub")
	b.setValue("#source-provider", "github")
	b.fill("#source-secret", "github-secret-0123456789")
	b.click("dialog button[type=submit]", "Create source")
	b.waitJS("the secret shown once", `document.querySelector("#copy-once-value") && document.querySelector("#copy-once-value").value === "github-secret-0123456789"`)
	b.click("label.check", "I have copied it")
	b.click("dialog button.primary", "Done")
	b.waitText("h1", "GitHub")
	if n := evalJS[int](b, `document.querySelectorAll("#copy-once-value").length`); n != 0 {
		t.Fatalf("the secret is still on the page")
	}
	b.waitText("#mapping-editor-hint", "Empty: the provider's default")

	b.click("button", "Rotate secret")
	b.fill("#rotate-secret", "github-secret-0123456789")
	b.click("dialog button[type=submit]", "Rotate secret")
	b.waitText("dialog .field-error", "secret_unchanged")
	b.fill("#rotate-secret", "github-secret-abcdefghij")
	b.fill("#rotate-overlap", "1h")
	b.click("dialog button[type=submit]", "Rotate secret")
	b.waitJS("the new secret shown once", `document.querySelector("#copy-once-value") && document.querySelector("#copy-once-value").value === "github-secret-abcdefghij"`)
	b.click("label.check", "I have copied it")
	b.click("dialog button.primary", "Done")
	b.waitText(".source-props", "rotating")

	// A dry run that checks the signature: an unsigned sample is refused
	// by the verifier, before any mapping.
	b.setValue("#dryrun-body", `{"action":"created"}`)
	b.setValue("#dryrun-headers", "X-GitHub-Event: star\nX-GitHub-Delivery: d1")
	b.click("#dryrun-verify", "")
	b.click("#dryrun-run", "Dry run")
	b.waitText("#dryrun-result", "signature refused")
	b.click("#dryrun-verify", "")
	b.click("#dryrun-run", "Dry run")
	b.waitText("#dryrun-result", "github.star.created")

	b.click("button", "Edit")
	b.fill("#source-name", "GitHub org")
	b.setValue("#source-config", `{"allow_sha1": "yes"}`)
	b.click("dialog button[type=submit]", "Save")
	b.waitText("#source-config-error", "invalid_field")
	b.setValue("#source-config", `{"allow_sha1": true}`)
	b.click("dialog button[type=submit]", "Save")
	b.waitText("h1", "GitHub org")

	var key struct {
		Key string `json:"key"`
	}
	s.api(t, "POST", "/v1/tenants/acme/api-keys", "", map[string]any{"name": "viewer", "scopes": []string{"sources:read", "event-types:read"}}, 201, &key)
	b.click("button", "Sign out")
	b.fill("#token", key.Key)
	b.click("button[type=submit]", "Sign in")
	b.waitJS("signed in with the key", `document.querySelector("nav.side")`)
	b.go_("#/t/acme/sources")
	b.waitText("table.sources", "GitHub")
	b.click("table.sources a", "GitHub org")
	b.waitText("h1", "GitHub org")
	b.waitJS("the read-only mapping", `document.querySelector("#mapping-editor") && document.querySelector("#mapping-editor").readOnly`)
	for _, label := range []string{"Edit", "Rotate secret", "Delete", "Save mapping", "Dry run"} {
		if evalJS[bool](b, `[...document.querySelectorAll("button")].some(e => e.innerText.trim() === `+"`"+label+"`"+`)`) {
			t.Errorf("a read-only key sees the %q button", label)
		}
	}
	b.go_("#/t/acme/event-types")
	b.waitText("table", "No event types yet")
	if evalJS[bool](b, `[...document.querySelectorAll("button")].some(e => e.innerText.includes("New event type"))`) {
		t.Errorf("a read-only key sees New event type")
	}
}

// TestEventTypesPage: an event type is added with a JSON Schema; a schema
// that is not JSON is caught before sending, one the API refuses shows its
// error under the schema field; edit and delete with confirmation.
func TestEventTypesPage(t *testing.T) {
	s := startServer(t)
	s.api(t, "POST", "/v1/tenants", "", map[string]any{"id": "acme"}, 201, nil)
	b := newBrowser(t)
	b.signIn(s)
	b.go_("#/t/acme/event-types")
	b.waitText("table", "No event types yet")

	b.click("button", "New event type")
	b.fill("#et-type", "invoice.paid")
	b.setValue("#et-description", "An invoice was paid in full.")
	b.setValue("#et-schema", `{"type": "object",`)
	b.click("dialog button[type=submit]", "New event type")
	b.waitText("dialog .field-error", "not JSON")
	var page struct {
		Data []struct {
			Type        string `json:"type"`
			Description string `json:"description"`
			Schema      any    `json:"schema"`
		} `json:"data"`
	}
	s.api(t, "GET", "/v1/tenants/acme/event-types", "", nil, 200, &page)
	if len(page.Data) != 0 {
		t.Fatalf("a schema that is not JSON was sent: %+v", page.Data)
	}
	b.setValue("#et-schema", `{"type": "bogus"}`)
	b.click("dialog button[type=submit]", "New event type")
	b.waitText("#et-schema-error", "invalid_schema")
	b.shot("event-type-invalid-schema")
	b.setValue("#et-schema", `{"type": "object", "required": ["amount"], "properties": {"amount": {"type": "number"}}}`)
	b.click("dialog button[type=submit]", "New event type")
	b.waitText("table", "invoice.paid")
	b.waitText("table", "An invoice was paid in full.")
	b.click("table button", "Show schema")
	b.waitText("table pre.json", `"required"`)
	b.shot("event-types")

	b.click("td button", "Edit")
	b.waitJS("the type fixed", `document.querySelector("#et-type").disabled`)
	b.setValue("#et-description", "Paid in full, refunds excluded.")
	b.click("dialog button[type=submit]", "Save")
	b.waitText("table", "refunds excluded")
	s.api(t, "GET", "/v1/tenants/acme/event-types", "", nil, 200, &page)
	if len(page.Data) != 1 || page.Data[0].Description != "Paid in full, refunds excluded." || page.Data[0].Schema == nil {
		t.Fatalf("event type after edit: %+v", page.Data)
	}

	b.click("td button", "Delete")
	b.click("dialog button", "Delete event type")
	b.waitText("table", "No event types yet")
	s.api(t, "GET", "/v1/tenants/acme/event-types/invoice.paid", "", nil, 404, nil)
}

// TestSourceVerifyTokenShownOnce: a whatsapp source made in the form
// shows its secret once and then its generated verify token once, and
// that token answers Meta's handshake.
func TestSourceVerifyTokenShownOnce(t *testing.T) {
	s := startServer(t)
	s.api(t, "POST", "/v1/tenants", "", map[string]any{"id": "acme"}, 201, nil)
	b := newBrowser(t)
	b.signIn(s)
	b.go_("#/t/acme/sources")
	b.click("button", "New source")
	b.fill("#source-name", "WhatsApp")
	b.setValue("#source-provider", "whatsapp")
	b.fill("#source-secret", "0123456789abcdef0123456789abcdef")
	b.click("dialog button[type=submit]", "Create source")
	b.waitJS("the secret shown once", `document.querySelector("#copy-once-value") && document.querySelector("#copy-once-value").value === "0123456789abcdef0123456789abcdef"`)
	b.click("label.check", "I have copied it")
	b.click("dialog button.primary", "Done")
	b.waitJS("the verify token shown once", `document.querySelector("#copy-once-value") && document.querySelector("#copy-once-value").value.length >= 32`)
	token := evalJS[string](b, `document.querySelector("#copy-once-value").value`)
	b.click("label.check", "I have copied it")
	b.click("dialog button.primary", "Done")
	b.waitText("h1", "WhatsApp")
	if n := evalJS[int](b, `document.querySelectorAll("#copy-once-value").length`); n != 0 {
		t.Fatalf("the verify token is still on the page")
	}

	var list struct {
		Data []struct{ URL string } `json:"data"`
	}
	s.api(t, "GET", "/v1/tenants/acme/sources", "", nil, 200, &list)
	if len(list.Data) != 1 {
		t.Fatalf("sources: %+v", list.Data)
	}
	resp, err := http.Get(s.base + list.Data[0].URL + "?hub.mode=subscribe&hub.challenge=8&hub.verify_token=" + url.QueryEscape(token))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "8" {
		t.Fatalf("handshake with the token shown: %d %q", resp.StatusCode, body)
	}
}
