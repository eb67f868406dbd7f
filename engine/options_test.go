package engine_test

import (
	"math"
	"strings"
	"testing"
	"time"

	"hookline/engine"
)

// TestOptionsValidate: zero fields take their defaults and pass; a value out
// of bounds is an error naming the option and the value. Several of these
// (a failure ratio over 1, a negative circuit count or window, an overlap
// over MaxSecretOverlap) used to be replaced without a word.
func TestOptionsValidate(t *testing.T) {
	f := func(change func(o *engine.Options), wantErr string) {
		t.Helper()
		var o engine.Options
		change(&o)
		o.EnsureDefaults()
		err := o.Validate()
		if wantErr == "" {
			require_NoError(t, err)
			return
		}
		require_True(t, err != nil && strings.Contains(err.Error(), wantErr), "error %v; want one containing %q", err, wantErr)
	}
	f(func(o *engine.Options) {}, "")
	// Negative means none where an option has a none.
	f(func(o *engine.Options) { o.MaxBacklog, o.MinFreeDisk, o.DisableAfter, o.SecretOverlap = -1, -1, -1, -1 }, "")
	f(func(o *engine.Options) { o.SecretOverlap = engine.MaxSecretOverlap }, "")
	f(func(o *engine.Options) { o.Circuit.FailureRatio = 1 }, "")

	f(func(o *engine.Options) { o.RetrySchedule = []time.Duration{time.Second, 0} }, "engine.Options.RetrySchedule[1] is 0s; it must be above 0")
	f(func(o *engine.Options) { o.RetrySchedule = []time.Duration{8 * 24 * time.Hour} }, "engine.Options.RetrySchedule[0] is 192h0m0s")
	f(func(o *engine.Options) { o.RetrySchedule = make([]time.Duration, 51) }, "engine.Options.RetrySchedule has 51 delays")
	f(func(o *engine.Options) { o.DefaultMaxInFlight = -1 }, "engine.Options.DefaultMaxInFlight is -1; it must be 1-1000")
	f(func(o *engine.Options) { o.DefaultMaxInFlight = 1001 }, "engine.Options.DefaultMaxInFlight is 1001")
	f(func(o *engine.Options) { o.Tick = time.Microsecond }, "engine.Options.Tick is 1µs; it must be at least 1ms")
	f(func(o *engine.Options) { o.EndpointsPerTenant = engine.MaxEndpointsPerTenant }, "")
	f(func(o *engine.Options) { o.EndpointsPerTenant = -1 }, "engine.Options.EndpointsPerTenant is -1; it must be 1-100000")
	f(func(o *engine.Options) { o.EndpointsPerTenant = engine.MaxEndpointsPerTenant + 1 }, "engine.Options.EndpointsPerTenant is 100001")
	f(func(o *engine.Options) { o.RecentBodyBytes = 100 }, "engine.Options.RecentBodyBytes is 100")
	f(func(o *engine.Options) { o.WheelSlots = 1000 }, "engine.Options.WheelSlots is 1000; it must be a power of two")
	f(func(o *engine.Options) { o.WheelSlots = -4 }, "engine.Options.WheelSlots is -4")
	f(func(o *engine.Options) { o.Retention = -time.Hour }, "engine.Options.Retention is -1h0m0s; it must be positive")
	f(func(o *engine.Options) { o.RetentionInterval = -time.Second }, "engine.Options.RetentionInterval is -1s; it must be positive")
	f(func(o *engine.Options) { o.TenantSeries = engine.MaxTenantSeries }, "")
	f(func(o *engine.Options) { o.TenantSeries = -1 }, "engine.Options.TenantSeries is -1; it must be 1-1000")
	f(func(o *engine.Options) { o.TenantSeries = engine.MaxTenantSeries + 1 }, "engine.Options.TenantSeries is 1001")
	f(func(o *engine.Options) { o.SecretOverlap = engine.MaxSecretOverlap + 1 }, "engine.Options.SecretOverlap is 168h0m0.000000001s; it must be at most 168h0m0s")

	f(func(o *engine.Options) { o.Circuit.ConsecutiveFailures = -1 }, "engine.CircuitOptions.ConsecutiveFailures is -1; it must be at least 1")
	f(func(o *engine.Options) { o.Circuit.ConsecutiveFailures = 1 << 33 }, "engine.CircuitOptions.ConsecutiveFailures is 8589934592")
	f(func(o *engine.Options) { o.Circuit.FailureRatio = 1.5 }, "engine.CircuitOptions.FailureRatio is 1.5; it must be above 0 and at most 1")
	f(func(o *engine.Options) { o.Circuit.FailureRatio = -0.5 }, "engine.CircuitOptions.FailureRatio is -0.5")
	f(func(o *engine.Options) { o.Circuit.FailureRatio = math.NaN() }, "engine.CircuitOptions.FailureRatio is NaN")
	f(func(o *engine.Options) { o.Circuit.MinRequests = -1 }, "engine.CircuitOptions.MinRequests is -1")
	f(func(o *engine.Options) { o.Circuit.Window = -time.Second }, "engine.CircuitOptions.Window is -1s; it must be positive")
	f(func(o *engine.Options) { o.Circuit.OpenFor = -time.Second }, "engine.CircuitOptions.OpenFor is -1s")
	f(func(o *engine.Options) { o.Circuit.HalfOpenProbes = -1 }, "engine.CircuitOptions.HalfOpenProbes is -1; it must be at least 1")
	f(func(o *engine.Options) { o.Circuit.HalfOpenProbes = 1 << 33 }, "engine.CircuitOptions.HalfOpenProbes is 8589934592")

	f(func(o *engine.Options) { o.Notify.ExhaustedSingles, o.Notify.FailureMinAttempts = -1, -1 }, "")
	f(func(o *engine.Options) { o.Notify.ExhaustedWindow = -time.Second }, "engine.NotifyOptions.ExhaustedWindow is -1s; it must be positive")
	f(func(o *engine.Options) { o.Notify.FailureRatio = 1.5 }, "engine.NotifyOptions.FailureRatio is 1.5; it must be above 0 and at most 1")
	f(func(o *engine.Options) { o.Notify.FailureRatio = -0.1 }, "engine.NotifyOptions.FailureRatio is -0.1")
	f(func(o *engine.Options) { o.Notify.RateCheckEvery = -time.Minute }, "engine.NotifyOptions.RateCheckEvery is -1m0s; it must be positive")
}

