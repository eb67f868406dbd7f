package verify

import "crypto/sha256"

// shopify: X-Shopify-Hmac-Sha256 is the base64 HMAC-SHA256 of the raw
// body under the app's client secret. Nothing is timestamped, and the
// X-Shopify-Webhook-Id the dedupe uses is not signed: Result.ReplayID
// (the MAC) lets the receiver catch a replay under a new id.
func init() {
	schemePreset(Preset{
		Name:        "shopify",
		DefaultType: "shopify.{header:X-Shopify-Topic}",
		DefaultID:   "header:X-Shopify-Webhook-Id",
		UnsignedID:  true,
	}, sha256.New, macScheme{header: "X-Shopify-Hmac-Sha256", enc: encBase64, content: mustTemplate("{body}"), replay: true})
}
