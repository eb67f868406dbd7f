package httpout

import "strings"

// redacted replaces what RedactURL hides.
const redacted = "[redacted]"

// RedactURL returns an endpoint URL fit for a log line: scheme, host, port,
// path and the query's parameter names as written, every query value
// replaced by "[redacted]" (an empty value stays empty), and a fragment
// replaced whole. Query strings often carry the receiver's token, which a
// server log must not keep; the names still tell an operator which URL it
// was. The path is kept although some receivers put a token there too (e.g.
// Slack's /services/T…/B…/…): without it a log line would not say which
// endpoint it was about, and the endpoint's id names it exactly.
//
// Pieces are split on '&' only: a ';' stays inside the redacted value, so
// "a=1;token=x" hides "token=x" too. A piece without '=' may be a bare token
// ("?s3cr3t") and is redacted whole. A URL with neither query nor fragment
// is returned as it is, without allocating.
func RedactURL(raw string) string {
	cut := strings.IndexAny(raw, "?#")
	if cut < 0 {
		return raw
	}
	var b strings.Builder
	b.Grow(len(raw) + 16)
	b.WriteString(raw[:cut])
	rest := raw[cut:]
	if rest[0] == '?' {
		query, _, _ := strings.Cut(rest[1:], "#")
		b.WriteByte('?')
		for i, piece := range strings.Split(query, "&") {
			if i > 0 {
				b.WriteByte('&')
			}
			switch name, value, ok := strings.Cut(piece, "="); {
			case piece == "":
			case !ok:
				b.WriteString(redacted)
			default:
				b.WriteString(name)
				b.WriteByte('=')
				if value != "" {
					b.WriteString(redacted)
				}
			}
		}
	}
	if strings.IndexByte(rest, '#') >= 0 {
		b.WriteString("#" + redacted)
	}
	return b.String()
}
