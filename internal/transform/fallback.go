package transform

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"unsafe"

	"github.com/ohler55/ojg/jp"
	"github.com/tidwall/gjson"
)

// DefaultStepBudget is how many steps the fallback paths of one Apply may
// take (Mapping.WithStepBudget changes it). A step is a value indexed or
// visited by a path, a byte decoded for a filter, or a byte of a match
// handed on (copied into the payload or tested); a filter's test of one
// value is filterSteps. Measured on a busy 2-core AMD EPYC, a step costs
// 2 ns (copying matches) to 25 ns (filters), so the budget holds one
// Apply to well under a second of CPU. $.x[*] over a 1 MiB array of
// small numbers takes 1.6 million steps, a filter over the same array
// about 10 million.
const DefaultStepBudget = 16 << 20

// filterSteps is what a filter's test of one value costs: ojg evaluates
// the script on the decoded value, about 600 ns, 30 times a node visit.
const filterSteps = 32

// doc is one body as the paths of one Apply see it: the raw bytes, and
// what the fallback paths need, made on first use: the index, the
// decoded values the filters test, and the steps taken so far.
//
// How a fallback path runs (eval):
//
//  1. The body is indexed once (index.go): every value a node, in
//     document order.
//  2. The path starts at the root and each fragment maps the current
//     nodes to the next: a key or index picks one child, a wildcard,
//     slice or union some, a filter the children whose decoded value it
//     accepts, a recursive descent every node below.
//  3. After each fragment the nodes are sorted and unique, so a value
//     matches once however many ways lead to it, and the matches come
//     out in document order.
//
// Invariants:
//
//   - No fragment reads the body's bytes again: it costs the nodes it
//     looks at (a key, index, wildcard, slice or union a step per child,
//     a recursive descent a step per node below, a filter filterSteps
//     per child it tests).
//   - Each fragment's nodes are sorted and unique, so a value matches at
//     most once.
//   - A filter decodes each byte at most once: the containers it looks
//     into, and takes the candidates out of them; after a recursive
//     descent, the values the descent starts from, so that no value
//     below is decoded twice however deep it sits.
//   - Every step is counted, and past the budget the path fails.
//
// So a path costs at most its fragments times the body's values, plus
// the bytes it decodes and matches: linear in the body. One Apply costs
// at most its budget.
type doc struct {
	raw     string // aliases the body
	indexed bool
	ixOK    bool
	steps   int64
	budget  int64
	*scratch
}

// scratch is the memory of the fallback paths of one Apply, pooled: doc
// takes one on its first fallback path and gives it back in release,
// when Apply returns. Nothing in it may be used after that; what Apply
// returns points into the body and buf only.
type scratch struct {
	ix index
	// dec holds decoded values by node, made for the first filter; has
	// says which are set.
	dec       []any
	has       []bool
	one       []any // a filter's data: one candidate
	stack     []any // a filter's result, reused
	cur, next []int32
	chain     []int32
}

var scratchPool = sync.Pool{New: func() any { return &scratch{one: make([]any, 1)} }}

// release gives the scratch back, without the decoded values.
func (d *doc) release() {
	if d.scratch == nil {
		return
	}
	s := d.scratch
	d.scratch = nil
	clear(s.dec)
	clear(s.stack[:cap(s.stack)])
	s.dec, s.has, s.stack = s.dec[:0], s.has[:0], s.stack[:0]
	s.ix.raw = ""
	scratchPool.Put(s)
}

// newDoc takes a body that is valid JSON. Trimming it makes "$" the
// value exactly, without the whitespace around it.
func newDoc(body []byte, budget int64) doc {
	raw := unsafe.String(unsafe.SliceData(body), len(body))
	return doc{raw: strings.Trim(raw, " \t\r\n"), budget: budget}
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
	err := d.each(p, func(raw string) bool { r = gjson.Parse(raw); return false })
	return r, err
}

// each calls fn with the bytes of every match of a fallback path, in
// document order, until fn returns false. A match handed to fn costs a
// step and a step per byte.
func (d *doc) each(p *jsonPath, fn func(raw string) bool) error {
	ids, err := d.eval(p)
	if err != nil {
		return err
	}
	for _, id := range ids {
		n := &d.ix.nodes[id]
		if !d.spend(1 + int64(n.end-n.start)) {
			return d.overBudget(p)
		}
		if !fn(d.ix.raw[n.start:n.end]) {
			break
		}
	}
	return nil
}

