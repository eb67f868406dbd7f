package transform

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/tidwall/gjson"
)

// URL is a compiled endpoint URL with {$.path} placeholders in its path
// and query. It is immutable and safe for concurrent use.
type URL struct {
	static   string    // what Render appends when there are no placeholders
	skeleton string    // the URL with each placeholder an x
	parts    []urlPart // nil when static
	budget   int64
}

type urlPart struct {
	lit   string // literal text, copied as written, when src.kind == srcNone
	src   source
	query bool // the placeholder is in the query, else in the path
}

// CompileURL compiles an endpoint URL that may hold {$.path}
// placeholders, in its path and query only: one in the scheme,
// userinfo, host, port or fragment would let an event choose where the
// request goes, or put it where the receiver never sees it. {{ and }}
// are literal braces, as in a body's string templates, written %7B and
// %7D as a URL must hold them. A URL without
// placeholders compiles too (Static reports it). Errors are *Error with
// code invalid_template and rule "url".
//
// CompileURL checks the URL's form only (url.Parse, a scheme and host
// when it has placeholders); which URLs an endpoint may call is the
// engine's business (httpout.Guard.CheckURL).
func CompileURL(s string) (*URL, error) {
	if len(s) > maxTemplateLen {
		return nil, urlInvalid("URL is longer than %d bytes", maxTemplateLen)
	}
	c := compiler{outbound: true}
	u := &URL{budget: DefaultStepBudget}
	// The skeleton is the URL with each placeholder an x: its literal
	// text decides where each placeholder sits, and it must parse.
	var skeleton []byte
	var at []int // each placeholder's offset in the skeleton
	var parts []urlPart
	err := scanText(s, func(text string) {
		switch text {
		case "{":
			text = "%7B"
		case "}":
			text = "%7D"
		}
		skeleton = append(skeleton, text...)
		if n := len(parts); n > 0 && parts[n-1].src.kind == srcNone {
			parts[n-1].lit += text
			return
		}
		parts = append(parts, urlPart{lit: text})
	}, func(src string) *Error {
		p, err := c.source("url", src, false)
		if err != nil {
			return partError(s, err)
		}
		if p.path.multi {
			return invalid("url", "placeholder {%s} can match many values; a URL takes one", src)
		}
		if err := c.count("url"); err != nil {
			return err
		}
		at = append(at, len(skeleton))
		skeleton = append(skeleton, 'x')
		parts = append(parts, urlPart{src: p})
		return nil
	})
	if err != nil {
		err.Rule = "url"
		return nil, asTemplate(err)
	}
	sk := string(skeleton)
	u.skeleton = sk
	if len(at) > 0 {
		if err := placeParts(s, sk, at, parts); err != nil {
			return nil, err
		}
	}
	parsed, perr := url.Parse(sk)
	if perr != nil {
		return nil, urlInvalid("cannot parse URL %q: %v", clipString(s), unwrapURLError(perr))
	}
	if len(at) == 0 {
		u.static = sk
		return u, nil
	}
	if parsed.Scheme == "" || parsed.Host == "" {
		return nil, urlInvalid("URL %q with placeholders must be absolute (scheme://host/...)", clipString(s))
	}
	u.parts = parts
	return u, nil
}

