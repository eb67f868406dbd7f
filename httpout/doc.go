// Package httpout owns the outbound HTTP side of hookline: the pooled
// fasthttp client that delivers webhooks, the SSRF-safe dialer, request
// signing, the validation of how an endpoint shapes its requests (method,
// headers, auth, signature scheme) and the capture of response status,
// headers and a bounded prefix of the response body.
//
// Features:
//
//   - Signer computes an endpoint's signature header without allocating,
//     for every secret of a rotation window at once where the format has
//     room for several (see NewSignerFor). Schemes (SignatureConfig):
//     standard-webhooks (default; webhook-signature "v1,<base64 HMAC>",
//     key: the decoded whsec_ secret), ed25519 (Standard Webhooks "v1a,",
//     whsk_ private key kept by hookline, whpk_ public key shown), stripe
//     ("t=<ts>,v1=<hex>" in Stripe-Signature or a named header),
//     hmac-sha256 (<prefix><hex|base64 HMAC of the body> in
//     X-Hookline-Signature or a named header) and none. stripe and
//     hmac-sha256 key the HMAC with the secret text as shown to the user.
//     CheckSecret, NewSecretFor and PublicKey handle each scheme's secrets.
//   - Request shaping: Request.Method (POST, PUT, PATCH, DELETE; a DELETE
//     without a body sends no body and no content-type), hookline-event-type
//     on every delivery, and an endpoint's static and auth headers
//     (CheckHeaders, AuthConfig), built once per endpoint config and shared
//     by its attempts. Hop-by-hop headers, Host, Content-Length and
//     hookline's own webhook-* and hookline-* headers are refused. Every
//     scheme, none included, keeps webhook-id and webhook-timestamp.
//   - Guard decides which IP addresses may be dialed: loopback, private,
//     link-local, metadata, multicast and reserved ranges are refused unless
//     the operator allow-lists them. CheckURL validates endpoint URLs when
//     they are created; the dialer checks every resolved address again at
//     connect time, which is what defeats DNS rebinding.
//   - Sender sends one signed delivery attempt through one fasthttp.Client
//     (connections pooled per host), never follows redirects, enforces one
//     deadline for the whole attempt, keeps at most Options.CaptureBytes of
//     the response body and classifies failures into a small set of stable
//     ErrClass values the retry policy can act on.
//
// Limits:
//
//   - HTTP/1.1 only (fasthttp has no HTTP/2 client).
//   - A response's status line and headers may take at most 64 KiB
//     (MaxResponseHeaderBytes); past that the attempt fails with
//     ErrClassResponseHeadersTooLarge.
//   - Response bodies are never buffered whole: beyond the captured prefix at
//     most 64 KiB are drained to keep the connection; a bigger body closes it.
//
// httpout must not import any other hookline package: the engine depends on
// it, never the other way round (see docs/design.md, "Packages"; internal/lint checks it).
package httpout
