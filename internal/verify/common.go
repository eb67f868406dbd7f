package verify

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash"
	"strings"
	"sync"
	"time"
)

// Config error codes: New answers them with a message naming the field.
const (
	CodeInvalidSecret       = "invalid_secret"
	CodeInvalidVerification = "invalid_verification"
)

// maxSigs bounds the signatures one header may carry; providers send two
// during a rotation, so extras beyond this are ignored rather than refused.
const maxSigs = 8

// peek is Peeker.Peek that tolerates a request without headers or query.
func peek(p Peeker, name string) []byte {
	if p == nil {
		return nil
	}
	return p.Peek(name)
}

// secretKeys checks what every preset's config shares (at least one
// secret, none empty, a tolerance not negative) and returns the secrets
// as keys, current first.
func secretKeys(cfg Config) ([][]byte, error) {
	if cfg.Tolerance < 0 {
		return nil, &Error{Code: CodeInvalidVerification, Message: fmt.Sprintf("tolerance %v is negative", cfg.Tolerance)}
	}
	if len(cfg.Secrets) == 0 {
		return nil, &Error{Code: CodeInvalidSecret, Message: fmt.Sprintf("secrets: provider %q needs at least one secret", cfg.Provider)}
	}
	keys := make([][]byte, len(cfg.Secrets))
	for i, s := range cfg.Secrets {
		if s == "" {
			return nil, &Error{Code: CodeInvalidSecret, Message: fmt.Sprintf("secrets[%d] is empty", i)}
		}
		keys[i] = []byte(s)
	}
	return keys, nil
}

// hashByName maps the algorithm names of the hmac provider's config.
func hashByName(name string) (func() hash.Hash, bool) {
	switch name {
	case "sha1":
		return sha1.New, true
	case "sha256":
		return sha256.New, true
	case "sha512":
		return sha512.New, true
	}
	return nil, false
}

// macKeys computes the HMAC under each secret, current first. hmac.New
// allocates and precomputes the padded key, so each secret keeps a pool
// of ready MACs (with room for the sum) and Verify allocates nothing.
type macKeys struct {
	size  int
	pools []sync.Pool // of *macState, one per secret
}

type macState struct {
	h   hash.Hash
	sum [sha512.Size]byte
}

func newMACKeys(newHash func() hash.Hash, keys [][]byte) *macKeys {
	k := &macKeys{size: newHash().Size(), pools: make([]sync.Pool, len(keys))}
	for i, key := range keys {
		k.pools[i].New = func() any { return &macState{h: hmac.New(newHash, key)} }
	}
	return k
}

// match reports whether the MAC of c under any secret equals one of
// sigs. Trying every secret lets a rotation overlap accept both.
func (k *macKeys) match(sigs *sigList, c content, r *Request, ts []byte) bool {
	return k.matchWith(func(h hash.Hash) { c.write(h, r, ts) }, sigs.contains)
}

// matchWith reports whether, for some secret, equal accepts the MAC of
// what write writes: for schemes whose signed content or signature list
// is not a template and a sigList. equal must compare in constant time.
func (k *macKeys) matchWith(write func(h hash.Hash), equal func(sum []byte) bool) bool {
	return k.matchInto(write, equal, nil) >= 0
}

// matchInto is matchWith that returns the index of the secret that
// matched (current first), -1 for none, and copies the MAC that matched
// to the start of mac when mac is not nil.
func (k *macKeys) matchInto(write func(h hash.Hash), equal func(sum []byte) bool, mac []byte) int {
	for i := range k.pools {
		s := k.pools[i].Get().(*macState)
		s.h.Reset()
		write(s.h)
		sum := s.h.Sum(s.sum[:0])
		ok := equal(sum)
		if ok {
			copy(mac, sum)
		}
		k.pools[i].Put(s)
		if ok {
			return i
		}
	}
	return -1
}

// sumInto copies to the start of mac the MAC, under secret i, of what
// write writes.
func (k *macKeys) sumInto(i int, write func(h hash.Hash), mac []byte) {
	s := k.pools[i].Get().(*macState)
	s.h.Reset()
	write(s.h)
	copy(mac, s.h.Sum(s.sum[:0]))
	k.pools[i].Put(s)
}

