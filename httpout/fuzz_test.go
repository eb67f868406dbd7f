package httpout

import (
	"encoding/base64"
	"errors"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
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
