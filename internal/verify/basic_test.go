package verify

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"
)

func TestBasic(t *testing.T) {
	now := time.Now()
	v := mustNew(t, Config{Provider: "basic", Secrets: []string{"hook:pa:ss", "old:pw"}})
	f := func(header, code string) {
		t.Helper()
		r := newReq(nil, "Authorization", header)
		if code == "" {
			requireOK(t, v, r, now)
			return
		}
		requireCode(t, v, r, now, code)
	}
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	f("Basic "+b64("hook:pa:ss"), "") // the password may hold a colon
	f("basic  "+b64("old:pw"), "")    // scheme names are case-insensitive
	f("Basic "+b64("hook:pa:s"), CodeBadCredentials)
	f("Basic "+b64("hook:pa:ssx"), CodeBadCredentials)
	f("Basic "+b64("hookpass"), CodeMalformedSignature)
	f("Basic "+b64("hook:pa:ss")[1:], CodeMalformedSignature)
	f("Basic "+strings.Repeat("A", 1024), CodeMalformedSignature)
	f("Digest username=hook", CodeMalformedSignature)
	f("Basic", CodeMalformedSignature)

	requireConfigError(t, Config{Provider: "basic", Secrets: []string{"nocolon"}}, CodeInvalidSecret, "secrets[0]")
	requireConfigError(t, Config{Provider: "basic", Secrets: []string{"a:b", "c:" + strings.Repeat("d", maxBasic)}}, CodeInvalidSecret, "secrets[1]")
}

func TestAPIKey(t *testing.T) {
	now := time.Now()
	query := func(key string) *Request {
		r := newReq(nil)
		if key != "" {
			r.Query.(interface{ Set(string, string) }).Set("token", key)
		}
		return r
	}
	v := mustNew(t, Config{Provider: "api-key", Secrets: []string{"k1", "k2"}, APIKey: &APIKeyConfig{Query: "token"}})
	requireOK(t, v, query("k2"), now)
	requireCode(t, v, query("k3"), now, CodeBadCredentials)
	requireCode(t, v, query(""), now, CodeMissingSignature)
	requireCode(t, v, newReq(nil, "token", "k1"), now, CodeMissingSignature)

	both := mustNew(t, Config{Provider: "api-key", Secrets: []string{"k1"}, APIKey: &APIKeyConfig{Header: "X-Token", Query: "token"}})
	requireOK(t, both, query("k1"), now)
	requireOK(t, both, newReq(nil, "X-Token", "k1"), now)

	requireConfigError(t, Config{Provider: "api-key", Secrets: []string{"k1"}}, CodeInvalidVerification, "api_key")
	requireConfigError(t, Config{Provider: "api-key", Secrets: []string{"k1"}, APIKey: &APIKeyConfig{Header: "X Token"}}, CodeInvalidVerification, "api_key.header")
}
