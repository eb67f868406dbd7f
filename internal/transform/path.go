package transform

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unsafe"

	"github.com/ohler55/ojg/jp"
	"github.com/ohler55/ojg/oj"
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
	// descent, negative indexes. The body is decoded (once per Apply),
	// ojg locates the matches, and their raw bytes are read back with
	// a walk, so values still come out as the provider wrote them.
	modeFallback
)

// jsonPath is a compiled JSONPath.
type jsonPath struct {
	src   string
	mode  pathMode
	gj    string  // modeGJSON
	x     jp.Expr // modeWalk, modeFallback
	multi bool    // modeFallback: the expression can match many values
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
		case jp.Wildcard, jp.Descent, jp.Slice, jp.Union, *jp.Filter:
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

// doc is one body as the paths of one Apply see it: the raw bytes, and
// the decoded tree the fallback paths need, made on first use.
type doc struct {
	raw     string // aliases the body
	tree    any
	decoded bool
	err     error
}

// newDoc takes a body that is valid JSON. Trimming it makes "$" the
// value exactly, without the whitespace around it.
func newDoc(body []byte) doc {
	raw := unsafe.String(unsafe.SliceData(body), len(body))
	return doc{raw: strings.Trim(raw, " \t\r\n")}
}

// first returns the path's first match; !Exists() when it has none.
func (d *doc) first(p *jsonPath) (gjson.Result, error) {
	switch p.mode {
	case modeGJSON:
		return gjson.Get(d.raw, p.gj), nil
	case modeRoot:
		return gjson.Parse(d.raw), nil
	case modeWalk:
		return walk(gjson.Parse(d.raw), p.x[1:]), nil
	}
	var r gjson.Result
	err := d.each(p, func(v gjson.Result) bool { r = v; return false })
	return r, err
}

// each calls fn with every match in turn until fn returns false.
func (d *doc) each(p *jsonPath, fn func(gjson.Result) bool) error {
	if p.mode != modeFallback {
		if r, _ := d.first(p); r.Exists() {
			fn(r)
		}
		return nil
	}
	if !d.decoded {
		d.decoded = true
		d.tree, d.err = decode(d.raw)
	}
	if d.err != nil {
		return d.err
	}
	locs, err := locate(p.x, d.tree)
	if err != nil {
		return fmt.Errorf("JSONPath %s failed: %v", p.src, err)
	}
	// The decoded objects are Go maps, so ojg finds matches in no
	// particular order; the payload must not change from one call to the
	// next, so they go back into document order.
	root := gjson.Parse(d.raw)
	rs := make([]gjson.Result, 0, len(locs))
	for _, loc := range locs {
		if r := walk(root, loc[1:]); r.Exists() {
			rs = append(rs, r)
		}
	}
	slices.SortFunc(rs, func(a, b gjson.Result) int { return d.offset(a) - d.offset(b) })
	for _, r := range rs {
		if !fn(r) {
			break
		}
	}
	return nil
}

// offset is where a value found by walk starts in the body: its Raw
// is a slice of d.raw.
func (d *doc) offset(r gjson.Result) int {
	return int(uintptr(unsafe.Pointer(unsafe.StringData(r.Raw))) - uintptr(unsafe.Pointer(unsafe.StringData(d.raw))))
}

func decode(raw string) (tree any, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("cannot decode the body: %v", r)
		}
	}()
	return oj.ParseString(raw)
}

// locate runs a fallback expression. ojg panics on some filters over
// some data (comparisons across types, scripts on odd values); that is
// the expression failing, not the server.
func locate(x jp.Expr, tree any) (locs []jp.Expr, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	return x.Locate(tree, 0), nil
}

// walk follows a normalized path (keys and non-negative indexes, as
// Locate returns them) on raw JSON. It matches keys exactly, so it also
// serves the keys gjson's path syntax cannot spell.
func walk(r gjson.Result, x jp.Expr) gjson.Result {
	for _, f := range x {
		var next gjson.Result
		switch f := f.(type) {
		case jp.Child:
			if !r.IsObject() {
				return gjson.Result{}
			}
			r.ForEach(func(k, v gjson.Result) bool {
				if k.Str == string(f) {
					next = v
					return false
				}
				return true
			})
		case jp.Nth:
			if !r.IsArray() {
				return gjson.Result{}
			}
			i := int(f)
			r.ForEach(func(_, v gjson.Result) bool {
				if i == 0 {
					next = v
					return false
				}
				i--
				return true
			})
		default:
			return gjson.Result{}
		}
		if !next.Exists() {
			return next
		}
		r = next
	}
	return r
}
