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
