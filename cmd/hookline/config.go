package main

import (
	"bytes"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"hookline/configs"
	"hookline/engine"
)

// config mirrors configs/hookline.yaml; the file documents every field.
type config struct {
	Listen        string   `yaml:"listen"`
	Data          string   `yaml:"data"`
	AdminToken    string   `yaml:"admin_token"`
	AllowNet      []string `yaml:"allow_net"`
	RetrySchedule string   `yaml:"retry_schedule"`
	Ingest        struct {
		MaxEventBytes  int   `yaml:"max_event_bytes"`
		MaxBodyBytes   int   `yaml:"max_body_bytes"`
		MaxBatchEvents int   `yaml:"max_batch_events"`
		MaxBacklog     int64 `yaml:"max_backlog"`
		MinFreeDisk    int64 `yaml:"min_free_disk"`
	} `yaml:"ingest"`
	Delivery struct {
		MaxInFlight          int           `yaml:"max_in_flight"`
		Timeout              time.Duration `yaml:"timeout"`
		ConnectTimeout       time.Duration `yaml:"connect_timeout"`
		MaxConnsPerHost      int           `yaml:"max_conns_per_host"`
		ResponseCaptureBytes int           `yaml:"response_capture_bytes"`
		DisableAfter         time.Duration `yaml:"disable_after"`
		SecretOverlap        time.Duration `yaml:"secret_overlap"`
		CircuitBreaker       struct {
			ConsecutiveFailures int           `yaml:"consecutive_failures"`
			FailureRatio        float64       `yaml:"failure_ratio"`
			MinRequests         int           `yaml:"min_requests"`
			Window              time.Duration `yaml:"window"`
			OpenFor             time.Duration `yaml:"open_for"`
		} `yaml:"circuit_breaker"`
	} `yaml:"delivery"`
	Retention struct {
		MaxAge   time.Duration `yaml:"max_age"`
		Interval time.Duration `yaml:"interval"`
	} `yaml:"retention"`
	WAL struct {
		CompressAbove int   `yaml:"compress_above"`
		CacheBytes    int64 `yaml:"cache_bytes"`
	} `yaml:"wal"`
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
	LogLevel        string        `yaml:"log_level"`
}

// loadConfig reads path, or the embedded default when path is empty.
// Unknown keys are errors: a misspelt option must not be silently ignored.
func loadConfig(path string) (*config, error) {
	var c config
	// The embedded default is decoded first so a user file only needs the
	// options it changes.
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
	if err := c.validate(); err != nil {
		return nil, fmt.Errorf("config file %q: %w", path, err)
	}
	return &c, nil
}

// validate rejects values the engine would otherwise replace by its
// defaults without a word.
func (c *config) validate() error {
	cb := &c.Delivery.CircuitBreaker
	switch {
	case cb.ConsecutiveFailures < 1:
		return fmt.Errorf("delivery.circuit_breaker.consecutive_failures is %d; it must be at least 1", cb.ConsecutiveFailures)
	case cb.FailureRatio <= 0 || cb.FailureRatio > 1:
		return fmt.Errorf("delivery.circuit_breaker.failure_ratio is %g; it must be above 0 and at most 1", cb.FailureRatio)
	case cb.MinRequests < 1:
		return fmt.Errorf("delivery.circuit_breaker.min_requests is %d; it must be at least 1", cb.MinRequests)
	case cb.Window <= 0:
		return fmt.Errorf("delivery.circuit_breaker.window is %s; it must be positive", cb.Window)
	case cb.OpenFor <= 0:
		return fmt.Errorf("delivery.circuit_breaker.open_for is %s; it must be positive", cb.OpenFor)
	case c.Delivery.DisableAfter == 0:
		return fmt.Errorf("delivery.disable_after is 0; give a duration, or a negative one for never")
	case c.Delivery.SecretOverlap < 0 || c.Delivery.SecretOverlap > engine.MaxSecretOverlap:
		return fmt.Errorf("delivery.secret_overlap is %s; it must be from 0s (none) to %s", c.Delivery.SecretOverlap, engine.MaxSecretOverlap)
	case c.Retention.MaxAge < minRetention:
		return fmt.Errorf("retention.max_age is %s; it must be at least %s", c.Retention.MaxAge, minRetention)
	case c.Retention.Interval < minRetentionInterval || c.Retention.Interval > c.Retention.MaxAge:
		return fmt.Errorf("retention.interval is %s; it must be from %s to retention.max_age (%s)", c.Retention.Interval, minRetentionInterval, c.Retention.MaxAge)
	}
	return nil
}

// Retention bounds. Below an hour, a delivery held up by a short outage or
// a paused endpoint would expire before it could be sent. Each pass seeks
// once per endpoint with a delivery log; a minute apart, records already
// outlive max_age by at most a minute, so more often buys nothing.
const (
	minRetention         = time.Hour
	minRetentionInterval = time.Minute
)

// secretOverlap is delivery.secret_overlap as engine.Options takes it, where
// 0 means the default and negative means none.
func (c *config) secretOverlap() time.Duration {
	if c.Delivery.SecretOverlap == 0 {
		return -1
	}
	return c.Delivery.SecretOverlap
}

func decodeYAML(b []byte, c *config) error {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil && err.Error() != "EOF" {
		return err
	}
	return nil
}

func parseAllowNets(nets []string) ([]netip.Prefix, error) {
	out := make([]netip.Prefix, 0, len(nets))
	for _, n := range nets {
		n = strings.TrimSpace(n)
		p, err := netip.ParsePrefix(n)
		if err != nil {
			// A bare address allows just itself.
			a, aerr := netip.ParseAddr(n)
			if aerr != nil {
				return nil, fmt.Errorf("allow-net %q is not a CIDR like 127.0.0.0/8 or an IP address", n)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		out = append(out, p.Masked())
	}
	return out, nil
}
