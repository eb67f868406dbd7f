package httpout

import (
	"fmt"
	"strings"
	"testing"
)

func TestCheckMethod(t *testing.T) {
	for _, m := range []string{"", "POST", "PUT", "PATCH", "DELETE"} {
		if err := CheckMethod(m); err != nil {
			t.Fatalf("CheckMethod(%q): %s", m, err)
		}
	}
	for _, m := range []string{"GET", "HEAD", "post", "Delete", "CONNECT", "TRACE", "OPTIONS", "POST ", "PUT\n"} {
		if err := CheckMethod(m); err == nil || !strings.Contains(err.Error(), "method") {
			t.Fatalf("CheckMethod(%q) = %v; want an error naming the method", m, err)
		}
	}
}

func TestCheckHeaderName(t *testing.T) {
	f := func(name, wantErr string) {
		t.Helper()
		requireErr(t, fmt.Sprintf("CheckHeaderName(%q)", name), CheckHeaderName(name), wantErr)
	}
	f("X-Tenant", "")
	f("x-api-version", "")
	f("Content-Type", "")
	f("User-Agent", "")
	f("Accept", "")
	f("X-Hookline-Signature", "") // not hookline-*: the hmac-sha256 default, checked by CheckHeaders
	f("!#$%&'*+-.^_`|~09azAZ", "")

	f("", "empty")
	f("X Tenant", "has ' '")
	f("X-Tenant:", "has ':'")
	f("X-Tenant\r\nX-Evil", `has '\r'`)
	f("X-\x00", `has '\x00'`)
	f("Ünï", "has")
	f(strings.Repeat("a", MaxHeaderNameLen+1), "bytes long")
	for _, h := range []string{"Connection", "keep-alive", "TE", "Trailer", "Transfer-Encoding", "UPGRADE"} {
		f(h, "hop-by-hop")
	}
	for _, h := range []string{"Proxy-Authorization", "proxy-connection"} {
		f(h, "Proxy-*")
	}
	for _, h := range []string{"Host", "Content-Length", "content-encoding", "Expect"} {
		f(h, "describes the request hookline writes")
	}
	for _, h := range []string{"Webhook-Id", "webhook-signature", "WEBHOOK-TIMESTAMP", "webhook-anything", "Hookline-Event-Type", "hookline-attempt"} {
		f(h, "hookline's own headers")
	}
	f("Authorization", "set it through auth")
	f("authorization", "set it through auth")
}

func TestCheckHeaderValue(t *testing.T) {
	for _, v := range []string{"", "acme", "a b", "a\tb", "ünïcödé", `{"json":1}`, strings.Repeat("v", MaxHeaderValueLen)} {
		if err := CheckHeaderValue(v); err != nil {
			t.Fatalf("CheckHeaderValue(%q): %s", v, err)
		}
	}
	for _, v := range []string{"a\r\nX-Evil: 1", "a\nb", "a\rb", "a\x00b", "a\x7fb", " a", "a ", "\ta", strings.Repeat("v", MaxHeaderValueLen+1)} {
		if err := CheckHeaderValue(v); err == nil {
			t.Fatalf("CheckHeaderValue(%q) accepted it", v)
		}
	}
}

