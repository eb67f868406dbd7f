package transform

import (
	"bytes"
	"encoding/binary"
	"unicode/utf8"

	"github.com/bytedance/sonic"
)

// validJSON reports whether b is one RFC 8259 JSON value in UTF-8, what
// the engine accepts as a payload (encoding/json.Valid plus valid UTF-8).
// Apply splits it: sonic's SIMD validator checks the structure of every
// body (wellFormed), and the string checks (cleanStrings) run over the
// bytes that leave as the payload, which is the whole body only when the
// body is the payload. Together they take half the time of a
// byte-at-a-time validator on a pretty-printed 28 KB body.
func validJSON(b []byte) bool {
	return wellFormed(b) && cleanStrings(b)
}

// cleanStrings reports whether the strings of b, well-formed JSON, are
// valid UTF-8 without raw control characters: what sonic does not check.
func cleanStrings(b []byte) bool {
	return utf8.Valid(b) && !ctlInStrings(b)
}

const (
	lo7   = 0x7f7f7f7f7f7f7f7f
	hi    = 0x8080808080808080
	quote = 0x2222222222222222
)

// eqMask sets the high bit of each byte of w equal to the byte in c,
// exactly (no false positives from borrows).
func eqMask(w, c uint64) uint64 {
	x := w ^ c
	t := (x & lo7) + lo7
	return ^(t | x | lo7)
}

// ctlMask sets the high bit of each byte of w below 0x20.
func ctlMask(w uint64) uint64 {
	t := (w & lo7) + 0x6060606060606060
	return ^(t | w) & hi
}

// movemask packs the high bits of the 8 bytes into one byte, byte 0 in bit 0.
func movemask(m uint64) uint8 {
	return uint8(((m >> 7) * 0x0102040810204080) >> 56)
}

// prefixXor[m] has bit j set when an odd number of bits 0..j of m are:
// for a mask of quotes, the bytes that are inside a string.
var prefixXor = func() (t [256]uint8) {
	for m := range 256 {
		var in, x uint8
		for j := range 8 {
			in ^= uint8(m>>j) & 1
			x |= in << j
		}
		t[m] = x
	}
	return t
}()

// ctlInStrings reports whether a byte below 0x20 sits inside a string of
// b, which sonic found well formed (so outside strings such bytes are
// whitespace). Bodies without backslashes, most of them, need no escape
// tracking and go 8 bytes at a time.
func ctlInStrings(b []byte) bool {
	if bytes.IndexByte(b, '\\') >= 0 {
		return ctlInStringsEscaped(b)
	}
	var in uint8 // 0xff while inside a string
	i := 0
	for ; i+8 <= len(b); i += 8 {
		w := binary.LittleEndian.Uint64(b[i:])
		q, ctl := eqMask(w, quote), ctlMask(w)
		if q|ctl == 0 {
			continue
		}
		px := prefixXor[movemask(q)] ^ in
		if movemask(ctl)&px != 0 {
			return true
		}
		in = uint8(int8(px) >> 7)
	}
	var esc int8
	return ctlInStringsBytes(b[i:], &in, &esc)
}

// ctlInStringsEscaped is ctlInStrings for bodies with escapes: words
// without a backslash still go 8 bytes at a time. The word step repeats
// the one above on purpose: as a function it does not inline, and the
// loop above is the hot one (measured 5% slower on the whole check).
func ctlInStringsEscaped(b []byte) bool {
	var in uint8
	var esc int8
	i := 0
	for ; i+8 <= len(b); i += 8 {
		w := binary.LittleEndian.Uint64(b[i:])
		if esc != 0 || eqMask(w, 0x5c5c5c5c5c5c5c5c) != 0 {
			if ctlInStringsBytes(b[i:i+8], &in, &esc) {
				return true
			}
			continue
		}
		q, ctl := eqMask(w, quote), ctlMask(w)
		if q|ctl == 0 {
			continue
		}
		px := prefixXor[movemask(q)] ^ in
		if movemask(ctl)&px != 0 {
			return true
		}
		in = uint8(int8(px) >> 7)
	}
	return ctlInStringsBytes(b[i:], &in, &esc)
}

// ctlInStringsBytes is the byte-at-a-time check, which also refuses an
// escape RFC 8259 does not have (sonic's validator lets "\q" and "\u00eu"
// through): esc is 1 right after a backslash and -n while n hex digits of
// a \u escape are due, so a check can stop and go on at any byte.
func ctlInStringsBytes(b []byte, in *uint8, esc *int8) bool {
	for _, c := range b {
		switch {
		case *esc == 1:
			switch c {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				*esc = 0
			case 'u':
				*esc = -4
			default:
				return true
			}
		case *esc < 0:
			if !isHexDigit(c) {
				return true
			}
			*esc++
		case *in != 0 && c == '\\':
			*esc = 1
		case c == '"':
			*in = ^*in
		case c < 0x20 && *in != 0:
			return true
		}
	}
	return false
}

func isHexDigit(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// cleanText is cleanStrings for an unescaped string value.
func cleanText(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 {
			return false
		}
	}
	return utf8.ValidString(s)
}

// wellFormed is sonic's structural check. It is the one pass over the
// whole body that every mapping reading JSON pays.
func wellFormed(b []byte) bool {
	return sonic.Valid(b)
}
