package httpin

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"unicode/utf8"
)

// The parser is a hand-written single-pass scanner rather than sonic: sonic's
// exported Skip and Valid accept control characters and malformed escapes inside
// strings, and we forward payload bytes verbatim, so whatever we accept must be
// JSON that every receiver can parse. One pass also gives exact offsets, the
// failing event index and duplicate-key detection, which a struct decode cannot.

// Error codes of ParseError. They are stable API: clients switch on them.
const (
	CodeInvalidJSON           = "invalid_json"
	CodeEmptyBody             = "empty_body"
	CodeBatchEmpty            = "batch_empty"
	CodeBatchTooLarge         = "batch_too_large"
	CodePayloadTooLarge       = "payload_too_large"
	CodePayloadTooDeep        = "payload_too_deep"
	CodeMissingType           = "missing_type"
	CodeInvalidType           = "invalid_type"
	CodeMissingPayload        = "missing_payload"
	CodeInvalidIdempotencyKey = "invalid_idempotency_key"
	CodeUnknownField          = "unknown_field"
)

const (
	maxTypeLen = 128
	maxKeyLen  = 256

	errEOF = "unexpected end of input"
)

// EventInput is one event as published. Payload is the raw JSON value exactly as sent,
// with surrounding whitespace trimmed; it aliases the request body (callers copy before
// the request ends).
type EventInput struct {
	Type           string
	Payload        []byte
	IdempotencyKey string
}

// ParseError says why a publish body was refused; Code is stable API (clients switch on it).
type ParseError struct {
	Code    string // one of the Code* constants
	Message string // human readable, names the offending field/line/index and value where safe
	Index   int    // position of the failing event in a batch (0-based), -1 for a single event or the batch as a whole
}

func (e *ParseError) Error() string { return e.Code + ": " + e.Message }

// ParseLimits bounds what one publish request may contain. The server
// passes its validated Options; a zero field (a caller outside the server)
// takes Options' default.
type ParseLimits struct {
	MaxPayloadBytes int // size of one event's JSON object (the whole object, not only payload)
	MaxBatchEvents  int
	// MaxPayloadDepth bounds the nesting of each field's value: each object
	// or array is one level, the event object itself is not counted. At
	// most MaxPayloadDepthLimit; more is taken as that.
	MaxPayloadDepth int
}

func (lim ParseLimits) withDefaults() ParseLimits {
	if lim.MaxPayloadBytes <= 0 {
		lim.MaxPayloadBytes = defaultMaxEventBytes
	}
	if lim.MaxBatchEvents <= 0 {
		lim.MaxBatchEvents = defaultMaxBatchEvents
	}
	if lim.MaxPayloadDepth <= 0 {
		lim.MaxPayloadDepth = defaultMaxPayloadDepth
	}
	lim.MaxPayloadDepth = min(lim.MaxPayloadDepth, MaxPayloadDepthLimit)
	return lim
}

// parseFault is a ParseError before it knows which event or line it belongs to;
// off >= 0 marks a syntax error at that byte offset.
type parseFault struct {
	code string
	off  int
	msg  string
}

func syntaxFault(off int, msg string) parseFault { return parseFault{CodeInvalidJSON, off, msg} }

// stopped reports whether f ended the scan before the end of the object:
// broken JSON, or nesting past the limit.
func (f parseFault) stopped() bool { return f.code == CodeInvalidJSON || f.code == CodePayloadTooDeep }

func (f parseFault) toError(index, line int) *ParseError {
	msg := f.msg
	switch {
	case f.off >= 0 && line > 0:
		msg = fmt.Sprintf("invalid JSON at offset %d of the line: %s", f.off, msg)
	case f.off >= 0:
		msg = fmt.Sprintf("invalid JSON at offset %d: %s", f.off, msg)
	}
	switch {
	case line > 0:
		msg = fmt.Sprintf("event %d (line %d): %s", index, line, msg)
	case index >= 0:
		msg = fmt.Sprintf("event %d: %s", index, msg)
	}
	return &ParseError{Code: f.code, Message: msg, Index: index}
}

// ParseEvent parses one event object.
func ParseEvent(body []byte, lim ParseLimits) (EventInput, *ParseError) {
	lim = lim.withDefaults()
	start, end := skipWS(body, 0), trimRightWS(body)
	if start >= end {
		return EventInput{}, &ParseError{Code: CodeEmptyBody, Message: "request body is empty", Index: -1}
	}
	if end-start > lim.MaxPayloadBytes {
		return EventInput{}, eventTooLarge(end-start, lim).toError(-1, 0)
	}
	ev, p, f := parseObject(body[:end], start, "", lim.MaxPayloadDepth)
	if p = skipWS(body[:end], p); !f.stopped() && p != end {
		f = syntaxFault(p, "unexpected data after the event object")
	}
	if f.code != "" {
		return EventInput{}, f.toError(-1, 0)
	}
	return ev, nil
}

