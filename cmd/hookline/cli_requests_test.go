package main

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// TestSourceRequestsCLI: a source's request log through `hookline sources
// requests|request|replay-request` against a real server: the list follows
// cursors and stops at --limit, one request reads whole, a replay is logged
// as the replay of its request, and the bad inputs a user types.
func TestSourceRequestsCLI(t *testing.T) {
	srv := startServer(t, t.TempDir(), "--admin-token", testAdminToken)
	acme := func(args ...string) []string {
		return append(args, "--server", srv.addr, "--token", testAdminToken, "--tenant", "acme")
	}
	cliOK(t, nil, "tenants", "create", "--id", "acme", "--server", srv.addr, "--token", testAdminToken)
	var src struct{ ID, URL string }
	cliOK(t, &src, acme("sources", "create", "--provider", "none", "--mapping", `{"type":"form.{$.t}","id":"$.n"}`)...)

	// More requests than the list's default page (50), so that the list
	// follows a cursor.
	const sent = 52
	for i := range sent {
		body := `{"t":"sent","n":"` + strconv.Itoa(i) + `"}`
		resp, err := http.Post("http://"+srv.addr+src.URL, "application/json", strings.NewReader(body))
		require_NoError(t, err)
		resp.Body.Close()
		require_Equal(t, resp.StatusCode, http.StatusOK)
	}
	type logged struct {
		ID, Outcome string
		EventID     string `json:"event_id"`
		ReplayOf    string `json:"replay_of"`
		Body        string
		Status      int
	}
	var page struct{ Data []logged }
	cliOK(t, &page, acme("sources", "requests", "--id", src.ID, "--limit", "0")...)
	require_Equal(t, len(page.Data), sent)
	seen := map[string]bool{}
	for _, r := range page.Data {
		require_True(t, strings.HasPrefix(r.ID, "req_") && r.Outcome == "accepted" && strings.HasPrefix(r.EventID, "evt_"), "request %+v", r)
		seen[r.ID] = true
	}
	require_Equal(t, len(seen), sent)                               // no page read twice
	cliOK(t, &page, acme("sources", "requests", "--id", src.ID)...) // --limit 100
	require_Equal(t, len(page.Data), sent)
	cliOK(t, &page, acme("sources", "requests", "--id", src.ID, "--limit", "3")...)
	require_Equal(t, len(page.Data), 3)
	newest := page.Data[0]
	out := cliOK(t, nil, acme("sources", "requests", "--id", src.ID, "--limit", "2", "-o", "table")...)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require_True(t, len(lines) == 3 && strings.HasPrefix(lines[0], "ID ") && strings.Contains(lines[0], "OUTCOME") &&
		strings.Contains(lines[0], "EVENT_ID") && strings.HasPrefix(lines[1], newest.ID+"  "), "table: %q", out)

	// One request, whole.
	var one logged
	cliOK(t, &one, acme("sources", "request", "--id", src.ID, "--request", newest.ID)...)
	require_True(t, one.ID == newest.ID && one.EventID == newest.EventID && strings.Contains(one.Body, `"n":"51"`), "request: %+v", one)

	// A replay goes through the mapping again and is logged as a replay.
	var replay struct {
		RequestID string `json:"request_id"`
		Outcome   string
		EventID   string `json:"event_id"`
	}
	cliOK(t, &replay, acme("sources", "replay-request", "--id", src.ID, "--request", newest.ID)...)
	require_True(t, strings.HasPrefix(replay.RequestID, "req_") && replay.RequestID != newest.ID && replay.Outcome != "", "replay: %+v", replay)
	cliOK(t, &one, acme("sources", "request", "--id", src.ID, "--request", replay.RequestID)...)
	require_Equal(t, one.ReplayOf, newest.ID)
	cliOK(t, &page, acme("sources", "requests", "--id", src.ID, "--limit", "0")...)
	require_Equal(t, len(page.Data), sent+1)

	// A request the source refused is logged; its replay is refused again
	// and exits 1, printing the outcome.
	resp, err := http.Post("http://"+srv.addr+src.URL, "application/json", strings.NewReader("not json"))
	require_NoError(t, err)
	resp.Body.Close()
	require_Equal(t, resp.StatusCode, http.StatusUnprocessableEntity)
	var last struct{ Data []logged } // fresh: decoding into page would keep its rows' fields
	cliOK(t, &last, acme("sources", "requests", "--id", src.ID, "--limit", "1")...)
	refused := last.Data[0]
	require_True(t, refused.Outcome == "rejected" && refused.Status == 422 && refused.EventID == "", "refused: %+v", refused)
	stdout, stderr, code := runCLI(t, acme("sources", "replay-request", "--id", src.ID, "--request", refused.ID)...)
	require_Equal(t, code, 1)
	require_True(t, strings.Contains(stdout, `"outcome":"rejected"`) && strings.Contains(stderr, "replay rejected: invalid_json"), "stdout %q stderr %q", stdout, stderr)
	cliOK(t, &page, acme("sources", "requests", "--id", src.ID, "--limit", "0")...)
	require_Equal(t, len(page.Data), sent+3)

	// Bad input: a clear message, exit 1.
	cliFails(t, "request_not_found", acme("sources", "request", "--id", src.ID, "--request", "req_01JDZZZZZZZZZZZZZZZZZZZZZZ")...)
	cliFails(t, "hint: list the source's logged requests", acme("sources", "request", "--id", src.ID, "--request", "nope")...)
	cliFails(t, "request_not_found", acme("sources", "replay-request", "--id", src.ID, "--request", "req_01JDZZZZZZZZZZZZZZZZZZZZZZ")...)
	cliFails(t, "source_not_found", acme("sources", "requests", "--id", "src_01JDZZZZZZZZZZZZZZZZZZZZZZ")...)
	cliFails(t, "--id is required", acme("sources", "requests")...)
	cliFails(t, "--request is required", acme("sources", "request", "--id", src.ID)...)
	cliFails(t, "--request is required", acme("sources", "replay-request", "--id", src.ID)...)
	cliFails(t, "--limit -1: give 0 (all) or more", acme("sources", "requests", "--id", src.ID, "--limit", "-1")...)
	cliFails(t, "flag provided but not defined: -limit", acme("sources", "request", "--id", src.ID, "--request", newest.ID, "--limit", "2")...)
	cliFails(t, "--tenant is required", "sources", "requests", "--id", src.ID, "--server", srv.addr, "--token", testAdminToken)
	// Nothing was replayed by the failures.
	cliOK(t, &page, acme("sources", "requests", "--id", src.ID, "--limit", "0")...)
	require_Equal(t, len(page.Data), sent+3)
}
