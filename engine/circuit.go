package engine

import (
	"errors"
	"fmt"
	"math"
	"sync/atomic"
	"time"

	"github.com/sony/gobreaker/v2"
)

// CircuitOptions configure the per-endpoint circuit breakers. A circuit
// opens on a run of failures or on a failure ratio over a window; while open
// its lane sends nothing and spends no attempts; after OpenFor one probe
// request decides: success closes it, failure opens it again.
//
// A failure is what would be retried: a network error, a timeout, 408, 429 or
// a 5xx. Other answers, 4xx included, show the receiver is up and count as
// successes.
//
// In every field 0 means the default, written next to the field; there is no
// "none": a negative value is an error (Validate), never a default.
type CircuitOptions struct {
	// ConsecutiveFailures opens the circuit, or four times the endpoint's
	// max_in_flight when that is more: with many requests in flight, fast
	// failures (a proxy's instant 503) come back in bursts ahead of slow
	// successes, and a run of 20 of them was seen at a 20% failure rate with
	// 64 in flight. 0 means 20.
	ConsecutiveFailures int
	// FailureRatio (above 0, at most 1) of at least MinRequests attempts
	// within Window opens it. 0 means 0.5, 20 and 60s.
	FailureRatio float64
	MinRequests  int
	Window       time.Duration
	// OpenFor is how long an open circuit waits before its probe. 0 means 30s.
	OpenFor time.Duration
}

// EnsureDefaults fills zero fields with their defaults.
func (o *CircuitOptions) EnsureDefaults() {
	if o.ConsecutiveFailures == 0 {
		o.ConsecutiveFailures = 20
	}
	if o.FailureRatio == 0 {
		o.FailureRatio = 0.5
	}
	if o.MinRequests == 0 {
		o.MinRequests = 20
	}
	if o.Window == 0 {
		o.Window = time.Minute
	}
	if o.OpenFor == 0 {
		o.OpenFor = 30 * time.Second
	}
}

// Validate reports the first option out of its bounds, naming it and its
// value. It expects EnsureDefaults to have run. The counts are bounded by
// the breaker's uint32 counters.
func (o *CircuitOptions) Validate() error {
	switch {
	case o.ConsecutiveFailures < 1 || o.ConsecutiveFailures > math.MaxUint32:
		return fmt.Errorf("engine.CircuitOptions.ConsecutiveFailures is %d; it must be at least 1 and at most %d", o.ConsecutiveFailures, uint32(math.MaxUint32))
	case !(o.FailureRatio > 0 && o.FailureRatio <= 1): // NaN fails too
		return fmt.Errorf("engine.CircuitOptions.FailureRatio is %g; it must be above 0 and at most 1", o.FailureRatio)
	case o.MinRequests < 1 || o.MinRequests > math.MaxUint32:
		return fmt.Errorf("engine.CircuitOptions.MinRequests is %d; it must be at least 1 and at most %d", o.MinRequests, uint32(math.MaxUint32))
	case o.Window <= 0:
		return fmt.Errorf("engine.CircuitOptions.Window is %s; it must be positive", o.Window)
	case o.OpenFor <= 0:
		return fmt.Errorf("engine.CircuitOptions.OpenFor is %s; it must be positive", o.OpenFor)
	}
	return nil
}

// errAttemptFailed and errNotAttempted report an attempt's result to the
// breaker: the first counts as a failure, the second not at all (the
// attempt never reached the endpoint, e.g. at shutdown).
var (
	errAttemptFailed = errors.New("attempt failed")
	errNotAttempted  = errors.New("not attempted")
)

// circuit is one endpoint's breaker with the times the API shows.
type circuit struct {
	cb       *gobreaker.TwoStepCircuitBreaker[struct{}]
	openFor  time.Duration
	openedAt atomic.Int64 // unix ms of the last opening; 0 before any
}

// newCircuit makes a breaker; inFlight reports the endpoint's current
// max_in_flight (it may change while the breaker lives).
func newCircuit(o CircuitOptions, inFlight func() int, onChange func(from, to gobreaker.State)) *circuit {
	c := &circuit{openFor: o.OpenFor}
	c.cb = gobreaker.NewTwoStepCircuitBreaker[struct{}](gobreaker.Settings{
		MaxRequests:  1,
		Interval:     o.Window,
		BucketPeriod: max(o.Window/10, time.Millisecond),
		Timeout:      o.OpenFor,
		ReadyToTrip: func(n gobreaker.Counts) bool {
			run := max(o.ConsecutiveFailures, 4*inFlight())
			return n.ConsecutiveFailures >= uint32(run) ||
				n.Requests >= uint32(o.MinRequests) && float64(n.TotalFailures) >= o.FailureRatio*float64(n.Requests)
		},
		IsExcluded: func(err error) bool { return errors.Is(err, errNotAttempted) },
		// Runs under the breaker's lock: it must not call the breaker.
		OnStateChange: func(_ string, from, to gobreaker.State) {
			if to == gobreaker.StateOpen {
				c.openedAt.Store(time.Now().UnixMilli())
			}
			onChange(from, to)
		},
	})
	return c
}

// allow asks for one attempt. On success done must be called with the
// attempt's result. Otherwise retryAt is when to ask again (zero: when an
// attempt in flight, the half-open probe, finishes).
func (c *circuit) allow() (done func(error), retryAt time.Time) {
	done, err := c.cb.Allow()
	if err == nil {
		return done, time.Time{}
	}
	if errors.Is(err, gobreaker.ErrOpenState) {
		return nil, time.UnixMilli(c.openedAt.Load()).Add(c.openFor + time.Millisecond)
	}
	return nil, time.Time{}
}

func (c *circuit) isOpen() bool { return c.cb.State() == gobreaker.StateOpen }

func (c *circuit) view() *CircuitView {
	st := c.cb.State()
	n := c.cb.Counts()
	v := &CircuitView{
		State:               stateName(st),
		Requests:            n.Requests,
		Failures:            n.TotalFailures,
		ConsecutiveFailures: n.ConsecutiveFailures,
	}
	if ms := c.openedAt.Load(); ms != 0 {
		at := time.UnixMilli(ms).UTC()
		v.OpenedAt = &at
		if st == gobreaker.StateOpen {
			next := at.Add(c.openFor)
			v.NextProbeAt = &next
		}
	}
	return v
}

func stateName(s gobreaker.State) string {
	switch s {
	case gobreaker.StateOpen:
		return "open"
	case gobreaker.StateHalfOpen:
		return "half_open"
	default:
		return "closed"
	}
}

// CircuitView is an endpoint's circuit breaker as the API shows it.
type CircuitView struct {
	// State is closed (sending), open (sending nothing) or half_open (one
	// probe request decides).
	State string `json:"state"`
	// OpenedAt is when the circuit last opened; NextProbeAt when an open
	// circuit lets its probe through.
	OpenedAt    *time.Time `json:"opened_at,omitempty"`
	NextProbeAt *time.Time `json:"next_probe_at,omitempty"`
	// Requests and Failures count the current window (closed state).
	Requests            uint32 `json:"requests"`
	Failures            uint32 `json:"failures"`
	ConsecutiveFailures uint32 `json:"consecutive_failures"`
}
