package verify

import "time"

// Paddle Billing signs "ts:body": Paddle-Signature is
// "ts=<unix seconds>;h1=<hex HMAC-SHA256>" under the notification
// destination's secret key, with more than one h1 while Paddle rotates
// that key.
//
// The default tolerance is 5 minutes, not the 5 seconds of Paddle's
// SDKs: 5 s holds only between well-synchronised clocks and over a
// fast path, and a self-hosted receiver a few seconds off would drop
// real deliveries as replays. A replay inside the window is caught by
// the dedupe on event_id, which Paddle keeps across retries.
func init() {
	register(&Preset{
		Name:             "paddle",
		New:              newPaddle,
		DefaultType:      "paddle.{$.event_type}",
		DefaultID:        "$.event_id",
		DefaultTolerance: 5 * time.Minute,
	})
}

func newPaddle(cfg Config) (Verifier, error) {
	return newStampedHex(cfg, "Paddle-Signature", ';', "ts", "h1", ':')
}
