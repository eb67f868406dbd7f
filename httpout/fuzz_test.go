package httpout

import (
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/valyala/fasthttp"
)

func FuzzParseSecret(f *testing.F) {
	for _, s := range []string{
		specSecret,
		"whsec_" + base64.StdEncoding.EncodeToString(make([]byte, 24)),
		"whsec_" + base64.StdEncoding.EncodeToString(make([]byte, 64)),
		"whsec_" + base64.StdEncoding.EncodeToString(make([]byte, 65)),
		"whsec_",
		"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n",
		"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS=",
		"MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		key, err := ParseSecret(s)
		if err != nil {
			if key != nil {
				t.Fatalf("ParseSecret(%q) returned a key and error %s", s, err)
			}
			return
		}
		if len(key) < minSecretBytes || len(key) > maxSecretBytes {
			t.Fatalf("ParseSecret(%q) accepted a %d-byte key", s, len(key))
		}
		// Accepted secrets are canonical: there is one spelling per key.
		if again := SecretPrefix + base64.StdEncoding.EncodeToString(key); again != s {
			t.Fatalf("ParseSecret(%q) accepted a non-canonical spelling of %q", s, again)
		}
	})
}

func FuzzCheckURL(f *testing.F) {
	for _, s := range []string{
		"https://example.com/hook", "http://93.184.216.34:8080/x?y=z", "http://[2606:2800:220:1::1]/",
		"http://127.0.0.1/", "http://127.1/", "http://2130706433/", "http://0x7f000001/", "http://017700000001/",
		"http://[::1]/", "http://[::ffff:127.0.0.1]/", "http://0.0.0.0/", "http://localhost./", "http://a.localhost/",
		"http://[fe80::1%25eth0]/", "http://user:pw@host/", "javascript:alert(1)", "ftp://x", "http://", "http:///path",
		"not a url", "http://exa mple.com/", "http://bücher.example/", "http://example.com:65536/", "http://[::1/",
		"HTTP://EXAMPLE.COM", "http://example.com\\@127.0.0.1/", "http://1.1.1.1.1/", "http://0x/",
		"https://example.com/a b", "https://example.com/a\r\nX: 1", "https://example.com/café", "https://example.com/a#b",
		"https://example.com/a%2", "https://example.com/a|b", "https://example.com/?a[]=1&b=%20",
	} {
		f.Add(s)
	}
	g := NewGuard(nil)
	f.Fuzz(func(t *testing.T, raw string) {
		err := g.CheckURL(raw)
		if err != nil {
			var ue *URLError
			if !errors.As(err, &ue) || (ue.Code != CodeInvalidURL && ue.Code != CodeURLNotAllowed) || ue.Message == "" {
				t.Fatalf("CheckURL(%q): unexpected error %#v", raw, err)
			}
			return
		}
		if len(raw) > MaxURLLen {
			t.Fatalf("CheckURL accepted a %d-byte URL", len(raw))
		}
		for i := 0; i < len(raw); i++ {
			if c := raw[i]; c <= ' ' || c >= 0x7f || c == '#' || strings.IndexByte(urlMustEncode, c) >= 0 {
				t.Fatalf("CheckURL accepted %q with %q at byte %d", raw, c, i)
			}
		}
		u, perr := url.Parse(raw)
		if perr != nil {
			t.Fatalf("CheckURL accepted %q, which net/url rejects: %s", raw, perr)
		}
		if u.Scheme != "http" && u.Scheme != "https" {
			t.Fatalf("CheckURL accepted scheme %q in %q", u.Scheme, raw)
		}
		if u.User != nil || u.Hostname() == "" {
			t.Fatalf("CheckURL accepted userinfo or an empty host in %q", raw)
		}
		if p := u.Port(); p != "" {
			if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
				t.Fatalf("CheckURL accepted port %q in %q", p, raw)
			}
		}
		host := strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
		if ip, err := netip.ParseAddr(host); err == nil && !g.Allowed(ip) {
			t.Fatalf("CheckURL accepted refused address %s in %q", ip, raw)
		}
		if isLocalhostName(host) {
			t.Fatalf("CheckURL accepted localhost name in %q", raw)
		}
		if _, err := netip.ParseAddr(host); err != nil && endsInNumber(host) {
			t.Fatalf("CheckURL accepted numeric host %q in %q", host, raw)
		}
	})
}

