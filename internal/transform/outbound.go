package transform

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Outbound, an endpoint shapes its request from the event at delivery
// time. The engine renders each template on the event envelope, JSON of
// the form
//
//	{"id":"evt_...","type":"lead.won","timestamp":"2026-11-23T10:00:00Z","data":<payload as published>}
//
// so paths read $.data.lead.email, $.type, $.id. A body template is the
// payload language (shape.go), a filter the condition syntax, a URL has
// {$.path} placeholders in its path and query (urltemplate.go). None of
// them can read headers or a request body: there is none.

// maxTemplateLen bounds a body template, a URL and a filter as written,
// so that compiling one is cheap whatever a tenant sends.
const maxTemplateLen = 64 << 10

// Body is a compiled body template. It is immutable and safe for
// concurrent use.
type Body struct {
	shape  shape
	budget int64 // steps of the fallback paths per Render
}

// CompileBody compiles a body template (raw JSON). Errors are *Error with
// code invalid_template and the rule at fault ("body.text",
// "body.blocks[2].text").
func CompileBody(raw []byte) (*Body, error) {
	if len(raw) > maxTemplateLen {
		return nil, &Error{Code: CodeInvalidTemplate, Rule: "body", Message: fmt.Sprintf("template is longer than %d bytes", maxTemplateLen)}
	}
	in, derr := decodeShape(raw, "body")
	if derr != nil {
		return nil, &Error{Code: CodeInvalidTemplate, Rule: derr.rule, Message: derr.msg}
	}
	c := compiler{outbound: true}
	b := &Body{budget: DefaultStepBudget}
	if err := c.topShape(&b.shape, "body", &in); err != nil {
		return nil, asTemplate(err)
	}
	return b, nil
}

// Render appends the rendered JSON body to dst and returns it. event is
// the envelope. A body that cannot be rendered is an *Error with code
// render_failed, the rule ("body.text") and a message naming the
// JSONPath at fault; dst comes back at its length on entry. The body is
// valid JSON: its values are copied from the event, which must be valid
// JSON itself (validEvent).
func (b *Body) Render(dst, event []byte) ([]byte, error) {
	start := len(dst)
	if !validEvent(event) {
		return dst, renderFailed("body", "the event is not valid JSON")
	}
	a := applier{body: event, doc: newDoc(event, b.budget)}
	defer a.doc.release()
	out, err := a.payload(&b.shape, dst)
	if err != nil {
		return out[:start], asRendered(err)
	}
	return out, nil
}

// validEvent checks the envelope whole, strings included (validJSON):
// the templates copy its strings' bytes as they are escaped, into a
// body or, through the text of an object, inside a string, so a bad
// escape ("\0") or a raw control character would leave in the request.
// The engine built the envelope from a validated payload; this guard
// keeps a bug or a corrupt record from sending malformed JSON, and
// gives the three renders one meaning of "valid event". It costs about
// 1 us on the 700-byte benchmark event, half of a render: little next
// to the HTTP request it shapes.
func validEvent(event []byte) bool {
	return validJSON(event)
}

// Filter is a compiled filter: a condition on the event. It is
// immutable and safe for concurrent use.
type Filter struct {
	cond   cond
	budget int64
}

// CompileFilter compiles a condition (raw JSON, the Condition syntax of
// the package comment). Header tests are refused: there are no headers
// outbound. Errors are *Error with code invalid_template and a rule
// under "filter" ("filter.all[1].gte").
func CompileFilter(raw []byte) (*Filter, error) {
	if len(raw) > maxTemplateLen {
		return nil, &Error{Code: CodeInvalidTemplate, Rule: "filter", Message: fmt.Sprintf("filter is longer than %d bytes", maxTemplateLen)}
	}
	var in Condition
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return nil, &Error{Code: CodeInvalidTemplate, Rule: "filter", Message: "cannot decode filter: " + err.Error()}
	}
	if dec.More() {
		return nil, &Error{Code: CodeInvalidTemplate, Rule: "filter", Message: "trailing data after the filter"}
	}
	c := compiler{outbound: true}
	cd, err := c.cond("filter", &in, 0)
	if err != nil {
		return nil, asTemplate(err)
	}
	return &Filter{cond: cd, budget: DefaultStepBudget}, nil
}

// Match reports whether the event passes the filter. An event that is
// not valid JSON, or a path over the step budget, is an *Error with
// code render_failed: the engine counts an errored filter as not
// matching, and logs it.
func (f *Filter) Match(event []byte) (bool, error) {
	if !validEvent(event) {
		return false, renderFailed("filter", "the event is not valid JSON")
	}
	a := applier{doc: newDoc(event, f.budget)}
	defer a.doc.release()
	ok, err := a.match(&f.cond)
	if err != nil {
		return false, renderFailed("filter", err.Error())
	}
	return ok, nil
}

func renderFailed(rule, msg string) *Error {
	return &Error{Code: CodeRenderFailed, Rule: rule, Message: msg}
}

// asTemplate and asRendered give the shared compiler's and renderer's
// errors their outbound codes: the rule and message already fit.
func asTemplate(err *Error) *Error {
	err.Code = CodeInvalidTemplate
	return err
}

func asRendered(err *Error) *Error {
	err.Code = CodeRenderFailed
	return err
}
