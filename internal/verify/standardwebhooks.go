package verify

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"
	"time"
)

// standard-webhooks (and svix, which wrote the spec and names its
// headers svix-*): webhook-signature is a space-separated list of
// "v1,<base64>", each the HMAC-SHA256 of "<webhook-id>.<webhook-timestamp>.<body>"
// under the base64 key after "whsec_". A sender lists several during a
// key rotation; "v1a," (ed25519) and other versions are skipped. The
// spec's window is five minutes.
type standardWebhooks struct {
	idHeader, tsHeader, sigHeader string
	keys                          *macKeys
	content                       content
	tol                           time.Duration
}

func newStandardWebhooks(prefix string) func(cfg Config) (Verifier, error) {
	return func(cfg Config) (Verifier, error) {
		raw, err := secretKeys(cfg)
		if err != nil {
			return nil, err
		}
		keys := make([][]byte, len(raw))
		for i, s := range cfg.Secrets {
			// The official libraries accept the key with or without whsec_.
			k, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(s, "whsec_"))
			if err != nil || len(k) == 0 {
				return nil, &Error{Code: CodeInvalidSecret, Message: fmt.Sprintf("secrets[%d] is not whsec_ followed by base64", i)}
			}
			keys[i] = k
		}
		id := prefix + "-id"
		return &standardWebhooks{
			idHeader:  id,
			tsHeader:  prefix + "-timestamp",
			sigHeader: prefix + "-signature",
			keys:      newMACKeys(sha256.New, keys),
			content:   mustTemplate("{header:" + id + "}.{timestamp}.{body}"),
			tol:       cfg.Tolerance,
		}, nil
	}
}

func (v *standardWebhooks) Verify(r *Request, now time.Time) (Result, *Error) {
	h := peek(r.Header, v.sigHeader)
	if len(h) == 0 {
		return Result{}, reject(CodeMissingSignature, "%s header missing", v.sigHeader)
	}
	// The id is signed: without it no MAC can match, so say why.
	if len(peek(r.Header, v.idHeader)) == 0 {
		return Result{}, reject(CodeMissingSignature, "%s header missing", v.idHeader)
	}
	ts := peek(r.Header, v.tsHeader)
	if len(ts) == 0 {
		return Result{}, reject(CodeMissingTimestamp, "%s header missing", v.tsHeader)
	}
	var sigs sigList
	if err := parseSignatureList(h, v.sigHeader, &sigs); err != nil {
		return Result{}, err
	}
	if err := checkTimestamp(tsUnix, ts, v.tsHeader, now, v.tol); err != nil {
		return Result{}, err
	}
	if !v.keys.match(&sigs, v.content, r, ts) {
		return Result{}, reject(CodeBadSignature, "no v1 in %s matches any of the %d secrets", v.sigHeader, len(v.keys.pools))
	}
	return Result{}, nil
}

// parseSignatureList decodes every "v1,<base64>" of a space-separated
// list into sigs. Entries of other versions are skipped, as the spec
// asks; a v1 that is not base64 of 32 bytes makes the header malformed.
func parseSignatureList(h []byte, name string, sigs *sigList) *Error {
	for len(h) > 0 {
		var entry []byte
		entry, h, _ = bytes.Cut(h, []byte{' '})
		if len(entry) == 0 {
			continue // doubled spaces
		}
		version, sig, ok := bytes.Cut(entry, []byte{','})
		if !ok {
			return reject(CodeMalformedSignature, "%s entry %q is not version,signature", name, clip(entry))
		}
		if string(version) != "v1" {
			continue
		}
		if !sigs.add(encBase64, sig, sha256.Size) {
			return reject(CodeMalformedSignature, "%s v1 %q is not base64 of 32 bytes", name, clip(sig))
		}
	}
	if sigs.n == 0 {
		return reject(CodeMalformedSignature, "%s has no v1 signature", name)
	}
	return nil
}

func init() {
	register(&Preset{
		Name:             "standard-webhooks",
		New:              newStandardWebhooks("webhook"),
		DefaultType:      "{$.type}",
		DefaultID:        "header:webhook-id",
		DefaultTolerance: 5 * time.Minute,
	})
	// svix's libraries fall back to webhook-* headers when svix-* are
	// absent; here a sender of webhook-* headers is standard-webhooks, so
	// DefaultID always names the header that was checked.
	register(&Preset{
		Name:             "svix",
		New:              newStandardWebhooks("svix"),
		DefaultType:      "{$.type}",
		DefaultID:        "header:svix-id",
		DefaultTolerance: 5 * time.Minute,
	})
}