func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{
		"", "0", "2", " 120 ", "86400", "86401", "99999999999999999999999", "-1", "+5", "1.5", "soon",
		"Wed, 21 Oct 2015 07:28:00 GMT", "Mon, 23 Nov 2026 10:00:30 GMT", "Monday, 23-Nov-26 10:00:30 GMT",
		"Mon Nov 23 10:00:30 2026", "Mon, 23 Nov 2026 10:00:30 UTC", "Mon, 32 Nov 2026 10:00:30 GMT",
	} {
		f.Add(s, uint32(DefaultMaxRetryAfter/time.Second))
		f.Add(s, uint32(1))
	}
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string, capSecs uint32) {
		// Any cap Options.Validate accepts: 1s to MaxRetryAfterLimit.
		maxDelay := time.Duration(1+uint64(capSecs)%uint64(MaxRetryAfterLimit/time.Second)) * time.Second
		d := parseRetryAfter([]byte(s), now, maxDelay)
		if d < 0 || d > maxDelay {
			t.Fatalf("parseRetryAfter(%q, %v) = %v; want within [0, %v]", s, maxDelay, d, maxDelay)
		}
		v := strings.Trim(s, " \t")
		if n, err := strconv.ParseUint(v, 10, 64); err == nil && v != "" && v[0] != '+' {
			want := maxDelay
			if n <= uint64(maxDelay/time.Second) {
				want = time.Duration(n) * time.Second
			}
			if d != want {
				t.Fatalf("parseRetryAfter(%q, %v) = %v; want %v", s, maxDelay, d, want)
			}
		}
	})
}

// FuzzGuardAllowed cross-checks the guard against net/netip's own
// classification: nothing netip calls loopback, private, link-local,
// multicast or unspecified may pass a guard without an allow list, whatever
// the IPv6 spelling.
func FuzzGuardAllowed(f *testing.F) {
	for _, s := range []string{"127.0.0.1", "::ffff:10.0.0.1", "fe80::1", "93.184.216.34", "2606:2800:220:1::1", "64:ff9b::a9fe:a9fe", "2002:7f00:1::"} {
		f.Add(netip.MustParseAddr(s).AsSlice())
	}
	g := NewGuard(nil)
	f.Fuzz(func(t *testing.T, b []byte) {
		ip, ok := netip.AddrFromSlice(b)
		if !ok {
			return
		}
		allowed := g.Allowed(ip)
		u := ip.Unmap()
		if allowed && (u.IsLoopback() || u.IsPrivate() || u.IsLinkLocalUnicast() || u.IsLinkLocalMulticast() ||
			u.IsMulticast() || u.IsInterfaceLocalMulticast() || u.IsUnspecified()) {
			t.Fatalf("Allowed(%s) = true for a non-public address", ip)
		}
		if ip.Is4() && g.Allowed(netip.AddrFrom16(ip.As16())) != allowed {
			t.Fatalf("Allowed(%s) differs from Allowed of its IPv4-mapped form", ip)
		}
	})
}

// FuzzSignatureConfig: a config Validate accepts builds a Signer whose
// header is one an endpoint may use and whose value fasthttp sends as it
// is.
func FuzzSignatureConfig(f *testing.F) {
	for _, c := range []SignatureConfig{
		{}, {Scheme: SchemeEd25519}, {Scheme: SchemeNone}, {Scheme: SchemeStripe, Header: "Acme-Signature"},
		{Scheme: SchemeHMACSHA256, Header: "X-Hub-Signature-256", Prefix: "sha256=", Encoding: "hex"},
		{Scheme: SchemeHMACSHA256, Header: "Webhook-Signature"}, {Scheme: SchemeHMACSHA256, Prefix: "a\r\nb", Encoding: "base64"},
		{Scheme: SchemeStripe, Prefix: "x"}, {Scheme: "unknown", Header: "X Y"},
	} {
		f.Add(c.Scheme, c.Header, c.Prefix, c.Encoding)
	}
	const text = "correct-horse-battery-staple"
	f.Fuzz(func(t *testing.T, scheme, header, prefix, encoding string) {
		cfg := SignatureConfig{Scheme: scheme, Header: header, Prefix: prefix, Encoding: encoding}
		if cfg.Validate() != nil {
			return
		}
		secret := text
		switch cfg.Scheme {
		case "", SchemeStandardWebhooks:
			secret = specSecret
		case SchemeEd25519:
			secret = specEd25519Secret
		}
		s, err := NewSignerFor(cfg, secret, nil)
		if err != nil {
			t.Fatalf("NewSignerFor(%+v) after Validate passed: %s", cfg, err)
		}
		name := s.Header()
		if name == "" {
			if cfg.Scheme != SchemeNone {
				t.Fatalf("%+v: no signature header", cfg)
			}
			return
		}
		if name != HeaderWebhookSignature {
			if err := checkHeaderName("header", name); err != nil {
				t.Fatalf("%+v: signature header: %s", cfg, err)
			}
		}
		v := s.AppendSignatures(nil, specMsgID, specTS, []byte(specBody))
		var h fasthttp.RequestHeader
		h.SetBytesV(name, v)
		if got := h.Peek(name); string(got) != string(v) {
			t.Fatalf("%+v: fasthttp sends %q as %q", cfg, v, got)
		}
	})
}

