package httpout

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash"
	"strconv"
)

// SecretPrefix starts every Standard Webhooks (HMAC) secret, and every
// secret hookline generates for a scheme other than ed25519.
const SecretPrefix = "whsec_"

// Secret key sizes accepted by ParseSecret. Below 24 bytes an HMAC-SHA256 key
// is too weak to hand to a customer; above 64 bytes HMAC hashes the key first,
// so longer keys add nothing.
const (
	minSecretBytes = 24
	maxSecretBytes = 64
	newSecretBytes = 32
)

// ParseSecret decodes "whsec_" + standard base64 of 24..64 bytes into the
// HMAC key.
func ParseSecret(s string) ([]byte, error) {
	key, err := decodePrefixed(s, SecretPrefix, "secret")
	if err != nil {
		return nil, err
	}
	if len(key) < minSecretBytes || len(key) > maxSecretBytes {
		return nil, fmt.Errorf("secret decodes to %d bytes; want %d..%d bytes", len(key), minSecretBytes, maxSecretBytes)
	}
	return key, nil
}

// decodePrefixed decodes prefix + strict standard base64, as Standard
// Webhooks serialises keys. what names the value in errors, which never
// quote it: it may be a secret.
func decodePrefixed(s, prefix, what string) ([]byte, error) {
	if len(s) < len(prefix) || s[:len(prefix)] != prefix {
		return nil, fmt.Errorf("%s must start with %q", what, prefix)
	}
	enc := s[len(prefix):]
	if enc == "" {
		return nil, fmt.Errorf("%s has nothing after the %q prefix", what, prefix)
	}
	// encoding/base64 silently skips '\r' and '\n'; a secret copied with a line
	// break must not decode to a key its owner cannot reproduce elsewhere.
	for i := 0; i < len(enc); i++ {
		if !isBase64StdByte(enc[i]) {
			return nil, fmt.Errorf("%s contains byte %q at offset %d, which is not standard base64", what, enc[i], len(prefix)+i)
		}
	}
	key, err := base64.StdEncoding.Strict().DecodeString(enc)
	if err != nil {
		return nil, fmt.Errorf("cannot decode base64 part of the %s (%d chars): %w", what, len(enc), err)
	}
	return key, nil
}

func isBase64StdByte(c byte) bool {
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/' || c == '='
}

// NewSecret returns "whsec_" + standard base64 of 32 random bytes.
func NewSecret() (string, error) {
	var key [newSecretBytes]byte
	if _, err := rand.Read(key[:]); err != nil {
		return "", fmt.Errorf("cannot read %d random bytes for a secret: %w", len(key), err)
	}
	return SecretPrefix + base64.StdEncoding.EncodeToString(key[:]), nil
}

// Signer computes the signature header value of one endpoint's scheme for
// one or more secrets (see NewSignerFor); NewSigner makes the Standard
// Webhooks one from HMAC keys.
//
// Several secrets are used during a secret rotation window: where the
// format has room for several signatures (Standard Webhooks, ed25519,
// stripe) the value carries one per secret, so receivers holding either
// secret accept the message.
//
// A Signer is not safe for concurrent use; callers pool Signers (Clone
// makes more). It keeps one HMAC state per key and reuses it through Reset,
// and it builds the signed prefix in a scratch buffer it owns, so
// AppendSignatures does not allocate once the buffers have grown.
type Signer struct {
	format signFormat
	header string // the header the value goes in; "" for scheme none
	prefix string // formatHMAC: signature.prefix
	base64 bool   // formatHMAC: base64 instead of hex
	keys   []signKey
	// buf holds what is signed before the body ("<id>.<ts>." or "<ts>.");
	// for an Ed25519 key, which signs one contiguous message, the body too.
	buf []byte
	sum [sha256.Size]byte
}

type signFormat uint8

const (
	// formatStandard: "v1,<base64 HMAC>" per HMAC key and "v1a,<base64
	// Ed25519>" per Ed25519 key, of "<id>.<ts>.<body>", space-separated.
	formatStandard signFormat = iota
	// formatHMAC: prefix + hex or base64 of HMAC(key, body), one key.
	formatHMAC
	// formatStripe: "t=<ts>" then ",v1=<hex HMAC(key, "<ts>.<body>")>" per key.
	formatStripe
	// formatNone: no signature.
	formatNone
)

