package verify

import "crypto/sha256"

// discourse: X-Discourse-Event-Signature is "sha256=" and the hex
// HMAC-SHA256 of the body under the webhook's secret; no timestamp.
func init() {
	register(&Preset{
		Name: "discourse",
		New: func(cfg Config) (Verifier, error) {
			return fixedScheme(cfg, macScheme{
				header:  "X-Discourse-Event-Signature",
				prefix:  "sha256=",
				enc:     encHex,
				content: mustTemplate("{body}"),
			}, sha256.New)
		},
		DefaultType: "discourse.{header:X-Discourse-Event}",
		DefaultID:   "header:X-Discourse-Event-Id",
	})
}
