package dashboard_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// endpointView is the part of the API's endpoint the tests check.
type endpointView struct {
	ID                      string          `json:"id"`
	URL                     string          `json:"url"`
	EventTypes              []string        `json:"event_types"`
	Body                    json.RawMessage `json:"body"`
	Paused                  bool            `json:"paused"`
	DeletedAt               string          `json:"deleted_at"`
	PreviousSecretExpiresAt string          `json:"previous_secret_expires_at"`
}

// takeSecret reads the secret a CopyOnce shows, checks that Done waits
// for "I have copied it", confirms, and checks the secret is then nowhere
// in the page: not in its text, its markup or any control's value.
func (b *browser) takeSecret() string {
	b.t.Helper()
	b.waitJS("the copy-once secret", `document.querySelector("#copy-once-value")`)
	secret := evalJS[string](b, `document.querySelector("#copy-once-value").value`)
	if !strings.HasPrefix(secret, "whsec_") {
		b.t.Fatalf("the secret shown is %q", secret)
	}
	if !evalJS[bool](b, `[...document.querySelectorAll(".copy-once button")].find(e => e.innerText === "Done").disabled`) {
		b.t.Fatal("Done is enabled before \"I have copied it\" is checked")
	}
	b.click(".copy-once label.check", "I have copied it")
	b.click(".copy-once button", "Done")
	b.waitJS("the secret to leave the page", `!document.querySelector(".copy-once")`)
	b.assertNotInPage(secret)
	return secret
}

// assertNotInPage fails the test if s is in the page's text, markup or
// any control's value.
func (b *browser) assertNotInPage(s string) {
	b.t.Helper()
	expr := fmt.Sprintf(`document.body.innerText.includes(%[1]q) || document.documentElement.outerHTML.includes(%[1]q) ||
		[...document.querySelectorAll("input, textarea")].some(e => e.value.includes(%[1]q))`, s)
	if evalJS[bool](b, expr) {
		b.t.Fatalf("%q is still in the page", s)
	}
}