// placeParts finds where each placeholder sits, from the skeleton's
// literal text (a placeholder is one x there, at[k] for the k-th), marks
// those in the query, and refuses those before the path or in the
// fragment.
func placeParts(s, sk string, at []int, parts []urlPart) *Error {
	authEnd := strings.Index(sk, "://")
	if authEnd < 0 {
		return urlInvalid("URL %q with placeholders must be absolute (scheme://host/...)", clipString(s))
	}
	authEnd += 3
	if i := strings.IndexAny(sk[authEnd:], "/?#"); i >= 0 {
		authEnd += i
	} else {
		authEnd = len(sk)
	}
	query, fragment := len(sk), len(sk)
	if i := strings.IndexByte(sk[authEnd:], '#'); i >= 0 {
		fragment = authEnd + i
	}
	if i := strings.IndexByte(sk[authEnd:fragment], '?'); i >= 0 {
		query = authEnd + i
	}
	k := 0
	for i := range parts {
		if parts[i].src.kind == srcNone {
			continue
		}
		switch off := at[k]; {
		case off < authEnd:
			return urlInvalid("placeholder {%s} is in the scheme, userinfo, host or port; placeholders go in the path or query", parts[i].src.String())
		case off > fragment:
			return urlInvalid("placeholder {%s} is in the fragment, which is never sent; placeholders go in the path or query", parts[i].src.String())
		case off > query:
			parts[i].query = true
		}
		k++
	}
	return nil
}

func urlInvalid(format string, args ...any) *Error {
	return &Error{Code: CodeInvalidTemplate, Rule: "url", Message: fmt.Sprintf(format, args...)}
}

// unwrapURLError drops url.Error's repetition of the operation and URL.
func unwrapURLError(err error) error {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err
	}
	return err
}

// Static reports whether the URL has no placeholders: Render then
// appends it as written ({{ and }} as %7B and %7D) whatever the event.
func (u *URL) Static() bool { return u.parts == nil }

// Skeleton is the URL with each placeholder replaced by an x: what a
// check of the URL's literal parts (its scheme, host and port above all)
// looks at before any event fills it in.
func (u *URL) Skeleton() string { return u.skeleton }

// Render appends the URL to dst with each placeholder's value as text (a
// JSON string unescaped, a number or boolean as written) and
// percent-encoded: every byte but the unreserved A-Z a-z 0-9 - . _ ~
// (RFC 3986, 2.3), in the path and in the query alike, so a value cannot
// add a segment (/ is %2F), a parameter (& is %26) or anything else
// (@ is %40, space %20). A value that is absent, null, an object, an
// array or an empty string fails (render_failed, rule "url"): a request
// never goes to a half-built URL. So does "." or ".." in the path,
// which would move up the receiver's path. dst comes back at its length
// on entry after an error.
func (u *URL) Render(dst, event []byte) ([]byte, error) {
	if u.parts == nil {
		return append(dst, u.static...), nil
	}
	start := len(dst)
	if !validEvent(event) {
		return dst, renderFailed("url", "the event is not valid JSON")
	}
	d := newDoc(event, u.budget)
	defer d.release()
	for i := range u.parts {
		p := &u.parts[i]
		if p.src.kind == srcNone {
			dst = append(dst, p.lit...)
			continue
		}
		r, err := d.first(&p.src.path)
		if err != nil {
			return dst[:start], renderFailed("url", err.Error())
		}
		text, _ := scalarText(r)
		if msg := urlValueProblem(r, text, p.query); msg != "" {
			return dst[:start], renderFailed("url", fmt.Sprintf("placeholder {%s} %s", p.src.path.src, msg))
		}
		dst = appendPercentEncoded(dst, text)
	}
	return dst, nil
}

// urlValueProblem says what makes r unfit for a URL, "" when nothing.
func urlValueProblem(r gjson.Result, text string, query bool) string {
	switch {
	case !r.Exists():
		return "is missing"
	case r.Type == gjson.Null:
		return "is null"
	case r.Type == gjson.JSON:
		return "is an object or array, not text"
	case text == "":
		return "is an empty string"
	case !query && (text == "." || text == ".."):
		return fmt.Sprintf("is %q, which would move up the path", text)
	}
	return ""
}

// appendPercentEncoded appends s with every byte but RFC 3986's
// unreserved characters percent-encoded.
func appendPercentEncoded(dst []byte, s string) []byte {
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			c == '-' || c == '.' || c == '_' || c == '~' {
			dst = append(dst, c)
			continue
		}
		dst = append(dst, '%', hex[c>>4], hex[c&15])
	}
	return dst
}
