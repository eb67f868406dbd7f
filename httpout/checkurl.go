package httpout

import (
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"
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
// The URL must have scheme http or https, a host, no userinfo, no fragment,
// at most MaxURLLen bytes, only the characters checkURLBytes lets through
// (others must be percent-encoded) and a port (if any) in 1..65535. An IP
// literal host must pass Allowed; "localhost", "*.localhost" and their
// trailing-dot forms are judged as 127.0.0.1. A host whose last label is numeric but which is not a
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
		if err := checkURLBytes(raw); err != nil {
			// More precise than net/url's "invalid control character".
			return err
		}
		return invalidURL("cannot parse URL %q: %s", raw, unwrapURLErr(err))
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		if u.Scheme == "" {
			return invalidURL("URL %q has no scheme; it must start with http:// or https://", raw)
		}
		return invalidURL("URL scheme %q is not supported; use http or https", u.Scheme)
	}
	if err := checkURLBytes(raw); err != nil {
		return err
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

// urlMustEncode are the printable ASCII characters RFC 3986 (section 2) does
// not allow in a URI, which must therefore be percent-encoded. '[' and ']'
// are allowed in a host only, but they are left to pass elsewhere too:
// PHP-style queries (items[]=1) use them, and clients send them as they are.
const urlMustEncode = "\"<>\\^`{|}"

// checkURLBytes refuses, with the byte's position and how to write it, what
// an endpoint URL may not hold raw:
//
//   - space and control characters (tab, CR, LF, NUL, DEL, ...): the URL
//     goes into the request line as it is stored, so a space would split it
//     ("POST /a b HTTP/1.1") and CR/LF would inject headers;
//   - non-ASCII characters, and bytes that are not UTF-8: a path or query
//     carries them percent-encoded, a host in punycode;
//   - the printable characters of urlMustEncode;
//   - a '%' not followed by two hex digits;
//   - a fragment: it is never sent, and a '#' meant as part of a token would
//     silently cut the URL short.
//
// They are refused rather than percent-encoded for the user: the URL stored,
// shown and sent stays the one the user wrote, and no guess is made between
// an escape and a literal '%', or a fragment and a '#' that belongs to the
// query.
func checkURLBytes(raw string) error {
	for i := 0; i < len(raw); i++ {
		switch c := raw[i]; {
		case c == ' ':
			return invalidURL("URL contains a space at byte %d; write it as %%20", i)
		case c < 0x20 || c == 0x7f:
			return invalidURL("URL contains the control character %q at byte %d; remove it, or percent-encode it as %%%02X", c, i, c)
		case c >= 0x80:
			r, size := utf8.DecodeRuneInString(raw[i:])
			if r == utf8.RuneError && size == 1 {
				return invalidURL("URL contains 0x%02X at byte %d, which is not UTF-8; percent-encode it as %%%02X", c, i, c)
			}
			if inAuthority(raw, i) {
				return invalidURL("URL host contains the non-ASCII character %q; write internationalized names in punycode (xn--...)", r)
			}
			return invalidURL("URL contains the non-ASCII character %q at byte %d; percent-encode it as %s", r, i, percentEncode(raw[i:i+size]))
		case strings.IndexByte(urlMustEncode, c) >= 0:
			return invalidURL("URL contains %q at byte %d, which must be percent-encoded as %%%02X", c, i, c)
		case c == '%':
			if i+2 >= len(raw) || !isHexDigit(raw[i+1]) || !isHexDigit(raw[i+2]) {
				return invalidURL("URL has a broken percent escape %q at byte %d; a '%%' must start an escape such as %%20, and is itself written %%25", raw[i:min(i+3, len(raw))], i)
			}
		case c == '#':
			return invalidURL("URL has a fragment (from '#' at byte %d), which is never sent to the receiver; remove it, or write '#' as %%23 if it belongs to the path or query", i)
		}
	}
	return nil
}

// inAuthority reports whether byte i of raw lies in its authority (the host
// and port, between "://" and the path, query or fragment).
func inAuthority(raw string, i int) bool {
	start := strings.Index(raw, "://")
	if start < 0 {
		return false
	}
	start += 3
	end := strings.IndexAny(raw[start:], "/?#")
	if end < 0 {
		end = len(raw)
	} else {
		end += start
	}
	return i >= start && i < end
}

// percentEncode writes every byte of s as %XX.
func percentEncode(s string) string {
	const hex = "0123456789ABCDEF"
	b := make([]byte, 0, 3*len(s))
	for i := 0; i < len(s); i++ {
		b = append(b, '%', hex[s[i]>>4], hex[s[i]&15])
	}
	return string(b)
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
