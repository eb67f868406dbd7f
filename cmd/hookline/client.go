package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// apiFlags are the flags every API sub-command shares: where the server
// is, the token, the output format and (with register) the tenant.
type apiFlags struct {
	server, token, data, output, tenant string
	needTenant                          bool
}

// registerConn registers the flags of a command that names no tenant.
func (a *apiFlags) registerConn(fs *flag.FlagSet) {
	fs.StringVar(&a.server, "server", "127.0.0.1:8080", "hookline server: host:port or a URL")
	fs.StringVar(&a.token, "token", "", "admin token or tenant API key (else $HOOKLINE_TOKEN, $HOOKLINE_ADMIN_TOKEN, <data>/admin.token)")
	fs.StringVar(&a.data, "data", "./data", "the server's data directory, read for admin.token when no token is given")
	fs.StringVar(&a.output, "o", "", "output: table, json or yaml (default table on a terminal, else json)")
}

// register registers the flags of a command on one tenant.
func (a *apiFlags) register(fs *flag.FlagSet) {
	a.registerConn(fs)
	fs.StringVar(&a.tenant, "tenant", "", "tenant id (required)")
	a.needTenant = true
}

func (a *apiFlags) check() error {
	if a.token == "" {
		a.token = os.Getenv("HOOKLINE_TOKEN")
	}
	if a.token == "" {
		a.token = os.Getenv("HOOKLINE_ADMIN_TOKEN")
	}
	if a.token == "" && a.data != "" {
		if b, err := os.ReadFile(filepath.Join(a.data, "admin.token")); err == nil {
			a.token = strings.TrimSpace(string(b))
		}
	}
	if a.token == "" {
		return fmt.Errorf("no token: give --token, set $HOOKLINE_TOKEN (a tenant API key) or $HOOKLINE_ADMIN_TOKEN, or run next to the server's data directory (--data, holding admin.token)")
	}
	if a.needTenant && a.tenant == "" {
		return fmt.Errorf("--tenant is required (list them with `hookline tenants list`)")
	}
	if !strings.Contains(a.server, "://") {
		a.server = "http://" + a.server
	}
	switch a.output {
	case "":
		a.output = "json"
		if isTerminal(os.Stdout) {
			a.output = "table"
		}
	case "table", "json", "yaml":
	default:
		return fmt.Errorf("-o %q: give table, json or yaml", a.output)
	}
	return nil
}

// tenantPath is /v1/tenants/{tenant}, escaped.
func (a *apiFlags) tenantPath() string {
	return "/v1/tenants/" + url.PathEscape(a.tenant)
}

// get calls the API and decodes its JSON answer into out, turning an error
// answer into an error with its code.
func (a *apiFlags) get(path string, query url.Values, out any) error {
	return a.call("GET", path, query, nil, out)
}

// call is get for any method, with an optional JSON body; any 2xx answer
// is a success.
func (a *apiFlags) call(method, path string, query url.Values, in, out any) error {
	var body []byte
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = b
	}
	return a.send(method, path, query, "application/json", body, out)
}

