package verify

import "strings"

// Secrets the operator invents (the api-key provider's key, the hmac
// provider's secret, basic's password) have no provider to make them long
// and random, and were seen accepted as "7", "k" and ":". A new one must
// be at least MinSecretBytes long. A length proves no randomness, so the
// bound is set to refuse what people type (placeholders and words:
// "test", "secret", "changeme", a short password) and nothing a tool
// generates:
//
//   - 16 random characters carry 64 bits as hex, 96 as base64. Guessing
//     64 bits online, one request per guess, at a million requests a
//     second, takes about 300,000 years on average; offline, from a
//     captured signed request, at 10^10 HMACs a second, about 30 years.
//   - It is the shortest thing the usual generators print (openssl rand
//     -hex 8, a 128-bit key in base64 is 22), and api-key and hmac also
//     serve providers without a preset, whose own keys are rarely under
//     20 characters: 32 would refuse some of those.
//   - RFC 2104 gives full strength to HMAC keys as long as the hash's
//     output (32 bytes for SHA-256); the message asks for that much.
//
// Secrets a provider issues (stripe's whsec_…, slack's, ...) keep the
// provider's format and length.
//
// The check is CheckNewSecret's, not New's: New also builds the verifiers
// of stored sources, and one stored before the minimum existed must keep
// receiving (it is logged, to be rotated).

// MinSecretBytes is the least length of a secret the operator invents.
const MinSecretBytes = 16

// CodeWeakSecret is CheckNewSecret's code.
const CodeWeakSecret = "weak_secret"

// CheckNewSecret reports a secret given now for a source of provider
// that is too short, nil otherwise (and for an unknown provider, which
// New refuses with its own code). The message names the minimum, never
// the secret.
func CheckNewSecret(provider, secret string) *Error {
	p, ok := presets[provider]
	if !ok || p.MinSecret == 0 {
		return nil
	}
	what, n := "secret", len(secret)
	if p.Name == "basic" {
		// user:password: the password is the secret (RFC 7617: the user
		// id holds no colon, the password may).
		_, pw, _ := strings.Cut(secret, ":")
		what, n = "password (after the first colon)", len(pw)
	}
	if n >= p.MinSecret {
		return nil
	}
	return reject(CodeWeakSecret, "the %s is %d bytes; provider %s needs at least %d bytes, as the operator invents it: generate one, e.g. with `openssl rand -hex 32`",
		what, n, p.Name, p.MinSecret)
}
