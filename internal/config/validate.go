package config

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"hookline/engine"
	"hookline/httpin"
	"hookline/httpout"
	"hookline/wal"
)

// Validate reports the first value out of its bounds, naming its YAML key
// (e.g. delivery.circuit_breaker.failure_ratio) and the value. It checks the
// rules only the file has (validateFile), then builds each package's options
// and runs the package's own EnsureDefaults and Validate, so a bound lives in
// one place: the package's, or this file's when it is stricter than the
// package (retention) or concerns the YAML's spelling (0 refused, secret_overlap,
// max_retry_after).
func (c *Config) Validate() error {
	if err := c.validateFile(); err != nil {
		return err
	}
	wo := c.WALOptions()
	wo.EnsureDefaults()
	if err := wo.Validate(); err != nil {
		return yamlNames.rename(err)
	}
	so, err := c.SenderOptions()
	if err != nil {
		return err
	}
	so.EnsureDefaults()
	if err := so.Validate(); err != nil {
		return yamlNames.rename(err)
	}
	eo, err := c.EngineOptions()
	if err != nil {
		return err
	}
	eo.EnsureDefaults()
	if err := eo.Validate(); err != nil {
		return yamlNames.rename(err)
	}
	ho := c.ServerOptions()
	if ho.AdminToken == "" {
		// serve takes the token from admin_token_file, the environment or
		// the data directory when the file has none, and checks it then;
		// that is not a config error.
		ho.AdminToken = strings.Repeat("x", httpin.MinAdminTokenBytes)
	}
	ho.EnsureDefaults()
	if err := ho.Validate(); err != nil {
		return yamlNames.rename(err)
	}
	return nil
}

// validateFile checks the rules that belong to the file, not to a package.
func (c *Config) validateFile() error {
	// 0 is refused where a reader could take it for "off" while the
	// package's 0 means its default: leaving the key out gives the default.
	cb := &c.Delivery.CircuitBreaker
	switch {
	case cb.ConsecutiveFailures == 0:
		return errors.New("delivery.circuit_breaker.consecutive_failures is 0; it must be at least 1")
	case cb.FailureRatio == 0:
		return errors.New("delivery.circuit_breaker.failure_ratio is 0; it must be above 0 and at most 1")
	case cb.MinRequests == 0:
		return errors.New("delivery.circuit_breaker.min_requests is 0; it must be at least 1")
	case cb.Window == 0:
		return errors.New("delivery.circuit_breaker.window is 0s; it must be positive")
	case cb.OpenFor == 0:
		return errors.New("delivery.circuit_breaker.open_for is 0s; it must be positive")
	case cb.HalfOpenProbes == 0:
		return errors.New("delivery.circuit_breaker.half_open_probes is 0; it must be at least 1")
	case c.Delivery.Notifications.ExhaustedWindow == 0:
		return errors.New("delivery.notifications.exhausted_window is 0s; it must be positive")
	case c.Delivery.Notifications.ExhaustedSingles == 0:
		return errors.New("delivery.notifications.exhausted_singles is 0; give at least 1, or a negative number for summaries only")
	case c.Delivery.Notifications.FailureRatio == 0:
		return errors.New("delivery.notifications.failure_ratio is 0; it must be above 0 and at most 1")
	case c.Delivery.Notifications.FailureMinAttempts == 0:
		return errors.New("delivery.notifications.failure_min_attempts is 0; give at least 1, or a negative number for circuit openings only")
	case c.Delivery.DisableAfter == 0:
		return errors.New("delivery.disable_after is 0s; give a duration, or a negative one for never")
	case c.Delivery.SecretOverlap == 0:
		// A reader could take 0s for "no overlap", while engine.Options'
		// 0 is its default: refused, as for the circuit breaker.
		return fmt.Errorf("delivery.secret_overlap is 0s; give a duration up to %s, or a negative one for no overlap", engine.MaxSecretOverlap)
	case c.Delivery.MaxRetryAfter == 0:
		// A reader could take 0s for "ignore Retry-After", while
		// httpout.Options' 0 is its default.
		return fmt.Errorf("delivery.max_retry_after is 0s; give a duration from 1s to %s (leave the key out for the default, %s)", httpout.MaxRetryAfterLimit, httpout.DefaultMaxRetryAfter)
	case c.Delivery.SecretOverlap > engine.MaxSecretOverlap:
		return fmt.Errorf("delivery.secret_overlap is %s; it must be at most %s, or negative for no overlap", c.Delivery.SecretOverlap, engine.MaxSecretOverlap)
	case c.Retention.MaxAge < minRetention:
		return fmt.Errorf("retention.max_age is %s; it must be at least %s", c.Retention.MaxAge, minRetention)
	case c.Retention.Interval < minRetentionInterval || c.Retention.Interval > c.Retention.MaxAge:
		return fmt.Errorf("retention.interval is %s; it must be from %s to retention.max_age (%s)", c.Retention.Interval, minRetentionInterval, c.Retention.MaxAge)
	case c.AdminToken != "" && c.AdminTokenFile != "":
		return errors.New("admin_token and admin_token_file are both set; give one (a flag, --admin-token or --admin-token-file, replaces both)")
	case c.Data == "":
		return errors.New(`data is ""; it must name the data directory (flag --data)`)
	case c.ShutdownTimeout < 0:
		return fmt.Errorf("shutdown_timeout is %s; it must not be negative (0s: do not wait)", c.ShutdownTimeout)
	}
	if _, err := wal.ParseDurability(c.Ingest.Durability); err != nil {
		return fmt.Errorf("ingest.durability is %q; it must be fsync or os (flag --durability)", c.Ingest.Durability)
	}
	var l slog.Level
	if err := l.UnmarshalText([]byte(c.LogLevel)); err != nil {
		return fmt.Errorf("log_level is %q; it must be one of debug, info, warn, error", c.LogLevel)
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		return fmt.Errorf("log_format is %q; it must be text or json (flag --log-format)", c.LogFormat)
	}
	return c.Cluster.validate()
}

