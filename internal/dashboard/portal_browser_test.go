package dashboard_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// TestAPIKeysPage: the operator creates a key with chosen scopes in the
// page (an empty choice is refused under the scopes), sees the key once,
// and revokes it after confirming; the API then refuses the key.
func TestAPIKeysPage(t *testing.T) {
	s := startServer(t)
	s.api(t, "POST", "/v1/tenants", "", map[string]any{"id": "acme", "name": "Acme Corp"}, 201, nil)
	b := newBrowser(t)
	b.signIn(s)
	b.go_("#/t/acme/keys")
	b.waitText("#keys-table", "No API keys yet")

	b.click("button", "New API key")
	b.fill("#key-name", "billing-service")
	// The form starts from the default key's scopes; none at all is 400.
	for _, sc := range []string{"events-publish", "endpoints-read", "deliveries-read", "sources-read", "event-types-read"} {
		b.waitJS("default scope "+sc, `document.querySelector("#key-scope-`+sc+`").checked`)
		b.click("#key-scope-"+sc, "")
	}
	b.click("dialog button[type=submit]", "Create key")
	b.waitText("dialog .field-error", "invalid_scopes")
	b.shot("keys-new")
	b.click("#key-scope-endpoints-write", "")
	b.click("#key-scope-deliveries-read", "")
	b.click("dialog button[type=submit]", "Create key")
	b.waitJS("the new key", `(document.querySelector("#copy-once-value")||{}).value?.startsWith("hlk_")`)
	key := evalJS[string](b, `document.querySelector("#copy-once-value").value`)
	b.waitText("#keys-table", "billing-service")
	b.shot("keys")

	var me struct {
		ActorType string   `json:"actor_type"`
		Tenant    string   `json:"tenant"`
		Scopes    []string `json:"scopes"`
	}
	s.api(t, "GET", "/v1/me", key, nil, 200, &me)
	if me.ActorType != "api_key" || me.Tenant != "acme" || strings.Join(me.Scopes, ",") != "endpoints:write,deliveries:read" {
		t.Fatalf("the key made in the page: %+v", me)
	}

	// Shown once: after Done it is nowhere in the page, and a reload
	// cannot bring it back.
	b.click(".copy-once label.check", "I have copied it")
	b.click(".copy-once button", "Done")
	b.waitJS("the key gone", `!document.querySelector(".copy-once")`)
	if evalJS[bool](b, fmt.Sprintf(`document.documentElement.outerHTML.includes(%q)`, key)) {
		t.Fatal("the key is still in the page after Done")
	}
	b.run(chromedp.Reload())
	b.waitText("#keys-table", "billing-service")
	if evalJS[bool](b, fmt.Sprintf(`document.documentElement.outerHTML.includes(%q)`, key)) {
		t.Fatal("the key is in the page after a reload")
	}

	b.click("#keys-table button", "Revoke")
	b.waitText("dialog", "billing-service")
	b.click("dialog button", "Revoke key")
	b.waitText("#keys-table", "No API keys yet")
	s.api(t, "GET", "/v1/me", key, nil, 401, nil)
}

// portalFixture is a server with two tenants, acme (the customer) and
// other, each with an endpoint and a delivered event; other's identifiers
// must never show in acme's portal.
type portalFixture struct {
	s                       *server
	otherEvent, otherURL    string
	acmeEvent, acmeEndpoint string
}

func newPortalFixture(t *testing.T, flags ...string) *portalFixture {
	s := startServer(t, flags...)
	r := newReceiver(t)
	f := &portalFixture{s: s, otherURL: r.URL + "/other-tenant-secret-path"}
	s.api(t, "POST", "/v1/tenants", "", map[string]any{"id": "acme", "name": "Acme Corp"}, 201, nil)
	s.api(t, "POST", "/v1/tenants", "", map[string]any{"id": "other", "name": "Other Incorporated"}, 201, nil)
	var ep struct{ ID string }
	s.api(t, "POST", "/v1/tenants/acme/endpoints", "", map[string]any{"url": r.URL + "/acme-hooks"}, 201, &ep)
	f.acmeEndpoint = ep.ID
	s.api(t, "POST", "/v1/tenants/other/endpoints", "", map[string]any{"url": f.otherURL}, 201, nil)
	var ev struct{ ID string }
	s.api(t, "POST", "/v1/tenants/acme/events", "", map[string]any{"type": "invoice.paid", "payload": map[string]any{"n": 1}}, 202, &ev)
	f.acmeEvent = ev.ID
	s.api(t, "POST", "/v1/tenants/other/events", "", map[string]any{"type": "other.secret_event", "payload": map[string]any{"n": 2}}, 202, &ev)
	f.otherEvent = ev.ID
	waitFor(t, 30*time.Second, "both deliveries", func() bool { return r.count() >= 2 })
	return f
}

