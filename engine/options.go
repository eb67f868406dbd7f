package engine

import (
	"log/slog"
	"time"

	"github.com/VictoriaMetrics/metrics"
)

// Options configure an Engine. Zero values take the defaults.
type Options struct {
	// RetrySchedule is the server-wide delay before attempts 2..N;
	// endpoints may override it. Default: DefaultRetrySchedule.
	RetrySchedule []time.Duration
	// DefaultMaxInFlight is an endpoint's max_in_flight when it sets none. Default 16.
	DefaultMaxInFlight int
	// Tick is the retry timer wheel's resolution. Default 100ms.
	Tick time.Duration
	// RecentBodyBytes is the memory for the delivery bodies of the newest
	// events, so lanes keeping up with ingest need not read them from disk.
	// Default 32 MiB.
	RecentBodyBytes int
	// WheelSlots is the wheel size (a power of two); Tick × WheelSlots is how
	// far ahead retries are held in memory. Default 4096 (~7 min at 100ms).
	WheelSlots int
	// MaxBacklog is how many deliveries may wait (queued or retrying)
	// before ingest answers 503 backlog_full. Default 50,000,000;
	// negative: no bound.
	MaxBacklog int64
	// MinFreeDisk is the free space on DataDir's filesystem under which
	// ingest answers 503 disk_full, leaving room for Pebble's compactions.
	// Default 256 MiB; negative: not checked (nor when DataDir is "").
	MinFreeDisk int64
	DataDir     string
	// Circuit configures every endpoint's circuit breaker.
	Circuit CircuitOptions
	// DisableAfter disables an endpoint whose circuit has stayed open (no
	// successful probe) this long, and tells its tenant with an
	// endpoint.disabled event. Default 5 days; negative: never.
	DisableAfter time.Duration
	Logger       *slog.Logger
	// Metrics is where the engine registers its metrics; nil creates a set.
	Metrics *metrics.Set

	// Retention is how long events, their delivery logs, idempotency keys
	// and audit records are kept (see retention). Default 30 days.
	Retention time.Duration
	// RetentionInterval is the time between retention passes; records live
	// up to Retention plus this long. Default 1h.
	RetentionInterval time.Duration

	// SecretOverlap is how long a rotated-out secret keeps signing when the
	// rotation names no overlap. Default 24h; negative: none (the old
	// secret is dropped at once); at most MaxSecretOverlap.
	SecretOverlap time.Duration

	// now is endpoint health's clock; nil means time.Now. For tests.
	now func() time.Time
}

// EnsureDefaults fills zero fields with their defaults.
func (o *Options) EnsureDefaults() {
	if len(o.RetrySchedule) == 0 {
		o.RetrySchedule = DefaultRetrySchedule
	}
	if o.DefaultMaxInFlight == 0 {
		o.DefaultMaxInFlight = 16
	}
	if o.Tick == 0 {
		o.Tick = 100 * time.Millisecond
	}
	if o.RecentBodyBytes == 0 {
		o.RecentBodyBytes = 32 << 20
	}
	if o.WheelSlots == 0 {
		o.WheelSlots = 4096
	}
	if o.MaxBacklog == 0 {
		o.MaxBacklog = 50_000_000
	}
	if o.MinFreeDisk == 0 {
		o.MinFreeDisk = 256 << 20
	}
	o.Circuit.ensureDefaults()
	if o.DisableAfter == 0 {
		o.DisableAfter = 5 * 24 * time.Hour
	}
	if o.Retention == 0 {
		o.Retention = DefaultRetention
	}
	if o.RetentionInterval == 0 {
		o.RetentionInterval = DefaultRetentionInterval
	}
	if o.SecretOverlap == 0 {
		o.SecretOverlap = DefaultSecretOverlap
	}
	o.SecretOverlap = min(o.SecretOverlap, MaxSecretOverlap)
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Metrics == nil {
		o.Metrics = metrics.NewSet()
	}
}
