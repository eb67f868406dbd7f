package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"gopkg.in/yaml.v3"
)

// How the API clients print what the server answers (-o): json is the
// server's answer itself on one line (what scripts and jq read), yaml the
// same value, table a human's view: a list's rows under the resource's
// columns, or one object's fields as KEY VALUE lines.

// jobColumns are the columns of `hookline jobs list -o table`.
var jobColumns = []string{"id", "kind", "endpoint_id", "state", "created_at"}

// isTerminal reports whether f is a character device (a terminal): tables
// are for people, json for pipes.
func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// render writes raw, one JSON answer, to w as format; columns are the
// table's columns for a list (nil: every field whose values are scalars).
func render(w io.Writer, format string, raw json.RawMessage, columns []string) error {
	switch format {
	case "yaml":
		v, err := decodeForYAML(raw)
		if err != nil {
			return err
		}
		b, err := yaml.Marshal(v)
		if err != nil {
			return err
		}
		_, err = w.Write(b)
		return err
	case "table":
		return renderTable(w, raw, columns)
	default:
		var buf bytes.Buffer
		if err := json.Compact(&buf, raw); err != nil {
			return err
		}
		buf.WriteByte('\n')
		_, err := w.Write(buf.Bytes())
		return err
	}
}

// decodeForYAML decodes raw keeping integers integers (float64 would print
// 1e+06 for a count).
func decodeForYAML(raw json.RawMessage) (any, error) {
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	var fix func(any) any
	fix = func(v any) any {
		switch x := v.(type) {
		case json.Number:
			if i, err := x.Int64(); err == nil {
				return i
			}
			f, _ := x.Float64()
			return f
		case map[string]any:
			for k, e := range x {
				x[k] = fix(e)
			}
		case []any:
			for i, e := range x {
				x[i] = fix(e)
			}
		}
		return v
	}
	return fix(v), nil
}

func renderTable(w io.Writer, raw json.RawMessage, columns []string) error {
	var v any
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	obj, _ := v.(map[string]any)
	rows, isList := obj["data"].([]any)
	if arr, ok := v.([]any); ok {
		rows, isList = arr, true
	}
	if !isList {
		keys := sortedKeys(obj)
		fmt.Fprintln(tw, "KEY\tVALUE")
		for _, k := range keys {
			fmt.Fprintf(tw, "%s\t%s\n", k, cell(obj[k]))
		}
		return tw.Flush()
	}
	if columns == nil {
		columns = scalarColumns(rows)
	}
	fmt.Fprintln(tw, strings.ToUpper(strings.Join(columns, "\t")))
	for _, r := range rows {
		m, _ := r.(map[string]any)
		cells := make([]string, len(columns))
		for i, c := range columns {
			cells[i] = cell(m[c])
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	if c, _ := obj["next_cursor"].(string); c != "" {
		fmt.Fprintf(tw, "(more: --cursor %s)\n", c)
	}
	return tw.Flush()
}

// sortedKeys puts the identifying keys first, then the rest by name.
func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	rank := func(k string) int {
		if i := slices.Index([]string{"id", "type", "tenant", "name"}, k); i >= 0 {
			return i
		}
		return 99
	}
	slices.SortFunc(keys, func(a, b string) int {
		if ra, rb := rank(a), rank(b); ra != rb {
			return ra - rb
		}
		return strings.Compare(a, b)
	})
	return keys
}

// scalarColumns are the keys of the rows whose values are never objects
// or lists (those do not fit a cell), identifying keys first.
func scalarColumns(rows []any) []string {
	seen := map[string]any{}
	nested := map[string]bool{}
	for _, r := range rows {
		m, _ := r.(map[string]any)
		for k, v := range m {
			seen[k] = nil
			switch v.(type) {
			case map[string]any, []any:
				nested[k] = true
			}
		}
	}
	var cols []string
	for _, k := range sortedKeys(seen) {
		if !nested[k] {
			cols = append(cols, k)
		}
	}
	return cols
}

// cell is one value as a table cell: scalars as text, lists of scalars
// comma-separated, anything else as compact JSON.
func cell(v any) string {
	switch x := v.(type) {
	case nil:
		return "-"
	case string:
		if x == "" {
			return "-"
		}
		return x
	case json.Number:
		return x.String()
	case bool:
		return strconv.FormatBool(x)
	case []any:
		parts := make([]string, 0, len(x))
		for _, e := range x {
			switch e.(type) {
			case map[string]any, []any:
				b, _ := json.Marshal(x)
				return string(b)
			}
			parts = append(parts, cell(e))
		}
		return strings.Join(parts, ",")
	default:
		b, _ := json.Marshal(x)
		return string(b)
	}
}
