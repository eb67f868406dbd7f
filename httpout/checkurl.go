package httpout

import (
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

// Codes of URLError, stable for API clients.
const (
	CodeInvalidURL    = "invalid_url"
	CodeURLNotAllowed = "url_not_allowed"
)

// MaxURLLen is the longest endpoint URL CheckURL accepts.
const MaxURLLen = 2048

// URLError is returned by Guard.CheckURL.
type URLError struct {
	// Code is CodeInvalidURL or CodeURLNotAllowed.
	Code string
	// Message is meant for the person who entered the URL.
	Message string
}

// Error implements error.
func (e *URLError) Error() string {
	return e.Code + ": " + e.Message
}

func invalidURL(format string, args ...any) error {
	return &URLError{Code: CodeInvalidURL, Message: fmt.Sprintf(format, args...)}
}

func urlNotAllowed(format string, args ...any) error {
	return &URLError{Code: CodeURLNotAllowed, Message: fmt.Sprintf(format, args...)}
}

// CheckURL validates an endpoint URL when it is created or updated.
//
// The URL must have scheme http or https, a host, no userinfo, at most
// MaxURLLen bytes and a port (if any) in 1..65535. An IP literal host must
// pass Allowed; "localhost", "*.localhost" and their trailing-dot forms are
// judged as 127.0.0.1. A host whose last label is numeric but which is not a
// canonical dotted-quad IPv4 address (127.1, 2130706433, 0x7f000001,
// 017700000001) is refused: browsers and resolvers read such names as IPv4
// addresses, and accepting them would invite parser-differential tricks.
//
// DNS names are not resolved here: they may point anywhere later, so the
// dialer checks every resolved address at connect time.
//
// Errors are *URLError.
func (g *Guard) CheckURL(raw string) error {
	if raw == "" {
		return invalidURL("URL is empty")
	}
	if len(raw) > MaxURLLen {
		return invalidURL("URL is %d bytes long; the limit is %d bytes", len(raw), MaxURLLen)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return invalidURL("cannot parse URL %q: %s", raw, unwrapURLErr(err))
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		if u.Scheme == "" {
			return invalidURL("URL %q has no scheme; it must start with http:// or https://", raw)
		}
		return invalidURL("URL scheme %q is not supported; use http or https", u.Scheme)
	}
	if u.Opaque != "" {
		return invalidURL("URL %q must have the form %s://host/path", raw, u.Scheme)
	}
	if u.User != nil {
		return invalidURL("URL must not contain a user name or password; pass credentials in the path or query instead")
	}
	if u.Host == "" {
		return invalidURL("URL %q has no host", raw)
	}
	if strings.HasSuffix(u.Host, ":") {
		// RFC 3986 allows an empty port, but clients disagree on what it
		// means; ask for the intended one.
		return invalidURL("URL %q has an empty port; remove the ':' or give a port", raw)
	}
	if port := u.Port(); port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 {
			return invalidURL("port %q is outside 1..65535", port)
		}
	}
	host := u.Hostname()
	if host == "" {
		return invalidURL("URL %q has no host", raw)
	}
	return g.checkHost(host, u.Host[0] == '[')
}

// unwrapURLErr drops the "parse <url>:" prefix of *url.Error, whose URL the
// caller already quotes.
func unwrapURLErr(err error) error {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err
	}
	return err
}

func (g *Guard) checkHost(host string, bracketed bool) error {
	if bracketed {
		ip, err := netip.ParseAddr(host)
		if err != nil || !ip.Is6() {
			return invalidURL("host [%s] is not an IPv6 address", host)
		}
		return g.checkIP(host, ip)
	}
	if strings.IndexByte(host, ':') >= 0 {
		return invalidURL("IPv6 host %q must be written in brackets", host)
	}
	// A single trailing dot makes a name absolute; it reaches the same host.
	name := strings.TrimSuffix(host, ".")
	if ip, err := netip.ParseAddr(name); err == nil {
		return g.checkIP(host, ip)
	}
	if err := validHostname(name); err != nil {
		return err
	}
	name = strings.ToLower(name)
	if isLocalhostName(name) {
		return g.checkIP(host, loopbackV4)
	}
	if endsInNumber(name) {
		return urlNotAllowed("host %q looks like an IPv4 address in a non-canonical form; write it as a dotted quad such as 192.0.2.1", host)
	}
	return nil
}

var loopbackV4 = netip.AddrFrom4([4]byte{127, 0, 0, 1})

func (g *Guard) checkIP(host string, ip netip.Addr) error {
	if !g.Allowed(ip) {
		return urlNotAllowed("host %q is a loopback, private, link-local or otherwise reserved address; ask the operator to allow-list it", host)
	}
	return nil
}

// validHostname accepts ASCII DNS names: labels of letters, digits, '-' and
// '_' (seen in real hostnames), 1..63 bytes each, 253 bytes in total.
func validHostname(name string) error {
	if name == "" {
		return invalidURL("host is empty")
	}
	if len(name) > 253 {
		return invalidURL("host is %d bytes long; DNS names have at most 253", len(name))
	}
	for label := range strings.SplitSeq(name, ".") {
		if label == "" {
			return invalidURL("host %q has an empty label", name)
		}
		if len(label) > 63 {
			return invalidURL("host %q has a label longer than 63 bytes", name)
		}
		if label[0] == '-' || label[len(label)-1] == '-' {
			return invalidURL("host %q has a label starting or ending with '-'", name)
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				if c >= 0x80 {
					return invalidURL("host %q is not ASCII; write internationalized names in punycode (xn--...)", name)
				}
				return invalidURL("host %q contains %q, which is not allowed in a DNS name", name, c)
			}
		}
	}
	return nil
}

// isLocalhostName reports whether a lower-case name without trailing dot is
// "localhost" or under ".localhost", which RFC 6761 reserves for loopback.
func isLocalhostName(name string) bool {
	return name == "localhost" || strings.HasSuffix(name, ".localhost")
}

// endsInNumber reports whether the last label of a name without trailing dot
// is a decimal or 0x-hex number. The WHATWG URL standard parses such hosts as
// IPv4 addresses (127.1, 0x7f.1, 2130706433), and so does inet_aton.
func endsInNumber(name string) bool {
	last := name[strings.LastIndexByte(name, '.')+1:]
	if last == "" {
		return false
	}
	if len(last) >= 2 && last[0] == '0' && (last[1] == 'x' || last[1] == 'X') {
		for i := 2; i < len(last); i++ {
			if !isHexDigit(last[i]) {
				return false
			}
		}
		return true
	}
	for i := 0; i < len(last); i++ {
		if last[i] < '0' || last[i] > '9' {
			return false
		}
	}
	return true
}

func isHexDigit(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}
