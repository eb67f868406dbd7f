package verify

import (
	"crypto/sha256"
	"time"
)

// zendesk: X-Zendesk-Webhook-Signature is the base64 HMAC-SHA256 of
// X-Zendesk-Webhook-Signature-Timestamp followed directly by the body
// (no separator), as Zendesk's current docs say. An older revision of
// them wrote body then timestamp, and its worked example matches that
// order; the current order is the one kept here. The timestamp is RFC 3339 ("2021-03-25T05:09:27Z"),
// not unix seconds. Zendesk documents no tolerance; the default five
// minutes applies.
//
// Event webhooks carry "type": "zen:event-type:ticket.created", already
// namespaced, hence DefaultType {$.type}. Trigger and automation
// webhooks send the body their owner wrote, so such a source names its
// own mapping.
func init() {
	schemePreset(Preset{
		Name:             "zendesk",
		DefaultType:      "{$.type}",
		DefaultID:        "header:X-Zendesk-Webhook-Invocation-Id",
		DefaultTolerance: 5 * time.Minute,
	}, sha256.New, macScheme{
		header:   "X-Zendesk-Webhook-Signature",
		enc:      encBase64,
		content:  mustTemplate("{timestamp}{body}"),
		tsHeader: "X-Zendesk-Webhook-Signature-Timestamp",
		tsFormat: tsRFC3339,
	})
}
