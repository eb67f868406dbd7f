package transform

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/ohler55/ojg/jp"
	"github.com/ohler55/ojg/oj"
	"github.com/tidwall/gjson"
)

// The fallback path's filters ([?(...)]): a filter tests decoded values,
// so the children it looks at are decoded here, each at most once per
// Apply, their bytes spent from the step budget.

// filter picks the children whose decoded value the script accepts,
// evaluated as ojg's Locate does (no root: $ in a filter matches
// nothing).
func (d *doc) filter(f *jp.Filter, cur, next []int32, below bool) ([]int32, error) {
	nodes := d.ix.nodes
	for _, id := range cur {
		if k := nodes[id].kind; k != '{' && k != '[' || nodes[id].n == 0 {
			continue
		}
		// One decode of the container: each candidate is then taken
		// out of it.
		if _, err := d.decoded(id, below); err != nil {
			return next, err
		}
		for c := id + 1; c < nodes[id].after; c = nodes[c].after {
			if !d.spend(filterSteps) {
				return next, errDecodeBudget
			}
			v, err := d.decoded(c, below)
			if err != nil {
				return next, err
			}
			d.one[0] = v
			st, _ := f.Eval(d.stack[:0], d.one).([]any)
			if len(st) > 0 {
				next = append(next, c)
			}
			clear(st)
			d.stack = st[:0]
		}
	}
	d.one[0] = nil
	return next, nil
}

// decoded returns node id's value as ojg decodes it, made once: taken
// out of its parent's value when that is decoded; with below (a filter
// after a recursive descent, which decoded the values it started from)
// out of the nearest decoded ancestor, deriving each value between;
// else decoded from its own bytes. Taking a value out costs a step,
// decoding a step a byte.
func (d *doc) decoded(id int32, below bool) (any, error) {
	nodes := d.ix.nodes
	if len(d.dec) != len(nodes) {
		d.dec = slices.Grow(d.dec[:0], len(nodes))[:len(nodes)]
		d.has = slices.Grow(d.has[:0], len(nodes))[:len(nodes)]
		clear(d.has)
	}
	if d.has[id] {
		return d.dec[id], nil
	}
	if p := nodes[id].parent; p >= 0 && d.has[p] {
		return d.derive(id)
	}
	if below {
		chain, a := d.chain[:0], id
		for ; a >= 0 && !d.has[a]; a = nodes[a].parent {
			chain = append(chain, a)
		}
		d.chain = chain
		if a >= 0 {
			for i := len(chain) - 1; i >= 0; i-- {
				if _, err := d.derive(chain[i]); err != nil {
					return nil, err
				}
			}
			return d.dec[id], nil
		}
	}
	return d.decodeRaw(id)
}

// derive sets c's value from its decoded parent's. An object with a key
// written twice decoded to fewer entries than it has members: its
// members are decoded from their own bytes instead.
func (d *doc) derive(c int32) (any, error) {
	if !d.spend(1) {
		return nil, errDecodeBudget
	}
	n := &d.ix.nodes[c]
	p := &d.ix.nodes[n.parent]
	switch pv := d.dec[n.parent].(type) {
	case []any:
		if p.kind == '[' && int(n.key) < len(pv) {
			d.dec[c], d.has[c] = pv[n.key], true
			return pv[n.key], nil
		}
	case map[string]any:
		if p.kind == '{' && len(pv) == int(p.n) {
			k := d.ix.rawKey(c)
			if strings.IndexByte(k, '\\') >= 0 {
				k = gjson.Parse(d.ix.raw[n.key : int(n.key)+len(k)+2]).Str
			}
			if v, ok := pv[k]; ok {
				d.dec[c], d.has[c] = v, true
				return v, nil
			}
		}
	}
	return d.decodeRaw(c)
}

func (d *doc) decodeRaw(id int32) (any, error) {
	n := &d.ix.nodes[id]
	if !d.spend(int64(n.end - n.start)) {
		return nil, errDecodeBudget
	}
	v, err := decode(d.ix.raw[n.start:n.end])
	if err != nil {
		return nil, err
	}
	d.dec[id], d.has[id] = v, true
	return v, nil
}

// errDecodeBudget stops a filter; eval reports it as over budget.
var errDecodeBudget = errors.New("over budget")

func decode(raw string) (tree any, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("cannot decode the body: %v", r)
		}
	}()
	return oj.ParseString(raw)
}
