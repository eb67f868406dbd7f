package inbound

import (
	"crypto/rand"
	"encoding/base64"
	"strings"
	"time"

	"hookline/engine"
	"hookline/internal/verify"
)

// Providers with a subscription handshake (verify.Preset.Handshake: meta,
// whatsapp) check a source's URL with a GET carrying the source's verify
// token before they send events to it. The token is the operator's to
// type into the provider's dashboard: given on creation, or generated.

// maxVerifyTokenBytes bounds a verify token as a secret is bounded.
const maxVerifyTokenBytes = 4096

// newVerifyToken is a verify token for a source created without one: 24
// random bytes, URL-safe, so it survives being pasted into a dashboard.
func newVerifyToken() string {
	var b [24]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read does not fail (Go 1.24)
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// checkVerifyToken refuses a verify token given for provider.
func checkVerifyToken(provider, tok string) error {
	if p, ok := verify.Lookup(provider); !ok || !p.Handshake {
		return engine.Invalid("verify_token_not_applicable", "verify_token is for providers with a subscription handshake (meta, whatsapp); %s has none", provider)
	}
	switch {
	case tok == "":
		return engine.Invalid("invalid_verify_token", "verify_token is empty; omit it on creation to have one generated")
	case len(tok) > maxVerifyTokenBytes:
		return engine.Invalid("invalid_verify_token", "verify_token is %d bytes; at most %d allowed", len(tok), maxVerifyTokenBytes)
	case strings.ContainsFunc(tok, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		// It travels in a query string a person typed into a dashboard.
		return engine.Invalid("invalid_verify_token", "verify_token holds a control character")
	}
	return nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// CodeNoHandshake answers a GET to a source whose provider has no
// handshake: its URL takes POSTs only.
const CodeNoHandshake = "no_handshake"

// Handshake answers a GET to source sourceID: the challenge of its
// provider's subscription handshake, or a rejection (403
// bad_verify_token, 400 invalid_handshake). Handshakes go to the request
// log as other requests do, and a failed one counts against the source's
// failure rate (rejections.go): guessing a token is guessing a secret.
func (rc *Receiver) Handshake(sourceID string, r *Request) Result {
	now := time.Now()
	st := rc.liveSource(sourceID, now)
	if st == nil {
		return Result{Status: 404, Outcome: Rejected, Code: "source_not_found", Message: "no source at this URL"}
	}
	h, ok := st.verifier.(verify.Handshaker)
	if !ok {
		return Result{Status: 405, Outcome: Rejected, Code: CodeNoHandshake, Message: "provider " + st.src.Provider + " has no GET handshake; its events come by POST"}
	}
	reqID := rc.log.NewConfigID()
	entry := LogEntry{ID: requestPrefix + reqID.String(), At: now.UTC()}
	body, verr := h.Handshake(r.Query)
	if verr != nil {
		rc.m.requests[rejected].Inc()
		res := Result{Status: 403, Outcome: Rejected, Code: verr.Code, Message: verr.Message}
		if verr.Code == verify.CodeInvalidHandshake {
			res.Status = 400
		}
		return rc.unverified(st, reqID, r, &entry, res, now)
	}
	entry.Verified = true
	rc.m.requests[challenge].Inc()
	res := Result{Status: 200, Outcome: Challenge, Challenge: body, ChallengeContentType: "text/plain; charset=utf-8", RequestID: entry.ID}
	rc.logInbound(st, reqID, r, &entry, res)
	return res
}
