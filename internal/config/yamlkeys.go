package config

import (
	"fmt"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// nameKeys adds the YAML key path to each of te's messages. yaml.v3 names
// only the line ("line 3: cannot unmarshal !!str `30d` into time.Duration");
// the key says which option to fix without counting lines.
func nameKeys(b []byte, te *yaml.TypeError) error {
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return te // cannot happen: the decoder parsed b; keep its own message
	}
	keys := map[int]string{}
	keyLines(&doc, "", keys)
	out := &yaml.TypeError{Errors: make([]string, len(te.Errors))}
	for i, msg := range te.Errors {
		out.Errors[i] = msg
		var line int
		if _, err := fmt.Sscanf(msg, "line %d:", &line); err != nil {
			continue
		}
		if key := keys[line]; key != "" {
			out.Errors[i] = fmt.Sprintf("%s (line %d):%s", key, line, strings.TrimPrefix(msg, fmt.Sprintf("line %d:", line)))
		}
	}
	return out
}

// keyLines records in keys the key path of each line, e.g. 3 ->
// "retention.max_age" or 5 -> "allow_net[1]". The outermost path on a line
// wins, so a flow collection ({a: 1, b: 2} or [x, y]) is named by the key
// holding it: never a wrong key, at worst a less precise one.
func keyLines(n *yaml.Node, path string, keys map[int]string) {
	set := func(line int, p string) {
		if _, ok := keys[line]; !ok {
			keys[line] = p
		}
	}
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			keyLines(c, path, keys)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			p := k.Value
			if path != "" {
				p = path + "." + k.Value
			}
			set(k.Line, p)
			if inline(v) {
				set(v.Line, p)
			}
			keyLines(v, p, keys)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			p := path + "[" + strconv.Itoa(i) + "]"
			if inline(c) {
				set(c.Line, p)
			}
			keyLines(c, p, keys)
		}
	}
}

// inline reports whether n is written on the line it starts: a scalar or a
// flow collection. A block collection's line is its first entry's, which
// that entry names better.
func inline(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode || n.Style&yaml.FlowStyle != 0
}
