package transform

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/tidwall/gjson"
)

// Error codes. They are part of the API: clients branch on them.
const (
	CodeInvalidMapping = "invalid_mapping" // Compile: a rule is wrong
	CodeInvalidJSON    = "invalid_json"    // Apply: the mapping needs a JSON body and the body is not JSON
	CodeMappingFailed  = "mapping_failed"  // Apply: a rule could not be carried out on this request

	CodeInvalidTemplate = "invalid_template" // CompileBody, CompileURL, CompileFilter: a template is wrong
	CodeRenderFailed    = "render_failed"    // Render, Match: a template could not be carried out on this event
)

// Error is a mapping or template failure with a stable code and the
// rule at fault, spelled as in the spec ("routes[1].when.path",
// "payload.customer", "body.blocks[2].text", "url", "filter.any[0].gte").
type Error struct {
	Code    string
	Rule    string
	Message string
}

func (e *Error) Error() string {
	if e.Rule == "" {
		return e.Code + ": " + e.Message
	}
	return e.Code + ": " + e.Rule + ": " + e.Message
}

// Limits that keep one Apply bounded whatever a tenant writes.
const (
	maxRoutes      = 100
	maxConditions  = 256 // condition nodes in all routes together
	maxCondDepth   = 8
	maxInValues    = 100
	maxShapeValues = 100 // payload fields, elements and {parts} together
	maxHeaderName  = 128
)

// sourceKind is where a value comes from.
type sourceKind uint8

const (
	srcNone sourceKind = iota
	srcPath
	srcHeader
	srcBodyText // payload only: the body as a JSON string
)

type source struct {
	kind   sourceKind
	header string
	path   jsonPath
}

func (s *source) String() string {
	switch s.kind {
	case srcPath:
		return s.path.src
	case srcHeader:
		return "header:" + s.header
	case srcBodyText:
		return "body:text"
	}
	return ""
}

// template is literal text and value parts, e.g. "github.{header:X-GitHub-Event}.{$.action}".
type template struct {
	rule   string
	text   string
	static string // the type itself when there are no parts
	parts  []tpart
}

type tpart struct {
	lit string // when src.kind == srcNone; in a string template (shape.go) escaped for JSON
	src source
}

type condOp uint8

const (
	opEquals condOp = iota
	opIn
	opExists
	opPrefix
	opMatches
	opGt // opGt..opLte compare numbers, in this order
	opGte
	opLt
	opLte
	opAll
	opAny
	opNot
)

type cond struct {
	op     condOp
	src    source
	vals   []gjson.Result // opEquals (one), opIn; for headers only strings
	exists bool
	str    string
	re     *regexp.Regexp
	num    float64 // opGt..opLte
	subs   []cond
}

type route struct {
	when cond
	typ  *template
	drop bool
}

// Mapping is a compiled Spec. It is immutable and safe for concurrent use.
type Mapping struct {
	typ           *template
	id            source
	payload       *shape
	routes        []route
	dropUnmatched bool
	// needJSON: some part reads the body as JSON, or the body is the
	// payload; either way the body must be valid JSON.
	needJSON bool
	budget   int64 // steps of the fallback paths per Apply
}

// WithStepBudget returns a copy of m whose fallback paths may take n
// steps per Apply instead of DefaultStepBudget (a step is defined
// there). Past it Apply fails with mapping_failed.
func (m *Mapping) WithStepBudget(n int64) *Mapping {
	c := *m
	c.budget = n
	return &c
}

// compiler carries the counters behind the limits and the needJSON flag.
type compiler struct {
	conds    int
	values   int // of payloads and bodies: fields, elements, {parts}
	needJSON bool
	// outbound: a body template, URL or filter, which read the event
	// only; header: and body:text are refused.
	outbound bool
}

func invalid(rule, format string, args ...any) *Error {
	return &Error{Code: CodeInvalidMapping, Rule: rule, Message: fmt.Sprintf(format, args...)}
}

