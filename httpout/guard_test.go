package httpout

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"
)

func TestGuardAllowed(t *testing.T) {
	g := NewGuard(nil)
	f := func(ip string, want bool) {
		t.Helper()
		if got := g.Allowed(netip.MustParseAddr(ip)); got != want {
			t.Fatalf("Allowed(%s) = %v; want %v", ip, got, want)
		}
	}
	// Refused.
	for _, ip := range []string{
		"127.0.0.1", "127.255.255.254", "0.0.0.0", "0.1.2.3",
		"10.0.0.1", "172.16.0.1", "172.31.255.255", "192.168.1.1",
		"100.64.0.1", "100.127.255.255", "169.254.169.254", "169.254.0.1",
		"224.0.0.1", "239.255.255.250", "255.255.255.255", "240.0.0.1",
		"192.0.0.1", "198.18.0.1", "198.19.255.255", "192.0.2.1", "198.51.100.7", "203.0.113.9",
		"::1", "::", "fe80::1", "fe80::1%eth0", "febf::1", "fc00::1", "fd12:3456::1", "fec0::1",
		"ff02::1", "ff05::1:3",
		"::ffff:127.0.0.1", "::ffff:10.1.2.3", "::ffff:169.254.169.254",
		"::127.0.0.1",        // IPv4-compatible, deprecated
		"64:ff9b::7f00:1",    // NAT64 of 127.0.0.1
		"64:ff9b::a9fe:a9fe", // NAT64 of 169.254.169.254
		"64:ff9b:1::1",       // local-use NAT64
		"2002:7f00:1::1",     // 6to4 of 127.0.0.1
		"2002:a00:1::1",      // 6to4 of 10.0.0.1
		"2001::1",            // Teredo
		"2001:db8::1",        // documentation
		"100::1",             // discard-only
	} {
		f(ip, false)
	}
	// Allowed public unicast.
	for _, ip := range []string{
		"93.184.216.34", "8.8.8.8", "1.1.1.1", "172.32.0.1", "100.128.0.1", "192.169.0.1",
		"2606:2800:220:1::1", "2a00:1450:4001::1", "::ffff:93.184.216.34",
		"64:ff9b::5db8:d822", // NAT64 of 93.184.216.34
		"2002:5db8:d822::1",  // 6to4 of 93.184.216.34
	} {
		f(ip, true)
	}
	if g.Allowed(netip.Addr{}) {
		t.Fatalf("the zero Addr must not be allowed")
	}
}

func TestGuardAllowList(t *testing.T) {
	g := NewGuard([]netip.Prefix{
		netip.MustParsePrefix("127.0.0.0/8"),
		netip.MustParsePrefix("::ffff:10.0.0.0/104"), // mapped form of 10.0.0.0/8
		netip.MustParsePrefix("fd00::/8"),
		{}, // invalid, ignored
	})
	f := func(ip string, want bool) {
		t.Helper()
		if got := g.Allowed(netip.MustParseAddr(ip)); got != want {
			t.Fatalf("Allowed(%s) = %v; want %v", ip, got, want)
		}
	}
	f("127.0.0.1", true)
	f("127.9.9.9", true)
	f("::ffff:127.0.0.1", true)
	f("10.1.2.3", true)
	f("fd00::1", true)
	f("::1", false) // only 127/8 was listed
	f("192.168.1.1", false)
	f("169.254.169.254", false)
	f("93.184.216.34", true)
}

