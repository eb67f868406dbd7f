package verify

import "crypto/sha256"

// shopify: X-Shopify-Hmac-Sha256 is the base64 HMAC-SHA256 of the raw
// body under the app's client secret. Nothing is timestamped, so replays
// are caught only by the dedupe on X-Shopify-Webhook-Id.
func init() {
	register(&Preset{
		Name: "shopify",
		New: func(cfg Config) (Verifier, error) {
			return fixedScheme(cfg, macScheme{
				header:  "X-Shopify-Hmac-Sha256",
				enc:     encBase64,
				content: mustTemplate("{body}"),
			}, sha256.New)
		},
		DefaultType: "shopify.{header:X-Shopify-Topic}",
		DefaultID:   "header:X-Shopify-Webhook-Id",
	})
}
