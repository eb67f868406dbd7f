package verify

import (
	"crypto/sha1"
	"crypto/sha256"
	"hash"
	"time"
)

// GitHubOptions are the github provider's settings.
type GitHubOptions struct {
	// AllowSHA1 accepts the legacy X-Hub-Signature ("sha1=" hex HMAC-SHA1)
	// when a request has no X-Hub-Signature-256. GitHub still sends both;
	// only a sender that signs SHA-1 alone (an old GitHub Enterprise
	// Server) needs it, so it is off unless a source opts in.
	AllowSHA1 bool `json:"allow_sha1"`
}

// github: X-Hub-Signature-256 is "sha256=" and the hex HMAC-SHA256 of
// the body under the webhook's secret. Nothing is timestamped and
// X-GitHub-Delivery is not signed: Result.ReplayID, the HMAC-SHA256 of
// the body, lets the receiver catch a replay under a new delivery id,
// also one that kept only the legacy SHA-1 header of a captured request.
type githubVerifier struct {
	sha256 *macScheme
	sha1   *macScheme // nil unless AllowSHA1
}

func newGitHub(cfg Config) (Verifier, error) {
	v := &githubVerifier{}
	var err error
	v.sha256, err = fixedScheme(cfg, macScheme{
		header:  "X-Hub-Signature-256",
		prefix:  "sha256=",
		enc:     encHex,
		content: mustTemplate("{body}"),
		replay:  true,
	}, sha256.New)
	if err != nil {
		return nil, err
	}
	if cfg.GitHub != nil && cfg.GitHub.AllowSHA1 {
		v.sha1, err = fixedScheme(cfg, macScheme{
			header:  "X-Hub-Signature",
			prefix:  "sha1=",
			enc:     encHex,
			content: mustTemplate("{body}"),
		}, sha1.New)
		if err != nil {
			return nil, err
		}
	}
	return v, nil
}

func (v *githubVerifier) Verify(r *Request, now time.Time) (Result, *Error) {
	// A present X-Hub-Signature-256 is always the one checked: a bad one
	// is never rescued by a good SHA-1. With neither header, the SHA-256
	// check names the header that is missing.
	if len(peek(r.Header, "X-Hub-Signature-256")) > 0 || len(peek(r.Header, "X-Hub-Signature")) == 0 {
		return v.sha256.Verify(r, now)
	}
	if v.sha1 == nil {
		return Result{}, reject(CodeMissingSignature, "X-Hub-Signature-256 header missing; the legacy X-Hub-Signature (sha1) counts only with github.allow_sha1")
	}
	return v.verifySHA1(r)
}

// verifySHA1 checks the legacy header alone. Its ReplayID is the one the
// SHA-256 header would have given, under the secret that matched (both
// schemes hold the secrets in the same order): a captured request that
// carried both cannot become a new delivery by dropping the SHA-256 one.
func (v *githubVerifier) verifySHA1(r *Request) (Result, *Error) {
	s := v.sha1
	var sigs sigList
	if !sigs.add(s.enc, trimPrefix(peek(r.Header, s.header), s.prefix), s.keys.size) {
		return Result{}, reject(CodeMalformedSignature, "%s is not %q followed by %v of a %d-byte MAC", s.header, s.prefix, s.enc, s.keys.size)
	}
	write := func(h hash.Hash) { h.Write(r.Body) }
	i := s.keys.matchInto(write, sigs.contains, nil)
	if i < 0 {
		return Result{}, reject(CodeBadSignature, "%s matches none of the %d secrets", s.header, len(s.keys.pools))
	}
	var res Result
	v.sha256.keys.sumInto(i, write, res.ReplayID[:])
	return res, nil
}

func init() {
	register(&Preset{
		Name: "github",
		New:  newGitHub,
		// Events such as push and ping have no action: {$.action} is then
		// empty, and the mapping is expected to drop an empty trailing part
		// with its dot ("github.push"), not to fail nor to yield
		// "github.push.".
		DefaultType: "github.{header:X-GitHub-Event}.{$.action}",
		DefaultID:   "header:X-GitHub-Delivery",
		UnsignedID:  true,
	})
}
