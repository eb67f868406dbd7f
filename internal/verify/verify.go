// Package verify owns the signature checks of inbound webhooks: one
// verifier per provider preset (stripe, github, slack, ...) plus the
// configurable hmac, basic, api-key and none. A verifier is built once
// from a source's config (New checks it) and then checks requests
// without allocating on success; every rejection carries a stable code.
// It knows nothing of tenants, storage or HTTP servers.
package verify

import (
	"fmt"
	"sort"
	"time"
)

// Peeker reads one header or query parameter by name, nil when absent.
// fasthttp's RequestHeader and Args satisfy it; header lookups are
// case-insensitive.
type Peeker interface {
	Peek(key string) []byte
}

// Request is what a verifier sees of an inbound request.
type Request struct {
	// URL is the URL the provider called, as it would have seen it
	// (scheme://host/path?query); twilio signs it.
	URL    []byte
	Header Peeker
	Query  Peeker
	Body   []byte
}

// Config is a source's verification settings, from its JSON.
type Config struct {
	Provider string `json:"provider"`
	// Secrets are the accepted secrets, current first; during a rotation
	// overlap the previous one follows. Their form is the provider's
	// (whsec_… for standard-webhooks, a PEM or base64 public key for
	// sendgrid, user:password for basic).
	Secrets []string `json:"-"`
	// Tolerance bounds the age (and future skew) of a signed timestamp;
	// 0 means the provider's default (5 minutes unless it documents
	// another).
	Tolerance time.Duration `json:"-"`
	// HMAC configures the generic hmac provider.
	HMAC *HMACConfig `json:"hmac,omitempty"`
	// APIKey configures the api-key provider: where the key travels.
	APIKey *APIKeyConfig `json:"api_key,omitempty"`
	// GitHub holds the github provider's options (github.go).
	GitHub *GitHubOptions `json:"github,omitempty"`
	// VerifyToken is what a provider with a subscription handshake
	// (Preset.Handshake: meta, whatsapp) must present before it sends
	// events; the operator types it into the provider's dashboard.
	VerifyToken string `json:"-"`
}

// HMACConfig is the generic hmac provider's scheme.
type HMACConfig struct {
	Header    string `json:"header"`    // where the signature is
	Algorithm string `json:"algorithm"` // sha1, sha256 (""), sha512
	Encoding  string `json:"encoding"`  // hex (""), base64
	Prefix    string `json:"prefix"`    // e.g. "sha256=", stripped before decoding
	// Template is the signed content: {body}, {timestamp} and
	// {header:Name} are replaced; "" means the body alone.
	Template string `json:"template"`
	// TimestampHeader holds unix seconds and enables the tolerance check;
	// the template must then sign {timestamp}, or the check would guard
	// nothing.
	TimestampHeader string `json:"timestamp_header"`
}

// APIKeyConfig says where the api-key provider finds the key.
type APIKeyConfig struct {
	Header string `json:"header"` // e.g. X-Api-Key
	Query  string `json:"query"`  // or a query parameter
}

// Result is what a verified request tells beyond "valid".
type Result struct {
	// Challenge, when set, is the whole answer the provider expects
	// instead of an event (slack's url_verification), with its content
	// type.
	Challenge            []byte
	ChallengeContentType string
	// ReplayID is set by the presets with UnsignedID: it names what the
	// signature covered, as the MAC that verified the request (for
	// github the HMAC-SHA256 of the body, also when the legacy SHA-1
	// header verified it; for twilio the 20-byte HMAC-SHA1, zero-padded).
	// Every spelling of one signed request has the same ReplayID (the
	// signature's hex in either case, a twilio form's parameters in any
	// order or encoding), and without the secret no other content can
	// have it; the same content signed with another secret has another.
	// Zero for the other presets.
	ReplayID [32]byte
}

