package verify

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"hash"
	"time"
)

// Signed headers that carry a timestamp and one or more MACs in one value
// (paddle's "ts=…;h1=…", calendly's "t=…,v1=…"), and the stamped-hex
// scheme built on them.

// maxHeaderSigs bounds the signatures one header may carry: providers send
// one, or two during their own secret rotation; more is an attempt to
// make us hash the body once per entry.
const maxHeaderSigs = 8

// signedHeader is a parsed "ts=…;h1=…" (paddle) or "t=…,v1=…"
// (calendly) header: the timestamp and the hex SHA-256 MACs, decoded
// in place so parsing allocates nothing.
type signedHeader struct {
	ts   []byte
	n    int
	sigs [maxHeaderSigs][32]byte
}

// parseSignedHeader reads sep-separated key=value pairs, taking tsKey
// once and sigKey one or more times; other keys (a future scheme) are
// skipped. It never panics on any input (fuzzed).
func parseSignedHeader(v []byte, sep byte, tsKey, sigKey string, out *signedHeader) *Error {
	out.ts, out.n = nil, 0
	for len(v) > 0 {
		var part []byte
		part, v = cutByte(v, sep)
		part = bytes.Trim(part, " \t")
		if len(part) == 0 {
			continue
		}
		key, val := cutByte(part, '=')
		if len(key) == len(part) {
			return reject(CodeMalformedSignature, "entry without '=' in the signature header")
		}
		switch string(key) {
		case tsKey:
			if out.ts != nil {
				return reject(CodeMalformedSignature, "%s given twice", tsKey)
			}
			out.ts = val
		case sigKey:
			if out.n == maxHeaderSigs {
				return reject(CodeMalformedSignature, "more than %d %s signatures", maxHeaderSigs, sigKey)
			}
			if len(val) != 64 {
				return reject(CodeMalformedSignature, "%s is %d characters, want 64 hex", sigKey, len(val))
			}
			if _, err := hex.Decode(out.sigs[out.n][:], val); err != nil {
				return reject(CodeMalformedSignature, "%s is not hex", sigKey)
			}
			out.n++
		}
	}
	if out.ts == nil {
		return reject(CodeMalformedSignature, "no %s= in the signature header", tsKey)
	}
	if out.n == 0 {
		return reject(CodeMalformedSignature, "no %s= in the signature header", sigKey)
	}
	return nil
}

// matchAny compares sum with each signature in constant time.
func (s *signedHeader) matchAny(sum []byte) bool {
	ok := false
	for i := 0; i < s.n; i++ {
		// No early exit: which entry matched stays out of the timing.
		if hmac.Equal(sum, s.sigs[i][:]) {
			ok = true
		}
	}
	return ok
}

func cutByte(b []byte, sep byte) (before, after []byte) {
	for i, c := range b {
		if c == sep {
			return b[:i], b[i+1:]
		}
	}
	return b, nil
}

// stampedHex is the scheme paddle and calendly share with stripe's
// shape: one header carries a unix-seconds timestamp and one or more
// hex HMAC-SHA256 signatures of timestamp + joiner + body.
type stampedHex struct {
	header        string
	sep           byte   // between the header's entries
	tsKey, sigKey string // "ts"/"h1", "t"/"v1"
	joiner        []byte // between timestamp and body in the signed content
	tsWhat        string // the timestamp's name in messages
	macs          *macKeys
	tol           time.Duration
}

func newStampedHex(cfg Config, header string, sep byte, tsKey, sigKey string, joiner byte) (Verifier, error) {
	macs, err := keyedMACsFor(cfg, sha256.New)
	if err != nil {
		return nil, err
	}
	return &stampedHex{
		header: header, sep: sep, tsKey: tsKey, sigKey: sigKey,
		joiner: []byte{joiner},
		tsWhat: header + " " + tsKey,
		macs:   macs,
		tol:    cfg.Tolerance,
	}, nil
}

func (v *stampedHex) Verify(r *Request, now time.Time) (Result, *Error) {
	hv := peek(r.Header, v.header)
	if len(hv) == 0 {
		return Result{}, reject(CodeMissingSignature, "no %s header", v.header)
	}
	var sh signedHeader
	if rerr := parseSignedHeader(hv, v.sep, v.tsKey, v.sigKey, &sh); rerr != nil {
		return Result{}, rerr
	}
	ts, rerr := timestampOf(sh.ts, false, v.tsWhat)
	if rerr != nil {
		return Result{}, rerr
	}
	if rerr := checkSkew(ts, now, v.tol); rerr != nil {
		return Result{}, rerr
	}
	body, joiner := r.Body, v.joiner
	write := func(h hash.Hash) {
		h.Write(sh.ts)
		h.Write(joiner)
		h.Write(body)
	}
	if !v.macs.matchWith(write, sh.matchAny) {
		return Result{}, reject(CodeBadSignature, "%s matches no secret", v.header)
	}
	return Result{}, nil
}

// readBase64Sig reads header name, after prefix, as a standard-base64
// signature of exactly len(dst) bytes, decoded into dst (on the
// caller's stack).
func readBase64Sig(r *Request, name string, prefix, dst []byte) *Error {
	src := peek(r.Header, name)
	if len(src) == 0 {
		return reject(CodeMissingSignature, "no %s header", name)
	}
	if !bytes.HasPrefix(src, prefix) {
		return reject(CodeMalformedSignature, "%s does not start with %s", name, prefix)
	}
	src = src[len(prefix):]
	if base64.StdEncoding.EncodedLen(len(dst)) != len(src) {
		return reject(CodeMalformedSignature, "%s is %d characters, want %d of base64", name, len(src), base64.StdEncoding.EncodedLen(len(dst)))
	}
	if n, err := base64.StdEncoding.Decode(dst, src); err != nil || n != len(dst) {
		return reject(CodeMalformedSignature, "%s is not base64", name)
	}
	return nil
}
