package transform

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/tidwall/gjson"
)

// This file holds the value language shared by an inbound payload and an
// outbound body template: what Compile makes of a Shape, and how Apply
// and Body.Render write it. There is one language in both directions;
// only the sources differ (outbound there is no request, so no header:
// and no body:text).

// shapeKind is what a compiled shape writes.
type shapeKind uint8

const (
	shapeSource  shapeKind = iota // the value of src, copied whole
	shapeObject                   // fields, in the order written
	shapeArray                    // items, element by element
	shapeLiteral                  // lit, JSON ready to copy
	shapeText                     // a string template: parts
)

type shape struct {
	kind   shapeKind
	rule   string
	src    source  // shapeSource
	fields []field // shapeObject
	items  []shape // shapeArray
	lit    []byte  // shapeLiteral: the JSON value, a string quoted and escaped once here
	// shapeText: literal parts hold text already escaped for the inside
	// of a JSON string, so rendering copies them.
	parts []tpart
}

type field struct {
	key []byte // `"name":`, escaped once here
	shape
}

// topShape compiles a whole payload or body. A string there must be a
// source: a payload that is a constant is most likely a JSONPath that
// lost its $, and an event payload or request body that is one quoted
// string is no use to anyone.
func (c *compiler) topShape(out *shape, rule string, in *Shape) *Error {
	if err := c.shape(out, rule, in, 0); err != nil {
		return err
	}
	if out.kind == shapeLiteral || out.kind == shapeText {
		want := "a JSONPath ($...), header:Name, body:text, an object or an array"
		if c.outbound {
			want = "a JSONPath ($...), an object or an array"
		}
		got, _ := in.MarshalJSON()
		return invalid(rule, "want %s, got %s", want, clip(got))
	}
	return nil
}

func (c *compiler) shape(out *shape, rule string, in *Shape, depth int) *Error {
	out.rule = rule
	switch {
	case in.Fields != nil:
		return c.object(out, rule, in.Fields, depth)
	case in.Items != nil:
		if depth >= maxShapeDepth {
			return invalid(rule, "objects and arrays nest deeper than %d", maxShapeDepth)
		}
		out.kind, out.items = shapeArray, make([]shape, len(in.Items))
		for i := range in.Items {
			if err := c.count(rule); err != nil {
				return err
			}
			if err := c.shape(&out.items[i], fmt.Sprintf("%s[%d]", rule, i), &in.Items[i], depth+1); err != nil {
				return err
			}
		}
		return nil
	case in.Literal != nil:
		// A Spec built in Go may hold anything here; JSON gives only these.
		v := gjson.ParseBytes(in.Literal)
		if !json.Valid(in.Literal) || v.Type == gjson.JSON || v.Type == gjson.String {
			return invalid(rule, "a literal is a number, true, false or null, got %s", clip(in.Literal))
		}
		out.kind, out.lit = shapeLiteral, []byte(v.Raw)
		return nil
	}
	s := in.From
	switch {
	case strings.HasPrefix(s, "$$"):
		return c.text(out, rule, s[1:])
	case strings.HasPrefix(s, "$"):
		src, err := c.source(rule, s, true)
		if err != nil {
			err.Message += " (text that starts with $ is written $$)"
		}
		out.kind, out.src = shapeSource, src
		return err
	case strings.HasPrefix(s, "header:"), s == "body:text":
		src, err := c.source(rule, s, true)
		out.kind, out.src = shapeSource, src
		return err
	}
	return c.text(out, rule, s)
}

func (c *compiler) object(out *shape, rule string, in []ShapeField, depth int) *Error {
	if depth >= maxShapeDepth {
		return invalid(rule, "objects and arrays nest deeper than %d", maxShapeDepth)
	}
	out.kind, out.fields = shapeObject, make([]field, 0, len(in))
	seen := make(map[string]bool, len(in))
	for _, f := range in {
		if err := c.count(rule); err != nil {
			return err
		}
		sub := rule + "." + f.Name
		if f.Name == "" {
			return invalid(rule, "a field has an empty name")
		}
		if seen[f.Name] {
			return invalid(sub, "field %q appears twice", f.Name)
		}
		seen[f.Name] = true
		fd := field{key: append(appendJSONString(nil, f.Name), ':')}
		if err := c.shape(&fd.shape, sub, &f.Value, depth+1); err != nil {
			return err
		}
		out.fields = append(out.fields, fd)
	}
	return nil
}