// session creates a portal session of acme through the API and returns
// its id and url.
func (f *portalFixture) session(t *testing.T, body map[string]any) (id, url, expiresAt string) {
	var got struct {
		ID        string `json:"id"`
		URL       string `json:"url"`
		ExpiresAt string `json:"expires_at"`
	}
	f.s.api(t, "POST", "/v1/tenants/acme/portal-sessions", "", body, 201, &got)
	return got.ID, got.URL, got.ExpiresAt
}

// fetchStatus runs fetch(path) in the page with the token the portal
// keeps, as an edited request would, and returns the answer's status.
func fetchStatus(b *browser, path string) int {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 60*time.Second)
	defer cancel()
	st, err := chromedp.Run(ctx, chromedp.Evaluate[int](fmt.Sprintf(
		`fetch(%q, {headers: {Authorization: 'Bearer ' + sessionStorage.getItem('hookline.token')}}).then(r => r.status)`, path),
		chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("fetch %s in the page: %v", path, err)
	}
	return st
}

// TestPortalSessionsPage: the operator makes a portal session in the
// page (a bad expires_in is refused under the field), and its link opens
// the customer view in another browser: the tenant's name in the banner,
// only the pages its scope allows, the token gone from the address, no
// way to another tenant by the hash or by requests of its own, and no
// other tenant's data on any page it can see. Revoking it in the page
// ends it.
func TestPortalSessionsPage(t *testing.T) {
	f := newPortalFixture(t)
	s := f.s
	b := newBrowser(t)
	b.signIn(s)
	b.go_("#/t/acme/portal-sessions")
	b.waitText("#sessions-table", "No live portal sessions")

	b.click("button", "New portal session")
	// Deliveries only: clear the other default scopes.
	for _, sc := range []string{"endpoints-read", "endpoints-write", "deliveries-replay", "event-types-read"} {
		b.waitJS("default scope "+sc, `document.querySelector("#session-scope-`+sc+`").checked`)
		b.click("#session-scope-"+sc, "")
	}
	if evalJS[bool](b, `!!document.querySelector("#session-scope-portal-create")`) {
		t.Fatal("portal:create is offered for a session")
	}
	b.fill("#session-expires", "25h")
	b.click("dialog button[type=submit]", "Create session")
	b.waitText("dialog .field-error", "invalid_expires_in")
	b.shot("portal-sessions-new")
	b.fill("#session-expires", "30m")
	b.click("dialog button[type=submit]", "Create session")
	b.waitJS("the new session's link", `(document.querySelector("#copy-once-value")||{}).value?.includes("/portal#token=hlp_")`)
	url := evalJS[string](b, `document.querySelector("#copy-once-value").value`)
	if open := evalJS[string](b, `document.querySelector("#session-open").href`); open != url || !strings.HasPrefix(url, s.base+"/portal#token=") {
		t.Fatalf("link %q, Open %q, server %s", url, open, s.base)
	}
	if target := evalJS[string](b, `document.querySelector("#session-open").target + " " + document.querySelector("#session-open").rel`); target != "_blank noopener noreferrer" {
		t.Fatalf("Open link target and rel: %q", target)
	}
	b.waitText("#sessions-table", "deliveries:read")
	b.shot("portal-sessions")
	// At tablet width the page does not scroll sideways.
	b.run(chromedp.EmulateViewport(800, 1000))
	b.waitJS("no sideways scroll at 800px", `document.documentElement.scrollWidth <= document.documentElement.clientWidth`)
	b.shot("portal-sessions-800")
	b.run(chromedp.EmulateViewport(1280, 900))
	token := url[strings.Index(url, "#token=")+len("#token="):]
	if got := evalJS[string](b, `document.querySelector("#session-token").value`); got != token {
		t.Fatalf("the token shown %q is not the link's %q", got, token)
	}
	b.click(".copy-once label.check", "I have copied it")
	b.click(".copy-once button", "Done")
	b.waitJS("the link gone", `!document.querySelector(".session-created")`)
	if evalJS[bool](b, fmt.Sprintf(`document.documentElement.outerHTML.includes(%q)`, token)) {
		t.Fatal("the session's token is still in the page after Done")
	}

	// The customer's browser.
	c := newBrowser(t)
	c.run(chromedp.Navigate(url))
	c.waitText(".banner", "Acme Corp")
	if href := evalJS[string](c, `location.href`); strings.Contains(href, "token") || strings.Contains(href, "hlp_") {
		t.Fatalf("the token stays in the address: %s", href)
	}
	nav := evalJS[[]string](c, `[...document.querySelectorAll("nav.side a")].map(a => a.innerText.trim())`)
	if strings.Join(nav, ",") != "Overview,Deliveries,Events,Jobs" {
		t.Fatalf("a deliveries:read session's navigation: %q", nav)
	}
	if evalJS[bool](c, `!!document.querySelector("button") && [...document.querySelectorAll("button")].some(e => e.innerText.includes("Sign out"))`) {
		t.Fatal("the portal offers Sign out")
	}
	c.shot("portal")

	// Another tenant by the hash: back to its own.
	c.go_("#/t/other/deliveries")
	c.waitJS("back on acme", `location.hash.startsWith("#/t/acme/")`)
	// ... or by requests of its own, with its own token.
	if st := fetchStatus(c, "/v1/tenants/other/deliveries"); st != 403 {
		t.Fatalf("the session read other's deliveries: %d", st)
	}
	if st := fetchStatus(c, "/v1/tenants"); st != 403 {
		t.Fatalf("the session listed tenants: %d", st)
	}
	if st := fetchStatus(c, "/v1/tenants/acme/endpoints"); st != 403 {
		t.Fatalf("a deliveries:read session listed endpoints: %d", st)
	}
	if st := fetchStatus(c, "/v1/tenants/acme/deliveries"); st != 200 {
		t.Fatalf("the session cannot read its own deliveries: %d", st)
	}

	// Every page it can see, and nothing of other's on any.
	var seen strings.Builder
	for _, title := range nav {
		c.click("nav.side a", title)
		c.waitJS(title+" shown", fmt.Sprintf(`document.querySelector("nav.side a[aria-current=page]")?.innerText.trim() === %q
			&& document.querySelector("main.content > *") && !document.querySelector("main.content .loading")`, title))
		text := evalJS[string](c, `document.body.innerText`)
		for _, secret := range []string{f.otherEvent, f.otherURL, "other-tenant-secret-path", "Other Incorporated", "other.secret_event"} {
			if strings.Contains(text, secret) {
				t.Fatalf("page %s shows other's %q:\n%s", title, secret, text)
			}
		}
		seen.WriteString(text)
		c.shot("portal-" + strings.ToLower(title))
	}
	// The pages show the tenant's own data, so the check above looked at
	// real lists (unless a page module is not there to load at all, as on
	// a branch without it).
	if all := seen.String(); !strings.Contains(all, "cannot load this page") && !strings.Contains(all, f.acmeEvent) {
		t.Fatalf("no page shows acme's own event %s:\n%s", f.acmeEvent, all)
	}

	// Revoked in the operator's page: the customer's next load says so.
	b.click("#sessions-table button", "Revoke")
	b.click("dialog button", "Revoke session")
	b.waitText("#sessions-table", "No live portal sessions")
	c.run(chromedp.Reload())
	c.waitText("main", "This link has been revoked.")
	if evalJS[bool](c, `!!document.querySelector("nav.side")`) {
		t.Fatal("a revoked session still shows the navigation")
	}
}

