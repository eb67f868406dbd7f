package main

import (
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"
)

// runCLI runs the built binary and returns its stdout, stderr and exit code.
func runCLI(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	return cliRun{}.run(t, args...)
}

// TestDeliveriesCLI: `hookline deliveries` and `hookline events` against a
// running server, as an operator would use them.
func TestDeliveriesCLI(t *testing.T) {
	const token = testAdminToken
	srv := startServer(t, t.TempDir(), "--admin-token", token)
	a := newAPI(srv.addr, token)
	a.mustDo(t, "POST", "/v1/tenants", map[string]any{"id": "acme"}, 201, nil)
	var ep endpointCreated
	a.mustDo(t, "POST", "/v1/tenants/acme/endpoints", map[string]any{"url": "http://127.0.0.1:9/hook", "paused": true}, 201, &ep)
	var ids []string
	for range 3 {
		var res struct{ ID string }
		a.mustDo(t, "POST", "/v1/tenants/acme/events", map[string]any{"type": "invoice.paid", "payload": map[string]int{"n": 1}}, 202, &res)
		ids = append(ids, res.ID)
	}
	common := []string{"--server", "http://" + srv.addr, "--token", token, "--tenant", "acme"}

	out, errOut, code := runCLI(t, append(append([]string{"deliveries", "list"}, common...), "--endpoint", ep.ID, "--format", "csv")...)
	require_Equal(t, code, 0)
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	require_NoError(t, err)
	require_Equal(t, len(rows), 4)
	require_Equal(t, rows[0][0], "event_id")
	require_Equal(t, rows[1][0], ids[2])
	require_Equal(t, rows[1][2], "pending")
	require_Equal(t, errOut, "")

	out, _, code = runCLI(t, append(append([]string{"deliveries", "list"}, common...), "--endpoint", ep.ID, "--limit", "2")...)
	require_Equal(t, code, 0)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require_Equal(t, len(lines), 2)
	var d struct {
		EventID string `json:"event_id"`
	}
	require_NoError(t, json.Unmarshal([]byte(lines[1]), &d))
	require_Equal(t, d.EventID, ids[1])

	// Without --endpoint: every endpoint's deliveries, naming the endpoint.
	out, _, code = runCLI(t, append(append([]string{"deliveries", "list"}, common...), "-o", "table")...)
	require_Equal(t, code, 0)
	require_True(t, strings.HasPrefix(out, "ENDPOINT_ID ") && strings.Count(out, ep.ID+"  evt_") == 3, "tenant-wide: %q", out)

	// -o table and -o yaml: one table, one document.
	out, _, code = runCLI(t, append(append([]string{"deliveries", "list"}, common...), "--endpoint", ep.ID, "-o", "table")...)
	require_Equal(t, code, 0)
	lines = strings.Split(strings.TrimSpace(out), "\n")
	require_Equal(t, len(lines), 4)
	require_True(t, strings.HasPrefix(lines[0], "EVENT_ID ") && strings.HasPrefix(lines[1], ids[2]+"  invoice.paid  pending"), "table: %q", out)
	out, _, code = runCLI(t, append(append([]string{"deliveries", "list"}, common...), "--endpoint", ep.ID, "-o", "yaml")...)
	require_Equal(t, code, 0)
	require_True(t, strings.HasPrefix(out, "data:\n") && strings.Count(out, "event_id: evt_") == 3, "yaml: %q", out)

	out, _, code = runCLI(t, append(append([]string{"deliveries", "get"}, common...), "--endpoint", ep.ID, "--event", ids[0])...)
	require_Equal(t, code, 0)
	require_True(t, strings.Contains(out, ids[0]), "deliveries get printed %q", out)

	out, _, code = runCLI(t, append(append([]string{"events", "get"}, common...), "--event", ids[0])...)
	require_Equal(t, code, 0)
	require_True(t, strings.Contains(out, `"payload":{"n":1}`), "events get printed %q", out)

	out, _, code = runCLI(t, append(append([]string{"endpoints", "health"}, common...), "--endpoint", ep.ID)...)
	require_Equal(t, code, 0)
	require_True(t, strings.HasPrefix(out, `{"endpoint_id":"`+ep.ID+`"`) && strings.Contains(out, `"7d":{`), "endpoints health printed %q", out)
	_, errOut, code = runCLI(t, append(append([]string{"endpoints", "health"}, common...), "--endpoint", "ep_nope")...)
	require_Equal(t, code, 1)
	require_True(t, strings.Contains(errOut, "endpoint_not_found"), "stderr %q", errOut)

	// Bad input: a clear message and exit 1 (or 2 for usage).
	_, errOut, code = runCLI(t, append(append([]string{"deliveries", "list"}, common...), "--endpoint", ep.ID, "--status", "lost")...)
	require_Equal(t, code, 1)
	require_True(t, strings.Contains(errOut, "invalid_status"), "stderr %q", errOut)
	_, errOut, code = runCLI(t, "deliveries", "list", "--server", "http://"+srv.addr, "--tenant", "acme", "--endpoint", ep.ID)
	require_Equal(t, code, 1)
	require_True(t, strings.Contains(errOut, "no token"), "stderr %q", errOut)
	_, errOut, code = runCLI(t, append(append([]string{"deliveries", "list"}, common[:4]...), "--tenant", "acme", "--endpoint", ep.ID, "--token", "wrong")...)
	require_Equal(t, code, 1)
	require_True(t, strings.Contains(errOut, "invalid_token"), "stderr %q", errOut)
	_, errOut, code = runCLI(t, "deliveries", "remove")
	require_Equal(t, code, 1)
	require_True(t, strings.Contains(errOut, "usage: hookline deliveries"), "stderr %q", errOut)
	_, errOut, code = runCLI(t, append(append([]string{"deliveries", "list"}, common...), "--endpoint", ep.ID, "--format", "xml")...)
	require_Equal(t, code, 1)
	require_True(t, strings.Contains(errOut, "--format"), "stderr %q", errOut)
}
