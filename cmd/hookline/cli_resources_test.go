package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// cliRun is one run of the built binary: its directory, extra environment
// and stdin.
type cliRun struct {
	dir   string
	env   []string
	stdin string
}

// run runs the binary and returns its stdout, stderr and exit code.
func (r cliRun) run(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(binPath, args...)
	cmd.Env = append([]string{"HOME=/tmp"}, r.env...)
	cmd.Dir = r.dir
	cmd.Stdin = strings.NewReader(r.stdin)
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errOut.String(), code
}

// cliOK runs the binary, requires exit 0 and decodes its JSON output (when
// out is not nil).
func cliOK(t *testing.T, out any, args ...string) string {
	t.Helper()
	stdout, stderr, code := runCLI(t, args...)
	if code != 0 {
		t.Fatalf("hookline %s: exit %d\nstderr: %s", strings.Join(args, " "), code, stderr)
	}
	if out != nil {
		if err := json.Unmarshal([]byte(stdout), out); err != nil {
			t.Fatalf("hookline %s printed %q: %v", strings.Join(args, " "), stdout, err)
		}
	}
	return stdout
}

// cliFails runs the binary and requires exit 1 with want in its stderr.
func cliFails(t *testing.T, want string, args ...string) {
	t.Helper()
	_, stderr, code := runCLI(t, args...)
	if code != 1 || !strings.Contains(stderr, want) {
		t.Fatalf("hookline %s: exit %d, stderr %q; want exit 1 and %q", strings.Join(args, " "), code, stderr, want)
	}
}