// TestPortalSessionEnds: an expired session's page says it expired on
// reload; a revoked one says revoked; the portal is not the operator's
// view even with the admin token in the tab.
func TestPortalSessionEnds(t *testing.T) {
	f := newPortalFixture(t)
	s := f.s

	_, url, expiresAt := f.session(t, map[string]any{"scopes": []string{"deliveries:read"}, "expires_in": "2s"})
	end, err := time.Parse(time.RFC3339Nano, expiresAt)
	if err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t)
	// The page may open before or after the end (the machine may be
	// slow): either way, a load after the end says it expired.
	b.run(chromedp.Navigate(url))
	b.waitJS("the portal", `document.querySelector(".banner") || document.querySelector("main.signin")`)
	// An open page asks again at the end and says so without a reload.
	b.waitText("main", "This link has expired.")
	waitFor(t, time.Minute, "the session's end", func() bool { return time.Now().After(end.Add(time.Second)) })
	b.run(chromedp.Reload())
	b.waitText("main", "This link has expired.")
	b.shot("portal-expired")

	id, url, _ := f.session(t, map[string]any{"scopes": []string{"deliveries:read"}, "expires_in": "1h"})
	c := newBrowser(t)
	c.run(chromedp.Navigate(url))
	c.waitText(".banner", "Acme Corp")
	s.api(t, "DELETE", "/v1/tenants/acme/portal-sessions/"+id, "", nil, 204, nil)
	c.run(chromedp.Reload())
	c.waitText("main", "This link has been revoked.")
	c.shot("portal-revoked")

	// The operator's token left in a tab does not open the portal.
	d := newBrowser(t)
	d.signIn(s)
	d.run(chromedp.Navigate(s.base + "/portal"))
	d.waitText("main", "This link is not valid.")
}

