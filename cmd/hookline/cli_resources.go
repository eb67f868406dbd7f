package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
)

// `hookline <resource> create|list|get|update|delete`: one generic client
// over the API's resource routes (httpin/routes.go), driven by the table
// below. A body is built from --data-json or -f (a whole JSON object, as
// the API takes it) with the resource's field flags set on top of it, so a
// common change needs no JSON and any field the flags lack is still
// reachable.

// fieldKind says how a field flag's text becomes a JSON value.
type fieldKind int

const (
	kString fieldKind = iota
	kInt
	kBool
	kList // comma-separated strings
	kJSON // any JSON value
)

// field is one body field with a flag of its own; the flag's name is the
// field's with "-" for "_".
type field struct {
	name  string
	kind  fieldKind
	usage string
}

// resource is one API resource the CLI manages.
type resource struct {
	name    string // the command: "endpoints"
	path    string // under /v1/tenants/{tenant}, or "" for tenants themselves
	idFlag  string // the flag naming one: id, or type for event types
	verbs   []string
	update  string   // PATCH or PUT
	noGet   bool     // no route for one: get finds it in the list
	actions []string // verbs that POST to …/{id}/{verb}, with an optional body
	fields  []field
	columns []string // list -o table
}

var resources = []resource{
	{
		name: "tenants", idFlag: "id", update: "PATCH",
		verbs: []string{"create", "list", "get", "update", "delete"},
		fields: []field{
			{"name", kString, "display name"},
			{"max_endpoints", kInt, "most endpoints the tenant may have"},
			{"require_https", kBool, "refuse http:// endpoint URLs"},
		},
		columns: []string{"id", "name", "max_endpoints", "require_https", "created_at"},
	},
	{
		name: "endpoints", path: "endpoints", idFlag: "id", update: "PATCH",
		verbs:   []string{"create", "list", "get", "update", "delete", "pause", "resume", "rotate-secret", "test", "preview"},
		actions: []string{"pause", "resume", "rotate-secret", "test"},
		fields: []field{
			{"url", kString, "where deliveries go"},
			{"description", kString, "free text"},
			{"event_types", kList, `event types or patterns, comma-separated ("invoice.*,user.created")`},
			{"max_in_flight", kInt, "concurrent deliveries"},
			{"rate_limit", kInt, "deliveries per second (0: unlimited)"},
			{"ordering", kString, "delivery ordering"},
			{"method", kString, "HTTP method (default POST)"},
			{"secret", kString, "signing secret (whsec_...; default generated)"},
			{"paused", kBool, "hold deliveries"},
			{"disabled", kBool, "disable the endpoint"},
			{"headers", kJSON, `extra headers as a JSON object`},
			{"filter", kJSON, "payload filter as JSON"},
		},
		columns: []string{"id", "url", "event_types", "paused", "disabled", "created_at"},
	},
	{
		name: "sources", path: "sources", idFlag: "id", update: "PATCH",
		verbs:   []string{"create", "list", "get", "update", "delete", "rotate-secret", "test", "requests", "request", "replay-request"},
		actions: []string{"rotate-secret", "test"},
		fields: []field{
			{"name", kString, "display name"},
			{"provider", kString, "preset: stripe, github, hmac, ..."},
			{"secret", kString, "the provider's signing secret"},
			{"tolerance", kString, "timestamp tolerance (e.g. 5m)"},
			{"mapping", kJSON, "mapping of a request to an event, as JSON"},
			{"verify_token", kString, "whatsapp and meta: the token of Meta's subscription handshake (generated when left out)"},
		},
		columns: []string{"id", "name", "provider", "url", "created_at"},
	},
	{
		name: "event-types", path: "event-types", idFlag: "type", update: "PUT",
		verbs: []string{"create", "list", "get", "update", "delete"},
		fields: []field{
			{"description", kString, "what the event means"},
			{"schema", kJSON, "the payload's JSON Schema (or @file)"},
		},
		columns: []string{"type", "description", "created_at", "updated_at"},
	},
	{
		name: "api-keys", path: "api-keys", idFlag: "id", noGet: true,
		verbs: []string{"create", "list", "get", "delete"},
		fields: []field{
			{"name", kString, "what the key is for"},
			{"scopes", kList, "scopes, comma-separated (e.g. events:publish,deliveries:read)"},
		},
		columns: []string{"id", "name", "scopes", "prefix", "created_at"},
	},
	{
		name: "portal-sessions", path: "portal-sessions", idFlag: "id", noGet: true,
		verbs: []string{"create", "list", "get", "delete"},
		fields: []field{
			{"scopes", kList, "scopes, comma-separated"},
			{"expires_in", kString, "lifetime (e.g. 1h)"},
		},
		columns: []string{"id", "scopes", "created_at", "expires_at", "created_by"},
	},
}

