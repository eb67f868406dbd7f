// Package inbound turns webhooks that external tools (Stripe, GitHub,
// Slack, ...) post to a source's unguessable URL (/in/src_…) into events:
// the source's verifier (internal/verify) checks the request, its mapping
// (internal/transform) makes the event, a dedupe key drops a provider's
// retries, and the event is published through the engine like any other.
// A provider that checks a URL before sending to it (Meta's GET with
// hub.challenge) is answered from the source's verify token
// (handshake.go).
// Every request is logged (credentials redacted) and can be listed, read
// and replayed through the current mapping; a dry run tests a mapping
// against a sample. Requests that fail verification, which anyone can
// send, are logged with bounds on their size, count, age and rate
// (rejections.go).
//
// It owns sources, the receiver and the request log; the engine core does
// not import it. It must not import httpin, bench or cmd.
package inbound
