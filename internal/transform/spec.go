package transform

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
)

// Spec is a source's mapping as the API accepts it. Compile checks it.
type Spec struct {
	// Type is the event type template, e.g. "stripe.{$.type}". It may be
	// empty only when routes name every type and Unmatched is "drop".
	Type string `json:"type,omitempty"`
	// ID is where the dedupe id comes from: a JSONPath ("$.id") or a
	// header ("header:X-GitHub-Delivery"). Empty: no dedupe id.
	ID string `json:"id,omitempty"`
	// Payload shapes the event payload; nil keeps the body unchanged.
	Payload *Shape `json:"payload,omitempty"`
	// Routes are tried in order; the first whose When matches decides.
	Routes []Route `json:"routes,omitempty"`
	// Unmatched says what a request matching no route gets: "drop", or
	// "default" (Type). Empty means "default" when Type is set, else "drop".
	Unmatched string `json:"unmatched,omitempty"`
}

// Route maps the requests its condition matches to its own type, or drops them.
type Route struct {
	When *Condition `json:"when"`
	Type string     `json:"type,omitempty"`
	Drop bool       `json:"drop,omitempty"`
}

// Condition is one test, either on a value (Path or Header, with exactly
// one of Equals, In, Exists, Prefix, Matches, Gt, Gte, Lt, Lte) or a
// combination (exactly one of All, Any, Not). The syntax is in the
// package comment.
type Condition struct {
	Path   string `json:"path,omitempty"`
	Header string `json:"header,omitempty"`

	Equals  json.RawMessage   `json:"equals,omitempty"`
	In      []json.RawMessage `json:"in,omitempty"`
	Exists  *bool             `json:"exists,omitempty"`
	Prefix  *string           `json:"prefix,omitempty"`
	Matches *string           `json:"matches,omitempty"`
	// Gt, Gte, Lt, Lte take a JSON number and hold for a number value
	// above, at least, below or at most it.
	Gt  json.RawMessage `json:"gt,omitempty"`
	Gte json.RawMessage `json:"gte,omitempty"`
	Lt  json.RawMessage `json:"lt,omitempty"`
	Lte json.RawMessage `json:"lte,omitempty"`

	All []Condition `json:"all,omitempty"`
	Any []Condition `json:"any,omitempty"`
	Not *Condition  `json:"not,omitempty"`
}

// Shape is a payload shape or an outbound body template, in JSON any
// value: a string (a JSONPath "$.data.object", "header:Name",
// "body:text", a string template "PR {$.number}" or literal text), an
// object whose fields, in the order given, are shapes, an array of
// shapes, or a number, boolean or null written as it is. The language is
// in the package comment; Compile and CompileBody say which strings are
// sources and which are text.
type Shape struct {
	From    string          // a string
	Fields  []ShapeField    // an object, non-nil
	Items   []Shape         // an array, non-nil
	Literal json.RawMessage // a number, true, false or null, as written
}

// ShapeField is one named field of an object shape.
type ShapeField struct {
	Name  string
	Value Shape
}

// UnmarshalJSON keeps the fields in the order written: the payload is
// built in that order, so it is the order subscribers see.
func (s *Shape) UnmarshalJSON(data []byte) error {
	sh, err := decodeShape(data, "payload")
	if err != nil {
		return err
	}
	*s = sh
	return nil
}

// shapeError is a shape that cannot be decoded, with the rule at fault
// ("body.blocks[2]").
type shapeError struct{ rule, msg string }

func (e *shapeError) Error() string { return e.rule + ": " + e.msg }

// decodeShape decodes one JSON value into a Shape; rule names it in
// errors.
func decodeShape(data []byte, rule string) (Shape, *shapeError) {
	var s Shape
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := s.decode(dec, rule, 0); err != nil {
		return Shape{}, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return Shape{}, &shapeError{rule, "trailing data"}
	}
	return s, nil
}

// maxShapeDepth bounds the nesting of payload objects and arrays (and
// so the recursion of the decoder on hostile input).
const maxShapeDepth = 8

func (s *Shape) decode(dec *json.Decoder, rule string, depth int) *shapeError {
	tok, err := dec.Token()
	if err != nil {
		return &shapeError{rule, "cannot decode: " + err.Error()}
	}
	switch t := tok.(type) {
	case string:
		s.From = t
		return nil
	case json.Number:
		s.Literal = json.RawMessage(t)
		return nil
	case bool:
		s.Literal = json.RawMessage(strconv.FormatBool(t))
		return nil
	case nil:
		s.Literal = json.RawMessage("null")
		return nil
	}
	if depth >= maxShapeDepth {
		return &shapeError{rule, fmt.Sprintf("objects and arrays nest deeper than %d", maxShapeDepth)}
	}
	if tok == json.Delim('[') {
		s.Items = []Shape{}
		for i := 0; dec.More(); i++ {
			var item Shape
			if err := item.decode(dec, fmt.Sprintf("%s[%d]", rule, i), depth+1); err != nil {
				return err
			}
			s.Items = append(s.Items, item)
		}
	} else {
		s.Fields = []ShapeField{}
		for dec.More() {
			tok, err := dec.Token()
			if err != nil {
				return &shapeError{rule, "cannot decode: " + err.Error()}
			}
			name, _ := tok.(string)
			f := ShapeField{Name: name}
			if err := f.Value.decode(dec, rule+"."+name, depth+1); err != nil {
				return err
			}
			s.Fields = append(s.Fields, f)
		}
	}
	if _, err = dec.Token(); err != nil { // '}' or ']'
		return &shapeError{rule, "cannot decode: " + err.Error()}
	}
	return nil
}

// MarshalJSON writes the shape back as it was accepted.
func (s Shape) MarshalJSON() ([]byte, error) {
	switch {
	case s.Fields != nil:
		b := []byte{'{'}
		for i, f := range s.Fields {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(appendJSONString(b, f.Name), ':')
			v, err := f.Value.MarshalJSON()
			if err != nil {
				return nil, err
			}
			b = append(b, v...)
		}
		return append(b, '}'), nil
	case s.Items != nil:
		b := []byte{'['}
		for i, item := range s.Items {
			if i > 0 {
				b = append(b, ',')
			}
			v, err := item.MarshalJSON()
			if err != nil {
				return nil, err
			}
			b = append(b, v...)
		}
		return append(b, ']'), nil
	case s.Literal != nil:
		return s.Literal, nil
	}
	return json.Marshal(s.From)
}

// ParseSpec decodes a mapping strictly (unknown fields and trailing data
// are refused) and compiles it. Every failure is an *Error with code
// invalid_mapping.
func ParseSpec(data []byte) (Spec, *Mapping, error) {
	var spec Spec
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&spec); err != nil {
		return Spec{}, nil, &Error{Code: CodeInvalidMapping, Message: "cannot decode mapping: " + err.Error()}
	}
	if dec.More() {
		return Spec{}, nil, &Error{Code: CodeInvalidMapping, Message: "trailing data after the mapping"}
	}
	m, err := Compile(spec)
	if err != nil {
		return Spec{}, nil, err
	}
	return spec, m, nil
}
