package verify

import (
	"cmp"
	"fmt"
	"hash"
	"time"
)

// macScheme checks one signature header against the HMAC of a signed
// content template. The generic hmac provider is one built from the
// source's config; github, shopify, slack, zendesk, discourse and
// intercom are fixed ones.
//
// Verify's order of checks: the signature header is present, the
// timestamp header (when the scheme signs one) is present, the signature
// parses, the timestamp is within the tolerance, and last the MACs are
// compared. Nothing before the comparison needs a secret, so a request
// rejected early costs no HMAC.
type macScheme struct {
	header   string // where the signature is
	prefix   string // stripped before decoding, e.g. "sha256="
	enc      encoding
	content  content
	tsHeader string // "" when the scheme signs no timestamp
	tsFormat tsFormat
	tol      time.Duration
	keys     *macKeys
	// replay sets Result.ReplayID to the MAC that matched (for the
	// presets with Preset.UnsignedID).
	replay bool
}

func (s *macScheme) Verify(r *Request, now time.Time) (Result, *Error) {
	v := peek(r.Header, s.header)
	if len(v) == 0 {
		return Result{}, reject(CodeMissingSignature, "%s header missing", s.header)
	}
	var ts []byte
	if s.tsHeader != "" {
		if ts = peek(r.Header, s.tsHeader); len(ts) == 0 {
			return Result{}, reject(CodeMissingTimestamp, "%s header missing", s.tsHeader)
		}
	}
	var sigs sigList
	if !sigs.add(s.enc, trimPrefix(v, s.prefix), s.keys.size) {
		if s.prefix != "" {
			return Result{}, reject(CodeMalformedSignature, "%s is not %q followed by %v of a %d-byte MAC", s.header, s.prefix, s.enc, s.keys.size)
		}
		return Result{}, reject(CodeMalformedSignature, "%s is not %v of a %d-byte MAC", s.header, s.enc, s.keys.size)
	}
	if ts != nil {
		if err := checkTimestamp(s.tsFormat, ts, s.tsHeader, now, s.tol); err != nil {
			return Result{}, err
		}
	}
	var res Result
	var mac []byte
	if s.replay {
		mac = res.ReplayID[:]
	}
	if s.keys.matchInto(func(h hash.Hash) { s.content.write(h, r, ts) }, sigs.contains, mac) < 0 {
		return Result{}, reject(CodeBadSignature, "%s matches none of the %d secrets", s.header, len(s.keys.pools))
	}
	return res, nil
}

// trimPrefix strips prefix and returns nil when v lacks it, which then
// fails to decode as a malformed signature.
func trimPrefix(v []byte, prefix string) []byte {
	if len(v) < len(prefix) || string(v[:len(prefix)]) != prefix {
		return nil
	}
	return v[len(prefix):]
}

func init() {
	register(&Preset{
		Name:             "hmac",
		New:              newHMAC,
		DefaultTolerance: 5 * time.Minute, // used only when hmac.timestamp_header is set
		MinSecret:        MinSecretBytes,
	})
}

// newHMAC builds the generic provider from cfg.HMAC. Algorithm defaults
// to sha256 and encoding to hex, the most common pair.
func newHMAC(cfg Config) (Verifier, error) {
	h := cfg.HMAC
	if h == nil {
		return nil, invalid("hmac: provider hmac needs an hmac section (header, algorithm, encoding, ...)")
	}
	if !validHeaderName(h.Header) {
		return nil, invalid("hmac.header %q is not a header name", h.Header)
	}
	newHash, ok := hashByName(cmp.Or(h.Algorithm, "sha256"))
	if !ok {
		return nil, invalid("hmac.algorithm %q is not one of sha1, sha256, sha512", h.Algorithm)
	}
	enc, ok := encodingByName(cmp.Or(h.Encoding, "hex"))
	if !ok {
		return nil, invalid("hmac.encoding %q is not one of hex, base64", h.Encoding)
	}
	c, err := parseTemplate(h.Template)
	if err != nil {
		return nil, invalid("hmac.template: %s", err)
	}
	signsTS := c.has(partTimestamp)
	switch {
	case signsTS && h.TimestampHeader == "":
		return nil, invalid("hmac.template signs {timestamp} but hmac.timestamp_header is empty")
	case !signsTS && h.TimestampHeader != "":
		// An unsigned timestamp can be rewritten by anyone replaying the
		// request, so checking its age would protect nothing.
		return nil, invalid("hmac.timestamp_header is set but hmac.template does not sign {timestamp}")
	case h.TimestampHeader != "" && !validHeaderName(h.TimestampHeader):
		return nil, invalid("hmac.timestamp_header %q is not a header name", h.TimestampHeader)
	}
	keys, err := secretKeys(cfg)
	if err != nil {
		return nil, err
	}
	return &macScheme{
		header:   h.Header,
		prefix:   h.Prefix,
		enc:      enc,
		content:  c,
		tsHeader: h.TimestampHeader,
		tsFormat: tsUnix,
		tol:      cfg.Tolerance,
		keys:     newMACKeys(newHash, keys),
	}, nil
}

// schemePreset registers a provider whose whole scheme is a fixed
// macScheme, completed with each source's secrets and tolerance.
func schemePreset(p Preset, newHash func() hash.Hash, s macScheme) {
	p.New = func(cfg Config) (Verifier, error) { return fixedScheme(cfg, s, newHash) }
	register(&p)
}

// fixedScheme completes a preset's scheme with cfg's secrets and
// tolerance.
func fixedScheme(cfg Config, s macScheme, newHash func() hash.Hash) (*macScheme, error) {
	keys, err := secretKeys(cfg)
	if err != nil {
		return nil, err
	}
	s.keys = newMACKeys(newHash, keys)
	s.tol = cfg.Tolerance
	return &s, nil
}

// mustTemplate compiles a preset's own template, fixed at build time.
func mustTemplate(tmpl string) content {
	c, err := parseTemplate(tmpl)
	if err != nil {
		panic(fmt.Sprintf("BUG: preset template %q: %s", tmpl, err))
	}
	return c
}

func invalid(format string, args ...any) *Error {
	return &Error{Code: CodeInvalidVerification, Message: fmt.Sprintf(format, args...)}
}
