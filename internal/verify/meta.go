package verify

import (
	"crypto/sha256"
	"crypto/subtle"
	"time"
)

// Meta's Graph API webhooks (WhatsApp Business Cloud API, Messenger,
// Instagram, Pages) share one scheme:
//   - X-Hub-Signature-256 is "sha256=" and the hex HMAC-SHA256 of the
//     body under the app secret. Nothing is timestamped and there is no
//     delivery id: a retry is the same body, so sources dedupe on an id
//     from the payload or on the body's hash.
//   - Before it sends anything, Meta checks the callback URL with a GET:
//     hub.mode=subscribe, hub.verify_token (the token the operator typed
//     into the app's dashboard) and hub.challenge, which must come back
//     as the whole answer. The verify token proves nothing about later
//     requests; only the signature does.
//
// Two presets share the verifier: whatsapp, whose default mapping knows
// the WhatsApp payload (the name users look for), and meta, a generic
// one for Meta's other products.
type metaVerifier struct {
	scheme *macScheme
	// token is the SHA-256 of the verify token: comparing digests takes
	// the same time whatever the length of the token sent.
	token [sha256.Size]byte
}

// maxMetaChallenge bounds the echoed challenge; Meta sends a short
// number.
const maxMetaChallenge = 256

func newMeta(cfg Config) (Verifier, error) {
	if cfg.VerifyToken == "" {
		return nil, invalid("verify_token: provider %s needs the verify token Meta's dashboard is given", cfg.Provider)
	}
	s, err := fixedScheme(cfg, macScheme{
		header:  "X-Hub-Signature-256",
		prefix:  "sha256=",
		enc:     encHex,
		content: mustTemplate("{body}"),
	}, sha256.New)
	if err != nil {
		return nil, err
	}
	return &metaVerifier{scheme: s, token: sha256.Sum256([]byte(cfg.VerifyToken))}, nil
}

func (v *metaVerifier) Verify(r *Request, now time.Time) (Result, *Error) {
	return v.scheme.Verify(r, now)
}

// Handshake answers Meta's subscription GET: the challenge when the mode
// is subscribe and the token is the source's.
func (v *metaVerifier) Handshake(q Peeker) ([]byte, *Error) {
	if mode := peek(q, "hub.mode"); string(mode) != "subscribe" {
		return nil, reject(CodeInvalidHandshake, "hub.mode is %q; Meta's handshake sends subscribe", clip(mode))
	}
	challenge := peek(q, "hub.challenge")
	if len(challenge) == 0 || len(challenge) > maxMetaChallenge {
		return nil, reject(CodeInvalidHandshake, "hub.challenge must be 1 to %d bytes; it is %d", maxMetaChallenge, len(challenge))
	}
	token := peek(q, "hub.verify_token")
	if len(token) == 0 {
		return nil, reject(CodeBadVerifyToken, "hub.verify_token is missing")
	}
	got := sha256.Sum256(token)
	if subtle.ConstantTimeCompare(got[:], v.token[:]) != 1 {
		return nil, reject(CodeBadVerifyToken, "hub.verify_token is not the source's verify token")
	}
	return append([]byte(nil), challenge...), nil
}

func init() {
	register(&Preset{
		Name: "whatsapp",
		New:  newMeta,
		// A payload is one change of one field ("messages" for both
		// inbound messages and status updates): whatsapp.messages.
		DefaultType: "whatsapp.{$.entry[0].changes[0].field}",
		// An inbound message's wamid. A status update (sent, delivered,
		// read) names the message it is about, shared by the three, so it
		// has no id here and is deduped on its body (HashWithoutID).
		DefaultID:     "$.entry[0].changes[0].value.messages[0].id",
		HashWithoutID: true,
		Handshake:     true,
	})
	register(&Preset{
		Name: "meta",
		New:  newMeta,
		// "page", "instagram", "whatsapp_business_account", ... and the
		// changed field where the product sends changes (Messenger sends
		// messaging instead: meta.page).
		DefaultType: "meta.{$.object}.{$.entry[0].changes[0].field}",
		Handshake:   true,
	})
}
