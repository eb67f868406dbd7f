package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// TestEndpointPreviewCLI: `hookline endpoints preview` renders an
// endpoint's request for a stored event or one not published, with a
// draft of changes or for an endpoint not yet created, sending and saving
// nothing; and the bad inputs a user types.
func TestEndpointPreviewCLI(t *testing.T) {
	var hits atomic.Int64
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer recv.Close()
	srv := startServer(t, t.TempDir(), "--admin-token", testAdminToken)
	acme := func(args ...string) []string {
		return append(args, "--server", srv.addr, "--token", testAdminToken, "--tenant", "acme")
	}
	cliOK(t, nil, "tenants", "create", "--id", "acme", "--server", srv.addr, "--token", testAdminToken)
	var ep struct{ ID string }
	cliOK(t, &ep, acme("endpoints", "create", "--url", recv.URL+"/hook", "--event-types", "invoice.*", "--paused")...)
	var ev struct{ ID string }
	cliOK(t, &ev, acme("publish", "--type", "invoice.paid", "--payload", `{"amount":7}`)...)

	type preview struct {
		Method, URL, Body string
		Headers           map[string]string
	}
	var p preview
	cliOK(t, &p, acme("endpoints", "preview", "--id", ep.ID, "--event-id", ev.ID)...)
	require_True(t, p.Method == "POST" && p.URL == recv.URL+"/hook" && strings.Contains(p.Body, `"amount":7`) && p.Headers["Webhook-Id"] == ev.ID, "preview: %+v", p)
	// A draft of changes from flags and --data-json, not saved.
	cliOK(t, &p, acme("endpoints", "preview", "--id", ep.ID, "--type", "invoice.sent", "--payload", `{"n":1}`,
		"--data-json", `{"method":"PUT"}`, "--url", recv.URL+"/draft")...)
	require_True(t, p.Method == "PUT" && p.URL == recv.URL+"/draft" && strings.Contains(p.Body, `"n":1`), "draft of changes: %+v", p)
	var got struct{ URL, Method string }
	cliOK(t, &got, acme("endpoints", "get", "--id", ep.ID)...)
	require_True(t, got.URL == recv.URL+"/hook" && got.Method != "PUT", "the draft was saved: %+v", got)
	// An endpoint not yet created: nothing is created.
	cliOK(t, &p, acme("endpoints", "preview", "--url", recv.URL+"/new", "--headers", `{"X-Team":"billing"}`, "--type", "user.created")...)
	require_True(t, p.Method == "POST" && p.URL == recv.URL+"/new" && p.Headers["X-Team"] == "billing" && strings.Contains(p.Body, "user.created"), "draft: %+v", p)
	out := cliOK(t, nil, acme("endpoints", "preview", "--data-json", `{"url":"`+recv.URL+`/yaml"}`, "--event-id", ev.ID, "-o", "yaml")...)
	require_True(t, strings.Contains(out, "url: "+recv.URL+"/yaml\n"), "yaml: %s", out)
	var page struct{ Data []map[string]any }
	cliOK(t, &page, acme("endpoints", "list")...)
	require_Equal(t, len(page.Data), 1)

	// Bad input: a clear message, exit 1, nothing sent.
	cliFails(t, "give the event to render", acme("endpoints", "preview", "--id", ep.ID)...)
	cliFails(t, "not both", acme("endpoints", "preview", "--id", ep.ID, "--event-id", ev.ID, "--type", "a.b")...)
	cliFails(t, "--type is required with --payload", acme("endpoints", "preview", "--id", ep.ID, "--payload", "{}")...)
	cliFails(t, "--payload is not JSON", acme("endpoints", "preview", "--id", ep.ID, "--type", "a.b", "--payload", "{")...)
	cliFails(t, "give --id ep_... to preview an endpoint, or a draft's fields", acme("endpoints", "preview", "--type", "a.b")...)
	cliFails(t, "event_not_found", acme("endpoints", "preview", "--id", ep.ID, "--event-id", "evt_01JDZZZZZZZZZZZZZZZZZZZZZZ")...)
	cliFails(t, "endpoint_not_found", acme("endpoints", "preview", "--id", "ep_01JDZZZZZZZZZZZZZZZZZZZZZZ", "--type", "a.b")...)
	cliFails(t, "invalid_url", acme("endpoints", "preview", "--url", "ftp://x", "--type", "a.b")...)
	cliFails(t, "immutable_field", acme("endpoints", "preview", "--id", ep.ID, "--type", "a.b", "--secret", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")...)
	cliFails(t, "must be one JSON object", acme("endpoints", "preview", "--id", ep.ID, "--type", "a.b", "--data-json", "[]")...)
	require_Equal(t, hits.Load(), int64(0))
}

// TestEndpointTestCLI: `hookline endpoints test` prints the attempt's
// result and exits 0 only when the receiver took it.
func TestEndpointTestCLI(t *testing.T) {
	var hits atomic.Int64
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if strings.HasSuffix(r.URL.Path, "/fail") {
			http.Error(w, "nope", http.StatusInternalServerError)
		}
	}))
	defer recv.Close()
	srv := startServer(t, t.TempDir(), "--admin-token", testAdminToken)
	acme := func(args ...string) []string {
		return append(args, "--server", srv.addr, "--token", testAdminToken, "--tenant", "acme")
	}
	cliOK(t, nil, "tenants", "create", "--id", "acme", "--server", srv.addr, "--token", testAdminToken)
	var ok, failing, closed struct{ ID string }
	cliOK(t, &ok, acme("endpoints", "create", "--url", recv.URL+"/ok")...)
	cliOK(t, &failing, acme("endpoints", "create", "--url", recv.URL+"/fail")...)
	// Nothing listens on port 9 of 127.0.0.1 (discard is not served).
	cliOK(t, &closed, acme("endpoints", "create", "--url", "http://127.0.0.1:9/hook")...)

	var res struct {
		Success bool
		Status  int
	}
	cliOK(t, &res, acme("endpoints", "test", "--id", ok.ID)...)
	require_True(t, res.Success && res.Status == 200, "test: %+v", res)
	require_Equal(t, hits.Load(), int64(1))

	stdout, stderr, code := runCLI(t, acme("endpoints", "test", "--id", failing.ID)...)
	require_Equal(t, code, 1)
	require_True(t, strings.Contains(stdout, `"success":false`) && strings.Contains(stdout, `"status":500`), "stdout %q", stdout)
	require_True(t, strings.Contains(stderr, "test delivery failed: the endpoint answered 500"), "stderr %q", stderr)
	require_Equal(t, hits.Load(), int64(2))

	stdout, stderr, code = runCLI(t, acme("endpoints", "test", "--id", closed.ID)...)
	require_Equal(t, code, 1)
	require_True(t, strings.Contains(stdout, `"success":false`) && strings.Contains(stderr, "test delivery failed: no answer from the endpoint"), "stdout %q stderr %q", stdout, stderr)
	cliFails(t, "endpoint_not_found", acme("endpoints", "test", "--id", "ep_01JDZZZZZZZZZZZZZZZZZZZZZZ")...)
}
