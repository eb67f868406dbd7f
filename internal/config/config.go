// Package config owns hookline's server configuration as configs/hookline.yaml
// writes it: the one Config type, Load (the embedded default file, then the
// user's), the validation of every bound with errors naming the YAML key, and
// the builders of each package's options (WALOptions, SenderOptions,
// EngineOptions, ServerOptions).
//
// Defaults do not live here. Each package fills its own in its
// Options.EnsureDefaults; a key left at 0 passes through as 0, and the
// embedded file writes the same values the packages fill (a test keeps the
// two equal). The rule for 0, as configs/hookline.yaml states it:
//
//   - A key left out keeps the value the embedded file writes, the default.
//   - 0 (or "") also means the default, as 0 does in each package's Go
//     options, except for the keys whose comment says 0 is refused:
//     delivery.disable_after, delivery.secret_overlap,
//     delivery.max_retry_after, delivery.circuit_breaker.*,
//     delivery.notifications.*, retention.* and retry_schedule, where a
//     reader could take 0 for "off".
//   - The keys that belong to the file alone (cmd/hookline uses them, no
//     package fills them): shutdown_timeout 0s means do not wait; data,
//     log_level and log_format are required; admin_token_file names a file cmd/hookline
//     reads the admin token from (at most one of it and admin_token);
//     secret_key_file "" means <data>/secret.key.
//   - A negative value means "none" where the key's comment says so (no
//     bound, not checked, never, keep nothing, no compression) and is an
//     error elsewhere.
//
// It imports the packages it configures (wal, httpout, engine, httpin) and
// configs; only cmd/hookline imports it.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"gopkg.in/yaml.v3"

	"hookline/configs"
)

// Config mirrors configs/hookline.yaml; the file documents every field.
type Config struct {
	Listen          string        `yaml:"listen"`
	TLS             TLS           `yaml:"tls"`
	MetricsListen   string        `yaml:"metrics_listen"`
	MetricsToken    string        `yaml:"metrics_token"`
	MetricsTenants  int           `yaml:"metrics_tenant_series"`
	PublicURL       string        `yaml:"public_url"`
	Data            string        `yaml:"data"`
	AdminToken      string        `yaml:"admin_token"`
	AdminTokenFile  string        `yaml:"admin_token_file"`
	SecretKeyFile   string        `yaml:"secret_key_file"`
	AllowNet        []string      `yaml:"allow_net"`
	RetrySchedule   string        `yaml:"retry_schedule"`
	Ingest          Ingest        `yaml:"ingest"`
	Delivery        Delivery      `yaml:"delivery"`
	Limits          Limits        `yaml:"limits"`
	Dashboard       Dashboard     `yaml:"dashboard"`
	Retention       Retention     `yaml:"retention"`
	WAL             WAL           `yaml:"wal"`
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
	LogLevel        string        `yaml:"log_level"`
	LogFormat       string        `yaml:"log_format"`
	AccessLog       bool          `yaml:"access_log"`
	Cluster         Cluster       `yaml:"cluster"`
}

// TLS is the tls section: HTTPS on listen.
type TLS struct {
	CertFile   string `yaml:"cert_file"`
	KeyFile    string `yaml:"key_file"`
	MinVersion string `yaml:"min_version"`
}

// Dashboard is the dashboard section: the pages served at / and /portal.
type Dashboard struct {
	Enabled        bool     `yaml:"enabled"`
	FrameAncestors []string `yaml:"frame_ancestors"`
}

// Ingest is the ingest section: request bounds and back-pressure.
type Ingest struct {
	MaxEventBytes   int `yaml:"max_event_bytes"`
	MaxBodyBytes    int `yaml:"max_body_bytes"`
	MaxBatchEvents  int `yaml:"max_batch_events"`
	MaxPayloadDepth int `yaml:"max_payload_depth"`
	// MaxBodyBytesInFlight and MaxConnsPerIP bound what unauthenticated
	// clients can make the server hold.
	MaxBodyBytesInFlight int64 `yaml:"max_body_bytes_in_flight"`
	MaxConnsPerIP        int   `yaml:"max_conns_per_ip"`
	MaxBacklog           int64 `yaml:"max_backlog"`
	MinFreeDisk          int64 `yaml:"min_free_disk"`
	// Per tenant, so one tenant cannot stop the others.
	MaxTenantBacklog         int64 `yaml:"max_tenant_backlog"`
	MaxTenantEventsPerSecond int   `yaml:"max_tenant_events_per_second"`
	// Durability is when an accepted event is answered: fsync or os
	// (wal.ParseDurability).
	Durability string `yaml:"durability"`
}

