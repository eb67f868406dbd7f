package httpout

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Signature schemes (SignatureConfig.Scheme, the endpoint's
// "signature.scheme").
const (
	// SchemeStandardWebhooks, the default: webhook-signature
	// "v1,<base64 HMAC-SHA256 of <id>.<ts>.<body>>", keyed by the decoded
	// whsec_ secret.
	SchemeStandardWebhooks = "standard-webhooks"
	// SchemeHMACSHA256: <header>: <prefix><hex or base64 HMAC-SHA256 of the
	// body alone>, keyed by the secret text (GitHub's X-Hub-Signature-256 is
	// header X-Hub-Signature-256, prefix "sha256=", encoding hex).
	SchemeHMACSHA256 = "hmac-sha256"
	// SchemeStripe: <header>: "t=<ts>,v1=<hex HMAC-SHA256 of <ts>.<body>>",
	// keyed by the secret text, as stripe-go's webhook package verifies.
	SchemeStripe = "stripe"
	// SchemeEd25519: Standard Webhooks' asymmetric signatures,
	// webhook-signature "v1a,<base64 Ed25519 of <id>.<ts>.<body>>". The
	// secret is the private key (whsk_); receivers verify with the public
	// key (whpk_, see PublicKey).
	SchemeEd25519 = "ed25519"
	// SchemeNone: no signature header, for receivers that authenticate
	// hookline by auth alone.
	SchemeNone = "none"
)

// SignatureConfig.Encoding values, for scheme hmac-sha256. base64 is the
// standard alphabet with padding (RFC 4648, section 4), as Shopify sends.
const (
	EncodingHex    = "hex"
	EncodingBase64 = "base64"
)

// Default signature headers. hmac-sha256 defaults to a name of hookline's
// own, so that no receiver mistakes it for another provider's format; a
// receiver written for one names that provider's header. stripe defaults to
// Stripe's header, where receivers built on stripe-go read it.
const (
	DefaultHMACHeader   = "X-Hookline-Signature"
	DefaultStripeHeader = "Stripe-Signature"
)

// maxSignaturePrefix bounds signature.prefix ("sha256=", "v0=").
const maxSignaturePrefix = 32

// SignatureConfig is an endpoint's signature scheme; its JSON form is the
// endpoint's "signature" field. The zero value is Standard Webhooks.
//
// Every scheme, none included, keeps webhook-id and webhook-timestamp on
// the request: they cost nothing, receivers use webhook-id to deduplicate,
// and no scheme's own header can take their names (Validate refuses
// webhook-*). Where a scheme signs a timestamp (stripe's t=), it is the
// same value as webhook-timestamp.
type SignatureConfig struct {
	// Scheme is one of the Scheme* constants; "" means standard-webhooks.
	Scheme string `json:"scheme"`
	// Header names the signature header, for hmac-sha256 (default
	// X-Hookline-Signature) and stripe (default Stripe-Signature). The
	// Standard Webhooks schemes always use webhook-signature.
	Header string `json:"header,omitempty"`
	// Prefix goes before an hmac-sha256 signature, e.g. "sha256=". The
	// default is none: "" must be able to mean no prefix.
	Prefix string `json:"prefix,omitempty"`
	// Encoding of an hmac-sha256 signature: hex (default) or base64.
	Encoding string `json:"encoding,omitempty"`
}

// EnsureDefaults fills the empty fields that have a default for c.Scheme.
func (c *SignatureConfig) EnsureDefaults() {
	switch c.Scheme {
	case "":
		c.Scheme = SchemeStandardWebhooks
	case SchemeHMACSHA256:
		if c.Header == "" {
			c.Header = DefaultHMACHeader
		}
		if c.Encoding == "" {
			c.Encoding = EncodingHex
		}
	case SchemeStripe:
		if c.Header == "" {
			c.Header = DefaultStripeHeader
		}
	}
}

// HeaderName is the header the signature goes in, after EnsureDefaults:
// webhook-signature for the Standard Webhooks schemes, "" for none.
func (c *SignatureConfig) HeaderName() string {
	switch c.Scheme {
	case "", SchemeStandardWebhooks, SchemeEd25519:
		return HeaderWebhookSignature
	case SchemeNone:
		return ""
	}
	return c.Header
}

// Validate reports the first problem, naming the field
// ("signature.encoding"). It accepts c with or without EnsureDefaults. A
// field the scheme does not use must be empty: the Standard Webhooks
// formats are fixed by their spec and stripe's by stripe-go, so a header or
// prefix given for them would be silently ignored otherwise.
func (c *SignatureConfig) Validate() error {
	var used string
	switch c.Scheme {
	case "", SchemeStandardWebhooks, SchemeEd25519, SchemeNone:
	case SchemeHMACSHA256:
		used = "header, prefix, encoding"
		if err := checkSignatureHeader(c.Header); err != nil {
			return err
		}
		if len(c.Prefix) > maxSignaturePrefix {
			return fmt.Errorf("signature.prefix is %d bytes long; at most %d are allowed", len(c.Prefix), maxSignaturePrefix)
		}
		// The signature follows the prefix, so a trailing space ("HMAC ")
		// is kept; checked as part of a value, a leading one is refused.
		if err := checkHeaderValue("signature.prefix", c.Prefix+"0"); err != nil {
			return err
		}
		switch c.Encoding {
		case "", EncodingHex, EncodingBase64:
		default:
			return fmt.Errorf("signature.encoding %q is not supported; use hex or base64", c.Encoding)
		}
		return nil
	case SchemeStripe:
		used = "header"
		if err := checkSignatureHeader(c.Header); err != nil {
			return err
		}
	default:
		return fmt.Errorf("signature.scheme %q is not supported; use standard-webhooks, hmac-sha256, stripe, ed25519 or none", c.Scheme)
	}
	scheme := c.Scheme
	if scheme == "" {
		scheme = SchemeStandardWebhooks
	}
	takes := "takes no other field"
	if used != "" {
		takes = "takes only " + used
	}
	for _, f := range [...]struct{ name, v string }{{"header", c.Header}, {"prefix", c.Prefix}, {"encoding", c.Encoding}} {
		if f.v != "" && !strings.Contains(used, f.name) {
			return fmt.Errorf("signature.%s is not used by scheme %s, which %s", f.name, scheme, takes)
		}
	}
	return nil
}

// checkSignatureHeader checks a configured signature.header; "" is the
// default.
func checkSignatureHeader(h string) error {
	if h == "" {
		return nil
	}
	if err := checkHeaderName("signature.header", h); err != nil {
		return err
	}
	if strings.EqualFold(h, "content-type") || strings.EqualFold(h, "user-agent") {
		return fmt.Errorf("signature.header %q is needed for what it names; choose another header", h)
	}
	return nil
}

// Ed25519 key prefixes, from the Standard Webhooks spec ("Signature
// scheme"): whsk_ + standard base64 of the 64-byte private key (seed, then
// public key, as crypto/ed25519 and Svix store it) and whpk_ + standard
// base64 of the 32-byte public key.
const (
	Ed25519SecretPrefix    = "whsk_"
	Ed25519PublicKeyPrefix = "whpk_"
)

// Text secrets (hmac-sha256, stripe, none): the HMAC key is the secret's
// bytes as its owner sees them. 24 characters of a generated secret carry
// well over 128 bits; 256 bytes bound the record without limiting anyone.
const (
	minTextSecretChars = 24
	maxTextSecretBytes = 256
)

// CheckSecret reports whether secret can be the secret of an endpoint with
// scheme ("" means standard-webhooks):
//   - standard-webhooks: whsec_ + base64 of 24..64 bytes (ParseSecret);
//   - ed25519: whsk_ + base64 of an Ed25519 private key;
//   - hmac-sha256, stripe and none: any text of at least 24 characters,
//     valid UTF-8, without control characters or leading or trailing
//     space (none keeps a secret so that it can switch to a signing
//     scheme later).
//
// Errors never quote the secret.
func CheckSecret(scheme, secret string) error {
	switch scheme {
	case "", SchemeStandardWebhooks:
		_, err := ParseSecret(secret)
		return err
	case SchemeEd25519:
		_, err := parseEd25519Secret(secret)
		return err
	case SchemeHMACSHA256, SchemeStripe, SchemeNone:
		return checkTextSecret(secret)
	}
	return fmt.Errorf("signature.scheme %q is not supported; use standard-webhooks, hmac-sha256, stripe, ed25519 or none", scheme)
}

func checkTextSecret(s string) error {
	if len(s) > maxTextSecretBytes {
		return fmt.Errorf("secret is %d bytes long; at most %d are allowed", len(s), maxTextSecretBytes)
	}
	if !utf8.ValidString(s) {
		return fmt.Errorf("secret is not valid UTF-8")
	}
	if n := utf8.RuneCountInString(s); n < minTextSecretChars {
		return fmt.Errorf("secret has %d characters; at least %d are needed", n, minTextSecretChars)
	}
	for i, r := range s {
		if unicode.IsControl(r) {
			return fmt.Errorf("secret has a control character at byte %d", i)
		}
	}
	// A space at either end is lost by copy and paste, and the receiver's
	// key would differ from hookline's without any visible difference.
	if r, _ := utf8.DecodeRuneInString(s); unicode.IsSpace(r) {
		return fmt.Errorf("secret starts with a space")
	}
	if r, _ := utf8.DecodeLastRuneInString(s); unicode.IsSpace(r) {
		return fmt.Errorf("secret ends with a space")
	}
	return nil
}

// parseEd25519Secret decodes whsk_ + base64 of a 64-byte private key whose
// second half is the public key of its first (the seed): a key whose halves
// disagree would sign with one key and show the receiver another.
func parseEd25519Secret(s string) (ed25519.PrivateKey, error) {
	key, err := decodePrefixed(s, Ed25519SecretPrefix, "ed25519 secret")
	if err != nil {
		return nil, err
	}
	if len(key) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("ed25519 secret decodes to %d bytes; want %d (seed and public key)", len(key), ed25519.PrivateKeySize)
	}
	want := ed25519.NewKeyFromSeed(key[:ed25519.SeedSize])
	if subtle.ConstantTimeCompare(want, key) != 1 {
		return nil, fmt.Errorf("ed25519 secret's public key half does not match its seed")
	}
	return want, nil
}

