package verify

import (
	"strings"
	"testing"
)

// TestCheckNewSecret: a secret the operator invents (api-key, hmac,
// basic's password) must be at least MinSecretBytes long; a secret the
// provider issues keeps the provider's format, whatever its length.
func TestCheckNewSecret(t *testing.T) {
	f := func(provider, secret string, wantOK bool) {
		t.Helper()
		err := CheckNewSecret(provider, secret)
		if wantOK {
			if err != nil {
				t.Fatalf("%s %q: %v; want accepted", provider, secret, err)
			}
			return
		}
		if err == nil || err.Code != CodeWeakSecret {
			t.Fatalf("%s %q: %v; want code %s", provider, secret, err, CodeWeakSecret)
		}
		if !strings.Contains(err.Message, "at least 16 bytes") || len(secret) > 2 && strings.Contains(err.Message, secret) {
			t.Fatalf("%s: message %q does not name the minimum, or shows the secret", provider, err.Message)
		}
	}
	ok := strings.Repeat("s", MinSecretBytes)
	short := ok[1:]

	// The secrets seen accepted in review.
	f("api-key", "7", false)
	f("hmac", "k", false)
	f("basic", ":", false)

	f("api-key", short, false)
	f("api-key", ok, true)
	f("hmac", short, false)
	f("hmac", ok, true)
	// basic: the password is the secret; a long user name does not help.
	f("basic", "hook:"+short, false)
	f("basic", strings.Repeat("u", 40)+":pw", false)
	f("basic", "hook:"+ok, true)
	f("basic", ":"+ok, true)
	f("basic", "hook:pa:"+ok[3:], true) // the password may hold a colon

	// Provider-issued secrets are the provider's business.
	f("stripe", "whsec_x", true)
	f("slack", "k", true)
	f("github", "k", true)
	f("none", "", true)
	f("unknown-provider", "k", true) // New refuses it with its own code
}
