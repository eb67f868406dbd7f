package verify

import (
	"crypto/sha256"
	"fmt"
	"time"
)

// api-key: a shared key in a header or a query parameter (Config.APIKey)
// compared with the secrets. The key is the whole header value: a
// provider that sends "Bearer <key>" has the secret "Bearer <key>".
type apiKeyVerifier struct {
	header, query string
	sums          [][sha256.Size]byte
}

func newAPIKey(cfg Config) (Verifier, error) {
	a := cfg.APIKey
	if a == nil || a.Header == "" && a.Query == "" {
		return nil, invalid("api_key: provider api-key needs api_key.header or api_key.query")
	}
	if a.Header != "" && !validHeaderName(a.Header) {
		return nil, invalid("api_key.header %q is not a header name", a.Header)
	}
	keys, err := secretKeys(cfg)
	if err != nil {
		return nil, err
	}
	v := &apiKeyVerifier{header: a.Header, query: a.Query, sums: make([][sha256.Size]byte, len(keys))}
	for i, k := range keys {
		v.sums[i] = sha256.Sum256(k)
	}
	return v, nil
}

func (v *apiKeyVerifier) Verify(r *Request, _ time.Time) (Result, *Error) {
	var key []byte
	if v.header != "" {
		key = peek(r.Header, v.header)
	}
	if len(key) == 0 && v.query != "" {
		key = peek(r.Query, v.query)
	}
	if len(key) == 0 {
		return Result{}, reject(CodeMissingSignature, "%s missing", v.where())
	}
	if !matchDigest(v.sums, key) {
		return Result{}, reject(CodeBadCredentials, "the key in %s matches none of the %d secrets", v.where(), len(v.sums))
	}
	return Result{}, nil
}

func (v *apiKeyVerifier) where() string {
	switch {
	case v.header != "" && v.query != "":
		return fmt.Sprintf("header %s or query parameter %s", v.header, v.query)
	case v.header != "":
		return "header " + v.header
	}
	return "query parameter " + v.query
}

func init() {
	register(&Preset{Name: "api-key", New: newAPIKey, MinSecret: MinSecretBytes})
}