// framer serves a page on its own 127.0.0.1 origin that frames src().
type framer struct {
	origin string
	src    func() string
}

func newFramer(t *testing.T) *framer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &framer{origin: "http://" + ln.Addr().String()}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><title>customer app</title><h1>Customer app</h1><iframe id="portal" title="webhooks" width="1000" height="700" src="%s"></iframe>`, f.src())
	})}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return f
}

// frameEval evaluates expr in the document of the page's first iframe
// (an isolated world sees the frame's DOM, not its scripts) and returns
// its string value, or "" when the frame has none yet.
func frameEval(b *browser, expr string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	tree, err := chromedp.Call(ctx, page.GetFrameTree, cdp.Empty{})
	if err != nil || len(tree.FrameTree.ChildFrames) == 0 {
		return ""
	}
	w, err := chromedp.Call(ctx, page.CreateIsolatedWorld, page.CreateIsolatedWorldParams{FrameID: tree.FrameTree.ChildFrames[0].Frame.ID, WorldName: "test"})
	if err != nil {
		return ""
	}
	v, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr, func(p *runtime.EvaluateParams) { p.ContextID = w.ExecutionContextID }))
	if err != nil {
		return ""
	}
	return v
}

// TestPortalFraming: an origin listed in dashboard.frame_ancestors may
// frame the portal (the frame shows the tenant's banner); any other
// origin's frame is refused by the browser.
func TestPortalFraming(t *testing.T) {
	allowed, refused := newFramer(t), newFramer(t)
	f := newPortalFixture(t, "--config", writeConfig(t, "dashboard:\n  frame_ancestors: [\""+allowed.origin+"\"]\n"))
	_, url1, _ := f.session(t, map[string]any{"scopes": []string{"deliveries:read"}})
	_, url2, _ := f.session(t, map[string]any{"scopes": []string{"deliveries:read"}})
	allowed.src = func() string { return url1 }
	refused.src = func() string { return url2 }

	b := newBrowser(t)
	b.run(chromedp.Navigate(allowed.origin + "/"))
	waitFor(t, 30*time.Second, "the framed portal's banner", func() bool {
		return strings.Contains(frameEval(b, `document.querySelector(".banner")?.innerText || ""`), "Acme Corp")
	})
	b.shot("portal-framed")

	c := newBrowser(t)
	c.run(chromedp.Navigate(refused.origin + "/"))
	// Chromium replaces a refused frame's document with its error page.
	waitFor(t, 30*time.Second, "the refused frame's error page", func() bool {
		return strings.HasPrefix(frameEval(c, `location.href`), "chrome-error:")
	})
	if got := frameEval(c, `document.querySelector(".banner")?.innerText || "none"`); got != "none" {
		t.Fatalf("a refused origin's frame shows %q", got)
	}
}
