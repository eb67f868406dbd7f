package httpout

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"hash"
	"strconv"
)

// SecretPrefix starts every endpoint secret.
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
	if len(s) < len(SecretPrefix) || s[:len(SecretPrefix)] != SecretPrefix {
		return nil, fmt.Errorf("secret must start with %q", SecretPrefix)
	}
	enc := s[len(SecretPrefix):]
	if enc == "" {
		return nil, fmt.Errorf("secret has nothing after the %q prefix", SecretPrefix)
	}
	// encoding/base64 silently skips '\r' and '\n'; a secret copied with a line
	// break must not decode to a key its owner cannot reproduce elsewhere.
	for i := 0; i < len(enc); i++ {
		if !isBase64StdByte(enc[i]) {
			return nil, fmt.Errorf("secret contains byte %q at offset %d, which is not standard base64", enc[i], len(SecretPrefix)+i)
		}
	}
	key, err := base64.StdEncoding.Strict().DecodeString(enc)
	if err != nil {
		return nil, fmt.Errorf("cannot decode base64 part of the secret (%d chars): %w", len(enc), err)
	}
	if len(key) < minSecretBytes || len(key) > maxSecretBytes {
		return nil, fmt.Errorf("secret decodes to %d bytes; want %d..%d bytes", len(key), minSecretBytes, maxSecretBytes)
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

// Signer computes Standard Webhooks v1 signatures for one or more keys.
//
// Several keys are used during a secret rotation window: the header value then
// carries "v1,<sig1> v1,<sig2>", so receivers holding either secret accept the
// message.
//
// A Signer is not safe for concurrent use; callers pool Signers. It keeps one
// HMAC state per key and reuses it through Reset, and it builds the
// "<id>.<timestamp>." prefix in a scratch buffer it owns, so AppendSignatures
// does not allocate once the buffers have grown.
type Signer struct {
	macs   []hash.Hash
	prefix []byte
	sum    [sha256.Size]byte
}

// NewSigner returns a Signer for the given HMAC keys (as returned by
// ParseSecret). The keys are copied.
func NewSigner(keys ...[]byte) *Signer {
	s := &Signer{
		macs: make([]hash.Hash, len(keys)),
		// Room for a typical "msg_<26 chars>.<10 digits>." prefix.
		prefix: make([]byte, 0, 64),
	}
	for i, k := range keys {
		s.macs[i] = hmac.New(sha256.New, k)
	}
	return s
}

// AppendSignatures appends the webhook-signature header value to dst and
// returns the extended slice: for each key
// "v1," + base64std(HMAC-SHA256(key, msgID + "." + decimal(ts) + "." + body)),
// joined by single spaces. It appends nothing when the Signer has no keys.
func (s *Signer) AppendSignatures(dst []byte, msgID string, ts int64, body []byte) []byte {
	s.prefix = append(s.prefix[:0], msgID...)
	s.prefix = append(s.prefix, '.')
	s.prefix = strconv.AppendInt(s.prefix, ts, 10)
	s.prefix = append(s.prefix, '.')
	for i, m := range s.macs {
		m.Reset()
		m.Write(s.prefix)
		m.Write(body)
		sum := m.Sum(s.sum[:0])
		if i > 0 {
			dst = append(dst, ' ')
		}
		dst = append(dst, "v1,"...)
		dst = base64.StdEncoding.AppendEncode(dst, sum)
	}
	return dst
}
