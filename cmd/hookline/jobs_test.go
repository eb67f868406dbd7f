package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestReplayCLI: a receiver rejects every delivery until its secret is
// set; `hookline replay --wait` then sends the dead letters again and
// each arrives once more; `hookline replay --event` and `jobs` work on
// the same server, and bad flags exit non-zero with the server's code.
func TestReplayCLI(t *testing.T) {
	const token = testAdminToken
	srv := startServer(t, t.TempDir(), "--admin-token", token)
	a := newAPI(srv.addr, token)
	a.mustDo(t, "POST", "/v1/tenants", map[string]any{"id": "acme"}, 201, nil)
	rc := newReceiver(t)
	ep := a.createEndpoint(t, "acme", rc.srv.URL+"/hook", nil)
	var ids []string
	for range 5 {
		var res struct{ ID string }
		a.mustDo(t, "POST", "/v1/tenants/acme/events", map[string]any{"type": "invoice.paid", "payload": map[string]int{"n": 1}}, 202, &res)
		ids = append(ids, res.ID)
	}
	dead := func() int {
		var page struct{ Data []json.RawMessage }
		a.mustDo(t, "GET", "/v1/tenants/acme/endpoints/"+ep.ID+"/deliveries?status=dead", nil, 200, &page)
		return len(page.Data)
	}
	waitFor(t, 10*time.Second, "five dead letters", func() bool { return dead() == 5 })
	rc.setSecret(ep.Secret)
	common := []string{"--server", "http://" + srv.addr, "--token", token, "--tenant", "acme", "--endpoint", ep.ID}

	out, errOut, code := runCLI(t, append([]string{"replay", "--wait", "--rate", "50"}, common...)...)
	require_Equal(t, code, 0)
	var j struct {
		ID       string
		State    string
		Progress struct{ Done int }
	}
	require_NoError(t, json.Unmarshal([]byte(out), &j))
	require_Equal(t, j.State, "completed")
	require_Equal(t, j.Progress.Done, 5)
	require_True(t, strings.Contains(errOut, j.ID+" completed"), "progress lines: %q", errOut)
	waitFor(t, 10*time.Second, "five replays", func() bool { return rc.unique() == 5 })
	require_Equal(t, dead(), 0)

	out, _, code = runCLI(t, append([]string{"replay", "--event", ids[0]}, common...)...)
	require_Equal(t, code, 0)
	// Due at once: the lane may already have it in flight, or (a loaded
	// machine) have made it before the answer was put together.
	require_True(t, strings.Contains(out, `"status":"pending"`) || strings.Contains(out, `"status":"in_flight"`) ||
		strings.Contains(out, `"status":"succeeded","attempts":3`), "single replay: %s", out)
	waitFor(t, 10*time.Second, "the forced replay", func() bool {
		rc.mu.Lock()
		defer rc.mu.Unlock()
		return rc.got[ids[0]] == 2
	})

	out, _, code = runCLI(t, "jobs", "list", "--server", "http://"+srv.addr, "--token", token, "--tenant", "acme")
	require_Equal(t, code, 0)
	require_True(t, strings.Contains(out, j.ID), "jobs list: %s", out)
	out, _, code = runCLI(t, "jobs", "stop", "--server", "http://"+srv.addr, "--token", token, "--tenant", "acme", "--job", j.ID)
	require_Equal(t, code, 0)
	require_True(t, strings.Contains(out, `"state":"completed"`), "stopping a finished job: %s", out)

	_, errOut, code = runCLI(t, append([]string{"backfill"}, common...)...)
	require_Equal(t, code, 1)
	require_True(t, strings.Contains(errOut, "missing_since"), "stderr: %q", errOut)
	_, errOut, code = runCLI(t, append([]string{"replay", "--status", "lost"}, common...)...)
	require_Equal(t, code, 1)
	require_True(t, strings.Contains(errOut, "invalid_status"), "stderr: %q", errOut)
	_, errOut, code = runCLI(t, "jobs", "get", "--server", "http://"+srv.addr, "--token", token, "--tenant", "acme")
	require_Equal(t, code, 1)
	require_True(t, strings.Contains(errOut, "--job is required"), "stderr: %q", errOut)
}
