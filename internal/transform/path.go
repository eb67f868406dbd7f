package transform

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/ohler55/ojg/jp"
	"github.com/tidwall/gjson"
)

// maxExprLen bounds a JSONPath, a template and a regexp.
const maxExprLen = 256

// pathMode is how a compiled JSONPath is evaluated.
type pathMode uint8

const (
	// modeGJSON: a plain chain of keys and indexes, one gjson lookup
	// on the raw bytes.
	modeGJSON pathMode = iota
	// modeRoot: "$", the whole document.
	modeRoot
	// modeWalk: keys gjson paths cannot spell (the empty key), walked
	// on the raw bytes fragment by fragment.
	modeWalk
	// modeFallback: filters, wildcards, slices, unions, recursive
	// descent, negative indexes. The body is indexed (once per Apply)
	// and the path moves over the index (fallback.go), so values still
	// come out as the provider wrote them.
	modeFallback
)

// jsonPath is a compiled JSONPath.
type jsonPath struct {
	src   string
	mode  pathMode
	gj    string  // modeGJSON
	x     jp.Expr // modeWalk, modeFallback
	multi bool    // modeFallback: the expression can match many values
	// decodeBelow: modeFallback with a filter after the recursive
	// descent; the values the descent starts from are decoded whole, so
	// that each value below is decoded once (fallback.go).
	decodeBelow bool
}

func compilePath(src string) (jsonPath, error) {
	p := jsonPath{src: src}
	if len(src) > maxExprLen {
		return p, fmt.Errorf("JSONPath is longer than %d bytes", maxExprLen)
	}
	if !strings.HasPrefix(src, "$") {
		return p, fmt.Errorf("JSONPath %q does not start with $", src)
	}
	// Each recursive descent multiplies ojg's work by the size of the
	// document: 128 of them kept Locate busy for seconds on 200 bytes.
	if strings.Count(src, "..") > 1 {
		return p, fmt.Errorf("JSONPath %q: at most one recursive descent (..)", src)
	}
	x, err := parseExpr(src)
	if err != nil {
		return p, fmt.Errorf("cannot parse JSONPath %q: %v", src, err)
	}
	if len(x) == 0 || x[0] != jp.Root('$') {
		return p, fmt.Errorf("JSONPath %q does not start with $", src)
	}
	// jp ignores a trailing $ or @ ("$.a$" reads as "$.a"): a typo
	// should not compile into a different path.
	if c := src[len(src)-1]; len(src) > 1 && (c == '$' || c == '@') {
		return p, fmt.Errorf("JSONPath %q: unexpected %c at the end", src, c)
	}
	if _, ok := x[len(x)-1].(jp.Descent); ok {
		return p, fmt.Errorf("JSONPath %q ends with a recursive descent", src)
	}
	p.x = x
	if len(x) == 1 {
		p.mode = modeRoot
		return p, nil
	}
	var gj strings.Builder
	p.mode = modeGJSON
	for i, f := range x[1:] {
		if i > 0 {
			gj.WriteByte('.')
		}
		switch f := f.(type) {
		case jp.Child:
			if f == "" {
				p.mode = max(p.mode, modeWalk)
			}
			gj.WriteString(gjson.Escape(string(f)))
		case jp.Nth:
			if f < 0 {
				p.mode = modeFallback
			}
			gj.WriteString(strconv.Itoa(int(f)))
		case *jp.Filter:
			if err := checkFilter(f); err != nil {
				return p, fmt.Errorf("JSONPath %q: %v", src, err)
			}
			p.mode, p.multi = modeFallback, true
			p.decodeBelow = p.decodeBelow || slices.ContainsFunc(x[1:i+1], isDescent)
		case jp.Wildcard, jp.Descent, jp.Slice, jp.Union:
			p.mode, p.multi = modeFallback, true
		default:
			return p, fmt.Errorf("JSONPath %q: %T is not supported", src, f)
		}
	}
	if p.mode == modeGJSON {
		p.gj = gj.String()
	}
	return p, nil
}

// parseExpr parses with jp, which reports most errors by panicking
// internally; a panic that escapes it is an error here too.
func parseExpr(src string) (x jp.Expr, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	return jp.ParseString(src)
}

func isDescent(f jp.Frag) bool {
	_, ok := f.(jp.Descent)
	return ok
}

// manyValued reports whether x can match more than one value.
func manyValued(x jp.Expr) bool {
	for _, f := range x {
		switch f.(type) {
		case jp.Wildcard, jp.Descent, jp.Slice, jp.Union, *jp.Filter, *jp.Proc:
			return true
		}
	}
	return false
}

// checkFilter refuses a filter whose script reads two values that can
// each be many, as in [?(@.a[*] == @.b[*])]: ojg tries every
// combination of them for each candidate, so one element holding two
// arrays of 250,000 numbers would cost 6e10 comparisons, beyond any
// budget the evaluator can count. Filters nested in the script's paths
// are held to the same rule.
func checkFilter(f *jp.Filter) error {
	var many []string
	var walkErr error
	var visit func(v any, counted bool)
	visit = func(v any, counted bool) {
		switch v := v.(type) {
		case *jp.Form:
			// count() reads its path into a number, not many values.
			visit(v.Left, counted && v.Op != "count")
			visit(v.Right, counted)
		case jp.Expr:
			if counted && manyValued(v) {
				many = append(many, v.String())
			}
			for _, g := range v {
				if g, ok := g.(*jp.Filter); ok && walkErr == nil {
					walkErr = checkFilter(g)
				}
			}
		}
	}
	form := scriptForm(&f.Script)
	if form == nil {
		return fmt.Errorf("cannot read back the filter %s", f.String())
	}
	visit(form, true)
	if walkErr != nil {
		return walkErr
	}
	if len(many) > 1 {
		return fmt.Errorf("a filter may read at most one value that matches many (here %s): ojg would compare every combination of them", strings.Join(many, " and "))
	}
	return nil
}

// scriptForm is the script as a tree of *jp.Form whose leaves are its
// paths and constants. jp.Script.Inspect panics on a script of one
// operand ([?(@.x)]); that operand is then read back from the script's
// text. The tree pairs unary operators with a neighbour's operand, but
// every path of the script is one of its leaves, which is all
// checkFilter needs.
func scriptForm(s *jp.Script) (form any) {
	defer func() {
		if recover() != nil {
			text := strings.TrimSuffix(strings.TrimPrefix(s.String(), "("), ")")
			form = nil
			if x, err := parseExpr(text); err == nil {
				form = x
			}
		}
	}()
	return s.Inspect()
}
