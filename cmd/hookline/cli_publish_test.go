package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestPublishCLI: one event from flags, a batch from a file and from
// stdin, each arriving in the event feed; stats counts them; docs events
// writes the catalogue; bad input is refused before anything is sent.
func TestPublishCLI(t *testing.T) {
	srv := startServer(t, t.TempDir(), "--admin-token", testAdminToken)
	a := newAPI(srv.addr, testAdminToken)
	a.mustDo(t, "POST", "/v1/tenants", map[string]any{"id": "acme"}, 201, nil)
	a.mustDo(t, "POST", "/v1/tenants/acme/endpoints", map[string]any{"url": "http://127.0.0.1:9/hook", "paused": true}, 201, nil)
	acme := []string{"--server", "http://" + srv.addr, "--token", testAdminToken, "--tenant", "acme"}
	with := func(args ...string) []string { return append(args, acme...) }

	var one struct{ ID string }
	cliOK(t, &one, with("publish", "--type", "invoice.paid", "--payload", `{"amount":7}`, "--idempotency-key", "k1")...)
	require_True(t, strings.HasPrefix(one.ID, "evt_"), "publish: %+v", one)
	var again struct {
		ID        string
		Duplicate bool
	}
	cliOK(t, &again, with("publish", "--type", "invoice.paid", "--payload", `{"amount":7}`, "--idempotency-key", "k1")...)
	require_True(t, again.ID == one.ID && again.Duplicate, "the same key again: %+v", again)

	file := filepath.Join(t.TempDir(), "events.ndjson")
	require_NoError(t, os.WriteFile(file, []byte("{\"type\":\"user.created\",\"payload\":{\"n\":1}}\n{\"type\":\"user.created\",\"payload\":{\"n\":2}}\n"), 0o600))
	var batch struct{ IDs []string }
	cliOK(t, &batch, with("publish", "--file", file)...)
	require_Equal(t, len(batch.IDs), 2)
	stdout, stderr, code := cliRun{stdin: "{\"type\":\"user.deleted\",\"payload\":{}}\n"}.run(t, with("publish")...)
	require_True(t, code == 0 && strings.Contains(stdout, `"ids":["evt_`), "stdin batch: exit %d: %s%s", code, stdout, stderr)

	var feed struct {
		Data []struct{ ID, Type string }
	}
	a.mustDo(t, "GET", "/v1/tenants/acme/events?limit=100", nil, 200, &feed)
	types := map[string]int{}
	for _, e := range feed.Data {
		types[e.Type]++
	}
	require_Equal(t, types["invoice.paid"], 1)
	require_Equal(t, types["user.created"], 2)
	require_Equal(t, types["user.deleted"], 1)

	var stats struct {
		Window string
		Total  struct{ Published int }
	}
	cliOK(t, &stats, with("stats", "--window", "1h")...)
	require_Equal(t, stats.Window, "1h")
	require_Equal(t, stats.Total.Published, 4)
	out := cliOK(t, nil, with("stats", "-o", "table")...)
	require_True(t, strings.Contains(out, "published ") && strings.Contains(out, "ENDPOINT_ID"), "stats table: %s", out)
	cliFails(t, "invalid_window", with("stats", "--window", "3d")...)

	// Bad input, refused before anything is sent.
	cliFails(t, "--payload is not JSON", with("publish", "--type", "a.b", "--payload", "{nope")...)
	cliFails(t, "--type is required", with("publish", "--payload", "{}")...)
	cliFails(t, "not both", with("publish", "--type", "a.b", "--file", file)...)
	cliFails(t, "nothing to publish", with("publish")...)
	bad := filepath.Join(t.TempDir(), "bad.ndjson")
	require_NoError(t, os.WriteFile(bad, []byte("{\"type\":\"a.b\",\"payload\":{}}\nnot json\n"), 0o600))
	_, stderr, code = runCLI(t, with("publish", "--file", bad)...)
	require_True(t, code == 1 && strings.Contains(stderr, "line 2"), "a bad line: exit %d: %s", code, stderr)
	a.mustDo(t, "GET", "/v1/tenants/acme/events?limit=100", nil, 200, &feed)
	require_Equal(t, len(feed.Data), 4)

	// docs events: the catalogue as Markdown, an example from each schema.
	a.mustDo(t, "POST", "/v1/tenants/acme/event-types", map[string]any{"type": "invoice.paid", "description": "An invoice was paid.",
		"schema": map[string]any{"type": "object", "properties": map[string]any{
			"amount":   map[string]any{"type": "integer", "minimum": 1},
			"currency": map[string]any{"type": "string", "enum": []string{"eur", "usd"}},
			"paid_at":  map[string]any{"type": "string", "format": "date-time"},
		}}}, 201, nil)
	a.mustDo(t, "POST", "/v1/tenants/acme/event-types", map[string]any{"type": "user.created", "description": "A user signed up."}, 201, nil)
	md := filepath.Join(t.TempDir(), "events.md")
	cliOK(t, nil, with("docs", "events", "--out", md)...)
	b, err := os.ReadFile(md)
	require_NoError(t, err)
	doc := string(b)
	for _, want := range []string{"# Events of acme\n", "- [`invoice.paid`](#invoicepaid)", "## invoice.paid\n\nAn invoice was paid.\n",
		"### Schema\n\n```json\n{\n", "### Example\n\n```json\n{\n  \"amount\": 1,\n  \"currency\": \"eur\",\n  \"paid_at\": \"2026-01-01T00:00:00Z\"\n}\n```",
		"## user.created\n\nA user signed up.\n\nNo payload schema is registered.\n"} {
		require_True(t, strings.Contains(doc, want), "docs events lacks %q:\n%s", want, doc)
	}
	cliFails(t, "usage: hookline docs events", with("docs", "endpoints")...)
}