// FuzzCheckHeader: a header CheckHeaderName and CheckHeaderValue accept is
// sent as configured, and none of the refused names get through in any
// case.
func FuzzCheckHeader(f *testing.F) {
	for _, h := range [][2]string{
		{"X-Tenant", "acme"}, {"Content-Type", "application/json"}, {"Connection", "close"}, {"webhook-id", "x"},
		{"HOOKLINE-ATTEMPT", "1"}, {"Proxy-Authorization", "x"}, {"X Tenant", "a"}, {"X-Tenant", "a\r\nX-Evil: 1"},
		{"Authorization", "Bearer x"}, {"X-Tenant", " a"}, {"X-Tenant", "ünï"}, {"Transfer-Encoding", "chunked"},
	} {
		f.Add(h[0], h[1])
	}
	f.Fuzz(func(t *testing.T, name, value string) {
		nameErr, valueErr := CheckHeaderName(name), CheckHeaderValue(value)
		if nameErr == nil {
			lower := strings.ToLower(name)
			for _, refused := range []string{"connection", "keep-alive", "te", "trailer", "transfer-encoding", "upgrade", "host", "content-length", "content-encoding", "expect", "authorization"} {
				if lower == refused {
					t.Fatalf("CheckHeaderName accepted %q", name)
				}
			}
			for _, p := range []string{"proxy-", "webhook-", "hookline-"} {
				if strings.HasPrefix(lower, p) {
					t.Fatalf("CheckHeaderName accepted %q", name)
				}
			}
		}
		if valueErr == nil && strings.ContainsAny(value, "\r\n\x00") {
			t.Fatalf("CheckHeaderValue accepted %q", value)
		}
		if nameErr != nil || valueErr != nil || strings.EqualFold(name, "content-type") || strings.EqualFold(name, "user-agent") || strings.EqualFold(name, "cookie") {
			return // special headers fasthttp keeps apart
		}
		var h fasthttp.RequestHeader
		h.Set(name, value)
		if got := h.Peek(name); string(got) != value {
			t.Fatalf("header %q: %q is sent as %q", name, value, got)
		}
	})
}

// FuzzCheckSecret: a secret CheckSecret accepts for a scheme is one its
// Signer can use, and a text secret is what the rules say.
func FuzzCheckSecret(f *testing.F) {
	for _, s := range []string{specSecret, specEd25519Secret, specEd25519Public, "correct-horse-battery-staple", "short", " correct-horse-battery-staple", "ÿÿÿÿÿÿÿÿÿÿÿÿ", "whsk_AAAA"} {
		f.Add(uint8(0), s)
		f.Add(uint8(3), s)
		f.Add(uint8(4), s)
	}
	schemes := []string{SchemeStandardWebhooks, SchemeHMACSHA256, SchemeStripe, SchemeEd25519, SchemeNone}
	f.Fuzz(func(t *testing.T, i uint8, secret string) {
		scheme := schemes[int(i)%len(schemes)]
		if err := CheckSecret(scheme, secret); err != nil {
			if len(secret) >= 8 && strings.Contains(err.Error(), secret) {
				t.Fatalf("CheckSecret's error quotes the secret: %s", err)
			}
			return
		}
		s, err := NewSignerFor(SignatureConfig{Scheme: scheme}, secret, nil)
		if err != nil {
			t.Fatalf("NewSignerFor(%s) refused a secret CheckSecret accepted: %s", scheme, err)
		}
		switch scheme {
		case SchemeHMACSHA256, SchemeStripe, SchemeNone:
			if !utf8.ValidString(secret) || utf8.RuneCountInString(secret) < minTextSecretChars || strings.IndexFunc(secret, unicode.IsControl) >= 0 ||
				strings.TrimSpace(secret) != secret {
				t.Fatalf("CheckSecret(%s) accepted %q", scheme, secret)
			}
		case SchemeEd25519:
			pk, err := PublicKey(secret)
			if err != nil {
				t.Fatalf("PublicKey of an accepted secret: %s", err)
			}
			pub, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(pk, Ed25519PublicKeyPrefix))
			v := s.AppendSignatures(nil, specMsgID, specTS, []byte(specBody))
			sig, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(string(v), "v1a,"))
			if err != nil || !ed25519.Verify(pub, []byte(specMsgID+".1614265330."+specBody), sig) {
				t.Fatalf("signature %q does not verify with %s", v, pk)
			}
		}
	})
}
