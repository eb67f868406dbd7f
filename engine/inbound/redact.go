package inbound

import "strings"

// redactedHeaders are the headers that carry s's credentials.
func (s *Source) redactedHeaders() []string {
	out := []string{"Authorization", "Proxy-Authorization", "Cookie"}
	if s.APIKey != nil && s.APIKey.Header != "" {
		out = append(out, s.APIKey.Header)
	}
	return out
}

// redactedQuery is the query parameter that carries s's key or verify
// token, if any.
func (s *Source) redactedQuery() string {
	if s.VerifyToken != "" {
		return "hub.verify_token"
	}
	if s.APIKey != nil {
		return s.APIKey.Query
	}
	return ""
}

// redactHeaders returns raw's header lines with the named headers'
// values replaced, capped at limit bytes.
func redactHeaders(raw []byte, names []string, limit int) string {
	var b strings.Builder
	for line := range strings.SplitSeq(string(raw), "\n") {
		line = strings.TrimRight(line, "\r")
		if line == "" {
			continue
		}
		name, _, ok := strings.Cut(line, ":")
		if !ok || strings.ContainsAny(name, " \t") {
			// The request line: its URI (with a query key, maybe a
			// colon) is logged redacted as the URL, not here.
			continue
		}
		for _, n := range names {
			if strings.EqualFold(strings.TrimSpace(name), n) {
				line = name + ": [redacted]"
				break
			}
		}
		if b.Len()+len(line)+1 > limit {
			break
		}
		b.WriteString(line)
		b.WriteByte('\n')
	}
	return b.String()
}

// redactQuery replaces the value of query parameter name in u. The query
// is split and its names decoded the way the receiver read them (fasthttp:
// pairs split on '&' only, '+' is a space, a bad escape stays as it is),
// so a query net/url refuses (a ';', a bad escape) cannot keep the key in
// the clear; the other pairs stay as they were sent.
func redactQuery(u, name string) string {
	if name == "" {
		return u
	}
	base, q, ok := strings.Cut(u, "?")
	if !ok {
		return u
	}
	pairs := strings.Split(q, "&")
	changed := false
	for i, p := range pairs {
		k, _, _ := strings.Cut(p, "=")
		if unescapeQuery(k) == name {
			pairs[i] = k + "=[redacted]"
			changed = true
		}
	}
	if !changed {
		return u
	}
	return base + "?" + strings.Join(pairs, "&")
}

// unescapeQuery decodes a query name leniently, as fasthttp does.
func unescapeQuery(s string) string {
	if !strings.ContainsAny(s, "%+") {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '+':
			b = append(b, ' ')
		case c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			b = append(b, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
		default:
			b = append(b, c)
		}
	}
	return string(b)
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}
