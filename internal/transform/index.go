package transform

import (
	"strings"

	"github.com/tidwall/gjson"
)

// node is one JSON value of an indexed body.
type node struct {
	start, end int32 // the value is raw[start:end]
	// after is the first node after this one's descendants, which are
	// the nodes between. The next sibling, if any, is after: the first
	// child of a parent p is p+1 and the children stop at p's after.
	after  int32
	parent int32 // -1 for the root
	// key is, in an object, the offset of the member's key (its opening
	// quote), and in an array the element's index; -1 for the root.
	key  int32
	n    int32 // an object's members, an array's elements
	kind byte  // the value's first byte: '{', '[', '"', 't', 'f', 'n', '-' or a digit
}

// index is the structure of one body, made in one pass for the fallback
// paths. Every value is a node, numbered in document order (a value
// before its members, a member before the next one), so:
//
//  1. sorting matches by node sorts them by their place in the body;
//  2. a value's descendants are a run of nodes, [id+1, after);
//  3. its children are id+1, then each child's after, up to its own after.
//
// The fallback paths move over nodes and never scan the bytes again:
// each step of a path costs the nodes it looks at, a recursive descent
// the nodes below, so one path costs at most its length times the nodes.
type index struct {
	raw   string
	nodes []node
}

// build indexes raw, one JSON value without whitespace around it. The
// body was checked by wellFormed; build still refuses, without
// panicking, whatever it cannot follow.
func (ix *index) build(raw string) bool {
	ix.raw, ix.nodes = raw, ix.nodes[:0]
	if len(raw) > maxIndexedBody {
		return false
	}
	i, cur, key := 0, int32(-1), int32(-1)
	for {
		// A value starts at i; key is its member key, or -1.
		if i >= len(raw) {
			return false
		}
		id := int32(len(ix.nodes))
		if cur >= 0 {
			p := &ix.nodes[cur]
			if p.kind == '[' {
				key = p.n
			}
			p.n++
		}
		c := raw[i]
		ix.nodes = append(ix.nodes, node{start: int32(i), parent: cur, key: key, kind: c})
		switch c {
		case '{', '[':
			cur = id
			if i = skipSpace(raw, i+1); i < len(raw) && raw[i] != closer(c) {
				if c == '{' {
					if key, i = memberKey(raw, i); i < 0 {
						return false
					}
				}
				continue
			}
			// Empty: it closes below.
		case '"':
			if i = stringEnd(raw, i); i < 0 {
				return false
			}
		default:
			j := scalarEnd(raw, i)
			if j == i {
				return false
			}
			i = j
		}
		if c != '{' && c != '[' {
			n := &ix.nodes[id]
			n.end, n.after = int32(i), id+1
		}
		// A value is complete: close the containers that end here, then
		// go on to the next member or element.
		for {
			if i = skipSpace(raw, i); cur < 0 {
				return i == len(raw)
			}
			if i >= len(raw) {
				return false
			}
			p := &ix.nodes[cur]
			if raw[i] == ',' {
				i = skipSpace(raw, i+1)
				if key = -1; p.kind == '{' {
					if key, i = memberKey(raw, i); i < 0 {
						return false
					}
				}
				break
			}
			if raw[i] != closer(p.kind) {
				return false
			}
			i++
			p.end, p.after = int32(i), int32(len(ix.nodes))
			cur = p.parent
		}
	}
}

// maxIndexedBody keeps offsets in an int32; inbound bodies are capped far
// below it.
const maxIndexedBody = 1<<31 - 1

func closer(open byte) byte {
	if open == '{' {
		return '}'
	}
	return ']'
}

// memberKey reads `"key" :` at i: the key's offset, and where its value
// starts; -1 for both when it is not there.
func memberKey(raw string, i int) (key int32, next int) {
	if i >= len(raw) || raw[i] != '"' {
		return -1, -1
	}
	j := stringEnd(raw, i)
	if j < 0 {
		return -1, -1
	}
	if j = skipSpace(raw, j); j >= len(raw) || raw[j] != ':' {
		return -1, -1
	}
	return int32(i), skipSpace(raw, j+1)
}

// stringEnd returns the offset after the string opening at raw[i], or -1.
func stringEnd(raw string, i int) int {
	for j := i + 1; j < len(raw); {
		k := strings.IndexByte(raw[j:], '"')
		if k < 0 {
			return -1
		}
		j += k
		// The quote ends the string unless an odd run of backslashes
		// escapes it; a run stops at the opening quote at the latest,
		// and each run is read once.
		odd := false
		for p := j - 1; raw[p] == '\\'; p-- {
			odd = !odd
		}
		j++
		if !odd {
			return j
		}
	}
	return -1
}

// scalarEnd returns the offset after the number or literal at raw[i].
func scalarEnd(raw string, i int) int {
	for ; i < len(raw); i++ {
		switch raw[i] {
		case ',', ']', '}', ' ', '\t', '\r', '\n':
			return i
		}
	}
	return i
}

func skipSpace(raw string, i int) int {
	for i < len(raw) && (raw[i] == ' ' || raw[i] == '\t' || raw[i] == '\r' || raw[i] == '\n') {
		i++
	}
	return i
}

// rawKey returns member c's key as written, without its quotes.
func (ix *index) rawKey(c int32) string {
	n := &ix.nodes[c]
	// The key's closing quote is the last one before the value, with
	// only the colon and whitespace between.
	q := int(n.start) - 1
	for q > int(n.key) && ix.raw[q] != '"' {
		q--
	}
	return ix.raw[n.key+1 : q]
}

// keyIs reports whether member c's key, unescaped, is k.
func (ix *index) keyIs(c int32, k string) bool {
	raw := ix.rawKey(c)
	if strings.IndexByte(raw, '\\') < 0 {
		return raw == k
	}
	return gjson.Parse(ix.raw[ix.nodes[c].key:int(ix.nodes[c].key)+len(raw)+2]).Str == k
}
