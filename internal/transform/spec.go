package transform

import (
	"bytes"
	"encoding/json"
	"fmt"
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

// Shape is a payload shape: either one source (From: "$.data.object",
// "header:Name" or "body:text") whose value is the whole payload, or an
// object whose fields, in the order given, are sources or nested shapes.
// In JSON it is a string or an object.
type Shape struct {
	From   string
	Fields []ShapeField
}

// ShapeField is one named field of an object shape.
type ShapeField struct {
	Name  string
	Value Shape
}

// UnmarshalJSON keeps the fields in the order written: the payload is
// built in that order, so it is the order subscribers see.
func (s *Shape) UnmarshalJSON(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := s.decode(dec, 0); err != nil {
		return err
	}
	if dec.More() {
		return fmt.Errorf("payload: trailing data")
	}
	return nil
}

// maxShapeDepth bounds the nesting of payload objects (and so the
// recursion of the decoder on hostile input).
const maxShapeDepth = 8

func (s *Shape) decode(dec *json.Decoder, depth int) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch t := tok.(type) {
	case string:
		s.From = t
		return nil
	case json.Delim:
		if t != '{' {
			return fmt.Errorf("payload: want a string or an object, got %v", t)
		}
	default:
		return fmt.Errorf("payload: want a string or an object, got %v", tok)
	}
	if depth >= maxShapeDepth {
		return fmt.Errorf("payload: nested deeper than %d objects", maxShapeDepth)
	}
	s.Fields = []ShapeField{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		name, _ := tok.(string)
		f := ShapeField{Name: name}
		if err := f.Value.decode(dec, depth+1); err != nil {
			return err
		}
		s.Fields = append(s.Fields, f)
	}
	_, err = dec.Token() // '}'
	return err
}

// MarshalJSON writes the shape back as it was accepted.
func (s Shape) MarshalJSON() ([]byte, error) {
	if s.Fields == nil {
		return json.Marshal(s.From)
	}
	var b bytes.Buffer
	b.WriteByte('{')
	for i, f := range s.Fields {
		if i > 0 {
			b.WriteByte(',')
		}
		name, _ := json.Marshal(f.Name)
		b.Write(name)
		b.WriteByte(':')
		v, err := f.Value.MarshalJSON()
		if err != nil {
			return nil, err
		}
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
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
