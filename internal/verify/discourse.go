package verify

import "crypto/sha256"

// discourse: X-Discourse-Event-Signature is "sha256=" and the hex
// HMAC-SHA256 of the body under the webhook's secret; no timestamp, and
// X-Discourse-Event-Id is not signed (hence UnsignedID).
func init() {
	schemePreset(Preset{
		Name:        "discourse",
		DefaultType: "discourse.{header:X-Discourse-Event}",
		DefaultID:   "header:X-Discourse-Event-Id",
		UnsignedID:  true,
	}, sha256.New, macScheme{header: "X-Discourse-Event-Signature", prefix: "sha256=", enc: encHex, content: mustTemplate("{body}"), replay: true})
}