// Compile checks a spec and prepares it for Apply. Every failure is an
// *Error with code invalid_mapping naming the rule.
func Compile(spec Spec) (*Mapping, error) {
	var c compiler
	m := &Mapping{budget: DefaultStepBudget}
	var err *Error
	if spec.Type != "" {
		if m.typ, err = c.template("type", spec.Type); err != nil {
			return nil, err
		}
	}
	if spec.ID != "" {
		if m.id, err = c.source("id", spec.ID, false); err != nil {
			return nil, err
		}
	}
	if spec.Payload != nil {
		m.payload = &shape{}
		if err = c.topShape(m.payload, "payload", spec.Payload); err != nil {
			return nil, err
		}
	} else {
		c.needJSON = true
	}
	if len(spec.Routes) > maxRoutes {
		return nil, invalid("routes", "more than %d routes", maxRoutes)
	}
	for i := range spec.Routes {
		rt, err := c.route(fmt.Sprintf("routes[%d]", i), &spec.Routes[i])
		if err != nil {
			return nil, err
		}
		m.routes = append(m.routes, rt)
	}
	switch spec.Unmatched {
	case "":
		m.dropUnmatched = m.typ == nil
	case "drop":
		m.dropUnmatched = true
	case "default":
	default:
		return nil, invalid("unmatched", "want drop or default, got %q", spec.Unmatched)
	}
	if spec.Unmatched != "" && len(spec.Routes) == 0 {
		return nil, invalid("unmatched", "unmatched needs routes")
	}
	if m.typ == nil && (len(m.routes) == 0 || !m.dropUnmatched) {
		return nil, invalid("type", "type is required unless routes name every type and unmatched is drop")
	}
	m.needJSON = c.needJSON
	return m, nil
}

func (c *compiler) route(rule string, r *Route) (route, *Error) {
	var rt route
	if r.When == nil {
		return rt, invalid(rule+".when", "a route needs a condition")
	}
	var err *Error
	if rt.when, err = c.cond(rule+".when", r.When, 0); err != nil {
		return rt, err
	}
	switch {
	case r.Drop && r.Type != "":
		return rt, invalid(rule+".type", "a route that drops has no type")
	case r.Drop:
		rt.drop = true
	case r.Type == "":
		return rt, invalid(rule+".type", "a route needs a type or drop: true")
	default:
		if rt.typ, err = c.template(rule+".type", r.Type); err != nil {
			return rt, err
		}
	}
	return rt, nil
}

// source compiles "$..." or "header:Name", and "body:text" where
// payload allows it. Outbound there is only the event: header: and
// body:text are refused with a message that says so.
func (c *compiler) source(rule, s string, payload bool) (source, *Error) {
	switch {
	case strings.HasPrefix(s, "$"):
		p, err := compilePath(s)
		if err != nil {
			return source{}, invalid(rule, "%v", err)
		}
		c.needJSON = true
		return source{kind: srcPath, path: p}, nil
	case c.outbound && (strings.HasPrefix(s, "header:") || s == "body:text"):
		return source{}, invalid(rule, "%q: an outbound template reads the event only ($.id, $.type, $.timestamp, $.data...); there are no request headers or body", s)
	case strings.HasPrefix(s, "header:"):
		name := s[len("header:"):]
		if !validHeaderName(name) {
			return source{}, invalid(rule, "header name %q is not a valid HTTP header name", name)
		}
		return source{kind: srcHeader, header: name}, nil
	case payload && s == "body:text":
		return source{kind: srcBodyText}, nil
	}
	switch {
	case c.outbound:
		return source{}, invalid(rule, "want a JSONPath ($...), got %q", s)
	case payload:
		return source{}, invalid(rule, "want a JSONPath ($...), header:Name or body:text, got %q", s)
	}
	return source{}, invalid(rule, "want a JSONPath ($...) or header:Name, got %q", s)
}

