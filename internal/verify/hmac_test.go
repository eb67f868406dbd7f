package verify

import (
	"crypto/sha1"
	"crypto/sha256"
	"testing"
	"time"
)

func TestHMACConfigErrors(t *testing.T) {
	f := func(h *HMACConfig, field string) {
		t.Helper()
		requireConfigError(t, Config{Provider: "hmac", Secrets: []string{"s3cret-value"}, HMAC: h}, CodeInvalidVerification, field)
	}
	f(nil, "hmac")
	f(&HMACConfig{}, "hmac.header")
	f(&HMACConfig{Header: "X Sig"}, "hmac.header")
	f(&HMACConfig{Header: "X-Sig", Algorithm: "md5"}, "hmac.algorithm")
	f(&HMACConfig{Header: "X-Sig", Encoding: "base32"}, "hmac.encoding")
	f(&HMACConfig{Header: "X-Sig", Template: "{body"}, "hmac.template")
	f(&HMACConfig{Header: "X-Sig", Template: "{bodyy}"}, "hmac.template")
	f(&HMACConfig{Header: "X-Sig", Template: "{header:}"}, "hmac.template")
	f(&HMACConfig{Header: "X-Sig", Template: "{timestamp}.{body}"}, "hmac.timestamp_header")
	f(&HMACConfig{Header: "X-Sig", TimestampHeader: "X-Ts"}, "hmac.timestamp_header")
	f(&HMACConfig{Header: "X-Sig", Template: "{timestamp}{body}", TimestampHeader: "X:Ts"}, "hmac.timestamp_header")
	requireConfigError(t, Config{Provider: "hmac", HMAC: &HMACConfig{Header: "X-Sig"}}, CodeInvalidSecret, "secrets")
}

// TestHMACSchemes configures the generic provider as a few real
// providers' schemes and checks requests signed their way.
func TestHMACSchemes(t *testing.T) {
	now := time.Now()
	ts := unix(now)
	body := fixture(t, "github/issues_opened.json")
	f := func(h HMACConfig, secret string, kv ...string) {
		t.Helper()
		v := mustNew(t, Config{Provider: "hmac", Secrets: []string{"other", secret}, HMAC: &h})
		requireOK(t, v, newReq(body, kv...), now)
	}
	// Defaults: sha256, hex, the body alone (GitHub-like without prefix).
	f(HMACConfig{Header: "X-Signature"}, "k", "X-Signature", hexMAC(sha256.New, "k", body))
	// Uppercase hex decodes too.
	f(HMACConfig{Header: "X-Signature"}, "k", "X-Signature", upper(hexMAC(sha256.New, "k", body)))
	// GitHub's legacy header.
	f(HMACConfig{Header: "X-Hub-Signature", Algorithm: "sha1", Prefix: "sha1="}, "k", "X-Hub-Signature", "sha1="+hexMAC(sha1.New, "k", body))
	// Slack's scheme spelt as a template.
	f(HMACConfig{Header: "X-Slack-Signature", Prefix: "v0=", Template: "v0:{timestamp}:{body}", TimestampHeader: "X-Slack-Request-Timestamp"}, "k",
		"X-Slack-Signature", "v0="+hexMAC(sha256.New, "k", []byte("v0:"+ts+":"), body), "X-Slack-Request-Timestamp", ts)
	// A header signed alongside; an absent one signs as empty.
	f(HMACConfig{Header: "X-Sig", Encoding: "base64", Template: "{header:X-Event}|{header:X-Absent}|{body}"}, "k",
		"X-Sig", b64MAC(sha256.New, "k", []byte("issues||"), body), "X-Event", "issues")
}

func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'f' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

func TestParseTemplate(t *testing.T) {
	f := func(tmpl, want string) {
		t.Helper()
		c, err := parseTemplate(tmpl)
		if err != nil {
			t.Fatalf("%q: %s", tmpl, err)
		}
		if got := c.String(); got != want {
			t.Fatalf("%q: compiled back to %q, want %q", tmpl, got, want)
		}
	}
	f("", "{body}")
	f("{body}", "{body}")
	f("v0:{timestamp}:{body}", "v0:{timestamp}:{body}")
	f("{header:webhook-id}.{timestamp}.{body}", "{header:webhook-id}.{timestamp}.{body}")
	f("a}b{body}", "a}b{body}")
	c, _ := parseTemplate("x{timestamp}y{header:A}")
	if len(c) != 4 || !c.has(partTimestamp) || c.has(partBody) {
		t.Fatalf("parts %+v", c)
	}
}