// encoding is how a signature travels in its header.
type encoding uint8

const (
	encHex encoding = iota
	encBase64
)

func encodingByName(name string) (encoding, bool) {
	switch name {
	case "hex":
		return encHex, true
	case "base64":
		return encBase64, true
	}
	return 0, false
}

func (e encoding) String() string {
	if e == encBase64 {
		return "base64"
	}
	return "hex"
}

// strictBase64 refuses set padding bits, so each MAC has one spelling
// (the one every provider sends).
var strictBase64 = base64.StdEncoding.Strict()

// sigList holds the decoded signatures of one request. It lives on the
// caller's stack: decoding into it costs no allocation.
type sigList struct {
	n    int
	size [maxSigs]uint8
	buf  [maxSigs][sha512.Size]byte
}

// add decodes src, which must be the encoding of exactly size bytes.
// Beyond maxSigs it reports success and keeps nothing.
func (l *sigList) add(enc encoding, src []byte, size int) bool {
	if size > sha512.Size {
		panic(fmt.Sprintf("BUG: MAC size %d exceeds %d", size, sha512.Size))
	}
	if l.n == maxSigs {
		return true
	}
	dst := l.buf[l.n][:]
	switch enc {
	case encHex:
		if len(src) != hex.EncodedLen(size) {
			return false
		}
		if _, err := hex.Decode(dst, src); err != nil {
			return false
		}
	case encBase64:
		if len(src) != base64.StdEncoding.EncodedLen(size) {
			return false
		}
		if n, err := strictBase64.Decode(dst, src); err != nil || n != size {
			return false
		}
	}
	l.size[l.n] = uint8(size)
	l.n++
	return true
}

func (l *sigList) contains(sum []byte) bool {
	found := 0
	for i := 0; i < l.n; i++ {
		found |= subtle.ConstantTimeCompare(l.buf[i][:l.size[i]], sum)
	}
	return found == 1
}

// content is a compiled signed-content template: the bytes a provider
// feeds its HMAC, in order. Every HMAC preset is one of these.
type content []part

type partKind uint8

const (
	partLiteral partKind = iota
	partBody
	partTimestamp
	partHeader
)

type part struct {
	kind partKind
	lit  []byte // partLiteral; kept as bytes so writing it allocates nothing
	name string // partHeader
}

// parseTemplate compiles a template of literal text and the placeholders
// {body}, {timestamp} and {header:Name}; "" signs the body alone. A "{"
// that opens no known placeholder is an error rather than literal text,
// so a typo cannot silently sign the wrong bytes.
func parseTemplate(tmpl string) (content, error) {
	if tmpl == "" {
		return content{{kind: partBody}}, nil
	}
	var c content
	lit := func(s string) {
		if s != "" {
			c = append(c, part{kind: partLiteral, lit: []byte(s)})
		}
	}
	for tmpl != "" {
		i := strings.IndexByte(tmpl, '{')
		if i < 0 {
			lit(tmpl)
			break
		}
		lit(tmpl[:i])
		tmpl = tmpl[i:]
		j := strings.IndexByte(tmpl, '}')
		if j < 0 {
			return nil, fmt.Errorf("unclosed %q", tmpl)
		}
		ph := tmpl[1:j]
		switch {
		case ph == "body":
			c = append(c, part{kind: partBody})
		case ph == "timestamp":
			c = append(c, part{kind: partTimestamp})
		case strings.HasPrefix(ph, "header:"):
			name := ph[len("header:"):]
			if !validHeaderName(name) {
				return nil, fmt.Errorf("{header:%s} does not name a header", name)
			}
			c = append(c, part{kind: partHeader, name: name})
		default:
			return nil, fmt.Errorf("unknown placeholder {%s}; use {body}, {timestamp} or {header:Name}", ph)
		}
		tmpl = tmpl[j+1:]
	}
	return c, nil
}

// validHeaderName accepts RFC 9110 token characters.
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			continue
		}
		if !strings.ContainsRune("!#$%&'*+-.^_`|~", rune(c)) {
			return false
		}
	}
	return true
}