func findResource(name string) *resource {
	for i := range resources {
		if resources[i].name == name {
			return &resources[i]
		}
	}
	return nil
}

func (r *resource) usage() string {
	return fmt.Sprintf("usage: hookline %s %s [flags] (hookline %s <verb> -h for its flags)", r.name, strings.Join(r.verbs, "|"), r.name)
}

// runResource runs `hookline <resource> <verb> [flags]`.
func runResource(r *resource, args []string, stdout io.Writer) error {
	if len(args) == 0 || !slices.Contains(r.verbs, args[0]) {
		if r.name == "endpoints" {
			return fmt.Errorf("%s\n       hookline endpoints health --tenant T --endpoint ID", r.usage())
		}
		return errors.New(r.usage())
	}
	verb := args[0]
	// Verbs with flags of their own: a source's request log, previews.
	switch {
	case r.name == "sources" && slices.Contains(requestVerbs, verb):
		return runSourceRequests(verb, args[1:], stdout)
	case r.name == "endpoints" && verb == "preview":
		return runPreview(r, args[1:], stdout)
	}
	fs := flag.NewFlagSet(r.name+" "+verb, flag.ContinueOnError)
	var a apiFlags
	if r.path == "" {
		a.registerConn(fs)
	} else {
		a.register(fs)
	}
	var id string
	// A tenant's or an event type's create names it; other ids are minted.
	if verb != "list" && (verb != "create" || r.path == "" || r.idFlag == "type") {
		fs.StringVar(&id, r.idFlag, "", r.idFlag+" of the one to "+verb+" (required)")
	}
	var dataJSON, file string
	var values map[string]*string
	var bools map[string]*bool
	action := slices.Contains(r.actions, verb)
	if action {
		fs.StringVar(&dataJSON, "data-json", "", "the request body as a JSON object (see /v1/openapi.json)")
		fs.StringVar(&file, "f", "", "read the request body from this file (- for stdin)")
	}
	if verb == "create" || verb == "update" {
		fs.StringVar(&dataJSON, "data-json", "", "the request body as a JSON object; field flags are set on top of it")
		fs.StringVar(&file, "f", "", "read the request body from this file (- for stdin)")
		values, bools = fieldFlags(fs, r)
	}
	if err := parseAPIFlags(fs, &a, args[1:]); err != nil {
		return err
	}
	if verb != "list" && verb != "create" && id == "" {
		return fmt.Errorf("--%s is required", r.idFlag)
	}
	base := "/v1/tenants"
	if r.path != "" {
		base = a.tenantPath() + "/" + r.path
	}
	one := base + "/" + url.PathEscape(id)
	var body map[string]any
	if verb == "create" || verb == "update" || (action && (dataJSON != "" || file != "")) {
		var err error
		if body, err = requestBody(fs, r, dataJSON, file, values, bools); err != nil {
			return err
		}
		if verb == "create" && id != "" {
			body[r.idFlag] = id
		}
	}
	var raw json.RawMessage
	var err error
	switch {
	case action:
		var in any // no body unless one was given
		if body != nil {
			in = body
		}
		err = a.call("POST", one+"/"+verb, nil, in, &raw)
		if err == nil && len(raw) == 0 {
			fmt.Fprintf(stdout, "%s %s: done\n", verb, id)
			return nil
		}
	case verb == "list":
		if raw, err = listAll(&a, base, 0); err != nil {
			return err
		}
		return render(stdout, a.output, raw, r.columns)
	case verb == "get":
		if r.noGet {
			raw, err = findInList(&a, base, r.idFlag, id)
		} else {
			err = a.get(one, nil, &raw)
		}
	case verb == "create":
		err = a.call("POST", base, nil, body, &raw)
	case verb == "update":
		err = a.call(r.update, one, nil, body, &raw)
	case verb == "delete":
		err = a.call("DELETE", one, nil, nil, &raw)
		if err == nil && len(raw) == 0 {
			fmt.Fprintf(stdout, "deleted %s %s\n", strings.TrimSuffix(r.name, "s"), id)
			return nil
		}
	}
	if err != nil {
		return err
	}
	if err := render(stdout, a.output, raw, nil); err != nil {
		return err
	}
	if r.name == "endpoints" && verb == "test" {
		return testFailure(raw)
	}
	return nil
}

// testFailure is the error of an endpoint test whose delivery did not
// succeed, so that a script's `hookline endpoints test` fails with it.
func testFailure(raw json.RawMessage) error {
	var res struct {
		Success    bool   `json:"success"`
		Status     int    `json:"status"`
		ErrorClass string `json:"error_class"`
	}
	if err := json.Unmarshal(raw, &res); err != nil {
		return err
	}
	switch {
	case res.Success:
		return nil
	case res.Status == 0:
		return fmt.Errorf("test delivery failed: no answer from the endpoint (%s)", res.ErrorClass)
	}
	return fmt.Errorf("test delivery failed: the endpoint answered %d (%s)", res.Status, res.ErrorClass)
}