// NewSecretFor returns a random secret for scheme: an Ed25519 private key
// (whsk_) for ed25519, else NewSecret's whsec_ secret, whose whole text is
// the key of the hmac-sha256 and stripe schemes.
func NewSecretFor(scheme string) (string, error) {
	switch scheme {
	case "", SchemeStandardWebhooks, SchemeHMACSHA256, SchemeStripe, SchemeNone:
		return NewSecret()
	case SchemeEd25519:
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return "", fmt.Errorf("cannot generate an ed25519 key: %w", err)
		}
		return Ed25519SecretPrefix + base64.StdEncoding.EncodeToString(priv), nil
	}
	return "", fmt.Errorf("signature.scheme %q is not supported; use standard-webhooks, hmac-sha256, stripe, ed25519 or none", scheme)
}

// PublicKey returns the whpk_ public key of an ed25519 secret, which is what
// the API shows for such an endpoint: receivers verify with it, and the
// private key never leaves hookline.
func PublicKey(secret string) (string, error) {
	priv, err := parseEd25519Secret(secret)
	if err != nil {
		return "", err
	}
	return Ed25519PublicKeyPrefix + base64.StdEncoding.EncodeToString(priv[ed25519.SeedSize:]), nil
}

// NewSignerFor returns a Signer for an endpoint's signature config, its
// secret and its previous secrets (those a rotation replaced that are still
// valid, newest first, as the engine keeps them). Signers are built once
// per endpoint config; Clone makes more for a pool.
//
// How each scheme signs through a rotation's overlap:
//   - standard-webhooks and ed25519: one signature per secret, the current
//     one first ("v1,<a> v1,<b>"). Their previous secrets may be of either
//     kind, whsec_ (signing "v1,") or whsk_ ("v1a,"), as the spec allows
//     both in one header, so a switch between the two schemes keeps an
//     overlap too.
//   - stripe: "t=<ts>,v1=<current>,v1=<previous>...": stripe-go accepts any
//     v1 entry that matches.
//   - hmac-sha256 carries one signature, so one secret signs: the oldest
//     still valid, i.e. the current one only once no previous secret is
//     left. A receiver that has not moved to the new secret keeps working
//     through the overlap, and signatures switch to the new secret when the
//     overlap ends (after each expiry, to the next oldest). The receiver
//     that holds both secrets during the overlap never fails; one that
//     holds a single secret switches at the overlap's end. Signing with the
//     current secret instead would fail every receiver the moment the
//     secret is rotated, making the overlap useless, and a rotation after a
//     leak uses overlap 0, which leaves no previous secret to sign with.
//   - none: no signature; previous secrets are not checked.
//
// A previous secret that the scheme cannot use (a whsk_ key for an HMAC
// scheme: its owner never saw it) is an error naming its position; the
// engine drops previous secrets when the scheme changes outside the
// Standard Webhooks pair.
func NewSignerFor(cfg SignatureConfig, secret string, previous []string) (*Signer, error) {
	cfg.EnsureDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := CheckSecret(cfg.Scheme, secret); err != nil {
		return nil, err
	}
	s := &Signer{header: cfg.HeaderName(), buf: newSignBuf()}
	switch cfg.Scheme {
	case SchemeStandardWebhooks, SchemeEd25519:
		s.format = formatStandard
		// CheckSecret passed the current secret (i == 0), so an error
		// names a previous one, counted from 1.
		for i, sec := range append([]string{secret}, previous...) {
			k, err := standardKey(sec)
			if err != nil {
				return nil, fmt.Errorf("previous secret %d: %w", i, err)
			}
			s.keys = append(s.keys, k)
		}
	case SchemeHMACSHA256, SchemeStripe:
		for i, p := range previous {
			if err := checkTextSecret(p); err != nil {
				return nil, fmt.Errorf("previous secret %d: %w", i+1, err)
			}
			if strings.HasPrefix(p, Ed25519SecretPrefix) {
				return nil, fmt.Errorf("previous secret %d is an ed25519 private key, which the receiver never saw; it cannot key an HMAC", i+1)
			}
		}
		if cfg.Scheme == SchemeStripe {
			s.format = formatStripe
			s.keys = append(s.keys, hmacKey([]byte(secret)))
			for _, p := range previous {
				s.keys = append(s.keys, hmacKey([]byte(p)))
			}
			break
		}
		s.format, s.prefix, s.base64 = formatHMAC, cfg.Prefix, cfg.Encoding == EncodingBase64
		oldest := secret
		if len(previous) > 0 {
			oldest = previous[len(previous)-1]
		}
		s.keys = []signKey{hmacKey([]byte(oldest))}
	case SchemeNone:
		s.format = formatNone
	}
	return s, nil
}

// standardKey parses a Standard Webhooks secret of either kind.
func standardKey(secret string) (signKey, error) {
	if strings.HasPrefix(secret, Ed25519SecretPrefix) {
		ed, err := parseEd25519Secret(secret)
		return signKey{ed: ed}, err
	}
	key, err := ParseSecret(secret)
	if err != nil {
		return signKey{}, err
	}
	return hmacKey(key), nil
}