// signKey is one secret of a Signer: an HMAC-SHA256 state over key, or an
// Ed25519 private key (ed != nil).
type signKey struct {
	key []byte
	mac hash.Hash
	ed  ed25519.PrivateKey
}

func hmacKey(key []byte) signKey {
	return signKey{key: key, mac: hmac.New(sha256.New, key)}
}

// NewSigner returns a Standard Webhooks Signer for the given HMAC keys (as
// returned by ParseSecret). The keys are copied.
func NewSigner(keys ...[]byte) *Signer {
	s := &Signer{format: formatStandard, header: HeaderWebhookSignature, keys: make([]signKey, len(keys))}
	for i, k := range keys {
		s.keys[i] = hmacKey(append([]byte(nil), k...))
	}
	s.buf = newSignBuf()
	return s
}

// newSignBuf has room for a typical "msg_<26 chars>.<10 digits>." prefix.
func newSignBuf() []byte { return make([]byte, 0, 64) }

// Clone returns a Signer with the same scheme and secrets and its own
// state, for a pool's New.
func (s *Signer) Clone() *Signer {
	c := *s
	c.keys = make([]signKey, len(s.keys))
	for i, k := range s.keys {
		if k.ed != nil {
			c.keys[i] = k // immutable
			continue
		}
		c.keys[i] = hmacKey(k.key)
	}
	c.buf = newSignBuf()
	return &c
}

// Header is the name of the header AppendSignatures' value goes in
// (Request.SignatureHeader); "" when the scheme sends none.
func (s *Signer) Header() string {
	return s.header
}

// AppendSignatures appends the signature header value for a message to dst
// and returns the extended slice. For Standard Webhooks that is, for each
// key, "v1," + base64std(HMAC-SHA256(key, msgID + "." + decimal(ts) + "." +
// body)) (an Ed25519 key: "v1a," + base64std of its signature of the same),
// joined by single spaces. For the other formats see NewSignerFor. It
// appends nothing when the Signer has no keys or its scheme is none.
func (s *Signer) AppendSignatures(dst []byte, msgID string, ts int64, body []byte) []byte {
	switch s.format {
	case formatStandard:
		return s.appendStandard(dst, msgID, ts, body)
	case formatHMAC:
		sum := s.mac(&s.keys[0], nil, body)
		dst = append(dst, s.prefix...)
		if s.base64 {
			return base64.StdEncoding.AppendEncode(dst, sum)
		}
		return hex.AppendEncode(dst, sum)
	case formatStripe:
		s.buf = strconv.AppendInt(s.buf[:0], ts, 10)
		s.buf = append(s.buf, '.')
		dst = append(dst, "t="...)
		dst = append(dst, s.buf[:len(s.buf)-1]...)
		for i := range s.keys {
			dst = append(dst, ",v1="...)
			dst = hex.AppendEncode(dst, s.mac(&s.keys[i], s.buf, body))
		}
	}
	return dst
}

func (s *Signer) appendStandard(dst []byte, msgID string, ts int64, body []byte) []byte {
	s.buf = append(s.buf[:0], msgID...)
	s.buf = append(s.buf, '.')
	s.buf = strconv.AppendInt(s.buf, ts, 10)
	s.buf = append(s.buf, '.')
	n := len(s.buf)
	for i := range s.keys {
		k := &s.keys[i]
		if i > 0 {
			dst = append(dst, ' ')
		}
		if k.ed == nil {
			dst = append(dst, "v1,"...)
			dst = base64.StdEncoding.AppendEncode(dst, s.mac(k, s.buf[:n], body))
			continue
		}
		if len(s.buf) == n {
			s.buf = append(s.buf, body...)
		}
		// Sign's result stays on the stack: it is inlined and the
		// signature does not escape.
		dst = append(dst, "v1a,"...)
		dst = base64.StdEncoding.AppendEncode(dst, ed25519.Sign(k.ed, s.buf))
	}
	return dst
}

// mac returns HMAC(k, prefix + body) in s.sum.
func (s *Signer) mac(k *signKey, prefix, body []byte) []byte {
	k.mac.Reset()
	k.mac.Write(prefix)
	k.mac.Write(body)
	return k.mac.Sum(s.sum[:0])
}
