package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hookline/wal"
)

// TestConfigErrorsNameTheKey: each kind of bad value is an error naming the
// YAML key and the value, whether the bound is the file's or a package's
// (whose error names its Go option, renamed here).
func TestConfigErrorsNameTheKey(t *testing.T) {
	f := func(body, wantErr string) {
		t.Helper()
		path := filepath.Join(t.TempDir(), "hookline.yaml")
		require_NoError(t, os.WriteFile(path, []byte(body), 0o600))
		_, err := Load(path)
		require_True(t, err != nil && strings.Contains(err.Error(), wantErr), "config %q: error %v; want one containing %q", body, err, wantErr)
	}
	// Out of range.
	f("delivery:\n  circuit_breaker:\n    failure_ratio: 1.5\n", "delivery.circuit_breaker.failure_ratio is 1.5; it must be above 0 and at most 1")
	f("delivery:\n  circuit_breaker:\n    failure_ratio: .nan\n", "delivery.circuit_breaker.failure_ratio is NaN")
	f("delivery:\n  circuit_breaker:\n    min_requests: 5000000000\n", "delivery.circuit_breaker.min_requests is 5000000000")
	f("delivery:\n  circuit_breaker:\n    half_open_probes: 5000000000\n", "delivery.circuit_breaker.half_open_probes is 5000000000; it must be at least 1 and at most 4294967295")
	f("delivery:\n  max_in_flight: 1001\n", "delivery.max_in_flight is 1001; it must be 1-1000")
	f("limits:\n  endpoints_per_tenant: -1\n", "limits.endpoints_per_tenant is -1; it must be 1-100000")
	f("limits:\n  endpoints_per_tenant: 100001\n", "limits.endpoints_per_tenant is 100001")
	f("metrics_tenant_series: -1\n", "metrics_tenant_series is -1; it must be 1-1000")
	f("metrics_tenant_series: 1001\n", "metrics_tenant_series is 1001")
	f("delivery:\n  require_https: maybe\n", "require_https")
	f("delivery:\n  max_retry_after: 169h\n", "delivery.max_retry_after is 169h0m0s; it must be from 1s to 168h0m0s")
	f("delivery:\n  max_retry_after: 10ms\n", "delivery.max_retry_after is 10ms; it must be from 1s to 168h0m0s")
	f("delivery:\n  notifications:\n    failure_ratio: 2\n", "delivery.notifications.failure_ratio is 2; it must be above 0 and at most 1")
	f("delivery:\n  notifications:\n    exhausted_window: -1h\n", "delivery.notifications.exhausted_window is -1h0m0s; it must be positive")
	f("delivery:\n  secret_overlap: 169h\n", "delivery.secret_overlap is 169h0m0s; it must be at most 168h0m0s, or negative for no overlap")
	f("ingest:\n  max_event_bytes: 2048\n  max_body_bytes: 1024\n", "ingest.max_body_bytes is 1024; it must be at least ingest.max_event_bytes (2048)")
	f("ingest:\n  max_event_bytes: 33554432\n", "ingest.max_body_bytes is 16777216; it must be at least ingest.max_event_bytes (33554432)")
	f("ingest:\n  max_payload_depth: 1025\n", "ingest.max_payload_depth is 1025; it must be from 1 to 1024")
	f("retry_schedule: 5s,8d\n", `retry_schedule (flag --retry-schedule) is "5s,8d": retry schedule delay 2`)
	f("retention:\n  max_age: 2h\n  interval: 3h\n", "retention.interval is 3h0m0s")
	f("log_level: loud\n", `log_level is "loud"; it must be one of debug, info, warn, error`)
	f("ingest:\n  durability: none\n", `ingest.durability is "none"; it must be fsync or os (flag --durability)`)
	f("ingest:\n  durability: OS\n", `ingest.durability is "OS"`)
	f("log_format: xml\n", `log_format is "xml"; it must be text or json (flag --log-format)`)
	f("log_format: \"\"\n", `log_format is ""`)
	f("tls:\n  min_version: \"1.1\"\n", `tls.min_version is "1.1"; it must be "1.2" or "1.3"`)
	f("tls:\n  min_version: 1.3.0\n", `tls.min_version is "1.3.0"`)
	f("tls:\n  cert_file: /etc/hookline/cert.pem\n", `tls.cert_file is "/etc/hookline/cert.pem" and tls.key_file is ""; give both for HTTPS, or neither`)
	f("tls:\n  key_file: /etc/hookline/key.pem\n", `tls.cert_file is "" and tls.key_file is "/etc/hookline/key.pem"`)
	f("allow_net: [10.0.0.0/8, nope]\n", `allow_net (flag --allow-net) entry "nope" is not a CIDR`)
	f("cluster:\n  enabled: true\n  node_name: \"-x\"\n", `cluster.node_name is "-x"`)
	f("cluster:\n  enabled: true\n  advertise: 10.0.0.1:8080\n", `cluster.advertise is "10.0.0.1:8080"; it must be http://host:port`)
	f("cluster:\n  enabled: true\n  advertise: http://h:1/x\n", `cluster.advertise is "http://h:1/x"`)
	f("cluster:\n  enabled: true\n  replicas: 7\n", `cluster.replicas is 7; it must be from 1 to 5`)
	f("cluster:\n  enabled: true\n  routes_listen: 0.0.0.0:0\n", `cluster.routes_listen is "0.0.0.0:0"; it must be host:port with a fixed port`)
	f("cluster:\n  enabled: true\n  routes: [a:1, b]\n", `cluster.routes[1] is "b"`)
	f("cluster:\n  enabled: true\n  routes_advertise: x\n", `cluster.routes_advertise is "x"`)
	f("cluster:\n  enabled: true\n  routes: [a:1]\n", `cluster.routes names 1 nodes and cluster.replicas is 3`)

	// 0 where the file refuses it, empty where a value is needed.
	f("delivery:\n  circuit_breaker:\n    open_for: 0s\n", "delivery.circuit_breaker.open_for is 0s")
	f("delivery:\n  circuit_breaker:\n    half_open_probes: 0\n", "delivery.circuit_breaker.half_open_probes is 0; it must be at least 1")
	f("delivery:\n  notifications:\n    exhausted_window: 0s\n", "delivery.notifications.exhausted_window is 0s; it must be positive")
	f("delivery:\n  notifications:\n    exhausted_singles: 0\n", "delivery.notifications.exhausted_singles is 0; give at least 1, or a negative number for summaries only")
	f("delivery:\n  notifications:\n    failure_min_attempts: 0\n", "delivery.notifications.failure_min_attempts is 0")
	f("delivery:\n  notifications:\n    failure_ratio: 0\n", "delivery.notifications.failure_ratio is 0")
	f("delivery:\n  disable_after: 0s\n", "delivery.disable_after is 0s; give a duration, or a negative one for never")
	f("delivery:\n  max_retry_after: 0s\n", "delivery.max_retry_after is 0s; give a duration from 1s to 168h0m0s (leave the key out for the default, 24h0m0s)")
	f("retry_schedule: \"\"\n", `retry_schedule (flag --retry-schedule) is "": retry schedule is empty`)
	f("data: \"\"\n", `data is ""`)

	// Secrets: the admin token has a minimum, and one source of it at most.
	f("admin_token: short\n", "weak_secret: admin_token is 5 bytes; it must be at least 32")
	f("admin_token: 0123456789abcdef0123456789abcdef\nadmin_token_file: /run/secrets/hookline\n", "admin_token and admin_token_file are both set; give one")
	f("metrics_token: short\n", "weak_secret: metrics_token is 5 bytes; it must be at least 16")
	f("admin_token: 0123456789abcdef0123456789abcdef\nmetrics_token: 0123456789abcdef0123456789abcdef\n", "metrics_token is the admin token")
	f("metrics_listen: nope\n", `metrics_listen is "nope"; it must be host:port`)
	f("public_url: hooks.example.com\n", `public_url is "hooks.example.com"; it must be an http or https URL without a path`)
	f("public_url: https://hooks.example.com/portal\n", `public_url is "https://hooks.example.com/portal"`)
	f("delivery:\n  replays_per_second: -2\n", "delivery.replays_per_second is -2; it must be positive, or -1 for no bound")
	f("delivery:\n  replays_per_second: .nan\n", "delivery.replays_per_second is NaN")
	f("listen: 127.0.0.1:9000\nmetrics_listen: 127.0.0.1:9000\n", `metrics_listen is "127.0.0.1:9000", the same as listen`)

	// Wrong unit or type: yaml.v3 names the line, the error adds the key.
	f("delivery:\n  timeout: 15\n", "delivery.timeout (line 2): cannot unmarshal !!int `15` into time.Duration")
	f("retention:\n  max_age: 30d\n", "retention.max_age (line 2): cannot unmarshal !!str `30d`")
	f("ingest:\n  max_event_bytes: 1MiB\n", "ingest.max_event_bytes (line 2): cannot unmarshal !!str `1MiB` into int")
	f("delivery:\n  circuit_breaker:\n    failure_ratio: 50%\n", "delivery.circuit_breaker.failure_ratio (line 3): cannot unmarshal !!str `50%`")
	f("allow_net:\n  - 10.0.0.0/8\n  - [x]\n", "allow_net[1] (line 3): cannot unmarshal !!seq into string")
	f("delivery: {max_in_flight: 2, timeout: 15}\n", "delivery (line 1): cannot unmarshal !!int `15` into time.Duration")
	f("retention:\n  maxage: 2h\n", "retention.maxage (line 2): field maxage not found in type config.Retention")

	// Negative where the option has no "none".
	f("delivery:\n  timeout: -1s\n", "delivery.timeout is -1s; it must be positive")
	f("delivery:\n  max_retry_after: -1s\n", "delivery.max_retry_after is -1s; it must be from 1s to 168h0m0s")
	f("delivery:\n  connect_timeout: -5s\n", "delivery.connect_timeout is -5s")
	f("delivery:\n  max_conns_per_host: -1\n", "delivery.max_conns_per_host is -1")
	f("delivery:\n  max_in_flight: -1\n", "delivery.max_in_flight is -1")
	f("delivery:\n  circuit_breaker:\n    consecutive_failures: -2\n", "delivery.circuit_breaker.consecutive_failures is -2; it must be at least 1")
	f("delivery:\n  circuit_breaker:\n    window: -1m\n", "delivery.circuit_breaker.window is -1m0s; it must be positive")
	f("delivery:\n  circuit_breaker:\n    half_open_probes: -1\n", "delivery.circuit_breaker.half_open_probes is -1; it must be at least 1")
	f("ingest:\n  max_event_bytes: -1\n", "ingest.max_event_bytes is -1; it must be positive")
	f("ingest:\n  max_batch_events: -1\n", "ingest.max_batch_events is -1")
	f("ingest:\n  max_payload_depth: -1\n", "ingest.max_payload_depth is -1; it must be from 1 to 1024")
	f("wal:\n  cache_bytes: -1\n", "wal.cache_bytes is -1; it must be positive")
	f("retention:\n  max_age: -720h\n", "retention.max_age is -720h0m0s")
	f("shutdown_timeout: -1s\n", "shutdown_timeout is -1s; it must not be negative")
}

