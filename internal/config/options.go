package config

import (
	"fmt"
	"net/netip"
	"strings"

	"hookline/engine"
	"hookline/httpin"
	"hookline/httpout"
	"hookline/wal"
)

// The builders below copy the file's values into each package's options and
// nothing else: a 0 passes through, and the package's EnsureDefaults fills
// it. What the file cannot hold (hooks, the logger, the metrics set, the
// resolved admin token, the user agent) the caller adds before calling the
// package's constructor, which validates again.

// WALOptions returns the options for wal.Open.
func (c *Config) WALOptions() *wal.Options {
	// validateFile refuses a durability that does not parse; an unchecked
	// config gets the zero value, fsync, the safe one.
	durability, _ := wal.ParseDurability(c.Ingest.Durability)
	return &wal.Options{
		CompressAbove: c.WAL.CompressAbove,
		CacheBytes:    c.WAL.CacheBytes,
		Durability:    durability,
	}
}

// SenderOptions returns the options for httpout.New, or the error of an
// allow_net entry that is not a network.
func (c *Config) SenderOptions() (httpout.Options, error) {
	allow, err := parseAllowNets(c.AllowNet)
	if err != nil {
		return httpout.Options{}, err
	}
	return httpout.Options{
		Allow:           allow,
		ConnectTimeout:  c.Delivery.ConnectTimeout,
		Timeout:         c.Delivery.Timeout,
		MaxConnsPerHost: c.Delivery.MaxConnsPerHost,
		CaptureBytes:    c.Delivery.ResponseCaptureBytes,
		MaxRetryAfter:   c.Delivery.MaxRetryAfter,
	}, nil
}

// EngineOptions returns the options for engine.New, or the error of a
// retry_schedule that does not parse.
func (c *Config) EngineOptions() (engine.Options, error) {
	schedule, err := engine.ParseRetrySchedule(c.RetrySchedule)
	if err != nil {
		return engine.Options{}, fmt.Errorf("retry_schedule (flag --retry-schedule) is %q: %w", c.RetrySchedule, err)
	}
	cb, nt := &c.Delivery.CircuitBreaker, &c.Delivery.Notifications
	return engine.Options{
		RetrySchedule:            schedule,
		DefaultMaxInFlight:       c.Delivery.MaxInFlight,
		MaxBacklog:               c.Ingest.MaxBacklog,
		MinFreeDisk:              c.Ingest.MinFreeDisk,
		MaxTenantBacklog:         c.Ingest.MaxTenantBacklog,
		MaxTenantEventsPerSecond: c.Ingest.MaxTenantEventsPerSecond,
		DataDir:                  c.Data,
		EndpointsPerTenant:       c.Limits.EndpointsPerTenant,
		RequireHTTPS:             c.Delivery.RequireHTTPS,
		DisableAfter:             c.Delivery.DisableAfter,
		SecretOverlap:            c.Delivery.SecretOverlap,
		Retention:                c.Retention.MaxAge,
		RetentionInterval:        c.Retention.Interval,
		TenantSeries:             c.MetricsTenants,
		Circuit: engine.CircuitOptions{
			ConsecutiveFailures: cb.ConsecutiveFailures,
			FailureRatio:        cb.FailureRatio,
			MinRequests:         cb.MinRequests,
			Window:              cb.Window,
			OpenFor:             cb.OpenFor,
			HalfOpenProbes:      cb.HalfOpenProbes,
		},
		Notify: engine.NotifyOptions{
			ExhaustedWindow:    nt.ExhaustedWindow,
			ExhaustedSingles:   nt.ExhaustedSingles,
			FailureRatio:       nt.FailureRatio,
			FailureMinAttempts: nt.FailureMinAttempts,
		},
	}, nil
}

// ServerOptions returns the options for httpin.New. AdminToken is the file's,
// possibly empty: the caller resolves it (environment, data directory).
func (c *Config) ServerOptions() httpin.Options {
	o := httpin.Options{
		Listen:               c.Listen,
		AdminToken:           c.AdminToken,
		MaxEventBytes:        c.Ingest.MaxEventBytes,
		MaxBodyBytes:         c.Ingest.MaxBodyBytes,
		MaxBatchEvents:       c.Ingest.MaxBatchEvents,
		MaxBodyBytesInFlight: c.Ingest.MaxBodyBytesInFlight,
		MaxConnsPerIP:        c.Ingest.MaxConnsPerIP,
		MetricsListen:        c.MetricsListen,
		MetricsToken:         c.MetricsToken,
		MaxPayloadDepth:      c.Ingest.MaxPayloadDepth,
		PublicURL:            c.PublicURL,
		ReplaysPerSecond:     c.Delivery.ReplaysPerSecond,
		NoDashboard:          !c.Dashboard.Enabled,
		TLSCertFile:          c.TLS.CertFile,
		TLSKeyFile:           c.TLS.KeyFile,
		TLSMinVersion:        c.TLS.MinVersion,
		AccessLog:            c.AccessLog,
	}
	if len(c.Dashboard.FrameAncestors) > 0 { // none is nil, as the package's default
		o.FrameAncestors = c.Dashboard.FrameAncestors
	}
	return o
}

// parseAllowNets parses allow_net entries: CIDRs, or bare addresses that
// allow just themselves. No entries give nil, as httpout's zero Options.
func parseAllowNets(nets []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, n := range nets {
		n = strings.TrimSpace(n)
		p, err := netip.ParsePrefix(n)
		if err != nil {
			a, aerr := netip.ParseAddr(n)
			if aerr != nil {
				return nil, fmt.Errorf("allow_net (flag --allow-net) entry %q is not a CIDR like 127.0.0.0/8 or an IP address", n)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		out = append(out, p.Masked())
	}
	return out, nil
}
