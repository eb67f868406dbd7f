package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"slices"
	"strings"
)

// runDocs: `hookline docs events`, the Markdown reference of a tenant's
// event-type catalogue: per type its description, its payload schema and
// an example payload (the schema's own example, else one built from it).
func runDocs(args []string, stdout io.Writer) error {
	if len(args) == 0 || args[0] != "events" {
		return errors.New("usage: hookline docs events --tenant T [--out FILE]")
	}
	fs := flag.NewFlagSet("docs events", flag.ContinueOnError)
	var a apiFlags
	a.register(fs)
	out := fs.String("out", "", "write the Markdown to this file (default stdout)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if err := a.check(); err != nil {
		return err
	}
	raw, err := listAll(&a, a.tenantPath()+"/event-types", 0)
	if err != nil {
		return err
	}
	var page struct {
		Data []struct{ Type string } `json:"data"`
	}
	if err := json.Unmarshal(raw, &page); err != nil {
		return err
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "# Events of %s\n\n", a.tenant)
	if len(page.Data) == 0 {
		b.WriteString("No event types are registered yet (`hookline event-types create`).\n")
	}
	for _, it := range page.Data {
		fmt.Fprintf(&b, "- [`%s`](#%s)\n", it.Type, anchor(it.Type))
	}
	for _, it := range page.Data {
		var et struct {
			Type        string          `json:"type"`
			Description string          `json:"description"`
			Schema      json.RawMessage `json:"schema"`
		}
		if err := a.get(a.tenantPath()+"/event-types/"+url.PathEscape(it.Type), nil, &et); err != nil {
			return err
		}
		writeEventType(&b, et.Type, et.Description, et.Schema)
	}
	if *out == "" {
		_, err = stdout.Write(b.Bytes())
		return err
	}
	return os.WriteFile(*out, b.Bytes(), 0o644)
}

// anchor is the GitHub-style heading anchor of an event type.
func anchor(typ string) string {
	return strings.NewReplacer(".", "", "*", "", " ", "-").Replace(strings.ToLower(typ))
}

func writeEventType(b *bytes.Buffer, typ, desc string, schema json.RawMessage) {
	fmt.Fprintf(b, "\n## %s\n\n", typ)
	if desc != "" {
		fmt.Fprintf(b, "%s\n\n", desc)
	}
	var s any
	if len(schema) == 0 || string(schema) == "null" || json.Unmarshal(schema, &s) != nil {
		b.WriteString("No payload schema is registered.\n")
		return
	}
	indented, _ := json.MarshalIndent(s, "", "  ")
	fmt.Fprintf(b, "### Schema\n\n```json\n%s\n```\n\n", indented)
	ex, _ := json.MarshalIndent(exampleOf(s, 0), "", "  ")
	fmt.Fprintf(b, "### Example\n\n```json\n%s\n```\n", ex)
}

// exampleOf is an example value for a JSON Schema: its examples, example,
// const, default or first enum value, else one built from its type.
func exampleOf(schema any, depth int) any {
	s, ok := schema.(map[string]any)
	if !ok || depth > 8 {
		return nil
	}
	if ex, ok := s["examples"].([]any); ok && len(ex) > 0 {
		return ex[0]
	}
	for _, k := range []string{"example", "const", "default"} {
		if v, ok := s[k]; ok {
			return v
		}
	}
	if enum, ok := s["enum"].([]any); ok && len(enum) > 0 {
		return enum[0]
	}
	typ, _ := s["type"].(string)
	if types, ok := s["type"].([]any); ok && len(types) > 0 {
		typ, _ = types[0].(string)
	}
	if typ == "" {
		if _, ok := s["properties"]; ok {
			typ = "object"
		}
	}
	switch typ {
	case "object":
		obj := map[string]any{}
		props, _ := s["properties"].(map[string]any)
		keys := make([]string, 0, len(props))
		for k := range props {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			obj[k] = exampleOf(props[k], depth+1)
		}
		return obj
	case "array":
		return []any{exampleOf(s["items"], depth+1)}
	case "string":
		switch s["format"] {
		case "date-time":
			return "2026-01-01T00:00:00Z"
		case "email":
			return "user@example.com"
		case "uri":
			return "https://example.com"
		}
		return "string"
	case "integer", "number":
		if m, ok := s["minimum"]; ok {
			return m
		}
		return 0
	case "boolean":
		return false
	}
	return nil
}
