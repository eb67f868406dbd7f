package verify

import (
	"bytes"
	"crypto/sha256"
	"time"
)

// stripe: Stripe-Signature is "t=<unix>,v1=<hex>[,v1=<hex>...]" where
// each v1 is the HMAC-SHA256 of "<t>.<body>" under the endpoint's
// whsec_ secret, used as is (not decoded). Stripe sends a second v1
// while an endpoint's secret is being rolled; other schemes (v0, test
// mode's) are ignored. Its libraries allow 300 s of skew.
type stripeVerifier struct {
	keys    *macKeys
	content content
	tol     time.Duration
}

func newStripe(cfg Config) (Verifier, error) {
	keys, err := secretKeys(cfg)
	if err != nil {
		return nil, err
	}
	return &stripeVerifier{
		keys:    newMACKeys(sha256.New, keys),
		content: mustTemplate("{timestamp}.{body}"),
		tol:     cfg.Tolerance,
	}, nil
}

func (v *stripeVerifier) Verify(r *Request, now time.Time) (Result, *Error) {
	h := peek(r.Header, "Stripe-Signature")
	if len(h) == 0 {
		return Result{}, reject(CodeMissingSignature, "Stripe-Signature header missing")
	}
	var sigs sigList
	ts, err := parseStripeSignature(h, &sigs)
	if err != nil {
		return Result{}, err
	}
	if err := checkTimestamp(tsUnix, ts, "Stripe-Signature t", now, v.tol); err != nil {
		return Result{}, err
	}
	if !v.keys.match(&sigs, v.content, r, ts) {
		return Result{}, reject(CodeBadSignature, "no v1 in Stripe-Signature matches any of the %d secrets", len(v.keys.pools))
	}
	return Result{}, nil
}

// parseStripeSignature reads t and decodes every v1 into sigs. Like
// Stripe's own libraries it skips unknown keys and undecodable v1
// values, but a pair without "=" makes the whole header malformed.
func parseStripeSignature(h []byte, sigs *sigList) (ts []byte, err *Error) {
	bad := 0
	for len(h) > 0 {
		var pair []byte
		pair, h, _ = bytes.Cut(h, []byte{','})
		k, val, ok := bytes.Cut(pair, []byte{'='})
		if !ok {
			return nil, reject(CodeMalformedSignature, "Stripe-Signature part %q is not key=value", clip(pair))
		}
		switch string(k) {
		case "t":
			if ts != nil {
				return nil, reject(CodeMalformedSignature, "Stripe-Signature has more than one t")
			}
			if _, ok := parseUnix(val); !ok {
				return nil, reject(CodeMalformedSignature, "Stripe-Signature t %q is not unix seconds", clip(val))
			}
			ts = val
		case "v1":
			if !sigs.add(encHex, val, sha256.Size) {
				bad++
			}
		}
	}
	if ts == nil {
		return nil, reject(CodeMissingTimestamp, "Stripe-Signature has no t")
	}
	if sigs.n == 0 {
		if bad > 0 {
			return nil, reject(CodeMalformedSignature, "Stripe-Signature has %d v1 values, none 64 hex digits", bad)
		}
		return nil, reject(CodeMalformedSignature, "Stripe-Signature has no v1 signature")
	}
	return ts, nil
}

func init() {
	register(&Preset{
		Name:             "stripe",
		New:              newStripe,
		DefaultType:      "stripe.{$.type}",
		DefaultID:        "$.id",
		DefaultTolerance: 300 * time.Second,
	})
}
