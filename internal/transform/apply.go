package transform

import (
	"fmt"
	"strings"
	"unicode/utf8"
	"unsafe"

	"github.com/tidwall/gjson"
)

// Headers reads one request header by name, nil or empty when absent.
// fasthttp's RequestHeader satisfies it.
type Headers interface {
	Peek(key string) []byte
}

// Result is what one request maps to.
type Result struct {
	Type string // "" when dropped
	ID   string // dedupe id; "" when the spec has none or it is absent
	// Payload is valid JSON. It aliases the body when the spec has no
	// payload shaping, else the buf that Apply returned: either way it
	// is only good while those bytes are.
	Payload []byte
	Dropped bool   // a route dropped it, or no route matched under unmatched: drop
	Reason  string // why it was dropped or why Apply failed
	// Steps is what the fallback paths cost, counted against the
	// mapping's step budget (DefaultStepBudget); 0 without them.
	Steps int64
}

// Apply maps a verified request. buf is scratch for the payload (and
// for the type and id while they are built); Apply returns it, grown,
// for the caller to reuse on the next request. A request that cannot be
// mapped gets an *Error: invalid_json when the mapping needs a JSON body
// and the body is not valid JSON, mapping_failed naming the rule
// otherwise, also when the fallback paths go over the step budget.
// Apply allocates only the Type and ID strings on the gjson paths; the
// fallback paths index the body, once per call.
func (m *Mapping) Apply(body []byte, h Headers, dst *Result, buf []byte) ([]byte, error) {
	*dst = Result{}
	buf = buf[:0]
	a := applier{h: h, body: body}
	defer func() {
		dst.Steps = a.doc.steps
		a.doc.release()
	}()
	// One structural validation up front lets every gjson lookup below
	// trust the bytes; the string checks wait for what leaves.
	if m.needJSON && !wellFormed(body) {
		return buf, dst.fail(notJSON(""))
	}
	if m.needJSON {
		a.doc = newDoc(body, m.budget)
	}

	tmpl := m.typ
	matched := false
	for i := range m.routes {
		rt := &m.routes[i]
		ok, err := a.match(&rt.when)
		if err != nil {
			return buf, dst.fail(failed(fmt.Sprintf("routes[%d].when", i), err.Error()))
		}
		if !ok {
			continue
		}
		if rt.drop {
			dst.Dropped, dst.Reason = true, fmt.Sprintf("routes[%d] drops it", i)
			return buf, nil
		}
		tmpl, matched = rt.typ, true
		break
	}
	if !matched && m.dropUnmatched {
		dst.Dropped, dst.Reason = true, "no route matched"
		return buf, nil
	}

	var err *Error
	if tmpl.static != "" {
		dst.Type = tmpl.static
	} else {
		if buf, err = a.render(tmpl, buf[:0]); err != nil {
			return buf, dst.fail(err)
		}
		if !ValidEventType(bstr(buf)) {
			return buf, dst.fail(failed(tmpl.rule, fmt.Sprintf("%q is not a valid event type", clip(buf))))
		}
		dst.Type = string(buf)
	}

	if m.id.kind != srcNone {
		var ok bool
		if buf, ok, err = a.text(&m.id, "id", buf[:0]); err != nil {
			return buf, dst.fail(err)
		}
		if ok && m.id.kind == srcPath && !cleanText(bstr(buf)) {
			return buf, dst.fail(notJSON("the id"))
		}
		if ok {
			dst.ID = string(buf)
		}
	}

	if m.payload == nil {
		if !cleanStrings(body) {
			return buf, dst.fail(notJSON(""))
		}
		dst.Payload = body
		return buf, nil
	}
	buf = buf[:0]
	if buf, err = a.payload(m.payload, buf); err != nil {
		return buf, dst.fail(err)
	}
	if m.needJSON && !cleanStrings(buf) {
		return buf, dst.fail(notJSON("the payload"))
	}
	dst.Payload = buf
	return buf, nil
}

// notJSON: where is set when the body is well formed but a string that
// would leave holds a raw control character or invalid UTF-8.
func notJSON(where string) *Error {
	msg := "the body is not valid JSON"
	if where != "" {
		msg += ": a string in " + where + " holds a raw control character or invalid UTF-8"
	}
	return &Error{Code: CodeInvalidJSON, Message: msg}
}

func (r *Result) fail(e *Error) error {
	r.Reason = e.Message
	return e
}

func failed(rule, msg string) *Error {
	return &Error{Code: CodeMappingFailed, Rule: rule, Message: msg}
}

// applier is the state of one Apply.
type applier struct {
	h    Headers
	body []byte
	doc  doc
}

func (a *applier) peek(name string) []byte {
	if a.h == nil {
		return nil
	}
	return a.h.Peek(name)
}

// render writes the type. A missing part fails the template, except a
// last part right after a dot: the dot goes too, so that
// "github.{header:X-GitHub-Event}.{$.action}" gives "github.push" for a
// push, which has no action. A '/' in a value becomes '.', the types'
// separator: Shopify's topics are "orders/create".
func (a *applier) render(t *template, buf []byte) ([]byte, *Error) {
	for i := range t.parts {
		p := &t.parts[i]
		if p.src.kind == srcNone {
			buf = append(buf, p.lit...)
			continue
		}
		start := len(buf)
		var ok bool
		var err *Error
		if buf, ok, err = a.text(&p.src, t.rule, buf); err != nil {
			return buf, err
		}
		if ok {
			for j := start; j < len(buf); j++ {
				if buf[j] == '/' {
					buf[j] = '.'
				}
			}
			continue
		}
		if i == len(t.parts)-1 && i > 0 && strings.HasSuffix(t.parts[i-1].lit, ".") {
			buf = buf[:len(buf)-1]
			continue
		}
		return buf, failed(t.rule, fmt.Sprintf("%s template part {%s} is missing", t.rule, p.src.String()))
	}
	return buf, nil
}