// spend counts n steps and reports whether the budget still holds.
func (d *doc) spend(n int64) bool {
	d.steps += n
	return d.steps <= d.budget
}

// filterErr reports a filter's failure, or the budget it ran out of.
func (d *doc) filterErr(p *jsonPath, err error) error {
	if err == errDecodeBudget {
		return d.overBudget(p)
	}
	return fmt.Errorf("JSONPath %s: %v", p.src, err)
}

func (d *doc) overBudget(p *jsonPath) error {
	return fmt.Errorf("JSONPath %s went over the budget of %d steps for one request's mapping (a step: a JSON value visited, or a byte decoded or matched)", p.src, d.budget)
}

// eval returns the nodes p matches, sorted. The slice is d's scratch,
// good until the next eval.
func (d *doc) eval(p *jsonPath) (ids []int32, err error) {
	if !d.indexed {
		d.indexed = true
		d.scratch = scratchPool.Get().(*scratch)
		d.ixOK = d.ix.build(d.raw)
		if d.ixOK && !d.spend(int64(len(d.ix.nodes))) {
			return nil, d.overBudget(p)
		}
	}
	if !d.ixOK {
		return nil, fmt.Errorf("JSONPath %s: cannot index the body", p.src)
	}
	// ojg panics on some filters over some data (comparisons across
	// types, scripts on odd values); that is the path failing, not the
	// server.
	defer func() {
		if r := recover(); r != nil {
			ids, err = nil, fmt.Errorf("JSONPath %s failed: %v", p.src, r)
		}
	}()
	nodes := d.ix.nodes
	cur, next := append(d.cur[:0], 0), d.next[:0]
	defer func() { d.cur, d.next = cur, next }()
	descended := false
	for _, f := range p.x[1:] {
		next = next[:0]
		ok := true
		switch f := f.(type) {
		case jp.Child:
			for _, id := range cur {
				if nodes[id].kind != '{' {
					continue
				}
				for c := id + 1; c < nodes[id].after; c = nodes[c].after {
					if ok = d.spend(1); !ok {
						break
					}
					if d.ix.keyIs(c, string(f)) {
						next = append(next, c)
						break
					}
				}
			}
		case jp.Nth:
			for _, id := range cur {
				i := int32(f)
				if i < 0 {
					i += nodes[id].n
				}
				if nodes[id].kind != '[' || i < 0 || i >= nodes[id].n {
					continue
				}
				if ok = d.spend(int64(i) + 1); !ok {
					break
				}
				c := id + 1
				for ; i > 0; i-- {
					c = nodes[c].after
				}
				next = append(next, c)
			}
		case jp.Wildcard:
			for _, id := range cur {
				if k := nodes[id].kind; k != '{' && k != '[' {
					continue
				}
				if ok = d.spend(int64(nodes[id].n)); !ok {
					break
				}
				for c := id + 1; c < nodes[id].after; c = nodes[c].after {
					next = append(next, c)
				}
			}
		case jp.Slice:
			for _, id := range cur {
				if nodes[id].kind != '[' {
					continue
				}
				lo, hi, stride, some := sliceRange(f, int(nodes[id].n))
				if !some {
					continue
				}
				if ok = d.spend(int64(hi) + 1); !ok {
					break
				}
				c := id + 1
				for i := 0; i <= hi; i, c = i+1, nodes[c].after {
					if i >= lo && (i-lo)%stride == 0 {
						next = append(next, c)
					}
				}
			}
		case jp.Union:
			next, ok = d.union(f, cur, next)
		case jp.Descent:
			// Each current node and all below it; nodes already inside
			// an earlier one's run are in it.
			end := int32(0)
			for _, id := range cur {
				if id < end {
					continue
				}
				end = nodes[id].after
				if ok = d.spend(int64(end - id)); !ok {
					break
				}
				for c := id; c < end; c++ {
					next = append(next, c)
				}
				if p.decodeBelow {
					if _, err := d.decoded(id, false); err != nil {
						return nil, d.filterErr(p, err)
					}
				}
			}
			descended = true
		case *jp.Filter:
			if next, err = d.filter(f, cur, next, p.decodeBelow && descended); err != nil {
				return nil, d.filterErr(p, err)
			}
		default:
			return nil, fmt.Errorf("JSONPath %s: %T is not supported", p.src, f)
		}
		if !ok || d.steps > d.budget {
			return nil, d.overBudget(p)
		}
		// After a recursive descent the current nodes nest, and a later
		// node's children can come before an earlier one's.
		if !increasing(next) {
			slices.Sort(next)
			next = slices.Compact(next)
		}
		cur, next = next, cur
		if len(cur) == 0 {
			break
		}
	}
	return cur, nil
}