// count counts one value of a payload or body (a field, an element, a
// {part}) against maxShapeValues: each costs a lookup or a copy on every
// request.
func (c *compiler) count(rule string) *Error {
	if c.values++; c.values > maxShapeValues {
		return invalid(rule, "more than %d values (fields, array elements and {$...} parts together)", maxShapeValues)
	}
	return nil
}

// text compiles a string that is not a source: literal text with
// {source} parts (scanText). Without parts it is a literal string.
func (c *compiler) text(out *shape, rule, s string) *Error {
	var lit []byte
	err := scanText(s, func(text string) {
		lit = appendJSONText(lit, text)
	}, func(src string) *Error {
		p, err := c.source(rule, src, false)
		if err != nil {
			return partError(s, err)
		}
		if err := c.count(rule); err != nil {
			return err
		}
		if len(lit) > 0 {
			out.parts = append(out.parts, tpart{lit: string(lit)})
			lit = lit[:0]
		}
		out.parts = append(out.parts, tpart{src: p})
		return nil
	})
	if err != nil {
		err.Rule = rule
		return err
	}
	if out.parts == nil {
		out.kind, out.lit = shapeLiteral, append(append([]byte{'"'}, lit...), '"')
		return nil
	}
	if len(lit) > 0 {
		out.parts = append(out.parts, tpart{lit: string(lit)})
	}
	out.kind = shapeText
	return nil
}

// scanText splits a string template, body text or a URL, into literal
// text, calling lit, and {source} parts, calling part with what is
// between the braces. {{ and }} stand for literal braces. A single }
// outside a part is refused, as is a { that does not open a source, so
// a forgotten $ ({data.x}) fails at compile and not on traffic.
func scanText(s string, lit func(string), part func(src string) *Error) *Error {
	for i := 0; i < len(s); {
		switch {
		case strings.HasPrefix(s[i:], "{{"):
			lit("{")
			i += 2
		case strings.HasPrefix(s[i:], "}}"):
			lit("}")
			i += 2
		case s[i] == '}':
			return invalid("", "template %q: } outside a {value}; write }} for a literal }", clipString(s))
		case s[i] == '{':
			end := partEnd(s[i+1:])
			if end < 0 {
				return invalid("", "template %q: unclosed {; write {{ for a literal {", clipString(s))
			}
			if err := part(s[i+1 : i+1+end]); err != nil {
				return err
			}
			i += end + 2
		default:
			j := strings.IndexAny(s[i:], "{}")
			if j < 0 {
				j = len(s) - i
			}
			lit(s[i : i+j])
			i += j
		}
	}
	return nil
}

// partError says which template holds a part that does not compile,
// and how to write a brace that opens none.
func partError(tmpl string, err *Error) *Error {
	err.Message = fmt.Sprintf("template %q: %s; write {{ for a literal {", clipString(tmpl), err.Message)
	return err
}

func clipString(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}

// payload writes a shape: a payload, or a body. Values are copied raw,
// as the provider or publisher wrote them; an absent value is left out
// of an object or array, and fails a shape that is that value alone.
func (a *applier) payload(s *shape, buf []byte) ([]byte, *Error) {
	switch s.kind {
	case shapeObject, shapeArray:
		return a.container(s, buf)
	case shapeLiteral:
		return append(buf, s.lit...), nil
	case shapeText:
		return a.quoted(s, buf)
	}
	buf, ok, err := a.value(&s.src, s.rule, buf)
	if err == nil && !ok {
		err = failed(s.rule, fmt.Sprintf("%s %s is missing", s.rule, s.src.String()))
	}
	return buf, err
}

func (a *applier) container(s *shape, buf []byte) ([]byte, *Error) {
	open, end, n := byte('{'), byte('}'), len(s.fields)
	if s.kind == shapeArray {
		open, end, n = '[', ']', len(s.items)
	}
	buf = append(buf, open)
	wrote := 0
	for i := range n {
		mark := len(buf)
		if wrote > 0 {
			buf = append(buf, ',')
		}
		var m *shape
		if s.kind == shapeObject {
			f := &s.fields[i]
			buf = append(buf, f.key...)
			m = &f.shape
		} else {
			m = &s.items[i]
		}
		var err *Error
		if m.kind != shapeSource {
			if buf, err = a.payload(m, buf); err != nil {
				return buf, err
			}
			wrote++
			continue
		}
		var ok bool
		if buf, ok, err = a.value(&m.src, m.rule, buf); err != nil {
			return buf, err
		}
		if !ok {
			buf = buf[:mark]
			continue
		}
		wrote++
	}
	return append(buf, end), nil
}