func (c content) has(kind partKind) bool {
	for _, p := range c {
		if p.kind == kind {
			return true
		}
	}
	return false
}

// String gives back the template c was compiled from.
func (c content) String() string {
	var b strings.Builder
	for _, p := range c {
		switch p.kind {
		case partLiteral:
			b.Write(p.lit)
		case partBody:
			b.WriteString("{body}")
		case partTimestamp:
			b.WriteString("{timestamp}")
		case partHeader:
			b.WriteString("{header:" + p.name + "}")
		}
	}
	return b.String()
}

func (c content) write(h hash.Hash, r *Request, ts []byte) {
	for i := range c {
		switch p := &c[i]; p.kind {
		case partLiteral:
			h.Write(p.lit)
		case partBody:
			h.Write(r.Body)
		case partTimestamp:
			h.Write(ts)
		case partHeader:
			h.Write(peek(r.Header, p.name))
		}
	}
}

// tsFormat is how a provider writes its signed timestamp.
type tsFormat uint8

const (
	tsUnix    tsFormat = iota // decimal seconds since the epoch
	tsRFC3339                 // 2021-03-25T05:09:27Z (zendesk)
)

// parseUnix reads a decimal timestamp (seconds, or milliseconds for the
// providers that send those). It works on the header's bytes so the
// success path converts nothing to a string; 18 digits cannot overflow.
func parseUnix(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

func parseTimestamp(f tsFormat, b []byte) (time.Time, bool) {
	if f == tsRFC3339 {
		t, err := time.Parse(time.RFC3339, string(b))
		return t, err == nil
	}
	n, ok := parseUnix(b)
	return time.Unix(n, 0), ok
}

// checkTimestamp parses the signed timestamp from the header name and
// refuses it beyond tol either way: a clock far in the future is as
// suspect as a replay. tol 0 disables the check, as in checkSkew.
func checkTimestamp(f tsFormat, b []byte, name string, now time.Time, tol time.Duration) *Error {
	t, ok := parseTimestamp(f, b)
	if !ok {
		return reject(CodeMalformedSignature, "%s %q is not a timestamp", name, clip(b))
	}
	if tol <= 0 {
		return nil
	}
	if d := now.Sub(t); d > tol || d < -tol {
		return reject(CodeStaleTimestamp, "%s is %v from now, beyond the tolerance of %v", name, d.Round(time.Second), tol)
	}
	return nil
}

// clip bounds what a rejection echoes of a sender's header.
func clip(b []byte) string {
	const max = 40
	if len(b) > max {
		return string(b[:max]) + "..."
	}
	return string(b)
}

// keyedMACsFor checks cfg's secrets and tolerance and pools HMAC
// states keyed with them.
func keyedMACsFor(cfg Config, newHash func() hash.Hash) (*macKeys, error) {
	keys, err := secretKeys(cfg)
	if err != nil {
		return nil, err
	}
	return newMACKeys(newHash, keys), nil
}

// checkSkew rejects a signed timestamp farther than tol from now in
// either direction: a future one means a skewed clock or a forged
// header, and either way the window bounds replays. tol 0 disables.
func checkSkew(signed, now time.Time, tol time.Duration) *Error {
	if tol <= 0 {
		return nil
	}
	d := now.Sub(signed)
	if d > tol || d < -tol {
		return reject(CodeStaleTimestamp, "signed at %s, %s from now, beyond the tolerance of %s", signed.UTC().Format(time.RFC3339), d.Round(time.Second), tol)
	}
	return nil
}

// timestampOf parses a signed unix timestamp (seconds, or milliseconds
// when ms), rejecting a missing or unparseable one with the right code.
func timestampOf(v []byte, ms bool, what string) (time.Time, *Error) {
	if len(v) == 0 {
		return time.Time{}, reject(CodeMissingTimestamp, "no %s", what)
	}
	n, ok := parseUnix(v)
	if !ok {
		return time.Time{}, reject(CodeMalformedSignature, "%s is not a unix timestamp", what)
	}
	if ms {
		return time.UnixMilli(n), nil
	}
	return time.Unix(n, 0), nil
}
