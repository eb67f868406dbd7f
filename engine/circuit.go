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
// its lane sends nothing and spends no attempts; after OpenFor it is half
// open: it lets up to HalfOpenProbes distinct deliveries through, one at a
// time. The first success closes it; when all of them fail it opens again.
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
	// OpenFor is how long an open circuit waits before its probes. 0 means 30s.
	OpenFor time.Duration
	// HalfOpenProbes is how many deliveries a half-open circuit tries, one
	// at a time, before it opens again; the first to succeed closes it (see
	// circuit for why). 0 means 5: an endpoint that never answers gets five
	// requests per OpenFor, and a half-open state opens again on five
	// failures in a row, of different deliveries, the evidence Envoy's
	// outlier detection takes to eject a host (consecutive_5xx, 5 by
	// default).
	HalfOpenProbes int
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
	if o.HalfOpenProbes == 0 {
		o.HalfOpenProbes = 5
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
	case o.HalfOpenProbes < 1 || o.HalfOpenProbes > math.MaxUint32:
		return fmt.Errorf("engine.CircuitOptions.HalfOpenProbes is %d; it must be at least 1 and at most %d", o.HalfOpenProbes, uint32(math.MaxUint32))
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

// circuit is one endpoint's breaker with the times the API shows. How it
// works, on gobreaker's TwoStepCircuitBreaker:
//  1. Closed, it counts results over Window (gobreaker's rolling counts) and
//     opens on ReadyToTrip: a run of failures or a failure ratio.
//  2. Open, it refuses every attempt for OpenFor; allow tells the lane when
//     to ask again, and the lane spends no attempts meanwhile.
//  3. Half open, gobreaker lets one attempt through at a time (MaxRequests
//     is 1) and closes on the first success. A failed probe is reported to
//     it as excluded (IsExcluded) while fewer than HalfOpenProbes have
//     failed: an excluded result frees the half-open slot without counting,
//     so the lane's next delivery probes. The HalfOpenProbes-th failure is
//     reported as a failure, and the circuit opens again. The lane offers
//     due retries oldest first, then its queue, so the probes are different
//     deliveries whenever several wait; one is tried twice only when its
//     own retry comes due again.
//
// Why several probes: with one, one delivery spoke for the endpoint. A
// receiver that fails the first two attempts of every event opened the
// circuit on the first attempts of 20 events; each probe was then a second
// attempt (due retries go first, oldest first), which failed, and the 20
// events took 21 openings, 630 s at the default OpenFor. With five, the 20
// second attempts fail five per half-open state, then a third attempt
// closes the circuit: 5 openings.
//
// Why one success closes it: it shows the receiver is up, whatever failed
// before it (Hystrix does the same, as does gobreaker with MaxRequests 1).
// Asking for more, n successes in a row (gobreaker's MaxRequests n,
// MicroProfile's successThreshold) or a failure ratio over the probes below
// FailureRatio (resilience4j's permittedNumberOfCallsInHalfOpenState),
// would never close a fifo endpoint at such a receiver: it retries its head
// until it succeeds, so its probes go failure, failure, success, and the
// next event starts with a failure again. What keeps a lucky probe from
// making the circuit flap is the closed state's own rule: it opens again
// only on a run of failures or after MinRequests attempts at FailureRatio,
// so a close that was wrong costs about that many attempts, at most once
// per OpenFor.
//
// Invariants: an open circuit admits nothing; a half-open one admits one
// attempt at a time, and at most HalfOpenProbes of them reach the receiver
// (an attempt that never did, errNotAttempted, frees its slot and counts
// for nothing).
type circuit struct {
	cb       *gobreaker.TwoStepCircuitBreaker[struct{}]
	openFor  time.Duration
	openedAt atomic.Int64 // unix ms of the last opening; 0 before any

	probes int // HalfOpenProbes
	// halfOpen and probeFailures are written under the breaker's lock
	// (OnStateChange, IsExcluded); probeFailures is atomic for view.
	halfOpen      bool
	probeFailures atomic.Uint32
}

// newCircuit makes a breaker; inFlight reports the endpoint's current
// max_in_flight (it may change while the breaker lives). onChange and
// onProbeFailed (a failed probe that leaves the circuit half open) run
// under the breaker's lock: they must not call the breaker.
func newCircuit(o CircuitOptions, inFlight func() int, onChange func(from, to gobreaker.State), onProbeFailed func()) *circuit {
	c := &circuit{openFor: o.OpenFor, probes: o.HalfOpenProbes}
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
		// Runs under the breaker's lock, in the state the result's request
		// was admitted in (gobreaker drops results of an earlier state).
		IsExcluded: func(err error) bool {
			if errors.Is(err, errNotAttempted) {
				return true
			}
			if err == nil || !c.halfOpen || c.probeFailures.Add(1) >= uint32(c.probes) {
				return false
			}
			onProbeFailed()
			return true
		},
		OnStateChange: func(_ string, from, to gobreaker.State) {
			c.halfOpen = to == gobreaker.StateHalfOpen
			switch to {
			case gobreaker.StateOpen:
				c.openedAt.Store(time.Now().UnixMilli())
			case gobreaker.StateHalfOpen:
				c.probeFailures.Store(0)
			}
			onChange(from, to)
		},
	})
	return c
}

// allow asks for one attempt. On success done must be called with the
// attempt's result. Otherwise retryAt is when to ask again (zero: when an
// attempt in flight, a half-open probe, finishes).
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
	if st == gobreaker.StateHalfOpen {
		// The breaker counts failed probes as excluded; a success would
		// have closed the circuit, so every failure is in the run.
		v.Failures = c.probeFailures.Load()
		v.ConsecutiveFailures = v.Failures
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
	// State is closed (sending), open (sending nothing) or half_open
	// (probing: one delivery at a time, up to half_open_probes).
	State string `json:"state"`
	// OpenedAt is when the circuit last opened; NextProbeAt when an open
	// circuit lets its first probe through.
	OpenedAt    *time.Time `json:"opened_at,omitempty"`
	NextProbeAt *time.Time `json:"next_probe_at,omitempty"`
	// Requests and Failures count the current window when closed, and the
	// probes sent and failed so far when half open.
	Requests            uint32 `json:"requests"`
	Failures            uint32 `json:"failures"`
	ConsecutiveFailures uint32 `json:"consecutive_failures"`
}