// text appends a value as text: a header as sent, a JSON string
// unescaped, a number or boolean as written. ok is false when the value
// is absent, null or empty; an object or array is an error.
func (a *applier) text(s *source, rule string, buf []byte) ([]byte, bool, *Error) {
	if s.kind == srcHeader {
		v := a.peek(s.header)
		return append(buf, v...), len(v) > 0, nil
	}
	r, err := a.doc.first(&s.path)
	if err != nil {
		return buf, false, failed(rule, err.Error())
	}
	switch r.Type {
	case gjson.Null:
		return buf, false, nil
	case gjson.String:
		return append(buf, r.Str...), r.Str != "", nil
	case gjson.JSON:
		return buf, false, failed(rule, fmt.Sprintf("%s is an object or array, not text", s.path.src))
	}
	return append(buf, r.Raw...), true, nil
}

func (a *applier) match(c *cond) (bool, error) {
	switch c.op {
	case opAll, opAny:
		for i := range c.subs {
			ok, err := a.match(&c.subs[i])
			if err != nil || ok == (c.op == opAny) {
				return ok, err
			}
		}
		return c.op == opAll, nil
	case opNot:
		ok, err := a.match(&c.subs[0])
		return !ok, err
	}
	if c.src.kind == srcHeader {
		return c.testHeader(a.peek(c.src.header)), nil
	}
	if !c.src.path.multi {
		r, err := a.doc.first(&c.src.path)
		if c.op == opExists {
			return r.Exists() == c.exists, err
		}
		return r.Exists() && c.test(r), err
	}
	found := false
	err := a.doc.each(&c.src.path, func(raw string) bool {
		found = c.op == opExists || c.test(gjson.Parse(raw))
		return !found
	})
	if c.op == opExists {
		return found == c.exists, err
	}
	return found, err
}

// test compares one JSON value; a multi-valued path matches when any of
// its values does.
func (c *cond) test(r gjson.Result) bool {
	switch c.op {
	case opEquals, opIn:
		for _, v := range c.vals {
			if equal(r, v) {
				return true
			}
		}
		return false
	}
	if c.op >= opGt && c.op <= opLte {
		return r.Type == gjson.Number && c.compare(r.Num)
	}
	s, ok := scalarText(r)
	if !ok {
		return false
	}
	if c.op == opPrefix {
		return strings.HasPrefix(s, c.str)
	}
	return c.re.MatchString(s)
}

// scalarText is a value as text: a string unescaped, a number or
// boolean as written. ok is false for null, an object or an array.
func scalarText(r gjson.Result) (s string, ok bool) {
	switch r.Type {
	case gjson.String:
		return r.Str, true
	case gjson.Number, gjson.True, gjson.False:
		return r.Raw, true
	}
	return "", false
}

// compare reports whether n stands to the operand as the operator asks.
func (c *cond) compare(n float64) bool {
	switch c.op {
	case opGt:
		return n > c.num
	case opGte:
		return n >= c.num
	case opLt:
		return n < c.num
	}
	return n <= c.num
}

// equal: strings compare unescaped, numbers by value, so "equals": 1
// matches 1.0 and 1e0.
func equal(a, b gjson.Result) bool {
	if a.Type != b.Type {
		return false
	}
	switch a.Type {
	case gjson.String:
		return a.Str == b.Str
	case gjson.Number:
		return a.Raw == b.Raw || a.Num == b.Num
	}
	return true
}

func (c *cond) testHeader(v []byte) bool {
	if c.op == opExists {
		return (len(v) > 0) == c.exists
	}
	// Headers are text: numeric comparisons are refused for them at
	// Compile, and would never hold.
	if len(v) == 0 || c.op >= opGt && c.op <= opLte {
		return false
	}
	s := bstr(v)
	switch c.op {
	case opEquals, opIn:
		for _, want := range c.vals {
			if s == want.Str {
				return true
			}
		}
		return false
	case opPrefix:
		return strings.HasPrefix(s, c.str)
	}
	return c.re.MatchString(s)
}

// bstr views bytes as a string for reading; it must not outlive them.
func bstr(b []byte) string {
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// clip shortens a value quoted in an error message.
func clip(b []byte) string {
	if len(b) > 64 {
		return string(b[:64]) + "..."
	}
	return string(b)
}

// appendJSONString quotes s as a JSON string. Invalid UTF-8 becomes
// U+FFFD, so the result is always valid JSON whatever a header holds.
func appendJSONString(buf []byte, s string) []byte {
	buf = append(buf, '"')
	return append(appendJSONText(buf, s), '"')
}

// appendJSONText appends s escaped for the inside of a JSON string.
func appendJSONText(buf []byte, s string) []byte {
	const hex = "0123456789abcdef"
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, n := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && n == 1 {
				buf = append(buf, `\ufffd`...)
			} else {
				buf = append(buf, s[i:i+n]...)
			}
			i += n
			continue
		}
		switch {
		case c == '"' || c == '\\':
			buf = append(buf, '\\', c)
		case c == '\n':
			buf = append(buf, '\\', 'n')
		case c == '\r':
			buf = append(buf, '\\', 'r')
		case c == '\t':
			buf = append(buf, '\\', 't')
		case c < 0x20:
			buf = append(buf, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			buf = append(buf, c)
		}
		i++
	}
	return buf
}
