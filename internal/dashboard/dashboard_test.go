package dashboard_test

import (
	"strings"
	"testing"

	"hookline/internal/dashboard"
)

func TestCheckFrameOrigin(t *testing.T) {
	f := func(origin string, ok bool) {
		t.Helper()
		if err := dashboard.CheckFrameOrigin(origin); (err == nil) != ok {
			t.Errorf("CheckFrameOrigin(%q) = %v; want ok %v", origin, err, ok)
		}
	}
	f("https://app.example.com", true)
	f("http://127.0.0.1:3000", true)
	f("https://app.example.com/", true)
	f("", false)
	f("app.example.com", false)
	f("ftp://app.example.com", false)
	f("https://app.example.com/embed", false)
	f("https://app.example.com?x=1", false)
	f("https://user@app.example.com", false)
	f("https://*.example.com", false)
	f("https://a.example.com; script-src *", false)
	f("'self'", false)
	f("*", false)
}

// TestLoad: every asset the page names is embedded, with its type.
func TestLoad(t *testing.T) {
	a, err := dashboard.Load()
	if err != nil {
		t.Fatal(err)
	}
	index := string(a.Index().Body)
	for _, name := range []string{"app.css", "js/app.js", "js/api.js", "js/ui.js", "vendor/preact-htm.mjs"} {
		f, ok := a.Lookup(name)
		if !ok {
			t.Fatalf("%s is not embedded", name)
		}
		if strings.HasSuffix(name, "js") && !strings.HasPrefix(f.ContentType, "text/javascript") || strings.HasSuffix(name, ".css") && !strings.HasPrefix(f.ContentType, "text/css") {
			t.Errorf("%s: content type %q", name, f.ContentType)
		}
	}
	if strings.Contains(index, "<script>") || strings.Contains(index, " style=") || strings.Contains(index, "onclick") {
		t.Errorf("index.html holds inline script or style, which the CSP refuses")
	}
}

func FuzzCheckFrameOrigin(f *testing.F) {
	for _, s := range []string{"https://app.example.com", "http://127.0.0.1:3000/", "https://a b", "https://x;y", "https://[::1]:8080"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, origin string) {
		if dashboard.CheckFrameOrigin(origin) != nil {
			return
		}
		// What passes goes into a CSP directive: it must be one source.
		csp := dashboard.SecurityHeaders([]string{origin})[0][1]
		tail := csp[strings.Index(csp, "frame-ancestors ")+len("frame-ancestors "):]
		if strings.ContainsAny(tail, " ;,'\"\t\n\r") {
			t.Fatalf("origin %q makes the directive %q", origin, tail)
		}
	})
}
