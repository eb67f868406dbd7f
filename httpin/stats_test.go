package httpin_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"hookline/engine"
)

// TestTenantStatsRoute: GET …/{tenant}/stats answers the tenant's numbers
// per endpoint, in total and as a series of buckets over 24h by default or
// the window named, to
// the admin and to a key with deliveries:read; a bad window is 400
// invalid_window, another tenant's key 403, an unknown tenant 404.
func TestTenantStatsRoute(t *testing.T) {
	s := newTestServer(t, func(o *engine.Options) { o.RetrySchedule = []time.Duration{50 * time.Millisecond} })
	rcv := newFirstFailsReceiver(t)
	s.mustCreateTenant(t, "a")
	s.mustCreateTenant(t, "b")
	id := str(t, s.mustCreateEndpoint(t, "a", `{"url":"`+rcv.URL+`/hook"}`), "id")
	idle := str(t, s.mustCreateEndpoint(t, "a", `{"url":"http://127.0.0.1:9/","paused":true}`), "id")
	for range 2 {
		status, _, _ := s.do(t, "POST", "/v1/tenants/a/events", testToken, "application/json", `{"type":"x","payload":{}}`)
		require_Equal(t, status, http.StatusAccepted)
	}

	var m map[string]any
	waitFor(t, 10*time.Second, "3 attempts in the stats", func() bool {
		var status int
		status, m, _ = s.do(t, "GET", "/v1/tenants/a/stats", testToken, "", "")
		require_Equal(t, status, http.StatusOK)
		return object(t, m, "total")["attempts"] == 3.0
	})
	require_Equal(t, keysOf(m), "endpoints,series,since,tenant,total,window")
	require_Equal(t, str(t, m, "tenant"), "a")
	require_Equal(t, str(t, m, "window"), "24h")
	_, err := time.Parse(time.RFC3339Nano, str(t, m, "since"))
	require_NoError(t, err)
	const fields = "attempts,dead,failed_attempts,first_attempt_succeeded,first_attempt_success_rate,latency_ms,published,retried,sent,top_failures"
	total := object(t, m, "total")
	require_Equal(t, keysOf(total), fields)
	// Two deliveries; the first one's first attempt got the 503.
	for k, want := range map[string]float64{"published": 2, "sent": 2, "first_attempt_succeeded": 1, "first_attempt_success_rate": 0.5, "retried": 1, "dead": 0, "attempts": 3, "failed_attempts": 1} {
		require_True(t, total[k] == want, "total %s = %v; want %v", k, total[k], want)
	}
	fails, ok := total["top_failures"].([]any)
	require_True(t, ok && len(fails) == 1, "top failures %v", total["top_failures"])
	f0 := fails[0].(map[string]any)
	require_True(t, f0["reason"] == "503" && f0["count"] == 1.0, "top failure %v", f0)
	lat := object(t, total, "latency_ms")
	p50, ok1 := lat["p50"].(float64)
	p95, ok2 := lat["p95"].(float64)
	require_True(t, ok1 && ok2 && p50 > 0 && p50 <= p95, "latency %v", lat)

	// The series: 24 hours from since, oldest first, adding up to the
	// total; the empty ones there too, with null latency.
	series, ok := m["series"].([]any)
	require_True(t, ok && len(series) == 24, "series %v", m["series"])
	since, _ := time.Parse(time.RFC3339Nano, str(t, m, "since"))
	sums := map[string]float64{}
	empty := 0
	for i, v := range series {
		b := v.(map[string]any)
		require_Equal(t, keysOf(b), "attempts,dead,failed_attempts,first_attempt_succeeded,latency_ms,published,retried,sent,start")
		start, err := time.Parse(time.RFC3339, str(t, b, "start"))
		require_NoError(t, err)
		require_True(t, start.Equal(since.Add(time.Duration(i)*time.Hour)), "bucket %d starts %v, since %v", i, start, since)
		for _, k := range []string{"published", "sent", "first_attempt_succeeded", "retried", "dead", "attempts", "failed_attempts"} {
			sums[k] += b[k].(float64)
		}
		if b["attempts"] == 0.0 {
			empty++
			require_True(t, object(t, b, "latency_ms")["p50"] == nil, "empty bucket %d latency %v", i, b["latency_ms"])
		}
	}
	require_True(t, empty >= 22, "%d empty buckets of 24", empty)
	for k, v := range sums {
		require_True(t, total[k] == v, "series %s adds up to %v; total %v", k, v, total[k])
	}

	eps, ok := m["endpoints"].([]any)
	require_True(t, ok && len(eps) == 2, "endpoints %v", m["endpoints"])
	byID := map[string]map[string]any{}
	for _, e := range eps {
		ep := e.(map[string]any)
		require_Equal(t, keysOf(ep), "attempts,dead,endpoint_id,failed_attempts,first_attempt_succeeded,first_attempt_success_rate,latency_ms,retried,sent,top_failures,url")
		byID[str(t, ep, "endpoint_id")] = ep
	}
	require_True(t, byID[id]["sent"] == 2.0 && byID[id]["url"] == rcv.URL+"/hook", "endpoint %v", byID[id])
	_, raw, _ := s.doRaw(t, "GET", "/v1/tenants/a/stats?window=7d", testToken, "", "")
	for _, want := range []string{`"window":"7d"`, `"endpoint_id":"` + idle + `","url":"http://127.0.0.1:9/","sent":0`, `"first_attempt_success_rate":null`, `"latency_ms":{"p50":null,"p95":null},"top_failures":[]`} {
		require_True(t, strings.Contains(raw, want), "7d stats %s lack %s", raw, want)
	}
	require_Equal(t, strings.Count(raw, `"start":`), 168)
	status, m, _ := s.do(t, "GET", "/v1/tenants/a/stats?window=1h", testToken, "", "")
	require_True(t, status == http.StatusOK && m["window"] == "1h" && object(t, m, "total")["sent"] == 2.0, "1h: %d %v", status, m)
	require_Equal(t, len(m["series"].([]any)), 6)

	for _, q := range []string{"?window=2h", "?window=", "?window", "?window=1H", "?window=24h%20", "?window=1d", "?window=" + strings.Repeat("7", 5000)} {
		msg := s.reject(t, "GET", "/v1/tenants/a/stats"+q, testToken, "", "", 400, "invalid_window")
		require_True(t, len(msg) < 200, "message of %d bytes", len(msg))
	}

	keyA, keyB := s.mustCreateKey(t, "a"), s.mustCreateKey(t, "b")
	status, m, _ = s.do(t, "GET", "/v1/tenants/a/stats?window=24h", keyA, "", "")
	require_True(t, status == http.StatusOK && object(t, m, "total")["sent"] == 2.0, "tenant key: %d %v", status, m)
	s.reject(t, "GET", "/v1/tenants/a/stats", keyB, "", "", 403, "forbidden")
	status, m, _ = s.do(t, "GET", "/v1/tenants/b/stats", keyB, "", "")
	require_True(t, status == http.StatusOK && object(t, m, "total")["attempts"] == 0.0 && len(m["endpoints"].([]any)) == 0, "tenant b: %d %v", status, m)
	status, m, _ = s.do(t, "POST", "/v1/tenants/a/api-keys", testToken, "application/json", `{"scopes":["endpoints:read"]}`)
	require_Equal(t, status, http.StatusCreated)
	s.reject(t, "GET", "/v1/tenants/a/stats", str(t, m, "key"), "", "", 403, "forbidden")
	s.reject(t, "GET", "/v1/tenants/zz/stats", testToken, "", "", 404, "tenant_not_found")
	s.reject(t, "POST", "/v1/tenants/a/stats", testToken, "application/json", `{}`, 405, "method_not_allowed")
}

