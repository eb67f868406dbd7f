package verify

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"hash"
	"strings"
	"sync"
	"time"
)

// SendGrid's signed Event Webhook is signed with a key pair, not a
// shared secret: X-Twilio-Email-Event-Webhook-Signature is the
// standard-base64 ASN.1 DER ECDSA P-256 signature of the SHA-256 of
// X-Twilio-Email-Event-Webhook-Timestamp (unix seconds) followed by the
// body. A source's "secrets" are therefore verification keys, as
// SendGrid's Mail Settings show them (base64 DER SubjectPublicKeyInfo)
// or as PEM; each is tried, so a key rotation can overlap.
//
// SendGrid documents no tolerance, so the framework's 5 minutes apply.
//
// The body is a JSON array of events, so the default type is the first
// event's; there is no default id, since a batch has none of its own.
// Per-event routing or dedupe needs a mapping that splits the array,
// with type sendgrid.{$.event} and id $.sg_event_id.
func init() {
	register(&Preset{
		Name:             "sendgrid",
		New:              newSendGrid,
		DefaultType:      "sendgrid.{$[0].event}",
		DefaultTolerance: 5 * time.Minute,
	})
}

type sendgridVerifier struct {
	keys    []*ecdsa.PublicKey
	tol     time.Duration
	scratch sync.Pool // *sendgridScratch
}

type sendgridScratch struct {
	h   hash.Hash
	sum [sha256.Size]byte
	sig [maxECDSASigDER]byte
}

// maxECDSASigDER is the longest DER P-256 signature: a SEQUENCE header
// and two INTEGERs of up to 33 bytes (a leading zero keeps them
// positive), each with its own tag and length.
const maxECDSASigDER = 2 + 2*(2+33)

func newSendGrid(cfg Config) (Verifier, error) {
	if len(cfg.Secrets) == 0 {
		return nil, &Error{Code: "invalid_secret", Message: "secrets: provider \"sendgrid\" needs at least one verification key"}
	}
	if cfg.Tolerance < 0 {
		return nil, &Error{Code: "invalid_verification", Message: fmt.Sprintf("tolerance: %s is negative", cfg.Tolerance)}
	}
	v := &sendgridVerifier{tol: cfg.Tolerance}
	for i, s := range cfg.Secrets {
		k, err := parseSendGridKey(s)
		if err != nil {
			return nil, &Error{Code: "invalid_secret", Message: fmt.Sprintf("secrets[%d]: %v", i, err)}
		}
		v.keys = append(v.keys, k)
	}
	v.scratch.New = func() any { return &sendgridScratch{h: sha256.New()} }
	return v, nil
}

// parseSendGridKey reads an ECDSA P-256 public key given as PEM or as
// base64 DER (line breaks allowed). Its errors never quote the input.
// It never panics on any input (fuzzed).
func parseSendGridKey(s string) (*ecdsa.PublicKey, error) {
	s = strings.TrimSpace(s)
	var der []byte
	if strings.HasPrefix(s, "-----BEGIN") {
		b, _ := pem.Decode([]byte(s))
		if b == nil || b.Type != "PUBLIC KEY" {
			return nil, errors.New("not a PEM PUBLIC KEY block")
		}
		der = b.Bytes
	} else {
		s = strings.Map(func(r rune) rune {
			if r == '\n' || r == '\r' || r == ' ' || r == '\t' {
				return -1
			}
			return r
		}, s)
		var err error
		if der, err = base64.StdEncoding.DecodeString(s); err != nil {
			return nil, errors.New("neither PEM nor base64")
		}
	}
	pub, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, errors.New("not a DER SubjectPublicKeyInfo")
	}
	k, ok := pub.(*ecdsa.PublicKey)
	if !ok || k.Curve != elliptic.P256() {
		return nil, errors.New("not an ECDSA P-256 public key")
	}
	return k, nil
}

const (
	sendgridSigHeader = "X-Twilio-Email-Event-Webhook-Signature"
	sendgridTSHeader  = "X-Twilio-Email-Event-Webhook-Timestamp"
)

func (v *sendgridVerifier) Verify(r *Request, now time.Time) (Result, *Error) {
	hv := peek(r.Header, sendgridSigHeader)
	if len(hv) == 0 {
		return Result{}, reject(CodeMissingSignature, "no %s header", sendgridSigHeader)
	}
	s := v.scratch.Get().(*sendgridScratch)
	defer v.scratch.Put(s)
	if len(hv) > base64.StdEncoding.EncodedLen(len(s.sig)) {
		return Result{}, reject(CodeMalformedSignature, "%s is %d characters, longer than a P-256 signature", sendgridSigHeader, len(hv))
	}
	n, err := base64.StdEncoding.Decode(s.sig[:], hv)
	if err != nil {
		return Result{}, reject(CodeMalformedSignature, "%s is not base64", sendgridSigHeader)
	}
	sig := s.sig[:n]
	if !isECDSASigDER(sig) {
		return Result{}, reject(CodeMalformedSignature, "%s is not a DER ECDSA signature", sendgridSigHeader)
	}
	tsRaw := peek(r.Header, sendgridTSHeader)
	ts, rerr := timestampOf(tsRaw, false, sendgridTSHeader+" header")
	if rerr != nil {
		return Result{}, rerr
	}
	if rerr := checkSkew(ts, now, v.tol); rerr != nil {
		return Result{}, rerr
	}
	s.h.Reset()
	s.h.Write(tsRaw)
	s.h.Write(r.Body)
	digest := s.h.Sum(s.sum[:0])
	for _, k := range v.keys {
		if ecdsa.VerifyASN1(k, digest, sig) {
			return Result{}, nil
		}
	}
	return Result{}, reject(CodeBadSignature, "%s matches no verification key", sendgridSigHeader)
}

// isECDSASigDER reports whether b is exactly SEQUENCE { INTEGER r,
// INTEGER s } in DER, each positive, minimally encoded and at most 33
// bytes, so a malformed header is told apart from a wrong signature.
// It never panics on any input (fuzzed).
func isECDSASigDER(b []byte) bool {
	if len(b) < 2 || b[0] != 0x30 || int(b[1]) != len(b)-2 || b[1] >= 0x80 {
		return false
	}
	b = b[2:]
	for range 2 {
		if len(b) < 2 || b[0] != 0x02 || b[1] >= 0x80 {
			return false
		}
		l := int(b[1])
		if l == 0 || l > 33 || len(b) < 2+l {
			return false
		}
		n := b[2 : 2+l]
		if n[0]&0x80 != 0 { // negative
			return false
		}
		if l > 1 && n[0] == 0 && n[1]&0x80 == 0 { // not minimal
			return false
		}
		b = b[2+l:]
	}
	return len(b) == 0
}
