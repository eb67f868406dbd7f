package httpout

import (
	"fmt"
	"strings"
)

// Header is one request header an endpoint adds to its deliveries: a static
// header or its auth header. The engine builds an endpoint's []Header once
// per config and every attempt sends that same slice, so headers cost no
// allocation per attempt.
type Header struct {
	Name, Value string
}

// Methods an endpoint may deliver with (Request.Method, the endpoint's
// "method"). GET and HEAD are missing on purpose: an event is content, and
// fasthttp, like most servers, drops a GET's body.
const (
	MethodPost   = "POST"
	MethodPut    = "PUT"
	MethodPatch  = "PATCH"
	MethodDelete = "DELETE"
)

// Limits on the headers an endpoint configures. A receiver's whole header
// block is commonly capped at 8 KiB (nginx, Node.js 16 KiB); these keep
// hookline's part of it well inside that.
const (
	MaxHeaders        = 32
	MaxHeaderNameLen  = 128
	MaxHeaderValueLen = 4096
)

// CheckMethod reports whether m may be an endpoint's method; "" means POST.
// Methods are case-sensitive (RFC 9110, section 9.1), so "post" is refused
// rather than guessed at.
func CheckMethod(m string) error {
	switch m {
	case "", MethodPost, MethodPut, MethodPatch, MethodDelete:
		return nil
	}
	return fmt.Errorf("method %q is not supported; use POST, PUT, PATCH or DELETE", m)
}

// refusedHeaderReason says why no endpoint may set the header name (any
// case), or "" when it may. Refused are:
//   - hop-by-hop headers (RFC 9110, section 7.6.1) and Proxy-*: they
//     describe hookline's connection, which fasthttp manages;
//   - Host, Content-Length, Content-Encoding, Expect: they describe the
//     request hookline writes (its URL and its body), so a different value
//     would make the request lie about itself;
//   - webhook-* and hookline-*: hookline's own headers, which receivers use
//     to verify and deduplicate deliveries.
//
// Content-Type and User-Agent may be set: a receiver may want a vendor
// JSON type (application/vnd.api+json) or a user agent it allow-lists.
func refusedHeaderReason(name string) string {
	switch strings.ToLower(name) {
	case "connection", "keep-alive", "te", "trailer", "transfer-encoding", "upgrade":
		return "it is a hop-by-hop header, which describes hookline's connection"
	case "host", "content-length", "content-encoding", "expect":
		return "it describes the request hookline writes"
	}
	switch {
	case hasPrefixFold(name, "proxy-"):
		return "Proxy-* headers describe hookline's connection"
	case hasPrefixFold(name, "webhook-"), hasPrefixFold(name, "hookline-"):
		return "webhook-* and hookline-* are hookline's own headers"
	}
	return ""
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// checkHeaderName checks name as the header a field names (field is used in
// the error): a token of at most MaxHeaderNameLen bytes that no endpoint may
// set. It allows Authorization, which CheckHeaderName does not.
func checkHeaderName(field, name string) error {
	if name == "" {
		return fmt.Errorf("%s is empty; it must be a header name", field)
	}
	if len(name) > MaxHeaderNameLen {
		return fmt.Errorf("%s is %d bytes long; a header name may have at most %d", field, len(name), MaxHeaderNameLen)
	}
	for i := 0; i < len(name); i++ {
		if !isTokenByte(name[i]) {
			return fmt.Errorf("%s %q has %q at byte %d; a header name is letters, digits and !#$%%&'*+-.^_`|~", field, name, name[i], i)
		}
	}
	if why := refusedHeaderReason(name); why != "" {
		return fmt.Errorf("%s %q cannot be set: %s", field, name, why)
	}
	return nil
}

// isTokenByte reports whether c may appear in an HTTP token (RFC 9110,
// section 5.6.2), which is what a header name is.
func isTokenByte(c byte) bool {
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// CheckHeaderName reports whether an endpoint may send a static header named
// name. Besides what no endpoint may set (see refusedHeaderReason) it
// refuses Authorization: a credential belongs in auth, which is stored
// write-only and shown masked, while static headers are shown as written.
func CheckHeaderName(name string) error {
	if strings.EqualFold(name, "authorization") {
		return fmt.Errorf("header %q carries credentials; set it through auth, which is never shown back", name)
	}
	return checkHeaderName("header name", name)
}

// CheckHeaderValue reports whether v may be sent as a header value: at most
// MaxHeaderValueLen bytes, no control characters other than tab (CR, LF and
// NUL would end or corrupt the header; fasthttp would turn CR and LF into
// spaces, a silent change), and no leading or trailing space or tab, which
// HTTP strips (RFC 9110, section 5.5) so the receiver would see another
// value than the one configured.
func CheckHeaderValue(v string) error {
	return checkHeaderValue("header value", v)
}

func checkHeaderValue(field, v string) error {
	if len(v) > MaxHeaderValueLen {
		return fmt.Errorf("%s is %d bytes long; at most %d are allowed", field, len(v), MaxHeaderValueLen)
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; (c < ' ' && c != '\t') || c == 0x7f {
			return fmt.Errorf("%s has control character %q at byte %d", field, c, i)
		}
	}
	if v != "" && (isSpaceOrTab(v[0]) || isSpaceOrTab(v[len(v)-1])) {
		return fmt.Errorf("%s starts or ends with a space or tab, which HTTP strips", field)
	}
	return nil
}

func isSpaceOrTab(c byte) bool { return c == ' ' || c == '\t' }

// CheckHeaders checks an endpoint's request headers together: each static
// header (CheckHeaderName, CheckHeaderValue, at most MaxHeaders), no name
// twice in any case, and none that auth or the signature scheme sets, since
// one of the two values would silently win. auth may be nil; sig is checked
// with its defaults (an hmac-sha256 endpoint without signature.header owns
// X-Hookline-Signature). It does not run auth.Validate or sig.Validate.
func CheckHeaders(headers []Header, auth *AuthConfig, sig SignatureConfig) error {
	if len(headers) > MaxHeaders {
		return fmt.Errorf("headers has %d entries; at most %d are allowed", len(headers), MaxHeaders)
	}
	sig.EnsureDefaults()
	sigHeader := sig.HeaderName()
	authHeader := ""
	if auth != nil {
		authHeader = auth.Header().Name
	}
	for i, h := range headers {
		if err := CheckHeaderName(h.Name); err != nil {
			return fmt.Errorf("headers: %w", err)
		}
		if err := checkHeaderValue(fmt.Sprintf("headers[%q]", h.Name), h.Value); err != nil {
			return err
		}
		for _, prev := range headers[:i] {
			if strings.EqualFold(prev.Name, h.Name) {
				return fmt.Errorf("headers has %q and %q; header names are case-insensitive, give it once", prev.Name, h.Name)
			}
		}
		switch {
		case sigHeader != "" && strings.EqualFold(h.Name, sigHeader):
			return fmt.Errorf("headers[%q] is where scheme %s puts its signature; remove it or choose another signature.header", h.Name, sig.Scheme)
		case authHeader != "" && strings.EqualFold(h.Name, authHeader):
			return fmt.Errorf("headers[%q] is the header auth sets; give it once, in auth", h.Name)
		}
	}
	if authHeader != "" && sigHeader != "" && strings.EqualFold(authHeader, sigHeader) {
		return fmt.Errorf("auth and signature both set header %q; choose another signature.header or auth.name", authHeader)
	}
	return nil
}
