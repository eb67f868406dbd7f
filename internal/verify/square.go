package verify

import (
	"crypto/hmac"
	"crypto/sha256"
	"hash"
	"time"
)

// Square: x-square-hmacsha256-signature is the standard-base64
// HMAC-SHA256, under the subscription's signature key, of the
// notification URL followed by the body. The URL is the one registered
// with Square, which is the one it calls: Request.URL, with the scheme a
// TLS proxy reports (X-Forwarded-Proto). The generic hmac provider cannot
// express it, as its templates sign no URL.
//
// Nothing is timestamped; the body's event_id, which Square asks
// receivers to dedupe on, is signed with it.
func init() {
	register(&Preset{
		Name:        "square",
		New:         newSquare,
		DefaultType: "square.{$.type}",
		DefaultID:   "$.event_id",
	})
}

type squareVerifier struct {
	macs *macKeys
}

func newSquare(cfg Config) (Verifier, error) {
	macs, err := keyedMACsFor(cfg, sha256.New)
	if err != nil {
		return nil, err
	}
	return &squareVerifier{macs: macs}, nil
}

func (v *squareVerifier) Verify(r *Request, _ time.Time) (Result, *Error) {
	var sig [sha256.Size]byte
	if rerr := readBase64Sig(r, "X-Square-Hmacsha256-Signature", nil, sig[:]); rerr != nil {
		return Result{}, rerr
	}
	if len(r.URL) == 0 {
		return Result{}, reject(CodeBadSignature, "the request URL, which Square signs, is unknown")
	}
	url, body := r.URL, r.Body
	write := func(h hash.Hash) {
		h.Write(url)
		h.Write(body)
	}
	if !v.macs.matchWith(write, func(sum []byte) bool { return hmac.Equal(sum, sig[:]) }) {
		return Result{}, reject(CodeBadSignature, "x-square-hmacsha256-signature matches no signature key for the URL %s", clip(url))
	}
	return Result{}, nil
}