func TestCheckURLNotAllowed(t *testing.T) {
	g := NewGuard(nil)
	f := func(raw string) {
		t.Helper()
		checkURLCode(t, g, raw, CodeURLNotAllowed)
	}
	f("http://127.0.0.1/")
	f("http://127.0.0.1:8080/hook")
	f("http://127.1/")
	f("http://127.0.1/")
	f("http://2130706433/")
	f("http://0x7f000001/")
	f("http://0X7F000001/")
	f("http://017700000001/")
	f("http://0177.0.0.1/")
	f("http://127.000.000.001/")
	f("http://0x7f.1/")
	f("http://1.2.3.4.5/") // numeric last label, not an address
	f("http://[::1]/")
	f("http://[::1]:443/")
	f("http://[::ffff:127.0.0.1]/")
	f("http://[::ffff:7f00:1]/")
	f("http://[0:0:0:0:0:ffff:127.0.0.1]/")
	f("http://[fe80::1%25eth0]/")
	f("http://0.0.0.0/")
	f("http://0/")
	f("http://localhost/")
	f("http://localhost./")
	f("http://LOCALHOST/")
	f("http://api.localhost/")
	f("http://api.localhost.:8080/")
	f("http://127.0.0.1./")
	f("http://10.0.0.1/")
	f("http://172.16.0.1/")
	f("http://192.168.1.1/")
	f("http://100.64.0.1/")
	f("http://169.254.169.254/latest/meta-data/")
	f("http://[fe80::1]/")
	f("http://[fc00::1]/")
	f("http://[fec0::1]/")
	f("http://224.0.0.1/")
	f("http://255.255.255.255/")
	f("https://[64:ff9b::a9fe:a9fe]/")
}

