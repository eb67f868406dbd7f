package verify

import (
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

// TestUnsignedIDPresets: the presets marked UnsignedID are exactly those
// whose default delivery id is a header and whose signature carries no
// time (for the others the id is in the signed body, signed with the body,
// or replays are bounded by the tolerance), so a new preset cannot leave
// its replays open by forgetting the mark.
func TestUnsignedIDPresets(t *testing.T) {
	var marked []string
	for _, name := range Names() {
		p, _ := Lookup(name)
		if p.UnsignedID {
			marked = append(marked, name)
		}
		// standard-webhooks and svix sign their id header, and a time.
		want := strings.HasPrefix(p.DefaultID, "header:") && p.DefaultTolerance == 0
		if p.UnsignedID != want {
			t.Errorf("%s: UnsignedID is %v; its id is %q and its tolerance %v", name, p.UnsignedID, p.DefaultID, p.DefaultTolerance)
		}
	}
	if got := strings.Join(marked, ","); got != "discourse,github,shopify,twilio" {
		t.Fatalf("presets with UnsignedID: %s", got)
	}
}

// TestReplayID: the verifiers of the UnsignedID presets name what their
// signature covered: the same ReplayID for another delivery id or another
// spelling of the same signature, another for another body or secret.
// The other presets leave it zero.
func TestReplayID(t *testing.T) {
	now := time.Now()
	var zero [32]byte
	setHeader := func(r *Request, name, value string) { r.Header.(*fasthttp.RequestHeader).Set(name, value) }
	for name, pc := range presetCases(t) {
		t.Run(name, func(t *testing.T) {
			cfg := pc.cfg
			cfg.Secrets = pc.secrets[:]
			v := mustNew(t, cfg)
			p, _ := Lookup(pc.cfg.Provider)
			res := requireOK(t, v, pc.sign(t, pc.secrets[0], pc.body, now), now)
			if !p.UnsignedID {
				if res.ReplayID != zero {
					t.Fatalf("a ReplayID from %s", name)
				}
				return
			}
			if res.ReplayID == zero {
				t.Fatal("no ReplayID")
			}
			f := func(what string, r *Request, same bool) {
				t.Helper()
				got := requireOK(t, v, r, now).ReplayID
				if (got == res.ReplayID) != same {
					t.Fatalf("%s: ReplayID %x, first %x; want the same: %v", what, got, res.ReplayID, same)
				}
			}
			r := pc.sign(t, pc.secrets[0], pc.body, now)
			setHeader(r, strings.TrimPrefix(p.DefaultID, "header:"), "another-delivery-id")
			f("another delivery id", r, true)
			if name != "shopify" { // base64 (strict) has one spelling
				r := pc.sign(t, pc.secrets[0], pc.body, now)
				sig := string(r.Header.Peek(pc.sigHeader))
				setHeader(r, pc.sigHeader, "sha256="+strings.ToUpper(strings.TrimPrefix(sig, "sha256=")))
				f("the hex in upper case", r, true)
			}
			f("another body", pc.sign(t, pc.secrets[0], append([]byte(" "), pc.body...), now), false)
			f("the previous secret", pc.sign(t, pc.secrets[1], pc.body, now), false)
		})
	}
}

// TestReplayIDGitHubSHA1: with the legacy SHA-1 header allowed, a request
// verified by it alone has the ReplayID its SHA-256 header would have
// given, under whichever secret matched.
func TestReplayIDGitHubSHA1(t *testing.T) {
	now := time.Now()
	secrets := []string{"gh-current", "gh-previous"}
	v := mustNew(t, Config{Provider: "github", Secrets: secrets, GitHub: &GitHubOptions{AllowSHA1: true}})
	body := []byte(`{"action":"opened"}`)
	for _, secret := range secrets {
		both := requireOK(t, v, newReq(body, "X-Hub-Signature-256", "sha256="+hexMAC(sha256.New, secret, body), "X-Hub-Signature", "sha1="+hexMAC(sha1.New, secret, body)), now)
		legacy := requireOK(t, v, newReq(body, "X-Hub-Signature", "sha1="+hexMAC(sha1.New, secret, body)), now)
		if both.ReplayID != legacy.ReplayID {
			t.Fatalf("secret %s: ReplayID %x with both headers, %x with SHA-1 alone", secret, both.ReplayID, legacy.ReplayID)
		}
		if want := hexMAC(sha256.New, secret, body); hex.EncodeToString(legacy.ReplayID[:]) != want {
			t.Fatalf("ReplayID %x; want the HMAC-SHA256 %s", legacy.ReplayID, want)
		}
	}
}

// TestReplayIDTwilio: a form's parameters in another order or encoding
// are the same signed request; another URL or token is another.
func TestReplayIDTwilio(t *testing.T) {
	v := mustNew(t, Config{Provider: "twilio", Secrets: twilioSecrets[:2]})
	body := []byte(twilioFormBody)
	first := requireOK(t, v, signTwilioForm(t, 0, body, testNow), testNow)
	var zero [32]byte
	if first.ReplayID == zero {
		t.Fatal("no ReplayID")
	}
	r := signTwilioForm(t, 0, body, testNow)
	parts := strings.Split(twilioFormBody, "&")
	for i, j := 0, len(parts)-1; i < j; i, j = i+1, j-1 {
		parts[i], parts[j] = parts[j], parts[i]
	}
	r.Body = []byte(strings.ReplaceAll(strings.Join(parts, "&"), "+", "%20"))
	r.Header = fields("X-Twilio-Signature", string(r.Header.Peek("X-Twilio-Signature")), "I-Twilio-Idempotency-Token", "another")
	if got := requireOK(t, v, r, testNow).ReplayID; got != first.ReplayID {
		t.Fatalf("the same form reordered: ReplayID %x, first %x", got, first.ReplayID)
	}
	if got := requireOK(t, v, signTwilioForm(t, 1, body, testNow), testNow).ReplayID; got == first.ReplayID {
		t.Fatal("another token, the same ReplayID")
	}
	j1 := requireOK(t, v, signTwilioJSON(t, 0, []byte(`{"a":1}`), testNow), testNow).ReplayID
	j2 := requireOK(t, v, signTwilioJSON(t, 0, []byte(`{"a":2}`), testNow), testNow).ReplayID
	if j1 == zero || j1 == j2 {
		t.Fatalf("JSON bodies: ReplayIDs %x and %x", j1, j2)
	}
}
