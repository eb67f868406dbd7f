package httpin

import (
	"fmt"
	"unicode/utf8"
)

// This scanner accepts exactly RFC 8259 JSON in UTF-8 (what encoding/json.Valid
// accepts, minus invalid UTF-8 and nesting beyond the caller's limit). Each function
// takes the offset of its first byte and returns the offset after it, or the offset of
// the error with a message. A truncated input always fails at len(s) with errEOF;
// parseArray relies on that to tell an oversized event from a broken one.

// MaxPayloadDepthLimit is the most a depth limit may be: skipValue's stack
// of container kinds has room for this many levels (plus the object that
// holds a test payload). Common receiver parsers fail near 1000 levels
// (Python's json at its recursion limit), so more would accept events no
// receiver can read.
const MaxPayloadDepthLimit = 1024

// errTooDeep is skipValue's message for nesting past its limit; callers
// compare against it to report payload_too_deep instead of invalid_json.
const errTooDeep = "nesting too deep"

func skipWS(s []byte, p int) int {
	for p < len(s) && (s[p] == ' ' || s[p] == '\n' || s[p] == '\r' || s[p] == '\t') {
		p++
	}
	return p
}

func trimRightWS(s []byte) int {
	n := len(s)
	for n > 0 && (s[n-1] == ' ' || s[n-1] == '\n' || s[n-1] == '\r' || s[n-1] == '\t') {
		n--
	}
	return n
}

// strPlain marks bytes that end no fast run inside a string.
var strPlain = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// scanString scans the string starting with the quote at s[p]; esc reports escapes.
func scanString(s []byte, p int) (end int, esc bool, msg string) {
	i := p + 1
	for {
		for i < len(s) && strPlain[s[i]] {
			i++
		}
		if i >= len(s) {
			return len(s), esc, errEOF
		}
		switch c := s[i]; {
		case c == '"':
			return i + 1, esc, ""
		case c == '\\':
			esc = true
			if i+1 >= len(s) {
				return len(s), esc, errEOF
			}
			switch s[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				for j := i + 2; j < i+6; j++ {
					if j >= len(s) {
						return len(s), esc, errEOF
					}
					if c := s[j]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
						return j, esc, "invalid hex digit in \\u escape"
					}
				}
				i += 6
			default:
				return i + 1, esc, "invalid escape character in string"
			}
		case c < 0x20:
			return i, esc, "control character in string"
		default:
			r, n := utf8.DecodeRune(s[i:])
			if r == utf8.RuneError && n == 1 {
				if !utf8.FullRune(s[i:]) {
					return len(s), esc, errEOF
				}
				return i, esc, "invalid UTF-8 in string"
			}
			i += n
		}
	}
}

// scanKey scans an object key, the colon and the whitespace up to the value.
func scanKey(s []byte, p int) (int, string) {
	if p >= len(s) {
		return p, errEOF
	}
	if s[p] != '"' {
		return p, "expected a string object key"
	}
	p, _, msg := scanString(s, p)
	if msg != "" {
		return p, msg
	}
	if p = skipWS(s, p); p >= len(s) {
		return p, errEOF
	}
	if s[p] != ':' {
		return p, "expected ':' after an object key"
	}
	if p = skipWS(s, p+1); p >= len(s) {
		return p, errEOF
	}
	return p, ""
}

func scanDigits(s []byte, p int) (int, string) {
	if p >= len(s) {
		return p, errEOF
	}
	if s[p] < '0' || s[p] > '9' {
		return p, "expected a digit in number"
	}
	for p < len(s) && s[p] >= '0' && s[p] <= '9' {
		p++
	}
	return p, ""
}

func scanNumber(s []byte, p int) (int, string) {
	if s[p] == '-' {
		p++
	}
	var msg string
	if p < len(s) && s[p] == '0' {
		p++
	} else if p, msg = scanDigits(s, p); msg != "" {
		return p, msg
	}
	if p < len(s) && s[p] == '.' {
		if p, msg = scanDigits(s, p+1); msg != "" {
			return p, msg
		}
	}
	if p < len(s) && (s[p] == 'e' || s[p] == 'E') {
		p++
		if p < len(s) && (s[p] == '+' || s[p] == '-') {
			p++
		}
		return scanDigits(s, p)
	}
	return p, ""
}

func scanLiteral(s []byte, p int, lit string) (int, string) {
	for i := 0; i < len(lit); i++ {
		if p+i >= len(s) {
			return len(s), errEOF
		}
		if s[p+i] != lit[i] {
			return p + i, "invalid literal"
		}
	}
	return p + len(lit), ""
}

// skipValue validates the value at s[p] and returns the offset after it. It keeps
// its own stack of container kinds instead of recursing, so hostile nesting costs
// 136 bytes of stack and a clean error: a container that would make the value
// nest deeper than maxDepth levels fails with errTooDeep at its offset.
func skipValue(s []byte, p, maxDepth int) (int, string) {
	var objs [MaxPayloadDepthLimit/64 + 1]uint64 // bit d set: the container at depth d is an object
	maxDepth = min(maxDepth, len(objs)*64)
	depth := 0
	var msg string
	for {
		if p >= len(s) {
			return p, errEOF
		}
		switch c := s[p]; c {
		case '"':
			p, _, msg = scanString(s, p)
		case '{', '[':
			if depth >= maxDepth {
				return p, errTooDeep
			}
			if c == '{' {
				objs[depth/64] |= 1 << (depth % 64)
			} else {
				objs[depth/64] &^= 1 << (depth % 64)
			}
			depth++
			if p = skipWS(s, p+1); p >= len(s) {
				return p, errEOF
			}
			if s[p] == c+2 { // '{'+2 == '}' and '['+2 == ']'
				p++
				depth--
				break
			}
			if c == '{' {
				if p, msg = scanKey(s, p); msg != "" {
					return p, msg
				}
			}
			continue
		case 't':
			p, msg = scanLiteral(s, p, "true")
		case 'f':
			p, msg = scanLiteral(s, p, "false")
		case 'n':
			p, msg = scanLiteral(s, p, "null")
		default:
			if c != '-' && (c < '0' || c > '9') {
				return p, fmt.Sprintf("invalid character %q looking for the beginning of a value", c)
			}
			p, msg = scanNumber(s, p)
		}
		if msg != "" {
			return p, msg
		}
		// A value ended: close finished containers until one continues with ','.
		for {
			if depth == 0 {
				return p, ""
			}
			if p = skipWS(s, p); p >= len(s) {
				return p, errEOF
			}
			obj := objs[(depth-1)/64]&(1<<((depth-1)%64)) != 0
			c := s[p]
			if c == ',' {
				if p = skipWS(s, p+1); obj {
					if p, msg = scanKey(s, p); msg != "" {
						return p, msg
					}
				}
				break
			}
			if (obj && c == '}') || (!obj && c == ']') {
				p++
				depth--
				continue
			}
			if obj {
				return p, "expected ',' or '}' after an object field"
			}
			return p, "expected ',' or ']' after an array element"
		}
	}
}