func TestCheckURLAllowed(t *testing.T) {
	g := NewGuard(nil)
	f := func(raw string) {
		t.Helper()
		if err := g.CheckURL(raw); err != nil {
			t.Fatalf("CheckURL(%q): unexpected error: %s", raw, err)
		}
	}
	f("http://93.184.216.34/")
	f("https://93.184.216.34:8443/hook?x=1")
	f("http://[2606:2800:220:1::1]/")
	f("https://[2606:2800:220:1::1]:443/")
	f("https://example.com/webhooks")
	f("https://EXAMPLE.com./webhooks")
	f("https://hooks.example.co.uk:8443/a/b?c=d&e=f")
	f("http://my_host.example.com/")
	f("https://xn--bcher-kva.example/")
	f("https://1password.com/")  // digits in a non-last label
	f("https://example.123abc/") // last label not numeric
	f("https://localhost.example.com/")

	// With an allow list, loopback passes.
	ga := NewGuard([]netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")})
	for _, raw := range []string{"http://127.0.0.1:8080/", "http://127.0.0.1:1/", "http://localhost:9000/x", "http://[::ffff:127.0.0.1]:80/"} {
		if err := ga.CheckURL(raw); err != nil {
			t.Fatalf("CheckURL(%q) with 127.0.0.0/8 allowed: unexpected error: %s", raw, err)
		}
	}
	checkURLCode(t, ga, "http://[::1]:8080/", CodeURLNotAllowed)
	checkURLCode(t, ga, "http://2130706433/", CodeURLNotAllowed) // non-canonical stays refused
}

func TestCheckURLInvalid(t *testing.T) {
	g := NewGuard(nil)
	f := func(raw string) {
		t.Helper()
		checkURLCode(t, g, raw, CodeInvalidURL)
	}
	f("")
	f("ftp://x")
	f("ftp://example.com/file")
	f("http://")
	f("https://")
	f("http:///path")
	f("not a url")
	f("example.com/hook")
	f("//example.com/hook")
	f("http://user:pw@host/")
	f("http://user@example.com/")
	f("http://:pw@example.com/")
	f("javascript:alert(1)")
	f("JavaScript:alert(document.cookie)")
	f("data:text/html,<script>alert(1)</script>")
	f("file:///etc/passwd")
	f("gopher://example.com/")
	f("http:example.com")
	f("https://example.com/" + strings.Repeat("a", MaxURLLen))
	f("https://example.com:/path")
	f("http://example.com:0/")
	f("http://example.com:65536/")
	f("http://example.com:99999999999999999999/")
	f("http://example.com:-1/")
	f("http://example.com:abc/")
	f("http://exa mple.com/")
	f("http://example.com\x00/")
	f("http://example.com\r\n/")
	f("http://[::1/")
	f("http://[example.com]/")
	f("http://[127.0.0.1]/")
	f("http://::1/")
	f("http://bücher.example/")
	f("http://-bad.example.com/")
	f("http://bad-.example.com/")
	f("http://a..b/")
	f("http://" + strings.Repeat("a", 64) + ".com/")
	f("http://" + strings.Repeat("abcdefghi.", 26) + "com/")
	f("http://exa%20mple.com/")
	f("http://example.com%2F@evil/")
	f("http://exa!mple.com/")
	f("http://.")
	f("http://../")
}

func checkURLCode(t *testing.T, g *Guard, raw, wantCode string) {
	t.Helper()
	err := g.CheckURL(raw)
	if err == nil {
		t.Fatalf("CheckURL(%q): want %s error; got nil", raw, wantCode)
	}
	var ue *URLError
	if !errors.As(err, &ue) {
		t.Fatalf("CheckURL(%q): error %T is not *URLError: %s", raw, err, err)
	}
	if ue.Code != wantCode {
		t.Fatalf("CheckURL(%q): code %q; want %q (message: %s)", raw, ue.Code, wantCode, ue.Message)
	}
	if ue.Message == "" || !strings.HasPrefix(err.Error(), wantCode+": ") {
		t.Fatalf("CheckURL(%q): unexpected error text %q", raw, err.Error())
	}
}

// TestCheckURLCharacters: every byte a URL may not hold raw (RFC 3986) is
// refused with invalid_url and a message naming it, where it is and how to
// write it, instead of being sent as is: a space once went out in the
// request line ("POST /a b HTTP/1.1"). A fragment is refused too, as it is
// never sent and a '#' in a token would cut the URL short silently.
func TestCheckURLCharacters(t *testing.T) {
	g := NewGuard(nil)
	f := func(raw, wantInMessage string) {
		t.Helper()
		checkURLCode(t, g, raw, CodeInvalidURL)
		if msg := g.CheckURL(raw).(*URLError).Message; !strings.Contains(msg, wantInMessage) {
			t.Fatalf("CheckURL(%q): message %q does not say %q", raw, msg, wantInMessage)
		}
	}
	// Whitespace and control characters.
	f("https://example.com/a b", "a space at byte 21; write it as %20")
	f("https://example.com/hook?name=a b", "a space at byte 31")
	f("https://example.com/a\tb", `the control character '\t' at byte 21`)
	f("https://example.com/a\rb", `the control character '\r' at byte 21`)
	f("https://example.com/a\nb", `the control character '\n' at byte 21`)
	f("https://example.com/a\r\nX-Injected: 1", `the control character '\r' at byte 21`)
	f("https://example.com/a\x00", `the control character '\x00' at byte 21`)
	f("https://example.com/a\x7f", `the control character '\x7f' at byte 21`)
	// Non-ASCII: percent-encode its UTF-8 bytes (or punycode for a host).
	f("https://example.com/café", "the non-ASCII character 'é' at byte 23; percent-encode it as %C3%A9")
	f("https://example.com/?q=€", "percent-encode it as %E2%82%AC")
	f("https://example.com/\xff", "0xFF at byte 20, which is not UTF-8; percent-encode it as %FF")
	f("https://bücher.example/", "punycode")
	// Printable ASCII that RFC 3986 does not allow unencoded.
	for _, c := range `"<>\^` + "`{|}" {
		f("https://example.com/a"+string(c)+"b", fmt.Sprintf("%q at byte 21, which must be percent-encoded as %%%02X", c, c))
	}
	// Broken escapes.
	f("https://example.com/a%zz", "escape")
	f("https://example.com/a%2", "escape")
	f("https://example.com/a%", "escape")
	// Fragments.
	f("https://example.com/hook#frag", "fragment")
	f("https://example.com/hook#", "fragment")
	f("https://example.com/hook?token=ab#cd", "write '#' as %23")

	ok := func(raw string) {
		t.Helper()
		if err := g.CheckURL(raw); err != nil {
			t.Fatalf("CheckURL(%q): unexpected error: %s", raw, err)
		}
	}
	ok("https://example.com/a%20b?q=caf%C3%A9&t=ab%23cd")
	ok("https://example.com/!$&'()*+,;=:@~-._/x?!$&'()*+,;=:@/?")
	ok("https://example.com/hook?items[]=1&items[]=2")
	ok("https://example.com/?")
}
