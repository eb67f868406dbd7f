// Package httpout owns the outbound HTTP side of hookline: the pooled
// fasthttp client that delivers webhooks, the SSRF-safe dialer, Standard
// Webhooks request signing and the capture of response status, headers and a
// bounded prefix of the response body.
//
// Features:
//
//   - Signer computes Standard Webhooks v1 signatures ("v1,<base64>"), for
//     several secrets at once during a rotation window, without allocating.
//   - Guard decides which IP addresses may be dialed: loopback, private,
//     link-local, metadata, multicast and reserved ranges are refused unless
//     the operator allow-lists them. CheckURL validates endpoint URLs when
//     they are created; the dialer checks every resolved address again at
//     connect time, which is what defeats DNS rebinding.
//   - Sender POSTs one signed delivery attempt through one fasthttp.Client
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
