package verify

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"time"
)

// basic: "Authorization: Basic base64(user:password)" against secrets of
// the form user:password. Credentials are compared as SHA-256 digests,
// so the comparison takes the same time whatever their lengths.
type basicVerifier struct {
	sums [][sha256.Size]byte
}

// maxBasic bounds the decoded credentials; it sizes a stack buffer.
const maxBasic = 512

func newBasic(cfg Config) (Verifier, error) {
	keys, err := secretKeys(cfg)
	if err != nil {
		return nil, err
	}
	v := &basicVerifier{sums: make([][sha256.Size]byte, len(keys))}
	for i, k := range keys {
		if bytes.IndexByte(k, ':') < 0 {
			return nil, &Error{Code: CodeInvalidSecret, Message: fmt.Sprintf("secrets[%d] is not user:password", i)}
		}
		if len(k) > maxBasic {
			return nil, &Error{Code: CodeInvalidSecret, Message: fmt.Sprintf("secrets[%d] is longer than %d bytes", i, maxBasic)}
		}
		v.sums[i] = sha256.Sum256(k)
	}
	return v, nil
}

func (v *basicVerifier) Verify(r *Request, _ time.Time) (Result, *Error) {
	h := peek(r.Header, "Authorization")
	if len(h) == 0 {
		return Result{}, reject(CodeMissingSignature, "Authorization header missing")
	}
	var buf [maxBasic]byte
	creds, ok := parseBasic(h, buf[:])
	if !ok {
		// The header may hold a password: it is never echoed.
		return Result{}, reject(CodeMalformedSignature, "Authorization is not Basic base64(user:password)")
	}
	if !matchDigest(v.sums, creds) {
		return Result{}, reject(CodeBadCredentials, "Authorization matches none of the %d credentials", len(v.sums))
	}
	return Result{}, nil
}

// parseBasic decodes "Basic <base64>" into dst; the scheme name is
// case-insensitive (RFC 9110) and the credentials must hold a colon.
func parseBasic(h, dst []byte) ([]byte, bool) {
	const scheme = "basic "
	if len(h) < len(scheme) || !bytes.EqualFold(h[:len(scheme)], []byte(scheme)) {
		return nil, false
	}
	enc := bytes.TrimLeft(h[len(scheme):], " ")
	if base64.StdEncoding.DecodedLen(len(enc)) > len(dst) {
		return nil, false
	}
	n, err := base64.StdEncoding.Decode(dst, enc)
	if err != nil || bytes.IndexByte(dst[:n], ':') < 0 {
		return nil, false
	}
	return dst[:n], true
}

// matchDigest compares the digest of got with every want in constant
// time, without stopping at the first match.
func matchDigest(want [][sha256.Size]byte, got []byte) bool {
	sum := sha256.Sum256(got)
	found := 0
	for i := range want {
		found |= subtle.ConstantTimeCompare(want[i][:], sum[:])
	}
	return found == 1
}

func init() {
	register(&Preset{Name: "basic", New: newBasic, MinSecret: MinSecretBytes})
}