// Delivery is the delivery section: the outbound client and the engine's
// per-endpoint defaults.
type Delivery struct {
	MaxInFlight          int            `yaml:"max_in_flight"`
	Timeout              time.Duration  `yaml:"timeout"`
	ConnectTimeout       time.Duration  `yaml:"connect_timeout"`
	MaxConnsPerHost      int            `yaml:"max_conns_per_host"`
	ResponseCaptureBytes int            `yaml:"response_capture_bytes"`
	MaxRetryAfter        time.Duration  `yaml:"max_retry_after"`
	DisableAfter         time.Duration  `yaml:"disable_after"`
	SecretOverlap        time.Duration  `yaml:"secret_overlap"`
	RequireHTTPS         bool           `yaml:"require_https"`
	ReplaysPerSecond     float64        `yaml:"replays_per_second"`
	CircuitBreaker       CircuitBreaker `yaml:"circuit_breaker"`
	Notifications        Notifications  `yaml:"notifications"`
}

// Notifications is delivery.notifications: the hookline.* failure events.
type Notifications struct {
	ExhaustedWindow    time.Duration `yaml:"exhausted_window"`
	ExhaustedSingles   int           `yaml:"exhausted_singles"`
	FailureRatio       float64       `yaml:"failure_ratio"`
	FailureMinAttempts int           `yaml:"failure_min_attempts"`
}

// Limits is the limits section: bounds per tenant on its configuration.
type Limits struct {
	EndpointsPerTenant int `yaml:"endpoints_per_tenant"`
}

// CircuitBreaker is delivery.circuit_breaker.
type CircuitBreaker struct {
	ConsecutiveFailures int           `yaml:"consecutive_failures"`
	FailureRatio        float64       `yaml:"failure_ratio"`
	MinRequests         int           `yaml:"min_requests"`
	Window              time.Duration `yaml:"window"`
	OpenFor             time.Duration `yaml:"open_for"`
	HalfOpenProbes      int           `yaml:"half_open_probes"`
}

// Retention is the retention section.
type Retention struct {
	MaxAge   time.Duration `yaml:"max_age"`
	Interval time.Duration `yaml:"interval"`
}

// WAL is the wal section: the store's tuning.
type WAL struct {
	CompressAbove int   `yaml:"compress_above"`
	CacheBytes    int64 `yaml:"cache_bytes"`
}

// Load returns the embedded default config overlaid with the file at path
// (none when path is ""), validated: Decode, then Validate.
func Load(path string) (*Config, error) {
	c, err := Decode(path)
	if err != nil {
		return nil, err
	}
	if err := c.Validate(); err != nil {
		if path == "" {
			return nil, fmt.Errorf("BUG: embedded default config is invalid: %w", err)
		}
		return nil, fmt.Errorf("config file %q: %w", path, err)
	}
	return c, nil
}

// Decode returns the embedded default config overlaid with the file at path
// (none when path is ""), not yet validated: a caller that overrides
// options (cmd/hookline's flags) validates the result once it is whole, so
// a file value a flag replaces does not stop the server. The default is
// decoded first so a user file only needs the options it changes. Unknown
// keys are errors: a misspelt option must not be silently ignored.
func Decode(path string) (*Config, error) {
	var c Config
	if err := decodeYAML(configs.Default, &c); err != nil {
		return nil, fmt.Errorf("BUG: embedded default config is invalid: %w", err)
	}
	if path == "" {
		return &c, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read config file: %w", err)
	}
	if err := decodeYAML(b, &c); err != nil {
		return nil, fmt.Errorf("cannot parse config file %q: %w", path, err)
	}
	return &c, nil
}

// decodeYAML decodes b onto c, keeping the fields b does not set.
func decodeYAML(b []byte, c *Config) error {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	err := dec.Decode(c)
	if err == nil || errors.Is(err, io.EOF) {
		return nil
	}
	var te *yaml.TypeError
	if errors.As(err, &te) {
		return nameKeys(b, te)
	}
	return err
}