// value appends one JSON value. A multi-valued JSONPath gives the array
// of its matches, [] when none.
func (a *applier) value(s *source, rule string, buf []byte) ([]byte, bool, *Error) {
	switch s.kind {
	case srcHeader:
		v := a.peek(s.header)
		if len(v) == 0 {
			return buf, false, nil
		}
		return appendJSONString(buf, bstr(v)), true, nil
	case srcBodyText:
		return appendJSONString(buf, bstr(a.body)), true, nil
	}
	if !s.path.multi {
		r, err := a.doc.first(&s.path)
		if err != nil {
			return buf, false, failed(rule, err.Error())
		}
		return append(buf, r.Raw...), r.Exists(), nil
	}
	buf = append(buf, '[')
	start := len(buf)
	err := a.doc.each(&s.path, func(raw string) bool {
		if len(buf) > start {
			buf = append(buf, ',')
		}
		buf = append(buf, raw...)
		return true
	})
	if err != nil {
		return buf, false, failed(rule, err.Error())
	}
	return append(buf, ']'), true, nil
}

// quoted writes a string template: its literal text, escaped at
// compile, and each value as text, escaped here.
func (a *applier) quoted(s *shape, buf []byte) ([]byte, *Error) {
	buf = append(buf, '"')
	for i := range s.parts {
		p := &s.parts[i]
		if p.src.kind == srcNone {
			buf = append(buf, p.lit...)
			continue
		}
		var err *Error
		if buf, err = a.quotedValue(&p.src, s.rule, buf); err != nil {
			return buf, err
		}
	}
	return append(buf, '"'), nil
}

// quotedValue appends a value as text escaped for the inside of a JSON
// string: a string as the event escaped it (already JSON), a number or
// boolean as written, an object or array as its compact JSON, a
// multi-valued path as the array of its matches. Absent, null or an
// absent header fails: text with a hole in it is not what anyone asked
// for.
func (a *applier) quotedValue(s *source, rule string, buf []byte) ([]byte, *Error) {
	if s.kind == srcHeader {
		v := a.peek(s.header)
		if len(v) == 0 {
			return buf, failed(rule, fmt.Sprintf("{%s} is missing", s.String()))
		}
		return appendJSONText(buf, bstr(v)), nil
	}
	if s.path.multi {
		buf = append(buf, '[')
		start := len(buf)
		err := a.doc.each(&s.path, func(raw string) bool {
			if len(buf) > start {
				buf = append(buf, ',')
			}
			buf = appendCompactText(buf, raw)
			return true
		})
		if err != nil {
			return buf, failed(rule, err.Error())
		}
		return append(buf, ']'), nil
	}
	r, err := a.doc.first(&s.path)
	switch {
	case err != nil:
		return buf, failed(rule, err.Error())
	case !r.Exists():
		return buf, failed(rule, fmt.Sprintf("{%s} is missing", s.path.src))
	case r.Type == gjson.Null:
		return buf, failed(rule, fmt.Sprintf("{%s} is null", s.path.src))
	case r.Type == gjson.String:
		return append(buf, r.Raw[1:len(r.Raw)-1]...), nil
	case r.Type == gjson.JSON:
		return appendCompactText(buf, r.Raw), nil
	}
	return append(buf, r.Raw...), nil
}

// appendCompactText appends raw, one well-formed JSON value, without the
// whitespace between tokens and escaped for the inside of a JSON string.
func appendCompactText(buf []byte, raw string) []byte {
	in := false
	for i := 0; i < len(raw); i++ {
		switch c := raw[i]; {
		case c == '"':
			in = !in
			buf = append(buf, '\\', '"')
		case in && c == '\\':
			buf = append(buf, '\\', '\\')
			if i+1 < len(raw) {
				i++
				if c := raw[i]; c == '"' || c == '\\' {
					buf = append(buf, '\\', c)
				} else {
					buf = append(buf, c)
				}
			}
		case !in && (c == ' ' || c == '\t' || c == '\n' || c == '\r'):
		default:
			buf = append(buf, c)
		}
	}
	return buf
}