// fieldFlags registers a flag for each of r's body fields.
func fieldFlags(fs *flag.FlagSet, r *resource) (map[string]*string, map[string]*bool) {
	values := map[string]*string{}
	bools := map[string]*bool{}
	for _, f := range r.fields {
		flagName := strings.ReplaceAll(f.name, "_", "-")
		if f.kind == kBool {
			bools[f.name] = fs.Bool(flagName, false, f.usage)
		} else {
			values[f.name] = fs.String(flagName, "", f.usage)
		}
	}
	return values, bools
}

// parseAPIFlags parses a verb's flags, refuses words that are not flags
// and checks the shared ones.
func parseAPIFlags(fs *flag.FlagSet, a *apiFlags, args []string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q: flags go with --name value", fs.Arg(0))
	}
	return a.check()
}

// requestBody is the JSON object from --data-json or -f with the field
// flags the command line set on top.
func requestBody(fs *flag.FlagSet, r *resource, dataJSON, file string, values map[string]*string, bools map[string]*bool) (map[string]any, error) {
	body := map[string]any{}
	var src []byte
	switch {
	case dataJSON != "" && file != "":
		return nil, errors.New("give --data-json or -f, not both")
	case dataJSON != "":
		src = []byte(dataJSON)
	case file != "":
		var err error
		if src, err = readInput(file); err != nil {
			return nil, err
		}
	}
	if src != nil {
		if err := json.Unmarshal(src, &body); err != nil {
			return nil, fmt.Errorf("the request body must be one JSON object: %w", err)
		}
	}
	var bad error
	fs.Visit(func(fl *flag.Flag) {
		for _, f := range r.fields {
			if strings.ReplaceAll(f.name, "_", "-") != fl.Name {
				continue
			}
			if f.kind == kBool {
				body[f.name] = *bools[f.name]
				return
			}
			v, err := fieldValue(f, *values[f.name])
			if err != nil && bad == nil {
				bad = fmt.Errorf("--%s: %w", fl.Name, err)
			}
			body[f.name] = v
		}
	})
	return body, bad
}

func fieldValue(f field, s string) (any, error) {
	switch f.kind {
	case kInt:
		n, err := strconv.Atoi(s)
		if err != nil {
			return nil, fmt.Errorf("%q is not a whole number", s)
		}
		return n, nil
	case kList:
		var out []string
		for _, p := range strings.Split(s, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
		return out, nil
	case kJSON:
		b := []byte(s)
		if strings.HasPrefix(s, "@") {
			var err error
			if b, err = readInput(s[1:]); err != nil {
				return nil, err
			}
		}
		var v any
		if err := json.Unmarshal(b, &v); err != nil {
			return nil, fmt.Errorf("not JSON: %w", err)
		}
		return v, nil
	}
	return s, nil
}

// readInput reads a file, or stdin for "-".
func readInput(name string) ([]byte, error) {
	if name == "-" {
		return io.ReadAll(os.Stdin)
	}
	return os.ReadFile(name)
}

// listAll follows a list's cursors and returns {"data":[...]} with every
// item, or the first limit (0: no limit).
func listAll(a *apiFlags, path string, limit int) (json.RawMessage, error) {
	var all []json.RawMessage
	q := url.Values{}
	for {
		if limit > 0 {
			q.Set("limit", strconv.Itoa(min(1000, limit-len(all))))
		}
		var page struct {
			Data       []json.RawMessage `json:"data"`
			NextCursor string            `json:"next_cursor"`
		}
		if err := a.get(path, q, &page); err != nil {
			return nil, err
		}
		all = append(all, page.Data...)
		if page.NextCursor == "" || (limit > 0 && len(all) >= limit) {
			break
		}
		q.Set("cursor", page.NextCursor)
	}
	if all == nil {
		all = []json.RawMessage{}
	}
	return json.Marshal(map[string]any{"data": all})
}

// findInList is get for a resource the API only lists.
func findInList(a *apiFlags, path, key, id string) (json.RawMessage, error) {
	raw, err := listAll(a, path, 0)
	if err != nil {
		return nil, err
	}
	var page struct{ Data []json.RawMessage }
	if err := json.Unmarshal(raw, &page); err != nil {
		return nil, err
	}
	for _, item := range page.Data {
		var m map[string]any
		if json.Unmarshal(item, &m) == nil && m[key] == id {
			return item, nil
		}
	}
	return nil, fmt.Errorf("not_found: no %s with %s %q (list them with `hookline %s list`)", path[strings.LastIndex(path, "/")+1:], key, id, path[strings.LastIndex(path, "/")+1:])
}