// TestEndpointsPages: an endpoint made through the form (event types from
// the catalogue, a body template), its secret shown once, the preview
// rendering the body from a sample (on the new form before it is
// created, as on its page), a test event the receiver gets with its
// answer shown, pause and resume, a rotation with an overlap, an edit the
// preview follows before it is saved, API errors next to their fields
// (the preview's too, nothing saved), delete with its confirmation, and a
// read-only key that sees no write action.
func TestEndpointsPages(t *testing.T) {
	s := startServer(t)
	rcv := newReceiver(t)
	s.api(t, "POST", "/v1/tenants", "", map[string]any{"id": "acme", "name": "Acme"}, 201, nil)
	s.api(t, "POST", "/v1/tenants", "", map[string]any{"id": "strict", "name": "Strict", "require_https": true}, 201, nil)
	for _, typ := range []string{"lead.created", "lead.lost"} {
		s.api(t, "POST", "/v1/tenants/acme/event-types", "", map[string]any{"type": typ, "description": "a " + typ}, 201, nil)
	}
	b := newBrowser(t)
	b.signIn(s)

	// https_required, under the URL field.
	b.go_("#/t/strict/endpoints")
	b.waitText("#endpoints-table", "No endpoints yet")
	b.click("button", "New endpoint")
	b.fill("#ep-url", "http://example.com/hook")
	b.click("button[type=submit]", "Create endpoint")
	b.waitText("#ep-url-error", "requires https")

	b.go_("#/t/acme/endpoints")
	b.waitText("#endpoints-table", "No endpoints yet")
	b.click("button", "New endpoint")
	b.fill("#ep-url", rcv.URL+"/hook")
	b.fill("#ep-description", "Leads to the team chat")
	b.click("#ep-all-types", "")
	b.click(".type-picks label", "lead.created")
	// The preview renders the form before it is created: the standard
	// envelope first, then the body template as typed.
	b.setValue("#preview-payload", `{"email":"ada@example.com"}`)
	b.waitText("#preview-request", "POST "+rcv.URL+"/hook")
	b.waitText("#preview-body", `"type": "lead.created"`)      // the type the form picked
	b.setValue("#ep-body", `{"text":"New lead {$.data.email}`) // not JSON yet
	b.waitText("#ep-body-error", "Not JSON")
	b.waitText("#preview-wait", "fix it")
	b.setValue("#ep-body", `{"text":"New lead {data.email}"}`) // a forgotten $
	b.waitText("#ep-body-error", "body.text")                  // from the preview, before any save
	b.waitText("#ep-body-error", "invalid_template")
	b.setValue("#ep-body", `{"text":"New lead {$.data.email}"}`)
	b.waitText("#preview-body", `"text": "New lead ada@example.com"`)
	b.waitJS("the body's error to go", `!document.querySelector("#ep-body-error")`)
	var none struct{ Data []endpointView }
	s.api(t, "GET", "/v1/tenants/acme/endpoints", "", nil, 200, &none)
	if len(none.Data) != 0 {
		t.Fatalf("the new form's preview created endpoints: %+v", none.Data)
	}
	b.shot("endpoint-new")
	b.click("button[type=submit]", "Create endpoint")
	b.waitText("h1", "Endpoint created")
	secret := b.takeSecret()

	b.waitJS("the endpoint's page", `document.querySelector("#ep-url-text")`)
	var eps struct{ Data []endpointView }
	s.api(t, "GET", "/v1/tenants/acme/endpoints", "", nil, 200, &eps)
	if len(eps.Data) != 1 || eps.Data[0].URL != rcv.URL+"/hook" || strings.Join(eps.Data[0].EventTypes, ",") != "lead.created" ||
		string(eps.Data[0].Body) != `{"text":"New lead {$.data.email}"}` {
		t.Fatalf("endpoints after the form: %+v", eps.Data)
	}
	ep := eps.Data[0]
	b.waitText("#ep-url-text", rcv.URL+"/hook")

	// The preview renders the sample; a sample without the value the
	// template needs is refused with the path named.
	b.waitText("#preview-error", "render_failed")
	b.setValue("#preview-payload", `{"email":"ada@example.com"}`)
	b.waitText("#preview-body", `"text": "New lead ada@example.com"`)
	b.waitText("#preview-request", "POST "+rcv.URL+"/hook")
	b.shot("endpoint-detail")

	// A test event: the receiver gets it, its answer is shown.
	b.setValue("#test-payload", `{"email":"bob@example.com"}`)
	b.click("#test-send", "Send test event")
	b.waitText("#test-result", "HTTP 200")
	b.waitText("#test-result", "receiver answered 200")
	got := rcv.requests()
	if len(got) != 1 || string(got[0].Body) != `{"text":"New lead bob@example.com"}` || got[0].Path != "/hook" {
		t.Fatalf("the receiver got %d requests: %+v", len(got), got)
	}
	rcv.setStatus(503)
	b.click("#test-send", "Send test event")
	b.waitText("#test-result", "HTTP 503")
	b.waitText("#test-result", "failed")

	// Pause and resume.
	b.click("#ep-pause", "Pause")
	b.waitJS("Resume", `document.querySelector("#ep-resume")`)
	b.waitText(".page-head", "paused")
	var one endpointView
	s.api(t, "GET", "/v1/tenants/acme/endpoints/"+ep.ID, "", nil, 200, &one)
	if !one.Paused {
		t.Fatal("the endpoint is not paused after Pause")
	}
	b.click("#ep-resume", "Resume")
	b.waitJS("Pause", `document.querySelector("#ep-pause")`)
	s.api(t, "GET", "/v1/tenants/acme/endpoints/"+ep.ID, "", nil, 200, &one)
	if one.Paused {
		t.Fatal("the endpoint is paused after Resume")
	}

	// Rotate: a bad overlap is shown under its field; a good one gives a
	// new secret, shown once.
	b.click("#ep-rotate", "Rotate secret")
	b.fill("#rotate-overlap", "forever")
	b.click("dialog button[type=submit]", "Rotate secret")
	b.waitText("#rotate-overlap-error", "not a duration")
	b.fill("#rotate-overlap", "1h")
	b.click("dialog button[type=submit]", "Rotate secret")
	rotated := b.takeSecret()
	if rotated == secret {
		t.Fatal("the rotation showed the old secret")
	}
	b.waitText("#ep-props", "Old secret signs until")
	s.api(t, "GET", "/v1/tenants/acme/endpoints/"+ep.ID, "", nil, 200, &one)
	if one.PreviousSecretExpiresAt == "" {
		t.Fatalf("no overlap after the rotation: %+v", one)
	}
	b.assertNotInPage(secret)

	// The preview of a past event, picked from the endpoint's recent ones.
	rcv.setStatus(200)
	var pub struct {
		ID string `json:"id"`
	}
	s.api(t, "POST", "/v1/tenants/acme/events", "", map[string]any{"type": "lead.created", "payload": map[string]any{"email": "cy@example.com"}}, 202, &pub)
	b.click(".preview-source label", "A past event")
	b.waitJS("the recent events", fmt.Sprintf(`document.querySelector("#preview-recent option[value='%s']")`, pub.ID))
	b.setValue("#preview-recent", pub.ID)
	b.waitText("#preview-body", "New lead cy@example.com")
	b.waitText("#preview-request", "Webhook-Id: "+pub.ID)
	b.click(".preview-source label", "A sample event")
	b.waitText("#preview-body", "New lead ada@example.com")

	// Edit: the form starts from what is stored, the preview beside it
	// follows the form before it is saved; a template the server refuses
	// is shown at its field and nothing is saved.
	b.click("a", "Edit")
	b.waitJS("the edit form", `document.querySelector("#ep-body") && document.querySelector("#preview-body")`)
	if v := evalJS[string](b, `document.querySelector("#ep-url").value`); v != rcv.URL+"/hook" {
		t.Fatalf("the edit form's URL is %q", v)
	}
	b.waitText("#preview-body", "New lead ada@example.com")
	b.setValue("#ep-body", `{"text":"Lead {$.data.email} won","source":"$.type"}`)
	b.waitText("#preview-body", "Lead ada@example.com won")
	b.waitText("#preview-body", `"source": "lead.created"`)
	s.api(t, "GET", "/v1/tenants/acme/endpoints/"+ep.ID, "", nil, 200, &one)
	if string(one.Body) != `{"text":"New lead {$.data.email}"}` {
		t.Fatalf("the edit form's preview saved the body: %s", one.Body)
	}
	b.shot("endpoint-form")
	b.setValue("#ep-body", `{"text":"Lead {$.data.email","source":"$.type"}`) // an unclosed placeholder
	b.waitText("#ep-body-error", "invalid_template")
	b.waitText("#preview-error", "invalid_template")
	b.shot("endpoint-form-preview-error")
	s.api(t, "GET", "/v1/tenants/acme/endpoints/"+ep.ID, "", nil, 200, &one)
	if string(one.Body) != `{"text":"New lead {$.data.email}"}` {
		t.Fatalf("a refused draft changed the body: %s", one.Body)
	}
	b.setValue("#ep-body", `{"text":"Lead {$.data.email} won","source":"$.type"}`)
	b.waitText("#preview-body", "Lead ada@example.com won")
	b.click("button[type=submit]", "Save")
	b.waitText("#ep-saved", "Saved")
	b.waitText("#preview-body", "Lead ada@example.com won")
	b.waitText("#preview-body", `"source": "lead.created"`)
	s.api(t, "GET", "/v1/tenants/acme/endpoints/"+ep.ID, "", nil, 200, &one)
	if string(one.Body) != `{"text":"Lead {$.data.email} won","source":"$.type"}` {
		t.Fatalf("the body after Save: %s", one.Body)
	}
	b.fill("#ep-url", "http://127.0.0.1:1/a b")
	b.click("button[type=submit]", "Save")
	b.waitText("#ep-url-error", "write it as %20")
	b.shot("endpoint-form-error")

	// At a tablet's width the form and its preview stack, and the page
	// does not scroll sideways.
	b.run(chromedp.EmulateViewport(800, 1000))
	b.waitJS("no sideways scroll", `document.documentElement.scrollWidth <= document.documentElement.clientWidth`)
	b.shot("endpoint-form-tablet")
	b.go_("#/t/acme/endpoints/" + ep.ID)
	b.waitJS("the endpoint's page", `document.querySelector("#preview-request")`)
	b.waitJS("no sideways scroll", `document.documentElement.scrollWidth <= document.documentElement.clientWidth`)
	b.shot("endpoint-detail-tablet")
	b.run(chromedp.EmulateViewport(1280, 900))

	// The list: URL, types, state, health, the deliveries link.
	b.go_("#/t/acme/endpoints")
	b.waitText("#endpoints-table", rcv.URL+"/hook")
	b.waitText("#endpoints-table", "lead.created")
	b.waitText("#endpoints-table", "active")
	b.waitJS("the row's health", `!document.querySelector("#endpoints-table tbody").innerText.includes("…")`)
	if href := evalJS[string](b, `[...document.querySelectorAll("#endpoints-table a")].find(a => a.innerText === "Deliveries").getAttribute("href")`); href != "#/t/acme/deliveries?endpoint="+ep.ID {
		t.Fatalf("the deliveries link is %q", href)
	}
	b.shot("endpoints-list")

	// Delete, after its confirmation; the history stays (Show deleted).
	b.click("#endpoints-table a", rcv.URL)
	b.click("#ep-delete", "Delete")
	b.waitText("dialog", "history stays readable")
	b.click("dialog button", "Delete endpoint")
	b.waitText("#endpoints-table", "No endpoints yet")
	s.api(t, "GET", "/v1/tenants/acme/endpoints/"+ep.ID, "", nil, 200, &one)
	if one.DeletedAt == "" {
		t.Fatalf("the endpoint is not deleted: %+v", one)
	}
	b.click("label.check", "Show deleted")
	b.waitText("#endpoints-table", "deleted")
	b.waitText("#endpoints-table", rcv.URL)

	// A key that may only read endpoints sees no write action.
	s.api(t, "POST", "/v1/tenants/acme/endpoints", "", map[string]any{"url": rcv.URL + "/ro", "paused": true, "disabled": true}, 201, nil)
	var key struct {
		Key string `json:"key"`
	}
	s.api(t, "POST", "/v1/tenants/acme/api-keys", "", map[string]any{"name": "ro", "scopes": []string{"endpoints:read"}}, 201, &key)
	b.click("button", "Sign out")
	b.fill("#token", key.Key)
	b.click("button[type=submit]", "Sign in")
	b.go_("#/t/acme/endpoints")
	b.waitText("#endpoints-table", rcv.URL+"/ro")
	b.waitText("#endpoints-table", "disabled")
	b.waitText("#endpoints-table", "paused")
	b.shot("endpoints-list-readonly")
	b.click("#endpoints-table a", rcv.URL+"/ro")
	b.waitJS("the endpoint's page", `document.querySelector("#ep-url-text")`)
	b.waitJS("the preview", `document.querySelector("#preview-request")`)
	for _, css := range []string{"#ep-pause", "#ep-rotate", "#ep-delete", "#test-send"} {
		if evalJS[bool](b, fmt.Sprintf(`!!document.querySelector(%q)`, css)) {
			t.Errorf("a read-only key sees %s", css)
		}
	}
	if evalJS[bool](b, `document.body.innerText.includes("Edit") || document.body.innerText.includes("Deliveries")`) {
		t.Error("a read-only key sees Edit or a deliveries link")
	}
	b.go_("#/t/acme/endpoints")
	b.waitText("#endpoints-table", rcv.URL+"/ro")
	if evalJS[bool](b, `[...document.querySelectorAll("button")].some(e => e.innerText.includes("New endpoint"))`) {
		t.Error("a read-only key sees New endpoint")
	}
}
