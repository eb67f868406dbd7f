package verify

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"hash"
	"strings"
	"testing"
	"time"
)

// fieldList is a Peeker over a few headers (or query parameters):
// case-insensitive like fasthttp's, and allocation-free so it does not
// spoil the allocation tests.
type fieldList []fieldEntry

type fieldEntry struct {
	name  string
	value []byte
}

func (l fieldList) Peek(name string) []byte {
	for _, e := range l {
		if strings.EqualFold(e.name, name) {
			return e.value
		}
	}
	return nil
}

// with returns a copy of l with name set to value, or removed when
// value is nil.
func (l fieldList) with(name string, value []byte) fieldList {
	out := make(fieldList, 0, len(l)+1)
	for _, e := range l {
		if !strings.EqualFold(e.name, name) {
			out = append(out, e)
		}
	}
	if value != nil {
		out = append(out, fieldEntry{name, value})
	}
	return out
}

func fields(kv ...string) fieldList {
	var l fieldList
	for i := 0; i+1 < len(kv); i += 2 {
		l = append(l, fieldEntry{kv[i], []byte(kv[i+1])})
	}
	return l
}

func macOf(newHash func() hash.Hash, secret string, parts ...string) []byte {
	m := hmac.New(newHash, []byte(secret))
	for _, p := range parts {
		m.Write([]byte(p))
	}
	return m.Sum(nil)
}

func hexSHA256MAC(secret string, parts ...string) string {
	return hex.EncodeToString(macOf(sha256.New, secret, parts...))
}

func b64SHA256MAC(secret string, parts ...string) string {
	return base64.StdEncoding.EncodeToString(macOf(sha256.New, secret, parts...))
}

// signedPresetCase describes how to sign requests for one preset, so one
// runner checks every preset against the same list of cases.
type signedPresetCase struct {
	preset string
	// secrets are the verifier's view of keys 0, 1 and 2; 2 is never
	// configured (the "wrong secret").
	secrets [3]string
	// sign returns a request signed with key k at time at, over
	// body(at); sign also checks it with the provider's official
	// library where there is one.
	sign func(tb testing.TB, k int, body []byte, at time.Time) *Request
	body func(at time.Time) []byte
	// sigHeader is the signature header; malformed a value of it that
	// does not parse.
	sigHeader string
	malformed string
	// signedTime: the scheme signs a timestamp, so stale and future
	// ones are rejected.
	signedTime bool
}

var testNow = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

func mustVerifier(tb testing.TB, preset string, secrets ...string) Verifier {
	tb.Helper()
	v, err := New(Config{Provider: preset, Secrets: secrets})
	if err != nil {
		tb.Fatalf("New(%s): %v", preset, err)
	}
	return v
}

func wantCode(t *testing.T, what string, v Verifier, r *Request, code string) {
	t.Helper()
	_, err := v.Verify(r, testNow)
	switch {
	case code == "" && err != nil:
		t.Fatalf("%s: rejected: %v", what, err)
	case code != "" && err == nil:
		t.Fatalf("%s: accepted, want %s", what, code)
	case code != "" && err.Code != code:
		t.Fatalf("%s: got %v, want code %s", what, err, code)
	}
}

func runPresetCase(t *testing.T, c signedPresetCase) {
	t.Helper()
	p, ok := Lookup(c.preset)
	if !ok {
		t.Fatalf("preset %s not registered", c.preset)
	}
	if p.DefaultType == "" {
		t.Fatalf("preset %s has no DefaultType", c.preset)
	}
	v := mustVerifier(t, c.preset, c.secrets[0])
	signed := func(k int, at time.Time) *Request { return c.sign(t, k, c.body(at), at) }

	wantCode(t, "signed", v, signed(0, testNow), "")
	wantCode(t, "signed a second ago", v, signed(0, testNow.Add(-time.Second)), "")

	r := signed(0, testNow)
	r.Body = tamper(r.Body)
	wantCode(t, "tampered body", v, r, CodeBadSignature)

	wantCode(t, "wrong secret", v, signed(2, testNow), CodeBadSignature)

	if c.signedTime {
		wantCode(t, "stale", v, signed(0, testNow.Add(-time.Hour)), CodeStaleTimestamp)
		wantCode(t, "future", v, signed(0, testNow.Add(time.Hour)), CodeStaleTimestamp)
		if p.DefaultTolerance == 0 {
			t.Fatalf("%s signs a timestamp but has no DefaultTolerance", c.preset)
		}
		just := p.DefaultTolerance - time.Second
		wantCode(t, "inside the tolerance", v, signed(0, testNow.Add(-just)), "")
	} else if p.DefaultTolerance != 0 {
		t.Fatalf("%s signs no timestamp but has DefaultTolerance %s", c.preset, p.DefaultTolerance)
	}

	r = signed(0, testNow)
	r.Header = r.Header.(fieldList).with(c.sigHeader, nil)
	wantCode(t, "missing header", v, r, CodeMissingSignature)

	r = signed(0, testNow)
	r.Header = r.Header.(fieldList).with(c.sigHeader, []byte(c.malformed))
	wantCode(t, "malformed header", v, r, CodeMalformedSignature)

	wantCode(t, "no headers at all", v, &Request{URL: r.URL, Body: r.Body}, CodeMissingSignature)

	// Rotation: the new secret first, the old one still accepted.
	rot := mustVerifier(t, c.preset, c.secrets[1], c.secrets[0])
	wantCode(t, "rotation, old secret", rot, signed(0, testNow), "")
	wantCode(t, "rotation, new secret", rot, signed(1, testNow), "")
	wantCode(t, "rotation, wrong secret", rot, signed(2, testNow), CodeBadSignature)

	checkConfigErrors(t, c.preset, c.secrets[0])
}

func checkConfigErrors(t *testing.T, preset, good string) {
	t.Helper()
	f := func(cfg Config, code, field string) {
		t.Helper()
		cfg.Provider = preset
		_, err := New(cfg)
		var e *Error
		if !errors.As(err, &e) || e.Code != code || !strings.Contains(e.Message, field) {
			t.Fatalf("New(%+v): got %v, want %s naming %q", cfg, err, code, field)
		}
		if strings.Contains(e.Message, good) {
			t.Fatalf("New: the message %q quotes a secret", e.Message)
		}
	}
	f(Config{}, "invalid_secret", "secrets")
	f(Config{Secrets: []string{good, ""}}, "invalid_secret", "secrets[1]")
	f(Config{Secrets: []string{good}, Tolerance: -time.Second}, "invalid_verification", "tolerance")
}

// tamper changes one letter in the middle of body, keeping its shape
// (JSON stays JSON, a form stays a form).
func tamper(body []byte) []byte {
	b := bytes.Clone(body)
	for i := len(b) / 2; i < len(b); i++ {
		if b[i] >= 'a' && b[i] <= 'y' {
			b[i]++
			return b
		}
	}
	return append(b, ' ')
}

// fixtureBody is a ~28 KB real payload, used as generic JSON where the
// provider's shape does not matter (benchmarks).
func fixtureBody(tb testing.TB) []byte {
	return fixture(tb, "github/pull_request_opened.json")
}

func constBody(s string) func(time.Time) []byte {
	return func(time.Time) []byte { return []byte(s) }
}