func validHeaderName(s string) bool {
	if s == "" || len(s) > maxHeaderName {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

// template splits "lit{src}lit{src}" into parts. Literal text must
// already be event-type text, so a typo fails here and not on traffic.
func (c *compiler) template(rule, s string) (*template, *Error) {
	if len(s) > maxExprLen {
		return nil, invalid(rule, "template is longer than %d bytes", maxExprLen)
	}
	t := &template{rule: rule, text: s}
	for rest := s; rest != ""; {
		open := strings.IndexByte(rest, '{')
		if open < 0 {
			open = len(rest)
		}
		if lit := rest[:open]; lit != "" {
			for i := 0; i < len(lit); i++ {
				if !typeChar(lit[i]) {
					return nil, invalid(rule, "template %q: %q may not appear in an event type", s, lit[i])
				}
			}
			t.parts = append(t.parts, tpart{lit: lit})
		}
		if open == len(rest) {
			break
		}
		end := partEnd(rest[open+1:])
		if end < 0 {
			return nil, invalid(rule, "template %q: unclosed {", s)
		}
		src, err := c.source(rule, rest[open+1:open+1+end], false)
		if err != nil {
			return nil, err
		}
		t.parts = append(t.parts, tpart{src: src})
		rest = rest[open+1+end+1:]
	}
	if len(t.parts) == 0 {
		return nil, invalid(rule, "template is empty")
	}
	if len(t.parts) == 1 && t.parts[0].src.kind == srcNone {
		if !ValidEventType(s) {
			return nil, invalid(rule, "%q is not a valid event type", s)
		}
		t.static = s
	}
	return t, nil
}

// partEnd finds the } closing a template part, skipping quoted text so
// that $['a}b'] stays whole.
func partEnd(s string) int {
	var quote byte
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case quote != 0 && c == '\\':
			i++
		case quote != 0 && c == quote:
			quote = 0
		case quote != 0:
		case c == '\'' || c == '"':
			quote = c
		case c == '}':
			return i
		}
	}
	return -1
}

func (c *compiler) cond(rule string, in *Condition, depth int) (cond, *Error) {
	var out cond
	if depth >= maxCondDepth {
		return out, invalid(rule, "conditions nest deeper than %d", maxCondDepth)
	}
	if c.conds++; c.conds > maxConditions {
		return out, invalid(rule, "more than %d conditions", maxConditions)
	}
	var ops []string
	for _, o := range []struct {
		name string
		set  bool
	}{
		{"equals", in.Equals != nil}, {"in", in.In != nil}, {"exists", in.Exists != nil},
		{"prefix", in.Prefix != nil}, {"matches", in.Matches != nil},
		{"gt", in.Gt != nil}, {"gte", in.Gte != nil}, {"lt", in.Lt != nil}, {"lte", in.Lte != nil},
		{"all", in.All != nil}, {"any", in.Any != nil}, {"not", in.Not != nil},
	} {
		if o.set {
			ops = append(ops, o.name)
		}
	}
	if len(ops) != 1 {
		return out, invalid(rule, "want exactly one of equals, in, exists, prefix, matches, gt, gte, lt, lte, all, any, not; got %d (%s)", len(ops), strings.Join(ops, ", "))
	}
	op := ops[0]
	if op == "all" || op == "any" || op == "not" {
		if in.Path != "" || in.Header != "" {
			return out, invalid(rule, "%s takes no path or header", op)
		}
		return c.combination(rule, op, in, depth)
	}
	var err *Error
	switch {
	case in.Path != "" && in.Header != "":
		return out, invalid(rule, "want path or header, not both")
	case in.Path != "":
		out.src, err = c.source(rule+".path", in.Path, false)
		if err == nil && out.src.kind != srcPath {
			err = invalid(rule+".path", "want a JSONPath ($...), got %q", in.Path)
		}
	case in.Header != "":
		out.src, err = c.source(rule+".header", "header:"+in.Header, false)
	default:
		return out, invalid(rule, "%s needs a path or a header", op)
	}
	if err != nil {
		return out, err
	}
	header := out.src.kind == srcHeader
	rule += "." + op
	switch op {
	case "equals":
		out.op = opEquals
		v, err := scalar(rule, in.Equals, header)
		if err != nil {
			return out, err
		}
		out.vals = []gjson.Result{v}
	case "in":
		out.op = opIn
		if len(in.In) == 0 || len(in.In) > maxInValues {
			return out, invalid(rule, "want 1 to %d values, got %d", maxInValues, len(in.In))
		}
		for i, raw := range in.In {
			v, err := scalar(fmt.Sprintf("%s[%d]", rule, i), raw, header)
			if err != nil {
				return out, err
			}
			out.vals = append(out.vals, v)
		}
	case "exists":
		out.op, out.exists = opExists, *in.Exists
	case "prefix":
		out.op, out.str = opPrefix, *in.Prefix
		if out.str == "" {
			return out, invalid(rule, "prefix is empty")
		}
	case "matches":
		out.op = opMatches
		if len(*in.Matches) > maxExprLen {
			return out, invalid(rule, "regexp is longer than %d bytes", maxExprLen)
		}
		re, err := regexp.Compile(*in.Matches)
		if err != nil {
			return out, invalid(rule, "%v", err)
		}
		out.re = re
	case "gt", "gte", "lt", "lte":
		var raw json.RawMessage
		switch op {
		case "gt":
			out.op, raw = opGt, in.Gt
		case "gte":
			out.op, raw = opGte, in.Gte
		case "lt":
			out.op, raw = opLt, in.Lt
		default:
			out.op, raw = opLte, in.Lte
		}
		if header {
			return out, invalid(rule, "a header is text; %s compares numbers", op)
		}
		n, err := number(rule, raw)
		if err != nil {
			return out, err
		}
		out.num = n
	}
	return out, nil
}

