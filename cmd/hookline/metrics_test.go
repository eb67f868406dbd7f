package main

import (
	"bufio"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// scrapeMetrics returns the server's /metrics page.
func scrapeMetrics(t testing.TB, addr string) string {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	require_NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require_NoError(t, err)
	require_Equal(t, resp.StatusCode, 200)
	return string(b)
}

// metricValue returns the value of the series named exactly series (labels
// included), or -1 when it is absent.
func metricValue(page, series string) float64 {
	sc := bufio.NewScanner(strings.NewReader(page))
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), series+" "); ok {
			if v, err := strconv.ParseFloat(rest, 64); err == nil {
				return v
			}
		}
	}
	return -1
}

var seriesLine = regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? \S+$`)

// startWithEndpoint starts the server with tenant acme and an endpoint for
// every event type on a receiver that verifies its signatures.
func startWithEndpoint(t *testing.T) (*proc, *api, *receiver) {
	srv := startServer(t, t.TempDir(), "--admin-token", testAdminToken)
	a := newAPI(srv.addr, testAdminToken)
	a.mustDo(t, "POST", "/v1/tenants", map[string]any{"id": "acme", "name": "Acme"}, 201, nil)
	rc := newReceiver(t)
	ep := a.createEndpoint(t, "acme", rc.srv.URL+"/hook", []string{"*"})
	rc.setSecret(ep.Secret)
	return srv, a, rc
}

// TestMetrics publishes one event to a real endpoint through the real binary
// and reads /metrics: the event is counted by source, its delivery by outcome
// and latency, the queue drains back to 0, group commits were timed, and
// every hookline_ metric on the page is documented in docs/metrics.md.
func TestMetrics(t *testing.T) {
	srv, a, rc := startWithEndpoint(t)
	a.mustDo(t, "POST", "/v1/tenants/acme/events", map[string]any{"type": "invoice.paid", "payload": map[string]any{"n": 1}}, 202, nil)
	waitFor(t, 10*time.Second, "the delivery", func() bool { return rc.unique() == 1 })

	success := `hookline_delivery_attempts_total{outcome="success",status_class="2xx"}`
	var page string
	waitFor(t, 10*time.Second, "the outcome to be counted", func() bool {
		page = scrapeMetrics(t, srv.addr)
		return metricValue(page, success) == 1 && metricValue(page, "hookline_queue_depth_deliveries") == 0
	})
	f := func(series string, want float64) {
		t.Helper()
		if got := metricValue(page, series); got != want {
			t.Errorf("%s = %v; want %v", series, got, want)
		}
	}
	f(`hookline_ingest_events_total{source="api"}`, 1)
	f(`hookline_ingest_deliveries_queued_total`, 1)
	f(success, 1)
	f(`hookline_delivery_attempts_total{outcome="final",status_class="4xx"}`, 0)
	f(`hookline_delivery_latency_seconds_count`, 1)
	f(`hookline_delivery_attempt_duration_seconds_count`, 1)
	f(`hookline_queue_depth_deliveries`, 0)
	f(`hookline_retry_backlog_deliveries`, 0)
	f(`hookline_circuit_open_endpoints`, 0)
	f(`hookline_endpoints`, 1)
	f(`hookline_endpoints_disabled`, 0)
	f(`hookline_http_request_duration_seconds_count{route="publish"}`, 1)
	f(`hookline_http_requests_total{route="publish",status_class="2xx"}`, 1)
	if n := metricValue(page, "hookline_wal_fsync_duration_seconds_count"); n < 1 {
		t.Errorf("hookline_wal_fsync_duration_seconds_count = %v; want at least 1", n)
	}
	if n := metricValue(page, "hookline_wal_group_commit_events_sum"); n != 1 {
		t.Errorf("hookline_wal_group_commit_events_sum = %v; want 1 (one event published)", n)
	}
	if n := metricValue(page, "hookline_wal_disk_bytes"); n <= 0 {
		t.Errorf("hookline_wal_disk_bytes = %v; want > 0", n)
	}
	// The publish had no idempotency key: the filter holds none, and has
	// no segment yet.
	f(`hookline_wal_idempotency_filter_keys`, 0)
	f(`hookline_wal_idempotency_filter_bytes`, 0)
	for _, series := range []string{"go_goroutines", "process_resident_memory_bytes"} {
		if metricValue(page, series) < 0 {
			t.Errorf("%s is missing", series)
		}
	}
	if strings.Contains(page, "hookline_queue_endpoint_depth_deliveries{") {
		t.Errorf("an empty queue shows a per-endpoint depth")
	}

	doc, err := os.ReadFile("../../docs/metrics.md")
	require_NoError(t, err)
	checked := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(page), "\n") {
		if strings.HasPrefix(line, "#") {
			continue
		}
		m := seriesLine.FindStringSubmatch(line)
		if m == nil {
			t.Errorf("not a Prometheus text line: %q", line)
			continue
		}
		name := m[1]
		if !strings.HasPrefix(name, "hookline_") {
			continue
		}
		family := name
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			if base, ok := strings.CutSuffix(name, suffix); ok && strings.Contains(page, base+"_count") {
				family = base
			}
		}
		if checked[family] {
			continue
		}
		checked[family] = true
		if !strings.Contains(string(doc), "`"+family+"`") {
			t.Errorf("%s is not documented in docs/metrics.md", family)
		}
	}
}

// TestMetricsListenAndToken: with --metrics-listen and metrics_token, the
// binary serves /metrics on its own listener (named in the start-up line)
// and wants the metrics token or the admin token for it on both
// listeners; health stays open; the metrics listener serves nothing else.
func TestMetricsListenAndToken(t *testing.T) {
	const metricsToken = "metrics-token-0123456789"
	dir := t.TempDir()
	cfg := filepath.Join(dir, "hookline.yaml")
	require_NoError(t, os.WriteFile(cfg, []byte("metrics_token: "+metricsToken+"\n"), 0o600))
	srv := startServer(t, filepath.Join(dir, "data"), "--admin-token", testAdminToken, "--config", cfg, "--metrics-listen", "127.0.0.1:0")
	out := srv.output.String()
	i := strings.Index(out, "metrics=http://")
	require_True(t, i >= 0, "no metrics listener in the start-up line:\n%s", out)
	metricsAddr := strings.Fields(out[i+len("metrics=http://"):])[0]
	require_True(t, metricsAddr != srv.addr, "metrics listener %s is the main one", metricsAddr)
	get := func(addr, path, token string) int {
		t.Helper()
		req, err := http.NewRequest("GET", "http://"+addr+path, nil)
		require_NoError(t, err)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		require_NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require_NoError(t, err)
		if resp.StatusCode == 200 && path == "/metrics" {
			require_True(t, strings.Contains(string(b), "hookline_http_requests_total"), "no metrics from %s: %s", addr, b)
		}
		return resp.StatusCode
	}
	for _, addr := range []string{srv.addr, metricsAddr} {
		require_Equal(t, get(addr, "/metrics", ""), 401)
		require_Equal(t, get(addr, "/metrics", "wrong"), 401)
		require_Equal(t, get(addr, "/metrics", metricsToken), 200)
		require_Equal(t, get(addr, "/metrics", testAdminToken), 200)
		require_Equal(t, get(addr, "/healthz", ""), 200)
		require_Equal(t, get(addr, "/readyz", ""), 200)
	}
	require_Equal(t, get(metricsAddr, "/v1/tenants", testAdminToken), 404)
	require_Equal(t, get(srv.addr, "/v1/tenants", metricsToken), 401)
	require_Equal(t, get(srv.addr, "/v1/tenants", testAdminToken), 200)
	srv.stop()
}