func TestCheckHeaders(t *testing.T) {
	bearer := &AuthConfig{Type: AuthBearer, Token: "tok"}
	apiKey := &AuthConfig{Type: AuthHeader, Name: "X-Api-Key", Value: "k"}
	f := func(headers []Header, auth *AuthConfig, sig SignatureConfig, wantErr string) {
		t.Helper()
		requireErr(t, fmt.Sprintf("CheckHeaders(%v, %v, %+v)", headers, auth, sig), CheckHeaders(headers, auth, sig), wantErr)
	}
	ok := []Header{{"X-Tenant", "acme"}, {"Content-Type", "application/vnd.api+json"}}
	f(nil, nil, SignatureConfig{}, "")
	f(ok, bearer, SignatureConfig{}, "")
	f(ok, apiKey, SignatureConfig{Scheme: SchemeStripe}, "")
	f([]Header{{"Stripe-Signature", "x"}}, nil, SignatureConfig{Scheme: SchemeHMACSHA256}, "")

	f([]Header{{"Connection", "close"}}, nil, SignatureConfig{}, "headers: header name \"Connection\"")
	f([]Header{{"Authorization", "Bearer x"}}, nil, SignatureConfig{}, "set it through auth")
	f([]Header{{"X-Tenant", "a\r\nb"}}, nil, SignatureConfig{}, `headers["X-Tenant"] has control character`)
	f([]Header{{"X-Tenant", "a"}, {"x-tenant", "b"}}, nil, SignatureConfig{}, "case-insensitive")
	f([]Header{{"X-Api-Key", "a"}}, apiKey, SignatureConfig{}, "the header auth sets")
	f([]Header{{"stripe-signature", "a"}}, nil, SignatureConfig{Scheme: SchemeStripe}, "where scheme stripe puts its signature")
	f([]Header{{"X-Hookline-Signature", "a"}}, nil, SignatureConfig{Scheme: SchemeHMACSHA256}, "where scheme hmac-sha256 puts its signature")
	f(nil, &AuthConfig{Type: AuthHeader, Name: "X-Sig", Value: "v"}, SignatureConfig{Scheme: SchemeHMACSHA256, Header: "x-sig"}, "auth and signature both set")
	f(nil, bearer, SignatureConfig{Scheme: SchemeHMACSHA256, Header: "Authorization"}, "auth and signature both set")
	many := make([]Header, MaxHeaders+1)
	for i := range many {
		many[i] = Header{Name: "X-H" + strings.Repeat("h", i), Value: "v"}
	}
	f(many, nil, SignatureConfig{}, "at most 32")
	f(many[:MaxHeaders], nil, SignatureConfig{}, "")
}

func TestAuthConfigValidate(t *testing.T) {
	f := func(a AuthConfig, wantErr string) {
		t.Helper()
		err := a.Validate()
		requireErr(t, fmt.Sprintf("%+v.Validate()", a), err, wantErr)
		for _, secret := range []string{a.Token, a.Password, a.Value} {
			if err != nil && len(secret) > 6 && strings.Contains(err.Error(), secret) {
				t.Fatalf("error %q quotes a credential", err)
			}
		}
	}
	f(AuthConfig{Type: AuthBearer, Token: "eyJhbGciOi.J9-_~+/="}, "")
	f(AuthConfig{Type: AuthBasic, Username: "user", Password: "pässwörd with spaces"}, "")
	f(AuthConfig{Type: AuthBasic, Username: "sk_live_only"}, "") // Stripe-style: key as username, no password
	f(AuthConfig{Type: AuthHeader, Name: "X-Api-Key", Value: "k 1"}, "")
	f(AuthConfig{Type: AuthHeader, Name: "Authorization", Value: "Token abc"}, "")

	f(AuthConfig{}, "auth.type is empty")
	f(AuthConfig{Type: "Bearer", Token: "x"}, `auth.type "Bearer" is not supported`)
	f(AuthConfig{Type: "oauth2"}, `auth.type "oauth2" is not supported`)
	f(AuthConfig{Type: AuthBearer}, "auth.token is empty")
	f(AuthConfig{Type: AuthBearer, Token: "abc def-ghijk"}, "auth.token has ' '")
	f(AuthConfig{Type: AuthBearer, Token: "abc\r\nX-Evil: 1"}, `auth.token has '\r'`)
	f(AuthConfig{Type: AuthBearer, Token: "tökenvalue"}, "auth.token has")
	f(AuthConfig{Type: AuthBearer, Token: strings.Repeat("t", MaxHeaderValueLen)}, "auth.token is 4096 bytes long")
	f(AuthConfig{Type: AuthBearer, Token: "t", Username: "u"}, "auth.username is not used by type bearer")
	f(AuthConfig{Type: AuthBasic}, "auth.username is empty")
	f(AuthConfig{Type: AuthBasic, Username: "a:b"}, "auth.username has a colon")
	f(AuthConfig{Type: AuthBasic, Username: "u\x00"}, "auth.username has control character")
	f(AuthConfig{Type: AuthBasic, Username: "u", Password: "p\nq-secret"}, "auth.password has control character")
	f(AuthConfig{Type: AuthBasic, Username: "u", Password: strings.Repeat("p", MaxHeaderValueLen)}, "header value")
	f(AuthConfig{Type: AuthBasic, Username: "u", Token: "t"}, "auth.token is not used by type basic")
	f(AuthConfig{Type: AuthHeader, Value: "v"}, "auth.name is empty")
	f(AuthConfig{Type: AuthHeader, Name: "X Key", Value: "v"}, `auth.name "X Key" has ' '`)
	f(AuthConfig{Type: AuthHeader, Name: "Webhook-Signature", Value: "v"}, "hookline's own headers")
	f(AuthConfig{Type: AuthHeader, Name: "Host", Value: "v"}, "auth.name \"Host\" cannot be set")
	f(AuthConfig{Type: AuthHeader, Name: "Content-Type", Value: "v"}, "not a credential header")
	f(AuthConfig{Type: AuthHeader, Name: "X-Key"}, "auth.value is empty")
	f(AuthConfig{Type: AuthHeader, Name: "X-Key", Value: "v\r\nX-Evil: 1"}, "auth.value has control character")
	f(AuthConfig{Type: AuthHeader, Name: "X-Key", Value: " v"}, "auth.value starts or ends")
	f(AuthConfig{Type: AuthHeader, Name: "X-Key", Value: "v", Password: "p"}, "auth.password is not used by type header")
}