func increasing(ids []int32) bool {
	for i := 1; i < len(ids); i++ {
		if ids[i] <= ids[i-1] {
			return false
		}
	}
	return true
}

// union picks keys from objects and indexes from arrays, each child once
// and in document order. A key picks its first member, as Child does.
func (d *doc) union(f jp.Union, cur, next []int32) ([]int32, bool) {
	nodes := d.ix.nodes
	var idx []int32
	var taken []bool
	for _, id := range cur {
		switch nodes[id].kind {
		case '{':
			taken = slices.Grow(taken[:0], len(f))[:len(f)]
			clear(taken)
			for c := id + 1; c < nodes[id].after; c = nodes[c].after {
				if !d.spend(1) {
					return next, false
				}
				for j, u := range f {
					if k, ok := u.(string); ok && !taken[j] && d.ix.keyIs(c, k) {
						taken[j] = true
						next = append(next, c)
						break
					}
				}
			}
		case '[':
			idx = idx[:0]
			for _, u := range f {
				if i, ok := u.(int64); ok {
					if i < 0 {
						i += int64(nodes[id].n)
					}
					if i >= 0 && i < int64(nodes[id].n) {
						idx = append(idx, int32(i))
					}
				}
			}
			if len(idx) == 0 {
				continue
			}
			slices.Sort(idx)
			idx = slices.Compact(idx)
			last := idx[len(idx)-1]
			if !d.spend(int64(last) + 1) {
				return next, false
			}
			c := id + 1
			for i := int32(0); i <= last; i, c = i+1, nodes[c].after {
				if _, found := slices.BinarySearch(idx, i); found {
					next = append(next, c)
				}
			}
		}
	}
	return next, true
}

// sliceRange is what [start:end:step] selects in an array of n elements,
// as an ascending run lo, lo+stride, ... up to hi; ok is false when it
// selects nothing. It reads a slice as ojg does: end is excluded,
// negative bounds count from the end, a negative step walks down from
// start (n-1 when unset) to end (0 when unset, included then), and a
// start past the end is the last element when walking down.
func sliceRange(s jp.Slice, n int) (lo, hi, stride int, ok bool) {
	start, end, step := s[0], s[1], s[2]
	if step == jp.SliceNotSet {
		step = 1
	}
	if step == 0 || n == 0 {
		return 0, 0, 0, false
	}
	var first, last int // both included
	if step > 0 {
		switch {
		case start == jp.SliceNotSet:
			first = 0
		case start < 0:
			first = max(n+start, 0)
		default:
			first = start
		}
		switch {
		case end == jp.SliceNotSet:
			last = n - 1
		case end < 0:
			last = n + end - 1
		default:
			last = min(end, n) - 1
		}
		if first > last {
			return 0, 0, 0, false
		}
		return first, first + (last-first)/step*step, step, true
	}
	switch {
	case start == jp.SliceNotSet || start >= n:
		first = n - 1
	case start < 0:
		first = max(n+start, 0)
	default:
		first = start
	}
	switch {
	case end == jp.SliceNotSet:
		last = 0
	case end < 0:
		last = max(n+end+1, 0)
		if n+end < 0 {
			last = 0
		}
	case end >= n:
		last = n - 1
	default:
		last = end + 1
	}
	if first < last || last >= n {
		return 0, 0, 0, false
	}
	return first + (last-first)/step*step, first, -step, true
}

// walk follows a path of keys and non-negative indexes on raw JSON. It
// matches keys exactly, so it serves the keys gjson's path syntax
// cannot spell (modeWalk).
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
