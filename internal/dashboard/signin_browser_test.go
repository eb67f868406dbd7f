package dashboard_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestPagesHeaders: the page and its assets are served without a token,
// with the security headers, and revalidate to 304.
func TestPagesHeaders(t *testing.T) {
	s := startServer(t)
	for _, path := range []string{"/", "/portal", "/assets/js/app.js", "/assets/app.css", "/assets/vendor/preact-htm.mjs"} {
		resp, err := http.Get(s.base + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d", path, resp.StatusCode)
		}
		csp := resp.Header.Get("Content-Security-Policy")
		for _, want := range []string{"script-src 'self'", "frame-ancestors 'none'", "default-src 'none'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("GET %s: CSP %q lacks %q", path, csp, want)
			}
		}
		if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
			t.Errorf("GET %s: CSP %q allows inline or eval", path, csp)
		}
		if resp.Header.Get("X-Frame-Options") != "DENY" || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("GET %s: headers %v", path, resp.Header)
		}
		req, _ := http.NewRequest("GET", s.base+path, nil)
		req.Header.Set("If-None-Match", resp.Header.Get("ETag"))
		resp2, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp2.Body.Close()
		if resp2.StatusCode != http.StatusNotModified {
			t.Errorf("GET %s with its ETag: %d", path, resp2.StatusCode)
		}
	}
	// HEAD answers as GET does, without the body (curl -I).
	resp, err := http.Head(s.base + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "script-src 'self'") {
		t.Errorf("HEAD /: %d %v", resp.StatusCode, resp.Header)
	}
	req, _ := http.NewRequest("HEAD", s.base+"/v1/tenants", nil)
	if resp, err = http.DefaultClient.Do(req); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("HEAD /v1/tenants without a token: %d", resp.StatusCode)
	}
	req.Header.Set("Authorization", "Bearer "+adminToken)
	if resp, err = http.DefaultClient.Do(req); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("HEAD /v1/tenants: %d", resp.StatusCode)
	}
	for _, path := range []string{"/assets/nope.js", "/assets/", "/index.html"} {
		resp, err := http.Get(s.base + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 404 {
			t.Errorf("GET %s: %d, want 404", path, resp.StatusCode)
		}
	}

	// With frame ancestors configured, those origins and no others.
	s2 := startServer(t, "--config", writeConfig(t, "dashboard:\n  frame_ancestors: [\"https://app.example.com\"]\n"))
	resp, err = http.Get(s2.base + "/portal")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors https://app.example.com") || resp.Header.Get("X-Frame-Options") != "" {
		t.Errorf("framing headers: CSP %q, X-Frame-Options %q", csp, resp.Header.Get("X-Frame-Options"))
	}
}

// TestSignInAndTenants: a cold server's first page becomes interactive
// (timed, not bounded); a wrong token is refused in the page; the admin
// token signs in, stays out of the URL, and a tenant is created, renamed
// and deleted after its confirmation.
func TestSignInAndTenants(t *testing.T) {
	start := time.Now()
	s := startServer(t)
	b := newBrowser(t)
	nav := time.Now()
	b.open(s, "/")
	b.waitJS("the sign-in form", `document.querySelector("#token")`)
	timing(t, "first page interactive after navigation (cold server)", time.Since(nav))
	timing(t, "server start to first page interactive", time.Since(start))
	b.shot("signin")

	b.fill("#token", "not-the-token-not-the-token-not-the-token")
	b.click("button[type=submit]", "Sign in")
	b.waitText(".error", "invalid_token")

	b.fill("#token", adminToken)
	b.click("button[type=submit]", "Sign in")
	b.waitText("h1", "Tenants")
	url := evalJS[string](b, `location.href`)
	if strings.Contains(url, adminToken) {
		t.Fatalf("the token is in the URL: %s", url)
	}

	b.click("button", "New tenant")
	b.fill("#tenant-id", "acme")
	b.fill("#tenant-name", "Acme Corp")
	b.fill("#tenant-max", "0")
	b.click("dialog button[type=submit]", "Create tenant")
	b.waitText("dialog .field-error", "max_endpoints")
	b.fill("#tenant-max", "5")
	b.click("dialog button[type=submit]", "Create tenant")
	b.waitText("table", "Acme Corp")
	var got struct {
		Name         string `json:"name"`
		MaxEndpoints int    `json:"max_endpoints"`
	}
	s.api(t, "GET", "/v1/tenants/acme", "", nil, 200, &got)
	if got.Name != "Acme Corp" || got.MaxEndpoints != 5 {
		t.Fatalf("tenant as created: %+v", got)
	}
	b.shot("tenants")

	b.click("td button", "Edit")
	b.fill("#tenant-name", "Acme Inc")
	b.click("dialog button[type=submit]", "Save")
	b.waitText("table", "Acme Inc")

	// The session survives a reload of the tab.
	b.run(chromedp.Reload())
	b.waitText("table", "Acme Inc")

	b.click("td button", "Delete")
	b.click("dialog button", "Delete tenant for good")
	b.waitText("dialog .error", "type the tenant ID")
	b.fill("#confirm-tenant", "acme")
	b.click("dialog button", "Delete tenant for good")
	b.waitText("table", "No tenants yet")
	s.api(t, "GET", "/v1/tenants/acme", "", nil, 404, nil)

	b.click("button", "Sign out")
	b.waitJS("the sign-in form", `document.querySelector("#token")`)
}
