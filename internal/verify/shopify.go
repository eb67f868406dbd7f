package verify

import "crypto/sha256"

// shopify: X-Shopify-Hmac-Sha256 is the base64 HMAC-SHA256 of the raw
// body under the app's client secret. Nothing is timestamped, so replays
// are caught only by the dedupe on X-Shopify-Webhook-Id.
func init() {
	schemePreset(Preset{
		Name:        "shopify",
		DefaultType: "shopify.{header:X-Shopify-Topic}",
		DefaultID:   "header:X-Shopify-Webhook-Id",
	}, sha256.New, macScheme{header: "X-Shopify-Hmac-Sha256", enc: encBase64, content: mustTemplate("{body}")})
}