// ParseBatch parses a JSON array of event objects, or NDJSON when ndjson is true OR when the
// first non-whitespace byte is not '['. Blank lines in NDJSON are skipped; a trailing newline is fine;
// \r\n line endings are fine. Any bad event rejects the whole batch (the error's Index says which).
func ParseBatch(body []byte, ndjson bool, lim ParseLimits) ([]EventInput, *ParseError) {
	lim = lim.withDefaults()
	if p := skipWS(body, 0); !ndjson && p < len(body) && body[p] == '[' {
		return parseArray(body[:trimRightWS(body)], p+1, lim)
	}
	return parseNDJSON(body, lim)
}

// tooDeep is the fault of a value (what names it) whose nesting passes
// maxDepth at offset off. The limit is a resource bound, as the size limit
// is: the rest of the value is not validated.
func tooDeep(what string, off, maxDepth int) parseFault {
	return parseFault{CodePayloadTooDeep, -1, fmt.Sprintf("%s nests deeper than %d levels (the limit) at offset %d", what, maxDepth, off)}
}

func eventTooLarge(n int, lim ParseLimits) parseFault {
	return parseFault{CodePayloadTooLarge, -1, fmt.Sprintf("event object is %d bytes, the limit is %d bytes", n, lim.MaxPayloadBytes)}
}

func batchTooMany(lim ParseLimits) *ParseError {
	return &ParseError{Code: CodeBatchTooLarge, Index: lim.MaxBatchEvents,
		Message: fmt.Sprintf("batch has more than %d events", lim.MaxBatchEvents)}
}

func batchEmpty() *ParseError {
	return &ParseError{Code: CodeBatchEmpty, Message: "batch contains no events", Index: -1}
}

// parseArray parses s[p:] as the rest of a JSON array; s has no trailing whitespace.
func parseArray(s []byte, p int, lim ParseLimits) ([]EventInput, *ParseError) {
	p = skipWS(s, p)
	if p < len(s) && s[p] == ']' {
		if p+1 != len(s) {
			return nil, syntaxFault(skipWS(s, p+1), "unexpected data after the batch array").toError(-1, 0)
		}
		return nil, batchEmpty()
	}
	var events []EventInput
	prevType := ""
	for idx := 0; ; idx++ {
		if idx >= lim.MaxBatchEvents {
			return nil, batchTooMany(lim)
		}
		// The scan window ends where the size limit does, so an oversized event costs
		// at most MaxPayloadBytes of work and shows up as input ending inside it.
		w := len(s)
		if lim.MaxPayloadBytes < w-p {
			w = p + lim.MaxPayloadBytes
		}
		ev, q, f := parseObject(s[:w], p, prevType, lim.MaxPayloadDepth)
		if f.code == CodeInvalidJSON && w < len(s) && f.off >= w {
			f = parseFault{CodePayloadTooLarge, -1, fmt.Sprintf("event object is larger than the limit of %d bytes", lim.MaxPayloadBytes)}
		}
		if f.code != "" {
			return nil, f.toError(idx, 0)
		}
		if events == nil {
			events = make([]EventInput, 0, min(len(s)/(q-p+1)+1, lim.MaxBatchEvents))
		}
		events = append(events, ev)
		prevType = ev.Type
		p = skipWS(s, q)
		switch {
		case p >= len(s):
			return nil, syntaxFault(p, "batch array is not terminated").toError(-1, 0)
		case s[p] == ',':
			p = skipWS(s, p+1)
		case s[p] == ']':
			if p+1 != len(s) {
				return nil, syntaxFault(skipWS(s, p+1), "unexpected data after the batch array").toError(-1, 0)
			}
			return events, nil
		default:
			return nil, syntaxFault(p, "expected ',' or ']' after an event").toError(-1, 0)
		}
	}
}

