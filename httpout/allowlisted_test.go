package httpout

import (
	"context"
	"net/netip"
	"testing"
)

// TestAllowListed: only hosts inside the operator's own allow list count,
// not the public addresses every Guard lets through.
func TestAllowListed(t *testing.T) {
	g := NewGuard([]netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("10.1.0.0/16")})
	f := func(raw string, want bool) {
		t.Helper()
		if got := g.AllowListed(context.Background(), raw); got != want {
			t.Fatalf("AllowListed(%q) = %v; want %v", raw, got, want)
		}
	}
	f("http://127.0.0.1:8080/hook", true)
	f("http://127.9.9.9/", true)
	f("http://10.1.2.3/", true)
	f("http://[::ffff:127.0.0.1]:80/", true)
	f("http://localhost:9000/x", true)
	f("http://LOCALHOST./x", true)
	f("http://api.localhost/x", true)
	f("http://10.2.0.1/", false)
	f("http://[::1]/", false)
	f("http://93.184.216.34/", false)
	f("http://[2606:2800:220:1::1]/", false)
	f("", false)
	f("http://%zz/", false)
	f("/relative", false)

	// Without an allow list nothing is exempt, loopback included.
	none := NewGuard(nil)
	if none.AllowListed(context.Background(), "http://127.0.0.1/") {
		t.Fatal("a Guard without an allow list exempts loopback")
	}
}
