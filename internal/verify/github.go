package verify

import (
	"crypto/sha1"
	"crypto/sha256"
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
// the body under the webhook's secret. Nothing is timestamped; replays
// are caught only by the dedupe on X-GitHub-Delivery.
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
	return v.sha1.Verify(r, now)
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
	})
}
