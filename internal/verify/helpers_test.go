package verify

import (
	"crypto/hmac"
	"encoding/base64"
	"encoding/hex"
	"hash"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

// fixture reads a real provider payload from testdata
// (testdata/README.md says where they come from).
func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatalf("cannot read fixture: %s", err)
	}
	return b
}

// newReq builds a request as the ingest handler would: fasthttp's header
// and query are the Peekers of production. kv are header name, value
// pairs.
func newReq(body []byte, kv ...string) *Request {
	var h fasthttp.RequestHeader
	for i := 0; i+1 < len(kv); i += 2 {
		h.Set(kv[i], kv[i+1])
	}
	return &Request{Header: &h, Query: &fasthttp.Args{}, Body: body}
}

// httpHeader copies r's headers for the official libraries, which take
// net/http's.
func httpHeader(r *Request) http.Header {
	out := http.Header{}
	for k, v := range r.Header.(*fasthttp.RequestHeader).All() {
		out.Add(string(k), string(v))
	}
	return out
}

func setHeader(r *Request, name, value string) {
	r.Header.(*fasthttp.RequestHeader).Set(name, value)
}

func delHeader(r *Request, name string) {
	r.Header.(*fasthttp.RequestHeader).Del(name)
}

func mustNew(t testing.TB, cfg Config) Verifier {
	t.Helper()
	v, err := New(cfg)
	if err != nil {
		t.Fatalf("New(%q): %s", cfg.Provider, err)
	}
	return v
}

func requireOK(t testing.TB, v Verifier, r *Request, now time.Time) Result {
	t.Helper()
	res, err := v.Verify(r, now)
	if err != nil {
		t.Fatalf("rejected: %s", err)
	}
	return res
}

func requireCode(t testing.TB, v Verifier, r *Request, now time.Time, code string) {
	t.Helper()
	_, err := v.Verify(r, now)
	if err == nil {
		t.Fatalf("accepted; want %s", code)
	}
	if err.Code != code {
		t.Fatalf("rejected with %s; want %s", err, code)
	}
}

// requireConfigError checks New refuses cfg with code and a message
// that names field and holds none of cfg's secrets.
func requireConfigError(t testing.TB, cfg Config, code, field string) {
	t.Helper()
	_, err := New(cfg)
	if err == nil {
		t.Fatalf("New accepted %+v", cfg)
	}
	e, ok := err.(*Error)
	if !ok {
		t.Fatalf("New: %T %v, want *Error", err, err)
	}
	if e.Code != code {
		t.Fatalf("New: %s, want code %s", e, code)
	}
	if !strings.Contains(e.Message, field) {
		t.Fatalf("New: %q does not name %q", e.Message, field)
	}
	for _, s := range cfg.Secrets {
		if s != "" && strings.Contains(e.Message, s) {
			t.Fatalf("New: %q shows a secret", e.Message)
		}
	}
}

// mac is the reference HMAC of the concatenated parts, with crypto/hmac
// and nothing of the package under test.
func mac(newHash func() hash.Hash, key string, parts ...[]byte) []byte {
	m := hmac.New(newHash, []byte(key))
	for _, p := range parts {
		m.Write(p)
	}
	return m.Sum(nil)
}

func hexMAC(newHash func() hash.Hash, key string, parts ...[]byte) string {
	return hex.EncodeToString(mac(newHash, key, parts...))
}

func b64MAC(newHash func() hash.Hash, key string, parts ...[]byte) string {
	return base64.StdEncoding.EncodeToString(mac(newHash, key, parts...))
}

func unix(t time.Time) string { return strconv.FormatInt(t.Unix(), 10) }