// TestListenCLI: `hookline listen` creates an endpoint delivering to its
// own receiver, prints each delivery of the types asked for, forwards it
// with its headers and body, passes the local answer back to the server,
// and deletes the endpoint on SIGINT.
func TestListenCLI(t *testing.T) {
	srv := startServer(t, t.TempDir(), "--admin-token", testAdminToken)
	a := newAPI(srv.addr, testAdminToken)
	a.mustDo(t, "POST", "/v1/tenants", map[string]any{"id": "acme"}, 201, nil)
	rc := newReceiver(t)
	l := startProc(t, []string{"listen", "--server", srv.addr, "--token", testAdminToken, "--tenant", "acme",
		"--forward-to", rc.srv.URL + "/hook", "--events", "invoice.*"}, nil)
	waitFor(t, 10*time.Second, "the listening line", func() bool { return strings.Contains(l.output.String(), "listening: endpoint ep_") })
	epID := between(l.output.String(), "listening: endpoint ", " ")
	secret := between(l.output.String(), "signing secret ", ")")
	type printed struct {
		ID        string `json:"webhook_id"`
		Body      struct{ Type string }
		Forwarded int `json:"forwarded_status"`
	}
	next := func() printed {
		t.Helper()
		var p printed
		select {
		case s := <-l.lines:
			require_NoError(t, json.Unmarshal([]byte(s), &p))
		case <-time.After(eventually):
			t.Fatalf("no delivery printed:\n%s", l.output.String())
		}
		return p
	}

	// The receiver has no secret yet: it answers 401, and so does listen,
	// so the server records the final failure (a 4xx is not retried).
	var early, skipped, sent struct{ ID string }
	a.mustDo(t, "POST", "/v1/tenants/acme/events", map[string]any{"type": "invoice.created", "payload": map[string]int{"n": 1}}, 202, &early)
	p := next()
	require_Equal(t, p.ID, early.ID)
	require_Equal(t, p.Forwarded, 401)
	waitFor(t, 10*time.Second, "the 401 recorded as dead", func() bool {
		var d struct{ Status string }
		a.mustDo(t, "GET", "/v1/tenants/acme/endpoints/"+epID+"/deliveries/"+early.ID, nil, 200, &d)
		return d.Status == "dead"
	})
	rc.setSecret(secret)
	a.mustDo(t, "POST", "/v1/tenants/acme/events", map[string]any{"type": "user.created", "payload": map[string]int{"n": 0}}, 202, &skipped)
	a.mustDo(t, "POST", "/v1/tenants/acme/events", map[string]any{"type": "invoice.paid", "payload": map[string]int{"amount": 7}}, 202, &sent)
	p = next()
	require_Equal(t, p.ID, sent.ID)
	require_Equal(t, p.Body.Type, "invoice.paid")
	require_Equal(t, p.Forwarded, 200)
	// The receiver verified the signature over the forwarded headers and body.
	rc.mu.Lock()
	require_Equal(t, rc.got[sent.ID], 1)
	require_Equal(t, rc.got[early.ID], 0)
	require_Equal(t, rc.got[skipped.ID], 0)
	rc.mu.Unlock()

	require_NoError(t, l.cmd.Process.Signal(syscall.SIGINT))
	select {
	case <-l.exited:
	case <-time.After(eventually):
		t.Fatalf("listen did not exit on SIGINT:\n%s", l.output.String())
	}
	require_True(t, l.err == nil, "listen exited with %v:\n%s", l.err, l.output.String())
	require_True(t, strings.Contains(l.output.String(), "deleted endpoint "+epID), "output:\n%s", l.output.String())
	var page struct{ Data []struct{ ID string } }
	a.mustDo(t, "GET", "/v1/tenants/acme/endpoints", nil, 200, &page)
	require_Equal(t, len(page.Data), 0)

	_, errOut, code := runCLI(t, "listen", "--server", srv.addr, "--token", testAdminToken, "--tenant", "acme", "--forward-to", "localhost:3000")
	require_Equal(t, code, 1)
	require_True(t, strings.Contains(errOut, "give an http:// or https:// URL"), "stderr %q", errOut)
}