func parseNDJSON(body []byte, lim ParseLimits) ([]EventInput, *ParseError) {
	var events []EventInput
	prevType := ""
	line := 0
	for rest := body; len(rest) > 0; {
		line++
		ln := rest
		if i := bytes.IndexByte(rest, '\n'); i >= 0 {
			ln, rest = rest[:i], rest[i+1:]
		} else {
			rest = nil
		}
		ln = ln[:trimRightWS(ln)]
		start := skipWS(ln, 0)
		if start == len(ln) {
			continue
		}
		idx := len(events)
		if idx >= lim.MaxBatchEvents {
			return nil, batchTooMany(lim)
		}
		if len(ln)-start > lim.MaxPayloadBytes {
			return nil, eventTooLarge(len(ln)-start, lim).toError(idx, line)
		}
		ev, p, f := parseObject(ln, start, prevType, lim.MaxPayloadDepth)
		if p = skipWS(ln, p); !f.stopped() && p != len(ln) {
			f = syntaxFault(p, "unexpected data after the event object")
		}
		if f.code != "" {
			return nil, f.toError(idx, line)
		}
		if events == nil {
			events = make([]EventInput, 0, min(bytes.Count(body, []byte{'\n'})+1, lim.MaxBatchEvents))
		}
		events = append(events, ev)
		prevType = ev.Type
	}
	if len(events) == 0 {
		return nil, batchEmpty()
	}
	return events, nil
}

const (
	fieldUnknown = iota
	fieldType
	fieldPayload
	fieldKey
)

// parseObject parses the event object starting at s[p] and returns the offset just
// past it. Syntax errors return at once; the first semantic error is held until the
// object has been scanned, so broken JSON is always reported as invalid_json.
// prevType lets a batch share one string among events of the same type. A
// field's value nested deeper than maxDepth stops the scan as a syntax error
// does, with payload_too_deep.
func parseObject(s []byte, p int, prevType string, maxDepth int) (ev EventInput, end int, f parseFault) {
	if p >= len(s) {
		return ev, p, syntaxFault(p, "expected an event object")
	}
	if s[p] != '{' {
		if k := kindOf(s[p]); k != "" {
			return ev, p, syntaxFault(p, "an event must be a JSON object, got "+k)
		}
		return ev, p, syntaxFault(p, fmt.Sprintf("expected an event object, found %q", s[p]))
	}
	var first parseFault
	var seen uint8
	var msg string
	p = skipWS(s, p+1)
	if p < len(s) && s[p] == '}' {
		p++
	} else {
		for {
			ks := p
			if p, msg = scanKey(s, p); msg != "" {
				return ev, p, syntaxFault(p, msg)
			}
			name, fid := fieldOf(s, ks)
			if fid != fieldUnknown {
				if seen&(1<<fid) != 0 {
					return ev, ks, syntaxFault(ks, fmt.Sprintf("duplicate field %q", name))
				}
				seen |= 1 << fid
			}
			vs := p
			if c := s[p]; c == '"' && (fid == fieldType || fid == fieldKey) {
				var esc bool
				if p, esc, msg = scanString(s, p); msg != "" {
					return ev, p, syntaxFault(p, msg)
				}
				if first.code == "" {
					first = setString(&ev, fid, s[vs:p], esc, prevType)
				}
			} else {
				if p, msg = skipValue(s, p, maxDepth); msg != "" {
					if msg == errTooDeep {
						return ev, p, tooDeep("field "+quoteTrunc(name), p, maxDepth)
					}
					return ev, p, syntaxFault(p, msg)
				}
				if first.code == "" {
					first = setValue(&ev, fid, name, s[vs:p])
				}
			}
			p = skipWS(s, p)
			if p >= len(s) {
				return ev, p, syntaxFault(p, errEOF)
			}
			if s[p] == '}' {
				p++
				break
			}
			if s[p] != ',' {
				return ev, p, syntaxFault(p, "expected ',' or '}' after an object field")
			}
			p = skipWS(s, p+1)
		}
	}
	switch {
	case first.code != "":
		return EventInput{}, p, first
	case seen&(1<<fieldType) == 0:
		return EventInput{}, p, parseFault{CodeMissingType, -1, `missing required field "type"`}
	case seen&(1<<fieldPayload) == 0:
		return EventInput{}, p, parseFault{CodeMissingPayload, -1, `missing required field "payload"`}
	}
	return ev, p, parseFault{}
}

// fieldOf names the object key whose quoted form starts at s[ks].
func fieldOf(s []byte, ks int) (string, int) {
	end, esc, _ := scanString(s, ks)
	key := s[ks+1 : end-1]
	if esc {
		key = []byte(unquote(s[ks:end]))
	}
	switch string(key) {
	case "type":
		return "type", fieldType
	case "payload":
		return "payload", fieldPayload
	case "idempotency_key":
		return "idempotency_key", fieldKey
	}
	return string(key), fieldUnknown
}

