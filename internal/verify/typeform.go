package verify

import (
	"crypto/hmac"
	"crypto/sha256"
	"hash"
	"time"
)

// Typeform signs the raw body: Typeform-Signature is "sha256=" and the
// standard-base64 HMAC-SHA256 under the webhook's secret. Nothing
// signed carries a time, so there is no tolerance; replays are left to
// the dedupe on event_id.
func init() {
	register(&Preset{
		Name:        "typeform",
		New:         newTypeform,
		DefaultType: "typeform.{$.event_type}",
		DefaultID:   "$.event_id",
	})
}

type typeformVerifier struct {
	macs *macKeys
}

func newTypeform(cfg Config) (Verifier, error) {
	macs, err := keyedMACsFor(cfg, sha256.New)
	if err != nil {
		return nil, err
	}
	return &typeformVerifier{macs: macs}, nil
}

var typeformPrefix = []byte("sha256=")

func (v *typeformVerifier) Verify(r *Request, _ time.Time) (Result, *Error) {
	var sig [sha256.Size]byte
	if rerr := readBase64Sig(r, "Typeform-Signature", typeformPrefix, sig[:]); rerr != nil {
		return Result{}, rerr
	}
	body := r.Body
	if !v.macs.matchWith(func(h hash.Hash) { h.Write(body) }, func(sum []byte) bool { return hmac.Equal(sum, sig[:]) }) {
		return Result{}, reject(CodeBadSignature, "Typeform-Signature matches no secret")
	}
	return Result{}, nil
}
