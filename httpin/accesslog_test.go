package httpin_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"hookline/httpin"
)

// logBuffer is a logger's output, safe for the server's goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// records are the JSON log lines whose msg is msg.
func (b *logBuffer) records(tb testing.TB, msg string) []map[string]any {
	tb.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(b.buf.Bytes()))
	for sc.Scan() {
		var rec map[string]any
		require_NoError(tb, json.Unmarshal(sc.Bytes(), &rec))
		if rec["msg"] == msg {
			out = append(out, rec)
		}
	}
	return out
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestAccessLog: with AccessLog each API request is logged once it is
// answered, with its method, route, status, tenant and actor, and neither
// its body, its query nor its token; probes and scrapes are not logged.
// Without it no request is logged.
func TestAccessLog(t *testing.T) {
	var out logBuffer
	s := newTestServerHTTP(t, func(o *httpin.Options) {
		o.AccessLog = true
		o.Logger = slog.New(slog.NewJSONHandler(&out, nil))
	})
	s.mustCreateTenant(t, "acme")
	const secret = "body-secret-0123456789"
	status, _, _ := s.do(t, "POST", "/v1/tenants/acme/endpoints", testToken, "application/json",
		`{"url":"http://127.0.0.1:1/hook","description":"`+secret+`"}`)
	require_Equal(t, status, 201)
	status, _, _ = s.do(t, "GET", "/v1/tenants/acme?q="+secret, "wrong-token-"+secret, "", "")
	require_Equal(t, status, 401)
	for _, path := range []string{"/healthz", "/readyz", "/metrics"} {
		status, _, _ = s.doRaw(t, "GET", path, "", "", "")
		require_Equal(t, status, 200)
	}

	recs := out.records(t, "request")
	require_Equal(t, len(recs), 3)
	want := []struct {
		method, route, tenant, actor string
		status                       float64
	}{
		{"POST", "/v1/tenants", "", "admin", 201},
		{"POST", "/v1/tenants/{tenant}/endpoints", "acme", "admin", 201},
		{"GET", "/v1/tenants/{tenant}", "acme", "", 401},
	}
	for i, w := range want {
		r := recs[i]
		require_True(t, r["method"] == w.method && r["route"] == w.route && r["tenant"] == w.tenant &&
			r["actor"] == w.actor && r["status"] == w.status, "access log line %d: %v; want %+v", i, r, w)
		_, ok := r["latency_ms"].(float64)
		require_True(t, ok, "access log line %d has no latency: %v", i, r)
	}
	require_True(t, !strings.Contains(out.String(), secret), "the log holds a body, query or token: %s", out.String())

	var quiet logBuffer
	s = newTestServerHTTP(t, func(o *httpin.Options) {
		o.Logger = slog.New(slog.NewJSONHandler(&quiet, nil))
	})
	s.mustCreateTenant(t, "acme")
	require_Equal(t, len(quiet.records(t, "request")), 0)
}
