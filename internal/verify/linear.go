package verify

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"time"
)

// Linear signs the raw body: Linear-Signature is the hex HMAC-SHA256
// of it under the webhook's signing secret. The timestamp is not in a
// header but in the body (webhookTimestamp, unix milliseconds), so it
// is covered by the signature and read only once the MAC matched.
// Linear asks receivers to allow a minute of skew.
func init() {
	register(&Preset{
		Name:             "linear",
		New:              newLinear,
		DefaultType:      "linear.{$.type}.{$.action}",
		DefaultID:        "header:Linear-Delivery",
		DefaultTolerance: time.Minute,
	})
}

type linearVerifier struct {
	macs *macKeys
	tol  time.Duration
}

func newLinear(cfg Config) (Verifier, error) {
	macs, err := keyedMACsFor(cfg, sha256.New)
	if err != nil {
		return nil, err
	}
	return &linearVerifier{macs: macs, tol: cfg.Tolerance}, nil
}

func (v *linearVerifier) Verify(r *Request, now time.Time) (Result, *Error) {
	sigHex := peek(r.Header, "Linear-Signature")
	if len(sigHex) == 0 {
		return Result{}, reject(CodeMissingSignature, "no Linear-Signature header")
	}
	var sig [sha256.Size]byte
	if len(sigHex) != 2*len(sig) {
		return Result{}, reject(CodeMalformedSignature, "Linear-Signature is %d characters, want 64 hex", len(sigHex))
	}
	if _, err := hex.Decode(sig[:], sigHex); err != nil {
		return Result{}, reject(CodeMalformedSignature, "Linear-Signature is not hex")
	}
	body := r.Body
	if !v.macs.matchWith(func(h hash.Hash) { h.Write(body) }, func(sum []byte) bool { return hmac.Equal(sum, sig[:]) }) {
		return Result{}, reject(CodeBadSignature, "Linear-Signature matches no secret")
	}
	ts, rerr := timestampOf(topLevelValue(body, "webhookTimestamp"), true, "webhookTimestamp in the body")
	if rerr != nil {
		return Result{}, rerr
	}
	if rerr := checkSkew(ts, now, v.tol); rerr != nil {
		return Result{}, rerr
	}
	return Result{}, nil
}

// topLevelValue returns the raw scalar value of key in the top-level
// JSON object body, nil when absent, not an object, or not a scalar.
// It scans without decoding, so a nested "webhookTimestamp" (in data,
// say) is skipped rather than mistaken for Linear's own. It never
// panics on any input (fuzzed).
func topLevelValue(body []byte, key string) []byte {
	i := skipSpace(body, 0)
	if i >= len(body) || body[i] != '{' {
		return nil
	}
	i++
	for {
		i = skipSpace(body, i)
		if i >= len(body) || body[i] != '"' {
			return nil
		}
		end := skipString(body, i)
		if end < 0 {
			return nil
		}
		k := body[i+1 : end-1]
		i = skipSpace(body, end)
		if i >= len(body) || body[i] != ':' {
			return nil
		}
		i = skipSpace(body, i+1)
		vEnd := skipValue(body, i)
		if vEnd < 0 {
			return nil
		}
		if string(k) == key {
			if c := body[i]; c == '{' || c == '[' || c == '"' {
				return nil
			}
			return body[i:vEnd]
		}
		i = skipSpace(body, vEnd)
		if i >= len(body) || body[i] != ',' {
			return nil
		}
		i++
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index just past the string opening at b[i],
// or -1 when it does not close.
func skipString(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return -1
}

// skipValue returns the index just past the value starting at b[i], or
// -1. Brackets are counted, not matched: a wrong nesting is caught by
// the signature, not here, and a bad shape only ends the search.
func skipValue(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for ; i < len(b); i++ {
			switch b[i] {
			case '"':
				end := skipString(b, i)
				if end < 0 {
					return -1
				}
				i = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
		}
		return -1
	default:
		start := i
		for i < len(b) && b[i] != ',' && b[i] != '}' && b[i] != ']' && b[i] != ' ' && b[i] != '\t' && b[i] != '\n' && b[i] != '\r' {
			i++
		}
		if i == start {
			return -1
		}
		return i
	}
}
