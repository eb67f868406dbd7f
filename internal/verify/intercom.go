package verify

import "crypto/sha1"

// intercom: X-Hub-Signature is "sha1=" and the hex HMAC-SHA1 of the body
// under the app's client secret. SHA-1 is weak as a hash but still sound
// inside an HMAC, and it is the only scheme Intercom offers.
func init() {
	schemePreset(Preset{
		Name:        "intercom",
		DefaultType: "intercom.{$.topic}",
		DefaultID:   "$.id",
	}, sha1.New, macScheme{header: "X-Hub-Signature", prefix: "sha1=", enc: encHex, content: mustTemplate("{body}")})
}
