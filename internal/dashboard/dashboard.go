// Package dashboard holds the operator dashboard and the customer portal:
// plain HTML, CSS and JavaScript modules (and one vendored file, see
// assets/vendor/README.md) embedded in the binary, and the security
// headers they are served with. The pages hold no data and no secret: they
// speak only the /v1 API, with the bearer token the browser keeps in its
// session storage. httpin serves them at /, /portal and /assets/.
//
// It imports nothing of hookline's: the pages are files, and what they
// may do is decided by the API they call.
package dashboard

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/url"
	"path"
	"strings"
)

//go:embed assets
var embedded embed.FS

// File is one embedded asset, ready to serve.
type File struct {
	Body        []byte
	ContentType string
	// ETag is a strong validator of Body: browsers revalidate every asset
	// (Cache-Control: no-cache) and get 304 while the binary is the same.
	ETag string
}

// Assets are the embedded files by their path under /assets/.
type Assets struct {
	files map[string]*File
	index *File
}

// Load reads the embedded files once; the binary's files cannot fail to
// read, so an error here is a build defect.
func Load() (*Assets, error) {
	a := &Assets{files: map[string]*File{}}
	err := fs.WalkDir(embedded, "assets", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := embedded.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		ct := mime.TypeByExtension(path.Ext(p))
		switch path.Ext(p) {
		case ".js", ".mjs":
			// Modules must be served as JavaScript; the system's MIME table
			// may not know .mjs.
			ct = "text/javascript; charset=utf-8"
		case ".md", ".txt":
			ct = "text/plain; charset=utf-8"
		}
		if ct == "" {
			ct = "application/octet-stream"
		}
		a.files[strings.TrimPrefix(p, "assets/")] = &File{Body: body, ContentType: ct, ETag: `"` + hex.EncodeToString(sum[:12]) + `"`}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("cannot read the embedded dashboard: %w", err)
	}
	if a.index = a.files["index.html"]; a.index == nil {
		return nil, fmt.Errorf("the embedded dashboard has no index.html")
	}
	return a, nil
}

// Index is the one page every view starts from (/ and /portal).
func (a *Assets) Index() *File { return a.index }

// Lookup returns the asset at name, a path under /assets/.
func (a *Assets) Lookup(name string) (*File, bool) {
	f, ok := a.files[name]
	return f, ok
}

// CheckFrameOrigin reports why origin cannot be a page allowed to frame
// the customer view, or nil: it must be an http(s) origin with no path,
// query, user or wildcard, so the policy means what it says.
func CheckFrameOrigin(origin string) error {
	u, err := url.Parse(origin)
	switch {
	case err != nil:
		return fmt.Errorf("%q is not an origin: %v", origin, err)
	case u.Scheme != "https" && u.Scheme != "http":
		return fmt.Errorf("%q is not an http or https origin (like https://app.example.com)", origin)
	case u.Host == "" || u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || strings.ContainsAny(u.Host, "*,; '\""):
		return fmt.Errorf("%q is not an origin: give scheme://host[:port] only (like https://app.example.com)", origin)
	}
	return nil
}

// SecurityHeaders returns the headers every page and asset is served
// with. Scripts and styles come from this server only and never inline;
// the pages fetch from this server only; nothing may frame them but the
// frameAncestors origins (none: no framing at all).
func SecurityHeaders(frameAncestors []string) [][2]string {
	ancestors := "'none'"
	if len(frameAncestors) > 0 {
		clean := make([]string, len(frameAncestors))
		for i, o := range frameAncestors {
			clean[i] = strings.TrimSuffix(o, "/")
		}
		ancestors = strings.Join(clean, " ")
	}
	csp := "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
		"connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors " + ancestors
	h := [][2]string{
		{"Content-Security-Policy", csp},
		{"X-Content-Type-Options", "nosniff"},
		{"Referrer-Policy", "no-referrer"},
		{"Cross-Origin-Opener-Policy", "same-origin"},
	}
	if len(frameAncestors) == 0 {
		// For browsers older than frame-ancestors.
		h = append(h, [2]string{"X-Frame-Options", "DENY"})
	}
	return h
}
