package bench

import (
	"strconv"

	"github.com/valyala/fasthttp"
)

// topLevelString returns the raw content of the string value of key in the
// top-level JSON object b, or nil. It skips nested values without decoding
// them, so a "type" inside data cannot pass for the event type, and it gives
// up at the first thing it does not understand. hookline writes "type"
// first, so the usual cost is a dozen bytes.
func topLevelString(b []byte, key string) []byte {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return nil
	}
	for {
		k, next := scanString(b, skipSpace(b, i+1)) // i is at '{' or ','
		if i = skipSpace(b, next); next < 0 || i >= len(b) || b[i] != ':' {
			return nil
		}
		i = skipSpace(b, i+1)
		if string(k) == key {
			v, _ := scanString(b, i)
			return v
		}
		if next = skipValue(b, i); next < 0 {
			return nil
		}
		if i = skipSpace(b, next); i >= len(b) || b[i] != ',' {
			return nil
		}
	}
}

func skipSpace(b []byte, i int) int {
	for i >= 0 && i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// scanString returns the raw content of the string at b[i] and the index
// after its closing quote, or -1 if there is no complete string there.
func scanString(b []byte, i int) ([]byte, int) {
	if i >= len(b) || b[i] != '"' {
		return nil, -1
	}
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return b[i+1 : j], j + 1
		}
	}
	return nil, -1
}

// skipValue returns the index after the value at b[i], or -1. It balances
// brackets without checking that they match: enough to skip a value.
func skipValue(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		_, next := scanString(b, i)
		return next
	case '{', '[':
		for depth := 0; i < len(b); i++ {
			switch b[i] {
			case '"':
				if _, i = scanString(b, i); i < 0 {
					return -1
				}
				i-- // the loop steps past the quote
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
		}
		return -1
	default: // number, true, false, null
		start := i
		for i < len(b) && b[i] != ',' && b[i] != '}' && b[i] != ']' && skipSpace(b, i) == i {
			i++
		}
		if i == start {
			return -1
		}
		return i
	}
}

// FormatDelivery renders one line for `hookline sink`, e.g.
//
//	2026-11-23T10:00:00.123Z evt_01J... invoice.paid attempt=1 signature=valid 123 bytes
//
// followed by "timestamp=stale" or "status=401 (reason)" when they apply.
func FormatDelivery(d *Delivery) string {
	b := make([]byte, 0, 128)
	b = d.Received.UTC().AppendFormat(b, "2006-01-02T15:04:05.000Z07:00")
	b = append(b, ' ')
	b = appendField(b, d.ID)
	b = append(b, ' ')
	b = appendField(b, d.Type)
	b = append(b, " attempt="...)
	b = strconv.AppendInt(b, int64(d.Attempt), 10)
	switch {
	case !d.SigChecked:
		b = append(b, " signature=unchecked"...)
	case d.SigValid:
		b = append(b, " signature=valid"...)
	default:
		b = append(b, " signature=invalid"...)
	}
	switch {
	case d.TimestampOK:
	case d.Timestamp == 0:
		b = append(b, " timestamp=missing"...)
	default:
		b = append(b, " timestamp=stale"...)
	}
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(len(d.Body)), 10)
	b = append(b, " bytes"...)
	if d.Status != 0 && d.Status != fasthttp.StatusOK {
		b = append(b, " status="...)
		b = strconv.AppendInt(b, int64(d.Status), 10)
		if d.Reason != "" {
			b = append(b, " ("...)
			b = append(b, d.Reason...)
			b = append(b, ')')
		}
	}
	return string(b)
}

// appendField keeps the line one space-separated record per delivery: ids
// and types come from the network, so anything odd is quoted rather than
// allowed to break the line or the terminal.
func appendField(b []byte, s string) []byte {
	if s == "" {
		return append(b, '-')
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f || s[i] == '"' {
			return strconv.AppendQuoteToASCII(b, s)
		}
	}
	return append(b, s...)
}