// TestTenantStatsPublished: total.published and each bucket's published
// count the events the tenant had accepted, from one or a batch, once
// each: a publish answered for a repeated idempotency key adds none; they
// are another tenant's no more, and still there after a restart, in the
// 24 h and 7 d windows (the 1 h one starts again).
func TestTenantStatsPublished(t *testing.T) {
	s := newTestServer(t)
	s.mustCreateTenant(t, "a")
	s.mustCreateTenant(t, "b")
	publish := func(s *testServer, path, body string, extra ...string) {
		t.Helper()
		status, raw, _ := s.doRaw(t, "POST", "/v1/tenants/a/"+path, testToken, "application/json", body, extra...)
		require_True(t, status == http.StatusAccepted, "publish: %d %s", status, raw)
	}
	publish(s, "events", `{"type":"x","payload":{}}`, "Idempotency-Key", "k1")
	publish(s, "events/batch", `[{"type":"x","payload":1},{"type":"x","payload":2},{"type":"y","payload":3}]`)
	publish(s, "events", `{"type":"x","payload":{}}`, "Idempotency-Key", "k1")
	published := func(s *testServer, tenant, window string) (total float64, series float64) {
		t.Helper()
		status, m, _ := s.do(t, "GET", "/v1/tenants/"+tenant+"/stats?window="+window, testToken, "", "")
		require_Equal(t, status, http.StatusOK)
		for _, b := range m["series"].([]any) {
			series += b.(map[string]any)["published"].(float64)
		}
		for _, ep := range m["endpoints"].([]any) {
			_, has := ep.(map[string]any)["published"]
			require_True(t, !has, "an endpoint's stats have published: %v", ep)
		}
		return object(t, m, "total")["published"].(float64), series
	}
	for _, w := range []string{"1h", "24h", "7d"} {
		total, series := published(s, "a", w)
		require_True(t, total == 4 && series == 4, "%s: published %v, series %v; want 4", w, total, series)
	}
	total, series := published(s, "b", "24h")
	require_True(t, total == 0 && series == 0, "tenant b: published %v, series %v", total, series)

	s.shutdownServer(t)
	s.stopEngine()
	s.closeLog()
	s2 := newTestServerDir(t, s.dir, nil)
	for w, want := range map[string]float64{"1h": 0, "24h": 4, "7d": 4} {
		total, series := published(s2, "a", w)
		require_True(t, total == want && series == want, "%s after restart: published %v, series %v; want %v", w, total, series, want)
	}
	publish(s2, "events", `{"type":"x","payload":{}}`, "Idempotency-Key", "k1")
	publish(s2, "events", `{"type":"x","payload":{}}`)
	total, _ = published(s2, "a", "24h")
	require_True(t, total == 5, "24h after restart and one more: published %v; want 5", total)
}