// send is call with a body already encoded as contentType.
func (a *apiFlags) send(method, path string, query url.Values, contentType string, body []byte, out any) error {
	u := strings.TrimRight(a.server, "/") + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequest(method, u, bytes.NewReader(body))
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Authorization", "Bearer "+a.token)
	c := &http.Client{Timeout: 30 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("%w (is the server running there? give --server host:port)", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return apiError(resp.Status, raw)
	}
	if out == nil || resp.StatusCode == http.StatusNoContent || len(bytes.TrimSpace(raw)) == 0 {
		return nil
	}
	return json.NewDecoder(bytes.NewReader(raw)).Decode(out)
}

// print writes the API's answer for path in the chosen output format.
func (a *apiFlags) print(w io.Writer, path string) error {
	var v json.RawMessage
	if err := a.get(path, nil, &v); err != nil {
		return err
	}
	return render(w, a.output, v, nil)
}

// runDeliveries: `hookline deliveries list|get`.
func runDeliveries(args []string, stdout io.Writer) error {
	if len(args) == 0 || (args[0] != "list" && args[0] != "get") {
		return fmt.Errorf("usage: hookline deliveries list|get --tenant T [--endpoint ep_...] [flags]")
	}
	verb := args[0]
	fs := flag.NewFlagSet("deliveries "+verb, flag.ContinueOnError)
	var a apiFlags
	a.register(fs)
	endpoint := fs.String("endpoint", "", "endpoint id (required for get; list: none for all the tenant's endpoints)")
	// Each verb has only its own flags.
	var status, typ, since, until, format, event *string
	var limit *int
	if verb == "list" {
		status = fs.String("status", "", "pending, succeeded, retrying or dead")
		typ = fs.String("type", "", `event type or pattern ("invoice.*")`)
		since = fs.String("since", "", "events at or after this RFC 3339 time")
		until = fs.String("until", "", "events before this RFC 3339 time")
		limit = fs.Int("limit", 100, "most deliveries to print; 0 for all (follows cursors)")
		format = fs.String("format", "ndjson", "ndjson or csv (-o table or yaml: one table or document)")
	} else {
		event = fs.String("event", "", "event id (evt_...)")
	}
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if err := a.check(); err != nil {
		return err
	}
	if *endpoint == "" && verb == "get" {
		return fmt.Errorf("--endpoint is required")
	}
	base := a.tenantPath() + "/endpoints/" + url.PathEscape(*endpoint) + "/deliveries"
	if *endpoint == "" {
		base = a.tenantPath() + "/deliveries" // every endpoint's, newest first
	}
	if verb == "get" {
		if *event == "" {
			return fmt.Errorf("--event is required")
		}
		return a.print(stdout, base+"/"+url.PathEscape(*event))
	}
	if *format != "ndjson" && *format != "csv" {
		return fmt.Errorf("--format must be ndjson or csv")
	}
	// Streamed lines unless a table or a document was asked for (or, with
	// no --format, a terminal reads it): those are rendered at the end.
	formatSet := false
	fs.Visit(func(f *flag.Flag) { formatSet = formatSet || f.Name == "format" })
	var collected []json.RawMessage
	collect := !formatSet && a.output != "json"
	q := url.Values{}
	for k, v := range map[string]string{"status": *status, "type": *typ, "since": *since, "until": *until} {
		if v != "" {
			q.Set(k, v)
		}
	}
	var cw *csv.Writer
	if *format == "csv" {
		cw = csv.NewWriter(stdout)
		_ = cw.Write([]string{"event_id", "event_type", "status", "attempts", "last_attempt_at", "last_status", "last_error_class", "next_attempt_at"})
	}
	printed := 0
	for {
		page := 1000
		if *limit > 0 {
			page = min(page, *limit-printed)
		}
		q.Set("limit", strconv.Itoa(page))
		var res struct {
			Data       []json.RawMessage `json:"data"`
			NextCursor string            `json:"next_cursor"`
		}
		if err := a.get(base, q, &res); err != nil {
			return err
		}
		for _, raw := range res.Data {
			if collect {
				collected = append(collected, raw)
			} else if err := printDelivery(stdout, cw, raw); err != nil {
				return err
			}
			printed++
		}
		if res.NextCursor == "" || (*limit > 0 && printed >= *limit) {
			break
		}
		q.Set("cursor", res.NextCursor)
	}
	if collect {
		all, err := json.Marshal(map[string]any{"data": append([]json.RawMessage{}, collected...)})
		if err != nil {
			return err
		}
		cols := deliveryColumns
		if *endpoint == "" {
			cols = append([]string{"endpoint_id"}, cols...)
		}
		return render(stdout, a.output, all, cols)
	}
	if cw != nil {
		cw.Flush()
		return cw.Error()
	}
	return nil
}

// deliveryColumns are the columns of `hookline deliveries list -o table`.
var deliveryColumns = []string{"event_id", "event_type", "status", "attempts", "next_attempt_at"}

func printDelivery(w io.Writer, cw *csv.Writer, raw json.RawMessage) error {
	if cw == nil {
		_, err := fmt.Fprintf(w, "%s\n", raw)
		return err
	}
	var d struct {
		EventID     string `json:"event_id"`
		EventType   string `json:"event_type"`
		Status      string `json:"status"`
		Attempts    int    `json:"attempts"`
		LastAttempt *struct {
			At         time.Time
			Status     int
			ErrorClass string `json:"error_class"`
		} `json:"last_attempt"`
		NextAttemptAt *time.Time `json:"next_attempt_at"`
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		return err
	}
	row := []string{d.EventID, d.EventType, d.Status, strconv.Itoa(d.Attempts), "", "", "", ""}
	if d.LastAttempt != nil {
		row[4] = d.LastAttempt.At.Format(time.RFC3339Nano)
		if d.LastAttempt.Status != 0 {
			row[5] = strconv.Itoa(d.LastAttempt.Status)
		}
		row[6] = d.LastAttempt.ErrorClass
	}
	if d.NextAttemptAt != nil {
		row[7] = d.NextAttemptAt.Format(time.RFC3339Nano)
	}
	return cw.Write(row)
}

// runEvents: `hookline events get`.
func runEvents(args []string, stdout io.Writer) error {
	return printOne(args, stdout, "events", "get", "event", "evt_...", func(tenant, id string) string {
		return "/v1/tenants/" + tenant + "/events/" + id
	})
}

// runEndpoints: `hookline endpoints health`.
func runEndpoints(args []string, stdout io.Writer) error {
	return printOne(args, stdout, "endpoints", "health", "endpoint", "ep_...", func(tenant, id string) string {
		return "/v1/tenants/" + tenant + "/endpoints/" + id + "/health"
	})
}

// printOne runs `hookline <cmd> <verb> --tenant T --<name> <id>`, which
// prints the one resource at path(tenant, id) (both path-escaped).
func printOne(args []string, stdout io.Writer, cmd, verb, name, example string, path func(tenant, id string) string) error {
	if len(args) == 0 || args[0] != verb {
		return fmt.Errorf("usage: hookline %s %s --tenant T --%s %s [flags]", cmd, verb, name, example)
	}
	fs := flag.NewFlagSet(cmd+" "+verb, flag.ContinueOnError)
	var a apiFlags
	a.register(fs)
	id := fs.String(name, "", name+" id ("+example+")")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if err := a.check(); err != nil {
		return err
	}
	if *id == "" {
		return fmt.Errorf("--%s is required", name)
	}
	return a.print(stdout, path(url.PathEscape(a.tenant), url.PathEscape(*id)))
}

// runAudit: `hookline audit list`, the audit log of a tenant (--tenant)
// or of the whole server, newest first.
func runAudit(args []string, stdout io.Writer) error {
	if len(args) == 0 || args[0] != "list" {
		return fmt.Errorf("usage: hookline audit list [--tenant T] [flags]")
	}
	fs := flag.NewFlagSet("audit list", flag.ContinueOnError)
	var a apiFlags
	a.registerConn(fs)
	fs.StringVar(&a.tenant, "tenant", "", "the tenant's log (default: the whole server's, admin only)")
	limit := fs.Int("limit", 100, "most entries to print")
	cursor := fs.String("cursor", "", "the next page: the next_cursor of the one before")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if err := a.check(); err != nil {
		return err
	}
	path := "/v1/audit"
	if a.tenant != "" {
		path = a.tenantPath() + "/audit"
	}
	q := url.Values{"limit": {strconv.Itoa(*limit)}}
	if *cursor != "" {
		q.Set("cursor", *cursor)
	}
	var raw json.RawMessage
	if err := a.get(path, q, &raw); err != nil {
		return err
	}
	return render(stdout, a.output, raw, []string{"at", "tenant", "actor", "action", "resource"})
}
