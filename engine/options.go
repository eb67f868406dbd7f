package engine

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/VictoriaMetrics/metrics"

	"hookline/internal/seal"
)

// Options configure an Engine. The zero value works: in every field 0 (or
// nil) means the default, written next to the field, and EnsureDefaults is
// the one place that fills them. A negative value means "none" (no bound,
// not checked, never) where the field says so and is an error elsewhere; New
// returns Validate's error rather than replacing a bad value.
type Options struct {
	// Cluster is set in cluster mode (see Cluster); nil on a single node.
	Cluster Cluster
	// RetrySchedule is the server-wide delay before attempts 2..N;
	// endpoints may override it. Each delay is above 0 and at most 7 days,
	// 50 delays at most. Empty: DefaultRetrySchedule.
	RetrySchedule []time.Duration
	// DefaultMaxInFlight is an endpoint's max_in_flight when it sets none,
	// 1-1000 as the endpoint's own. 0 means 16.
	DefaultMaxInFlight int
	// Tick is the retry timer wheel's resolution, at least 1ms. 0 means 100ms.
	Tick time.Duration
	// RecentBodyBytes is the memory for the delivery bodies of the newest
	// events, so lanes keeping up with ingest need not read them from disk.
	// At least 256 (one entry per 256 bytes). 0 means 32 MiB.
	RecentBodyBytes int
	// WheelSlots is the wheel size (a power of two); Tick × WheelSlots is how
	// far ahead retries are held in memory. 0 means 4096 (~7 min at 100ms).
	WheelSlots int
	// MaxBacklog is how many deliveries may wait (queued or retrying)
	// before ingest answers 503 backlog_full. 0 means 50,000,000;
	// negative: no bound.
	MaxBacklog int64
	// MinFreeDisk is the free space on DataDir's filesystem under which
	// ingest answers 503 disk_full, leaving room for Pebble's compactions.
	// 0 means 256 MiB; negative: not checked (nor when DataDir is "").
	MinFreeDisk int64
	// MaxTenantBacklog is how many deliveries one tenant may have waiting
	// before its publishes answer 429 tenant_backlog_full, so one tenant's
	// dead receivers cannot fill the server's MaxBacklog for everyone.
	// Default 5,000,000; negative: no bound.
	MaxTenantBacklog int64
	// MaxTenantEventsPerSecond bounds one tenant's publishing (API and
	// inbound), with a burst of a second's worth (at least 1,000, a full
	// batch); past it 429 tenant_rate_limited. Default 0: no bound.
	MaxTenantEventsPerSecond int
	DataDir                  string
	// EndpointsPerTenant is how many live endpoints a tenant may have
	// unless its max_endpoints says otherwise; past it a create answers
	// 409 endpoint_limit. 0 means 1,000; at most 100,000.
	EndpointsPerTenant int
	// RequireHTTPS refuses http:// endpoint URLs at create and update,
	// except those into networks the sender's allow list admits; a
	// tenant's require_https overrides it. Default false.
	RequireHTTPS bool
	// Circuit configures every endpoint's circuit breaker.
	Circuit CircuitOptions
	// DisableAfter disables an endpoint whose circuit has stayed open or
	// half open (no successful probe) this long, checked at each opening and
	// each failed probe, and tells its tenant with a
	// hookline.endpoint.disabled event. 0 means 5 days; negative: never.
	DisableAfter time.Duration
	// Notify configures the failure notifications (notify.go).
	Notify NotifyOptions
	Logger *slog.Logger
	// Metrics is where the engine registers its metrics; nil creates a set.
	Metrics *metrics.Set
	// TenantSeries is how many tenants get their own
	// hookline_tenant_delivery_attempts_total series (metrics_tenant.go);
	// the rest share tenant="_other". 0 means DefaultTenantSeries, 20.
	TenantSeries int

	// Retention is how long events, their delivery logs, idempotency keys
	// and audit records are kept (see retention). 0 means
	// DefaultRetention, 30 days; a negative age would put the cutoff in the
	// future and remove every event, so it is an error.
	Retention time.Duration
	// RetentionInterval is the time between retention passes; records live
	// up to Retention plus this long. 0 means DefaultRetentionInterval, 1h.
	RetentionInterval time.Duration

	// SecretOverlap is how long a rotated-out secret keeps signing when the
	// rotation names no overlap, at most MaxSecretOverlap. 0 means
	// DefaultSecretOverlap, 24h; negative: none (the old secret is dropped
	// at once). A rotation's own "overlap" is API input, where 0s is none.
	SecretOverlap time.Duration

	// Secrets seals the secrets in stored endpoint records (see
	// secret_seal.go). nil stores them as given and refuses to start on a
	// sealed record: for tests only; cmd/hookline always sets one.
	Secrets *seal.Keyring

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
	if o.EndpointsPerTenant == 0 {
		o.EndpointsPerTenant = DefaultEndpointsPerTenant
	}
	if o.MaxTenantBacklog == 0 {
		o.MaxTenantBacklog = 5_000_000
	}
	if o.MinFreeDisk == 0 {
		o.MinFreeDisk = 256 << 20
	}
	o.Circuit.EnsureDefaults()
	if o.DisableAfter == 0 {
		o.DisableAfter = 5 * 24 * time.Hour
	}
	o.Notify.EnsureDefaults()
	if o.Retention == 0 {
		o.Retention = DefaultRetention
	}
	if o.RetentionInterval == 0 {
		o.RetentionInterval = DefaultRetentionInterval
	}
	if o.SecretOverlap == 0 {
		o.SecretOverlap = DefaultSecretOverlap
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Metrics == nil {
		o.Metrics = metrics.NewSet()
	}
	if o.TenantSeries == 0 {
		o.TenantSeries = DefaultTenantSeries
	}
}

// Validate reports the first option out of its bounds, naming it and its
// value. It expects EnsureDefaults to have run: a 0 left in a field that has
// a default is reported too.
func (o *Options) Validate() error {
	if len(o.RetrySchedule) == 0 || len(o.RetrySchedule) > maxScheduleLen {
		return fmt.Errorf("engine.Options.RetrySchedule has %d delays; it must have 1-%d", len(o.RetrySchedule), maxScheduleLen)
	}
	for i, d := range o.RetrySchedule {
		if d <= 0 || d > maxScheduleDelay {
			return fmt.Errorf("engine.Options.RetrySchedule[%d] is %s; it must be above 0 and at most %s", i, d, maxScheduleDelay)
		}
	}
	switch {
	case o.MaxTenantEventsPerSecond < 0:
		return fmt.Errorf("engine.Options.MaxTenantEventsPerSecond is %d; it must not be negative (0: no bound)", o.MaxTenantEventsPerSecond)
	case o.EndpointsPerTenant < 1 || o.EndpointsPerTenant > MaxEndpointsPerTenant:
		return fmt.Errorf("engine.Options.EndpointsPerTenant is %d; it must be 1-%d", o.EndpointsPerTenant, MaxEndpointsPerTenant)
	case o.DefaultMaxInFlight < 1 || o.DefaultMaxInFlight > maxInFlightLimit:
		return fmt.Errorf("engine.Options.DefaultMaxInFlight is %d; it must be 1-%d", o.DefaultMaxInFlight, maxInFlightLimit)
	case o.Tick < time.Millisecond:
		// The timer wheel counts in milliseconds.
		return fmt.Errorf("engine.Options.Tick is %s; it must be at least 1ms", o.Tick)
	case o.RecentBodyBytes < minRecentBodyBytes:
		return fmt.Errorf("engine.Options.RecentBodyBytes is %d; it must be at least %d", o.RecentBodyBytes, minRecentBodyBytes)
	case o.WheelSlots <= 0 || o.WheelSlots&(o.WheelSlots-1) != 0:
		return fmt.Errorf("engine.Options.WheelSlots is %d; it must be a power of two", o.WheelSlots)
	case o.Retention <= 0:
		return fmt.Errorf("engine.Options.Retention is %s; it must be positive", o.Retention)
	case o.RetentionInterval <= 0:
		return fmt.Errorf("engine.Options.RetentionInterval is %s; it must be positive", o.RetentionInterval)
	case o.TenantSeries < 1 || o.TenantSeries > MaxTenantSeries:
		return fmt.Errorf("engine.Options.TenantSeries is %d; it must be 1-%d", o.TenantSeries, MaxTenantSeries)
	case o.SecretOverlap > MaxSecretOverlap:
		return fmt.Errorf("engine.Options.SecretOverlap is %s; it must be at most %s", o.SecretOverlap, MaxSecretOverlap)
	}
	if err := o.Notify.Validate(); err != nil {
		return err
	}
	return o.Circuit.Validate()
}

// minRecentBodyBytes is the smallest body ring that has an entry: the ring
// keeps one entry per 256 bytes.
const minRecentBodyBytes = 256

// DefaultRetrySchedule is the delay before attempts 2..8: about 27 hours in all.
var DefaultRetrySchedule = []time.Duration{
	5 * time.Second, 5 * time.Minute, 30 * time.Minute,
	2 * time.Hour, 5 * time.Hour, 10 * time.Hour, 10 * time.Hour,
}

// Retention defaults. The idempotency window is the retention age: a key
// whose event has expired is forgotten, and repeating it makes a new event.
const (
	DefaultRetention         = 30 * 24 * time.Hour
	DefaultRetentionInterval = time.Hour
)

// Secret rotation limits.
const (
	// DefaultSecretOverlap is Options.SecretOverlap's default.
	DefaultSecretOverlap = 24 * time.Hour
	// MaxSecretOverlap bounds a rotation's overlap: a secret meant to be
	// replaced should not sign for longer than a week.
	MaxSecretOverlap = 7 * 24 * time.Hour
)
