package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hookline/engine"
)

func TestEmbeddedDefaultConfig(t *testing.T) {
	c, err := Load("")
	require_NoError(t, err)
	require_Equal(t, c.Listen, "127.0.0.1:8080")
	require_Equal(t, c.Data, "./data")
	require_Equal(t, c.Ingest.MaxEventBytes, 1<<20)
	require_Equal(t, c.Ingest.MaxPayloadDepth, 128)
	require_Equal(t, c.ServerOptions().MaxPayloadDepth, 128)
	require_Equal(t, c.Delivery.MaxInFlight, 16)
	require_Equal(t, c.Delivery.Timeout, 15*time.Second)
	require_Equal(t, c.Delivery.ResponseCaptureBytes, 4096)
	require_Equal(t, c.Retention.MaxAge, engine.DefaultRetention)
	require_Equal(t, c.Retention.Interval, engine.DefaultRetentionInterval)
	require_NoError(t, c.Validate())
	schedule, err := engine.ParseRetrySchedule(c.RetrySchedule)
	require_NoError(t, err)
	require_Equal(t, len(schedule), len(engine.DefaultRetrySchedule))
	for i, d := range schedule {
		require_Equal(t, d, engine.DefaultRetrySchedule[i])
	}
}

func TestConfigFile(t *testing.T) {
	f := func(body, wantErr string) *Config {
		t.Helper()
		path := filepath.Join(t.TempDir(), "hookline.yaml")
		require_NoError(t, os.WriteFile(path, []byte(body), 0o600))
		c, err := Load(path)
		if wantErr == "" {
			require_NoError(t, err)
			return c
		}
		if err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Fatalf("config %q: error %v; want one containing %q", body, err, wantErr)
		}
		return nil
	}
	// A file sets only what it changes; the rest keeps the defaults.
	c := f("listen: 127.0.0.1:9999\ndelivery:\n  timeout: 3s\n", "")
	require_Equal(t, c.Listen, "127.0.0.1:9999")
	require_Equal(t, c.Delivery.Timeout, 3*time.Second)
	require_Equal(t, c.Delivery.MaxInFlight, 16)
	f("", "")
	c = f("metrics_listen: 127.0.0.1:9090\nmetrics_token: 0123456789abcdef\n", "")
	require_Equal(t, c.ServerOptions().MetricsListen, "127.0.0.1:9090")
	require_Equal(t, c.ServerOptions().MetricsToken, "0123456789abcdef")
	f("lisen: x\n", "field lisen not found")
	f("delivery:\n  timeout: soon\n", "cannot parse config file")
	f("listen: [\n", "cannot parse config file")
	c = f("ingest:\n  max_backlog: 1000\ndelivery:\n  circuit_breaker:\n    open_for: 1m\n", "")
	require_Equal(t, c.Ingest.MaxBacklog, int64(1000))
	require_Equal(t, c.Ingest.MinFreeDisk, int64(256<<20))
	require_Equal(t, c.Delivery.CircuitBreaker.OpenFor, time.Minute)
	// delivery.max_retry_after reaches the sender's options.
	c = f("delivery:\n  max_retry_after: 2h\n", "")
	so, err := c.SenderOptions()
	require_NoError(t, err)
	require_Equal(t, so.MaxRetryAfter, 2*time.Hour)
	require_Equal(t, c.Delivery.CircuitBreaker.ConsecutiveFailures, 20)
	require_Equal(t, c.Delivery.DisableAfter, 120*time.Hour)
	f("delivery:\n  circuit_breaker:\n    failure_ratio: 1.5\n", "failure_ratio is 1.5")
	f("delivery:\n  circuit_breaker:\n    consecutive_failures: 0\n", "consecutive_failures is 0")
	f("delivery:\n  circuit_breaker:\n    min_requests: -1\n", "min_requests is -1")
	f("delivery:\n  circuit_breaker:\n    window: 0s\n", "window is 0s")
	f("delivery:\n  circuit_breaker:\n    open_for: -1s\n", "open_for is -1s")
	f("delivery:\n  circuit_breaker:\n    half_open_probes: 0\n", "half_open_probes is 0")
	// half_open_probes reaches the engine's options.
	ho, err := f("delivery:\n  circuit_breaker:\n    half_open_probes: 2\n", "").EngineOptions()
	require_NoError(t, err)
	require_Equal(t, ho.Circuit.HalfOpenProbes, 2)
	f("delivery:\n  disable_after: 0s\n", "disable_after is 0")
	require_Equal(t, c.Delivery.SecretOverlap, 24*time.Hour)
	eo, err := c.EngineOptions()
	require_NoError(t, err)
	require_Equal(t, eo.SecretOverlap, 24*time.Hour)
	// 0s could read as "none" while engine.Options' 0 is its default: refused.
	f("delivery:\n  secret_overlap: 0s\n", "secret_overlap is 0s")
	c = f("delivery:\n  secret_overlap: 168h\n", "")
	require_Equal(t, c.Delivery.SecretOverlap, engine.MaxSecretOverlap)
	// Negative is none, as in engine.Options.
	c = f("delivery:\n  secret_overlap: -1s\n", "")
	eo, err = c.EngineOptions()
	require_NoError(t, err)
	require_Equal(t, eo.SecretOverlap < 0, true)
	f("delivery:\n  secret_overlap: 169h\n", "secret_overlap is 169h0m0s")
	c = f("retention:\n  max_age: 48h\n", "")
	require_Equal(t, c.Retention.MaxAge, 48*time.Hour)
	require_Equal(t, c.Retention.Interval, time.Hour)
	c = f("retention:\n  max_age: 1h\n  interval: 1m\n", "")
	require_Equal(t, c.Retention.Interval, time.Minute)
	f("retention:\n  max_age: 0s\n", "retention.max_age is 0s; it must be at least 1h0m0s")
	f("retention:\n  max_age: 59m\n", "retention.max_age is 59m0s")
	f("retention:\n  max_age: -720h\n", "retention.max_age is -720h0m0s")
	f("retention:\n  max_age: 30d\n", "cannot parse config file")
	f("retention:\n  interval: 0s\n", "retention.interval is 0s; it must be from 1m0s to retention.max_age (720h0m0s)")
	f("retention:\n  interval: 59s\n", "retention.interval is 59s")
	f("retention:\n  max_age: 2h\n  interval: 3h\n", "retention.interval is 3h0m0s; it must be from 1m0s to retention.max_age (2h0m0s)")
	f("retention:\n  maxage: 2h\n", "field maxage not found")
	_, err = Load(filepath.Join(t.TempDir(), "missing.yaml"))
	if err == nil {
		t.Fatalf("a missing config file must be an error")
	}
}

func TestParseAllowNets(t *testing.T) {
	f := func(in string, wantErr bool) {
		t.Helper()
		_, err := parseAllowNets([]string{in})
		if (err != nil) != wantErr {
			t.Fatalf("parseAllowNets(%q) error = %v; want error %v", in, err, wantErr)
		}
	}
	f("127.0.0.0/8", false)
	f("10.1.2.3", false)
	f("::1/128", false)
	f("127.0.0.0/33", true)
	f("localhost", true)
	f("", true)
}

// TestDecodeLeavesValidationToTheCaller: a file value that a flag replaces
// must not stop the server, so Decode does not validate; Load does.
func TestDecodeLeavesValidationToTheCaller(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hookline.yaml")
	require_NoError(t, os.WriteFile(path, []byte("retry_schedule: \"1s,bogus\"\ndata: \"\"\n"), 0o600))
	_, err := Load(path)
	require_True(t, err != nil, "Load accepted a bad file")
	c, err := Decode(path)
	require_NoError(t, err)
	c.RetrySchedule, c.Data = "5s,1m", "./data" // as the flags set them
	require_NoError(t, c.Validate())
}
