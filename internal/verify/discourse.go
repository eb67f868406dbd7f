package verify

import "crypto/sha256"

// discourse: X-Discourse-Event-Signature is "sha256=" and the hex
// HMAC-SHA256 of the body under the webhook's secret; no timestamp.
func init() {
	schemePreset(Preset{
		Name:        "discourse",
		DefaultType: "discourse.{header:X-Discourse-Event}",
		DefaultID:   "header:X-Discourse-Event-Id",
	}, sha256.New, macScheme{header: "X-Discourse-Event-Signature", prefix: "sha256=", enc: encHex, content: mustTemplate("{body}")})
}