// setString stores a string value of "type" or "idempotency_key".
func setString(ev *EventInput, fid int, quoted []byte, esc bool, prevType string) parseFault {
	raw := quoted[1 : len(quoted)-1]
	if esc {
		raw = []byte(unquote(quoted))
	}
	if fid == fieldKey {
		if len(raw) == 0 {
			return parseFault{}
		}
		if msg := checkKey(raw); msg != "" {
			return parseFault{CodeInvalidIdempotencyKey, -1, msg}
		}
		ev.IdempotencyKey = string(raw)
		return parseFault{}
	}
	if len(raw) == 0 {
		return parseFault{CodeMissingType, -1, `field "type" must not be empty`}
	}
	if msg := checkType(raw); msg != "" {
		return parseFault{CodeInvalidType, -1, msg}
	}
	if string(raw) == prevType {
		ev.Type = prevType
	} else {
		ev.Type = string(raw)
	}
	return parseFault{}
}

// setValue handles a non-string value of any field, or any value of "payload" and unknown fields.
func setValue(ev *EventInput, fid int, name string, v []byte) parseFault {
	switch fid {
	case fieldPayload:
		ev.Payload = v[:len(v):len(v)] // appends by the caller must not overwrite the body
	case fieldType:
		if string(v) == "null" {
			return parseFault{CodeMissingType, -1, `field "type" must not be null`}
		}
		return parseFault{CodeInvalidType, -1, `field "type" must be a string, got ` + kindOf(v[0])}
	case fieldKey:
		if string(v) != "null" { // null is "no key", as many encoders write absent optionals
			return parseFault{CodeInvalidIdempotencyKey, -1, `field "idempotency_key" must be a string, got ` + kindOf(v[0])}
		}
	default:
		return parseFault{CodeUnknownField, -1, fmt.Sprintf(`unknown field %s; allowed fields are "type", "payload" and "idempotency_key"`, quoteTrunc(name))}
	}
	return parseFault{}
}

var typeChars = func() (t [256]bool) {
	for _, c := range []byte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-") {
		t[c] = true
	}
	return t
}()

func checkType(t []byte) string {
	if len(t) > maxTypeLen {
		return fmt.Sprintf(`field "type" is %d bytes long, the limit is %d`, len(t), maxTypeLen)
	}
	for i, c := range t {
		if !typeChars[c] {
			return fmt.Sprintf(`field "type" value %s has a disallowed byte %q at position %d; allowed are A-Z a-z 0-9 . _ : -`, quoteTrunc(string(t)), c, i)
		}
	}
	if t[0] == '.' || t[len(t)-1] == '.' {
		return fmt.Sprintf(`field "type" value %s must not start or end with '.'`, quoteTrunc(string(t)))
	}
	return ""
}

func checkKey(k []byte) string {
	if len(k) > maxKeyLen {
		return fmt.Sprintf(`field "idempotency_key" is %d bytes long, the limit is %d`, len(k), maxKeyLen)
	}
	for i := 0; i < len(k); {
		r, n := rune(k[i]), 1
		if r >= utf8.RuneSelf {
			r, n = utf8.DecodeRune(k[i:])
		}
		if r < 0x20 || (r >= 0x7f && r <= 0x9f) {
			return fmt.Sprintf(`field "idempotency_key" has a control character at byte %d`, i)
		}
		i += n
	}
	return ""
}

// quoteTrunc quotes user input for a message: escaped, so it cannot forge log lines,
// and short, so a huge value cannot bloat the response.
func quoteTrunc(v string) string {
	if len(v) > 64 {
		return strconv.Quote(v[:64]) + "..."
	}
	return strconv.Quote(v)
}

// unquote decodes a JSON string that scanString has accepted; only escaped strings
// take this path, and they are rare in the fields we read.
func unquote(quoted []byte) string {
	var v string
	if err := json.Unmarshal(quoted, &v); err != nil {
		panic(fmt.Sprintf("BUG: scanner accepted string %q that encoding/json refuses: %s", quoted, err))
	}
	return v
}

var jsonKinds = map[byte]string{'{': "object", '[': "array", '"': "string", 't': "boolean", 'f': "boolean", 'n': "null"}

// kindOf names the JSON type of the value starting with c, or "" if none starts so.
func kindOf(c byte) string {
	if c == '-' || c >= '0' && c <= '9' {
		return "number"
	}
	return jsonKinds[c]
}
