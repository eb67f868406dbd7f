package verify

import (
	"net/url"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

// query parses q as the receiver's fasthttp does.
func query(q string) *fasthttp.Args {
	var a fasthttp.Args
	a.Parse(q)
	return &a
}

func newMetaHandshaker(t testing.TB) Handshaker {
	t.Helper()
	v := mustNew(t, Config{Provider: "whatsapp", Secrets: []string{"secret"}, VerifyToken: "tok en/+1"})
	h, ok := v.(Handshaker)
	if !ok {
		t.Fatalf("the whatsapp verifier is no Handshaker")
	}
	return h
}

// TestMetaHandshake: Meta's GET is answered with its challenge when the
// token is the source's (also percent-encoded), and refused with a stable
// code otherwise.
func TestMetaHandshake(t *testing.T) {
	h := newMetaHandshaker(t)
	ok := url.Values{"hub.mode": {"subscribe"}, "hub.verify_token": {"tok en/+1"}, "hub.challenge": {"1158201444"}}
	got, err := h.Handshake(query(ok.Encode()))
	if err != nil || string(got) != "1158201444" {
		t.Fatalf("handshake: %q, %v", got, err)
	}
	for _, c := range []struct {
		name, q, code string
	}{
		{"bad_token", "hub.mode=subscribe&hub.verify_token=tok+en%2F%2B2&hub.challenge=1", CodeBadVerifyToken},
		{"token_prefix", "hub.mode=subscribe&hub.verify_token=tok&hub.challenge=1", CodeBadVerifyToken},
		{"no_token", "hub.mode=subscribe&hub.challenge=1", CodeBadVerifyToken},
		{"empty_token", "hub.mode=subscribe&hub.verify_token=&hub.challenge=1", CodeBadVerifyToken},
		{"no_challenge", "hub.mode=subscribe&hub.verify_token=tok+en%2F%2B1", CodeInvalidHandshake},
		{"long_challenge", "hub.mode=subscribe&hub.verify_token=tok+en%2F%2B1&hub.challenge=" + string(make([]byte, maxMetaChallenge+1)), CodeInvalidHandshake},
		{"no_mode", "hub.verify_token=tok+en%2F%2B1&hub.challenge=1", CodeInvalidHandshake},
		{"unsubscribe", "hub.mode=unsubscribe&hub.verify_token=tok+en%2F%2B1&hub.challenge=1", CodeInvalidHandshake},
		{"nothing", "", CodeInvalidHandshake},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := h.Handshake(query(c.q))
			if err == nil || err.Code != c.code || got != nil {
				t.Fatalf("%q: %q, %v; want %s", c.q, got, err, c.code)
			}
		})
	}
}

// TestMetaConfig: a meta source needs its verify token; the other
// presets are no Handshakers.
func TestMetaConfig(t *testing.T) {
	for _, name := range []string{"meta", "whatsapp"} {
		_, err := New(Config{Provider: name, Secrets: []string{"secret"}})
		if ve, ok := err.(*Error); !ok || ve.Code != CodeInvalidVerification {
			t.Fatalf("%s without a verify token: %v", name, err)
		}
		if p, _ := Lookup(name); !p.Handshake {
			t.Fatalf("%s: Preset.Handshake unset", name)
		}
	}
	for _, name := range Names() {
		p, _ := Lookup(name)
		if name == "meta" || name == "whatsapp" {
			continue
		}
		if p.Handshake {
			t.Fatalf("%s claims a handshake", name)
		}
	}
	if _, ok := mustNew(t, Config{Provider: "github", Secrets: []string{"0123456789abcdef"}}).(Handshaker); ok {
		t.Fatal("github's verifier answers handshakes")
	}
}

// TestMetaKnownAnswer checks the scheme against a vector published with
// an independent WhatsApp SDK: HMAC-SHA256("test") under "secret".
func TestMetaKnownAnswer(t *testing.T) {
	v := mustNew(t, Config{Provider: "meta", Secrets: []string{"secret"}, VerifyToken: "t"})
	r := newReq([]byte("test"), "X-Hub-Signature-256", "sha256=0329a06b62cd16b33eb6792be8c60b158d89a2ee3a876fce9a881ebb488c0914")
	requireOK(t, v, r, time.Now())
	// Meta sends lower-case hex; the upper-case spelling of the same MAC
	// is the same signature.
	r = newReq([]byte("test"), "X-Hub-Signature-256", "sha256=0329A06B62CD16B33EB6792BE8C60B158D89A2EE3A876FCE9A881EBB488C0914")
	requireOK(t, v, r, time.Now())
}

// FuzzMetaHandshake: no query is answered without the token, and none
// panics.
func FuzzMetaHandshake(f *testing.F) {
	f.Add("hub.mode=subscribe&hub.verify_token=tok+en%2F%2B1&hub.challenge=1")
	f.Add("hub.mode=subscribe&hub.verify_token=tok%20en/%2b1&hub.challenge=%ff")
	f.Add("hub.mode=subscribe&hub.verify_token=tok&hub.challenge=1&hub.verify_token=tok+en%2F%2B1")
	f.Add("&&=&hub.mode&hub.challenge")
	h := newMetaHandshaker(f)
	f.Fuzz(func(t *testing.T, q string) {
		a := query(q)
		got, err := h.Handshake(a)
		if err != nil {
			if got != nil || err.Code != CodeBadVerifyToken && err.Code != CodeInvalidHandshake {
				t.Fatalf("%q: %q, %v", q, got, err)
			}
			return
		}
		if string(a.Peek("hub.verify_token")) != "tok en/+1" || string(got) != string(a.Peek("hub.challenge")) || len(got) == 0 {
			t.Fatalf("%q answered %q", q, got)
		}
	})
}
