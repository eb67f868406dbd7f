package verify

import "time"

// Calendly signs "t.body": Calendly-Webhook-Signature is
// "t=<unix seconds>,v1=<hex HMAC-SHA256>" under the subscription's
// signing key. Calendly's own example allows 3 minutes of skew.
//
// There is no default id: Calendly sends no delivery or event id, and
// payload.uri names the invitee, shared by invitee.created and
// invitee.canceled, so deduping on it would drop the cancellation.
func init() {
	register(&Preset{
		Name:             "calendly",
		New:              newCalendly,
		DefaultType:      "calendly.{$.event}",
		DefaultTolerance: 3 * time.Minute,
	})
}

func newCalendly(cfg Config) (Verifier, error) {
	return newStampedHex(cfg, "Calendly-Webhook-Signature", ',', "t", "v1", '.')
}