// TestConfigZeroAndNegative: 0 means the package's default and negative its
// "none", where the file's comments say so; the builders pass both through
// for the package to interpret.
func TestConfigZeroAndNegative(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hookline.yaml")
	body := "listen: \"\"\nwal:\n  compress_above: 0\n  cache_bytes: 0\n" +
		"ingest:\n  max_event_bytes: 0\n  max_body_bytes: 0\n  max_batch_events: 0\n  max_payload_depth: 0\n  max_backlog: -1\n  min_free_disk: -1\n" +
		"delivery:\n  max_in_flight: 0\n  timeout: 0s\n  connect_timeout: 0s\n  max_conns_per_host: 0\n  response_capture_bytes: -1\n  disable_after: -1s\n" +
		"  notifications:\n    exhausted_singles: -1\n    failure_min_attempts: -1\n"
	require_NoError(t, os.WriteFile(path, []byte(body), 0o600))
	c, err := Load(path)
	require_NoError(t, err)
	so, err := c.SenderOptions()
	require_NoError(t, err)
	require_Equal(t, so.Timeout, 0)
	require_Equal(t, so.CaptureBytes, -1)
	eo, err := c.EngineOptions()
	require_NoError(t, err)
	require_Equal(t, eo.MaxBacklog, -1)
	require_Equal(t, eo.DisableAfter, -time.Second)
	require_Equal(t, eo.Notify.ExhaustedSingles, -1)
	require_Equal(t, eo.Notify.FailureMinAttempts, -1)
	require_Equal(t, c.ServerOptions().MaxEventBytes, 0)
	require_Equal(t, c.ServerOptions().MaxPayloadDepth, 0)
	require_Equal(t, c.WALOptions().CacheBytes, 0)
}

func TestConfigDurability(t *testing.T) {
	for body, want := range map[string]wal.Durability{"": wal.DurabilityFsync, "ingest:\n  durability: fsync\n": wal.DurabilityFsync, "ingest:\n  durability: os\n": wal.DurabilityOS} {
		path := filepath.Join(t.TempDir(), "hookline.yaml")
		require_NoError(t, os.WriteFile(path, []byte(body), 0o600))
		c, err := Load(path)
		require_NoError(t, err)
		require_Equal(t, c.WALOptions().Durability, want)
	}
}