// TestOptionsEnsureDefaults: the defaults the field comments promise.
func TestOptionsEnsureDefaults(t *testing.T) {
	var o engine.Options
	o.EnsureDefaults()
	require_Equal(t, len(o.RetrySchedule), len(engine.DefaultRetrySchedule))
	require_Equal(t, o.DefaultMaxInFlight, 16)
	require_Equal(t, o.Tick, 100*time.Millisecond)
	require_Equal(t, o.RecentBodyBytes, 32<<20)
	require_Equal(t, o.WheelSlots, 4096)
	require_Equal(t, o.MaxBacklog, int64(50_000_000))
	require_Equal(t, o.MinFreeDisk, int64(256<<20))
	require_Equal(t, o.DisableAfter, 5*24*time.Hour)
	require_Equal(t, o.Retention, engine.DefaultRetention)
	require_Equal(t, o.RetentionInterval, engine.DefaultRetentionInterval)
	require_Equal(t, o.SecretOverlap, engine.DefaultSecretOverlap)
	require_Equal(t, o.Circuit, engine.CircuitOptions{ConsecutiveFailures: 20, FailureRatio: 0.5, MinRequests: 20, Window: time.Minute, OpenFor: 30 * time.Second, HalfOpenProbes: 5})
	require_Equal(t, o.Notify, engine.NotifyOptions{ExhaustedWindow: time.Hour, ExhaustedSingles: 3, FailureRatio: 0.5, FailureMinAttempts: 20, RateCheckEvery: time.Minute})
	require_True(t, o.Logger != nil && o.Metrics != nil, "Logger and Metrics must be set")
}
