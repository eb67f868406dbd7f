package httpout

import "testing"

func TestRedactURL(t *testing.T) {
	f := func(raw, want string) {
		t.Helper()
		if got := RedactURL(raw); got != want {
			t.Fatalf("RedactURL(%q) = %q; want %q", raw, got, want)
		}
	}
	// Nothing to hide: unchanged.
	f("https://example.com/hook", "https://example.com/hook")
	f("https://example.com:8443/a/b/", "https://example.com:8443/a/b/")
	f("", "")
	// Names stay, values go.
	f("https://example.com/hook?token=s3cr3t", "https://example.com/hook?token=[redacted]")
	f("https://example.com/hook?token=s3cr3t&user=bob", "https://example.com/hook?token=[redacted]&user=[redacted]")
	f("https://example.com/hook?api%5Fkey=a%20b&x=1=2", "https://example.com/hook?api%5Fkey=[redacted]&x=[redacted]")
	// Empty values show as empty; empty pieces stay empty.
	f("https://example.com/hook?a=&b=1", "https://example.com/hook?a=&b=[redacted]")
	f("https://example.com/hook?", "https://example.com/hook?")
	f("https://example.com/hook?a=1&&b=2&", "https://example.com/hook?a=[redacted]&&b=[redacted]&")
	// A piece without '=' may be a bare token (?<token>): redacted whole.
	f("https://example.com/hook?s3cr3t", "https://example.com/hook?[redacted]")
	f("https://example.com/hook?debug&token=x", "https://example.com/hook?[redacted]&token=[redacted]")
	// ';' is no separator here: what follows it stays in the redacted value.
	f("https://example.com/hook?a=1;token=s3cr3t", "https://example.com/hook?a=[redacted]")
	// A fragment (refused since, but stored URLs may hold one) goes too.
	f("https://example.com/hook#s3cr3t", "https://example.com/hook#[redacted]")
	f("https://example.com/hook?token=a#b=c", "https://example.com/hook?token=[redacted]#[redacted]")
}

func TestRedactURLAllocation(t *testing.T) {
	url := "https://example.com/hook"
	if n := testing.AllocsPerRun(100, func() { _ = RedactURL(url) }); n != 0 {
		t.Fatalf("RedactURL of a URL without a query: %v allocs; want 0", n)
	}
}