// Retention bounds. Below an hour, a delivery held up by a short outage or
// a paused endpoint would expire before it could be sent. Each pass seeks
// once per endpoint with a delivery log; a minute apart, records already
// outlive max_age by at most a minute, so more often buys nothing.
const (
	minRetention         = time.Hour
	minRetentionInterval = time.Minute
)

// yamlNames maps each option the file sets, as the package's Validate names
// it, to its YAML key, so an error says what to change in the file. Longer
// names come first: the replacer tries them in this order at each position.
var yamlNames = newRenamer(
	"wal.Options.CompressAbove", "wal.compress_above",
	"wal.Options.CacheBytes", "wal.cache_bytes",
	"wal.Options.Durability", "ingest.durability",
	"httpout.Options.Allow", "allow_net",
	"httpout.Options.ConnectTimeout", "delivery.connect_timeout",
	"httpout.Options.Timeout", "delivery.timeout",
	"httpout.Options.MaxConnsPerHost", "delivery.max_conns_per_host",
	"httpout.Options.CaptureBytes", "delivery.response_capture_bytes",
	"httpout.Options.MaxRetryAfter", "delivery.max_retry_after",
	"engine.Options.RetrySchedule", "retry_schedule",
	"engine.Options.DefaultMaxInFlight", "delivery.max_in_flight",
	"engine.Options.MaxBacklog", "ingest.max_backlog",
	"engine.Options.MinFreeDisk", "ingest.min_free_disk",
	"engine.Options.MaxTenantBacklog", "ingest.max_tenant_backlog",
	"engine.Options.MaxTenantEventsPerSecond", "ingest.max_tenant_events_per_second",
	"engine.Options.DataDir", "data",
	"engine.Options.EndpointsPerTenant", "limits.endpoints_per_tenant",
	"engine.Options.RequireHTTPS", "delivery.require_https",
	"engine.Options.DisableAfter", "delivery.disable_after",
	"engine.Options.RetentionInterval", "retention.interval",
	"engine.Options.Retention", "retention.max_age",
	"engine.Options.SecretOverlap", "delivery.secret_overlap",
	"engine.CircuitOptions.ConsecutiveFailures", "delivery.circuit_breaker.consecutive_failures",
	"engine.CircuitOptions.FailureRatio", "delivery.circuit_breaker.failure_ratio",
	"engine.CircuitOptions.MinRequests", "delivery.circuit_breaker.min_requests",
	"engine.CircuitOptions.Window", "delivery.circuit_breaker.window",
	"engine.CircuitOptions.OpenFor", "delivery.circuit_breaker.open_for",
	"httpin.Options.MetricsListen", "metrics_listen",
	"httpin.Options.MetricsToken", "metrics_token",
	"engine.Options.TenantSeries", "metrics_tenant_series",
	"engine.CircuitOptions.HalfOpenProbes", "delivery.circuit_breaker.half_open_probes",
	"engine.NotifyOptions.ExhaustedWindow", "delivery.notifications.exhausted_window",
	"engine.NotifyOptions.ExhaustedSingles", "delivery.notifications.exhausted_singles",
	"engine.NotifyOptions.FailureRatio", "delivery.notifications.failure_ratio",
	"engine.NotifyOptions.FailureMinAttempts", "delivery.notifications.failure_min_attempts",
	"httpin.Options.AccessLog", "access_log",
	"httpin.Options.TLSCertFile", "tls.cert_file",
	"httpin.Options.TLSKeyFile", "tls.key_file",
	"httpin.Options.TLSMinVersion", "tls.min_version",
	"httpin.Options.Listen", "listen",
	"httpin.Options.AdminToken", "admin_token",
	"httpin.Options.MaxEventBytes", "ingest.max_event_bytes",
	// Longer names first: the replacer tries them in this order.
	"httpin.Options.MaxBodyBytesInFlight", "ingest.max_body_bytes_in_flight",
	"httpin.Options.MaxBodyBytes", "ingest.max_body_bytes",
	"httpin.Options.MaxBatchEvents", "ingest.max_batch_events",
	"httpin.Options.MaxConnsPerIP", "ingest.max_conns_per_ip",
	"httpin.Options.MaxPayloadDepth", "ingest.max_payload_depth",
	"httpin.Options.PublicURL", "public_url",
	"httpin.Options.ReplaysPerSecond", "delivery.replays_per_second",
	"httpin.Options.FrameAncestors", "dashboard.frame_ancestors",
	"httpin.Options.NoDashboard", "dashboard.enabled",
)

type renamer struct {
	r     *strings.Replacer
	pairs []string // option, key, option, key, ...
}

func newRenamer(pairs ...string) *renamer {
	return &renamer{r: strings.NewReplacer(pairs...), pairs: pairs}
}

// rename returns err with every option name replaced by its YAML key.
func (n *renamer) rename(err error) error {
	return errors.New(n.r.Replace(err.Error()))
}