// TestResourcesCLI: each resource's create, list, get, update and delete
// against a real server, the body from flags, --data-json and -f, and the
// bad inputs a user types.
func TestResourcesCLI(t *testing.T) {
	srv := startServer(t, t.TempDir(), "--admin-token", testAdminToken)
	conn := []string{"--server", srv.addr, "--token", testAdminToken} // host:port, no scheme
	with := func(args ...string) []string { return append(args, conn...) }
	acme := func(args ...string) []string { return append(with(args...), "--tenant", "acme") }

	// Tenants.
	var tenant struct {
		ID           string `json:"id"`
		Name         string `json:"name"`
		MaxEndpoints *int   `json:"max_endpoints"`
	}
	cliOK(t, &tenant, with("tenants", "create", "--id", "acme", "--name", "Acme")...)
	require_Equal(t, tenant.ID, "acme")
	require_Equal(t, tenant.Name, "Acme")
	cliOK(t, &tenant, with("tenants", "update", "--id", "acme", "--max-endpoints", "3")...)
	require_True(t, tenant.MaxEndpoints != nil && *tenant.MaxEndpoints == 3, "update: %+v", tenant)
	out := cliOK(t, nil, with("tenants", "get", "--id", "acme", "-o", "yaml")...)
	require_True(t, strings.Contains(out, "max_endpoints: 3\n") && strings.Contains(out, "id: acme\n"), "yaml: %q", out)
	out = cliOK(t, nil, with("tenants", "list", "-o", "table")...)
	require_True(t, strings.HasPrefix(out, "ID ") && strings.Contains(out, "\nacme  "), "table: %q", out)

	// Endpoints: fields from flags, then from --data-json with a flag on top.
	var ep struct {
		ID          string   `json:"id"`
		URL         string   `json:"url"`
		EventTypes  []string `json:"event_types"`
		Paused      bool     `json:"paused"`
		RateLimit   int      `json:"rate_limit"`
		Description string   `json:"description"`
		DeletedAt   string   `json:"deleted_at"`
	}
	cliOK(t, &ep, acme("endpoints", "create", "--url", "http://127.0.0.1:9/hook", "--event-types", "invoice.*, user.created", "--paused")...)
	require_True(t, strings.HasPrefix(ep.ID, "ep_") && ep.Paused && len(ep.EventTypes) == 2 && ep.EventTypes[1] == "user.created", "create: %+v", ep)
	cliOK(t, &ep, acme("endpoints", "update", "--id", ep.ID, "--data-json", `{"rate_limit":5,"description":"from json"}`, "--description", "from flag")...)
	require_Equal(t, ep.RateLimit, 5)
	require_Equal(t, ep.Description, "from flag")
	cliOK(t, &ep, acme("endpoints", "get", "--id", ep.ID)...)
	require_Equal(t, ep.Description, "from flag")
	// The endpoint's actions.
	cliOK(t, &ep, acme("endpoints", "resume", "--id", ep.ID)...)
	require_True(t, !ep.Paused, "resume: %+v", ep)
	cliOK(t, &ep, acme("endpoints", "pause", "--id", ep.ID)...)
	require_True(t, ep.Paused, "pause: %+v", ep)
	var rotated struct{ Secret string }
	cliOK(t, &rotated, acme("endpoints", "rotate-secret", "--id", ep.ID, "--data-json", `{"secret":"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}`)...)
	require_Equal(t, rotated.Secret, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	cliFails(t, "flag provided but not defined: -url", acme("endpoints", "pause", "--id", ep.ID, "--url", "x")...)
	var page struct{ Data []map[string]any }
	cliOK(t, &page, acme("endpoints", "list")...)
	require_Equal(t, len(page.Data), 1)
	out = cliOK(t, nil, acme("endpoints", "delete", "--id", ep.ID)...)
	require_Equal(t, out, "deleted endpoint "+ep.ID+"\n")
	cliOK(t, &page, acme("endpoints", "list")...)
	require_Equal(t, len(page.Data), 0)

	// Sources, with the body from a file.
	body := filepath.Join(t.TempDir(), "source.json")
	require_NoError(t, os.WriteFile(body, []byte(`{"name":"gh","provider":"github","secret":"s3cr3t-s3cr3t"}`), 0o600))
	var src struct{ ID, Name, Provider string }
	cliOK(t, &src, acme("sources", "create", "-f", body)...)
	require_True(t, strings.HasPrefix(src.ID, "src_") && src.Provider == "github", "source: %+v", src)
	cliOK(t, &src, acme("sources", "update", "--id", src.ID, "--name", "github-main")...)
	require_Equal(t, src.Name, "github-main")
	cliOK(t, &src, acme("sources", "get", "--id", src.ID)...)
	require_Equal(t, src.Name, "github-main")
	var srcRotated struct{ Secret string }
	cliOK(t, &srcRotated, acme("sources", "rotate-secret", "--id", src.ID, "--data-json", `{"secret":"n3w-s3cr3t-n3w-s3cr3t","overlap":"1h"}`)...)
	require_Equal(t, srcRotated.Secret, "n3w-s3cr3t-n3w-s3cr3t")
	cliOK(t, nil, acme("sources", "delete", "--id", src.ID)...)
	cliFails(t, "source_not_found", acme("sources", "get", "--id", src.ID)...)

	// Event types: the schema from @file; update is a PUT of the type.
	schema := filepath.Join(t.TempDir(), "schema.json")
	require_NoError(t, os.WriteFile(schema, []byte(`{"type":"object","properties":{"amount":{"type":"integer"}}}`), 0o600))
	var et struct {
		Type, Description string
		Schema            map[string]any
	}
	cliOK(t, &et, acme("event-types", "create", "--type", "invoice.paid", "--description", "paid", "--schema", "@"+schema)...)
	require_True(t, et.Type == "invoice.paid" && et.Schema["type"] == "object", "event type: %+v", et)
	cliOK(t, &et, acme("event-types", "update", "--type", "invoice.paid", "--description", "an invoice was paid")...)
	require_Equal(t, et.Description, "an invoice was paid")
	out = cliOK(t, nil, acme("event-types", "list", "-o", "table")...)
	require_True(t, strings.Contains(out, "invoice.paid  an invoice was paid"), "table: %q", out)
	cliOK(t, nil, acme("event-types", "delete", "--type", "invoice.paid")...)
	cliFails(t, "event_type_not_found", acme("event-types", "get", "--type", "invoice.paid")...)

	// API keys and portal sessions: no get route, so get reads the list.
	var key struct{ ID, Key string }
	cliOK(t, &key, acme("api-keys", "create", "--name", "ci", "--scopes", "events:publish,deliveries:read")...)
	require_True(t, strings.HasPrefix(key.Key, "hlk_"), "key: %+v", key)
	var got struct {
		ID     string
		Scopes []string
	}
	cliOK(t, &got, acme("api-keys", "get", "--id", key.ID)...)
	require_True(t, got.ID == key.ID && len(got.Scopes) == 2, "get: %+v", got)
	cliOK(t, nil, acme("api-keys", "delete", "--id", key.ID)...)
	cliFails(t, "not_found", acme("api-keys", "get", "--id", key.ID)...)
	var ps struct{ ID, Token string }
	cliOK(t, &ps, acme("portal-sessions", "create", "--scopes", "deliveries:read", "--expires-in", "1h")...)
	require_True(t, strings.HasPrefix(ps.Token, "hlp_"), "session: %+v", ps)
	cliOK(t, &got, acme("portal-sessions", "get", "--id", ps.ID)...)
	require_Equal(t, got.ID, ps.ID)
	cliOK(t, nil, acme("portal-sessions", "delete", "--id", ps.ID)...)

	// The audit log saw it all.
	out = cliOK(t, nil, acme("audit", "list", "-o", "table")...)
	require_True(t, strings.HasPrefix(out, "AT ") && strings.Contains(out, "  acme    admin  source.delete "), "audit: %s", out)
	var audit struct {
		Data []struct{ Action, Tenant string }
	}
	cliOK(t, &audit, with("audit", "list", "--limit", "2")...)
	require_Equal(t, len(audit.Data), 2)

	cliOK(t, nil, with("tenants", "delete", "--id", "acme")...)
	cliFails(t, "tenant_not_found", with("tenants", "get", "--id", "acme")...)

	// Bad input: a clear message, exit 1, nothing written.
	cliOK(t, nil, with("tenants", "create", "--id", "beta")...)
	beta := func(args ...string) []string { return append(with(args...), "--tenant", "beta") }
	cliFails(t, `--max-in-flight: "x" is not a whole number`, beta("endpoints", "create", "--url", "http://127.0.0.1:9/", "--max-in-flight", "x")...)
	cliFails(t, "must be one JSON object", beta("endpoints", "create", "--data-json", "[1]")...)
	cliFails(t, "not both", beta("endpoints", "create", "--data-json", "{}", "-f", body)...)
	cliFails(t, "--schema: not JSON", beta("event-types", "create", "--type", "a.b", "--schema", "{")...)
	cliFails(t, "--id is required", beta("endpoints", "get")...)
	cliFails(t, "--tenant is required", with("endpoints", "list")...)
	cliFails(t, "usage: hookline api-keys create|list|get|delete", beta("api-keys", "update", "--id", "x")...)
	cliFails(t, "flag provided but not defined: -url", beta("endpoints", "get", "--url", "x")...)
	cliFails(t, "unknown_field: unknown field \"bogus\"\n  hint:", with("tenants", "update", "--id", "beta", "--data-json", `{"bogus":1}`)...)
	cliFails(t, "endpoint_not_found", beta("endpoints", "delete", "--id", "ep_nope")...)
	cliFails(t, "hint: list the tenant's endpoints", beta("endpoints", "delete", "--id", "ep_nope")...)
	cliFails(t, `-o "xml": give table, json or yaml`, beta("endpoints", "list", "-o", "xml")...)
	cliOK(t, &page, beta("endpoints", "list")...)
	require_Equal(t, len(page.Data), 0)
}