func TestAuthConfigHeaderAndMasked(t *testing.T) {
	f := func(a AuthConfig, want Header, masked AuthConfig) {
		t.Helper()
		if h := a.Header(); h != want {
			t.Fatalf("%+v: Header() = %+v; want %+v", a, h, want)
		}
		if m := a.Masked(); m != masked {
			t.Fatalf("%+v: Masked() = %+v; want %+v", a, m, masked)
		}
	}
	f(AuthConfig{Type: AuthBearer, Token: "tok_0123456789abcdef"},
		Header{"Authorization", "Bearer tok_0123456789abcdef"},
		AuthConfig{Type: AuthBearer, Token: "****cdef"})
	f(AuthConfig{Type: AuthBearer, Token: "short-token"},
		Header{"Authorization", "Bearer short-token"},
		AuthConfig{Type: AuthBearer, Token: "****"})
	// RFC 7617's example.
	f(AuthConfig{Type: AuthBasic, Username: "Aladdin", Password: "open sesame"},
		Header{"Authorization", "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="},
		AuthConfig{Type: AuthBasic, Username: "****", Password: "****"})
	f(AuthConfig{Type: AuthBasic, Username: "sk_test_4eC39HqLyjWDarjtT1zdp7dc"},
		Header{"Authorization", "Basic c2tfdGVzdF80ZUMzOUhxTHlqV0Rhcmp0VDF6ZHA3ZGM6"},
		AuthConfig{Type: AuthBasic, Username: "****p7dc"})
	f(AuthConfig{Type: AuthHeader, Name: "X-Api-Key", Value: "key_live_0123456789"},
		Header{"X-Api-Key", "key_live_0123456789"},
		AuthConfig{Type: AuthHeader, Name: "X-Api-Key", Value: "****6789"})
	f(AuthConfig{Type: AuthHeader, Name: "X-Api-Key", Value: "key with a space at the end"},
		Header{"X-Api-Key", "key with a space at the end"},
		AuthConfig{Type: AuthHeader, Name: "X-Api-Key", Value: "****"})
	f(AuthConfig{Type: AuthHeader, Name: "X-Api-Key", Value: "ünïcödé-value-é"},
		Header{"X-Api-Key", "ünïcödé-value-é"},
		AuthConfig{Type: AuthHeader, Name: "X-Api-Key", Value: "****"})
}