// number parses the operand of a numeric comparison: a JSON number that
// fits a float64, as values are compared (gjson reads numbers so).
func number(rule string, raw json.RawMessage) (float64, *Error) {
	v := gjson.ParseBytes(raw)
	if !json.Valid(raw) || v.Type != gjson.Number {
		return 0, invalid(rule, "want a number, got %s", clip(raw))
	}
	n, err := strconv.ParseFloat(v.Raw, 64)
	if err != nil {
		return 0, invalid(rule, "number %s is out of range", clip(raw))
	}
	return n, nil
}

func (c *compiler) combination(rule, op string, in *Condition, depth int) (cond, *Error) {
	out := cond{op: opNot}
	subs := []Condition(nil)
	switch op {
	case "all":
		out.op, subs = opAll, in.All
	case "any":
		out.op, subs = opAny, in.Any
	default:
		subs = []Condition{*in.Not}
	}
	if len(subs) == 0 {
		return out, invalid(rule+"."+op, "%s is empty", op)
	}
	for i := range subs {
		sub := rule + ".not"
		if op != "not" {
			sub = fmt.Sprintf("%s.%s[%d]", rule, op, i)
		}
		sc, err := c.cond(sub, &subs[i], depth+1)
		if err != nil {
			return out, err
		}
		out.subs = append(out.subs, sc)
	}
	return out, nil
}

// scalar parses a comparison value: a JSON string, number, boolean or
// null; only strings for headers, whose values are text.
func scalar(rule string, raw json.RawMessage, header bool) (gjson.Result, *Error) {
	if !json.Valid(raw) {
		return gjson.Result{}, invalid(rule, "not valid JSON")
	}
	v := gjson.ParseBytes(raw)
	switch {
	case header && v.Type != gjson.String:
		return v, invalid(rule, "a header compares with strings, got %s", raw)
	case v.Type == gjson.JSON:
		return v, invalid(rule, "want a string, number, boolean or null, got %s", raw)
	}
	return v, nil
}

// ValidEventType reports whether s may be an event type: 1..128 bytes of
// [A-Za-z0-9._:-], not starting or ending with a dot: the rule for every
// event, published or mapped (engine.ValidEventType is this).
func ValidEventType(s string) bool {
	if s == "" || len(s) > MaxTypeLen || s[0] == '.' || s[len(s)-1] == '.' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !typeChar(s[i]) {
			return false
		}
	}
	return true
}

// MaxTypeLen bounds an event type.
const MaxTypeLen = 128

func typeChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '.' || c == '_' || c == ':' || c == '-'
}