// Rejection codes: stable, shown to the sender in 401 answers and in the
// inbound log.
const (
	CodeMissingSignature   = "missing_signature"   // no signature header (or credentials)
	CodeMalformedSignature = "malformed_signature" // present but not parseable
	CodeBadSignature       = "bad_signature"       // parsed, matches no secret
	CodeMissingTimestamp   = "missing_timestamp"   // the scheme signs a timestamp and none came
	CodeStaleTimestamp     = "stale_timestamp"     // outside the tolerance
	CodeBadCredentials     = "bad_credentials"     // basic or api-key did not match
	CodeBadVerifyToken     = "bad_verify_token"    // a handshake's token is missing or wrong (403)
	CodeInvalidHandshake   = "invalid_handshake"   // a handshake without its mode or challenge (400)
)

// Error is a rejected request or an invalid config: Code is stable,
// Message is for people and never holds a secret.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

func reject(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Verifier checks one source's requests. Safe for concurrent use.
type Verifier interface {
	// Verify checks r at time now. Comparisons run in constant time.
	Verify(r *Request, now time.Time) (Result, *Error)
}

// Handshaker is a Verifier whose provider checks a URL with a GET before
// it sends events there (Meta's hub.challenge): Handshake answers the
// GET's query with the body to send back, or a rejection whose code is
// CodeBadVerifyToken or CodeInvalidHandshake.
type Handshaker interface {
	Handshake(q Peeker) ([]byte, *Error)
}

// Preset describes one provider: how to build its verifier and the
// mapping a source of it starts with.
type Preset struct {
	Name string
	// New checks cfg (invalid config: an *Error with code invalid_secret
	// or invalid_verification naming the field) and builds the verifier.
	New func(cfg Config) (Verifier, error)
	// DefaultType is the event type template of a source that names no
	// mapping ("stripe.{$.type}", "github.{header:X-GitHub-Event}.{$.action}"),
	// and DefaultID where the provider's own delivery id is for dedupe
	// ("$.id", "header:X-GitHub-Delivery"; "" when the provider has none).
	DefaultType string
	DefaultID   string
	// DefaultTolerance is the timestamp tolerance when the source names
	// none; 0 when the scheme signs no timestamp.
	DefaultTolerance time.Duration
	// MinSecret is the least length in bytes of a secret given for a new
	// source or a rotation (CheckNewSecret), for a provider whose secret
	// the operator invents; 0 where the provider issues it in its own
	// format.
	MinSecret int
	// UnsignedID says that DefaultID is a header the signature does not
	// cover and that nothing signed carries a time (github, shopify,
	// discourse, twilio): anyone holding one signed request can send it
	// again under a new id, for ever. Such a preset's verifier sets
	// Result.ReplayID, on which the receiver dedupes as well.
	UnsignedID bool
	// HashWithoutID says that a request whose DefaultID is absent is
	// deduped on its body, as a preset without a DefaultID is (meta: a
	// status update carries no message id of its own).
	HashWithoutID bool
	// Handshake says the verifier is a Handshaker and a source needs a
	// verify token (Config.VerifyToken).
	Handshake bool
}

var presets = map[string]*Preset{}

// register adds a preset; each provider's file calls it from init.
func register(p *Preset) {
	if presets[p.Name] != nil {
		panic("verify: preset " + p.Name + " registered twice")
	}
	presets[p.Name] = p
}

// Lookup returns the preset named name.
func Lookup(name string) (*Preset, bool) {
	p, ok := presets[name]
	return p, ok
}

// Names lists the presets, sorted, for error messages and docs.
func Names() []string {
	out := make([]string, 0, len(presets))
	for n := range presets {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// New builds the verifier of cfg.Provider.
func New(cfg Config) (Verifier, error) {
	p, ok := presets[cfg.Provider]
	if !ok {
		return nil, &Error{Code: "invalid_provider", Message: fmt.Sprintf("provider %q is not one of %v", cfg.Provider, Names())}
	}
	if cfg.Tolerance == 0 {
		cfg.Tolerance = p.DefaultTolerance
	}
	return p.New(cfg)
}
