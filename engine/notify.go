package engine

import (
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bytedance/sonic"

	"hookline/wal"
)

// Failure notifications: the operational events hookline publishes into a
// tenant's own stream about its endpoints, so an ops endpoint subscribed to
// "hookline.*" (or whoever reads the event feed) hears of failures before
// finding them. They go through the durable publish path like any event
// (OriginSystem: back-pressure does not hold them back). docs/notifications.md
// shows every payload. How it works:
//  1. hookline.endpoint.failing starts an endpoint's failing period: when
//     its circuit first opens (FailingSince goes from unset to set, in
//     circuitFailing), or when the periodic rate check finds that the
//     endpoint's last hour failed at least NotifyOptions.FailureRatio of at
//     least FailureMinAttempts attempts. One event per period: a period
//     already on, by either cause, publishes nothing more.
//  2. hookline.endpoint.recovered ends it: the circuit closes again
//     (clearFailing clears FailingSince), or, for a period the rate began
//     and no circuit opening joined, the hour's failure ratio falls below
//     half the threshold. After a recovery the rate check waits an hour
//     before judging the endpoint again: the hour's numbers still hold the
//     failures of the period just ended.
//  3. hookline.delivery.exhausted tells of a dead delivery, aggregated per
//     endpoint (notify_exhausted.go).
//  4. hookline.endpoint.disabled (endpoint_disable.go) shares the field
//     names: every payload has endpoint_id, url and at.
//
// The period of a circuit opening is FailingSince, stored with the
// endpoint, so it survives a restart (no second failing event; a success
// after the restart publishes recovered). A period the rate began lives in
// memory: after a restart the rate check starts afresh.
//
// Loops: deaths of deliveries of hookline.* events are not announced. An
// ops endpoint that is itself down would otherwise get an exhausted event
// for each of its own dead notifications, forever. Its own failing and
// disabled events still go out, once per period, to every subscriber.

// The types of the operational events (EventEndpointDisabled is with the
// disabling, EventTest with the test).
const (
	EventDeliveryExhausted = ReservedTypePrefix + "delivery.exhausted"
	EventEndpointFailing   = ReservedTypePrefix + "endpoint.failing"
	EventEndpointRecovered = ReservedTypePrefix + "endpoint.recovered"
)

// Why an endpoint's failing period began (the failing event's reason).
const (
	failingCircuit = "circuit_open"
	failingRate    = "failure_rate"
)

// NotifyOptions configure the failure notifications. In every field 0
// means the default, written next to the field.
type NotifyOptions struct {
	// ExhaustedWindow is the aggregation window of
	// hookline.delivery.exhausted (see exhaustedAgg). 0 means 1h.
	ExhaustedWindow time.Duration
	// ExhaustedSingles is how many deaths per endpoint and window are
	// announced one by one before the rest are summed up. 0 means 3;
	// negative: none, every death goes into a summary.
	ExhaustedSingles int
	// FailureRatio of at least FailureMinAttempts attempts in an
	// endpoint's last hour (the health API's 1h window) starts a failing
	// period. 0 means 0.5 and 20; FailureMinAttempts negative: the rate
	// starts none, only circuit openings do.
	FailureRatio       float64
	FailureMinAttempts int
	// RateCheckEvery is how often the failure rates are checked. 0 means
	// 1 minute. A fast outage opens the circuit long before.
	RateCheckEvery time.Duration
}

// EnsureDefaults fills zero fields with their defaults.
func (o *NotifyOptions) EnsureDefaults() {
	if o.ExhaustedWindow == 0 {
		o.ExhaustedWindow = time.Hour
	}
	if o.ExhaustedSingles == 0 {
		o.ExhaustedSingles = 3
	}
	if o.FailureRatio == 0 {
		o.FailureRatio = 0.5
	}
	if o.FailureMinAttempts == 0 {
		o.FailureMinAttempts = 20
	}
	if o.RateCheckEvery == 0 {
		o.RateCheckEvery = time.Minute
	}
}

// Validate reports the first option out of its bounds. It expects
// EnsureDefaults to have run.
func (o *NotifyOptions) Validate() error {
	switch {
	case o.ExhaustedWindow <= 0:
		return fmt.Errorf("engine.NotifyOptions.ExhaustedWindow is %s; it must be positive", o.ExhaustedWindow)
	case !(o.FailureRatio > 0 && o.FailureRatio <= 1): // NaN fails too
		return fmt.Errorf("engine.NotifyOptions.FailureRatio is %g; it must be above 0 and at most 1", o.FailureRatio)
	case o.RateCheckEvery <= 0:
		return fmt.Errorf("engine.NotifyOptions.RateCheckEvery is %s; it must be positive", o.RateCheckEvery)
	}
	return nil
}

// laneNotify is one endpoint's notification state. mu is taken before
// Engine.cfgMu: a period's start or end is decided, stored and published
// under it, so a failing event never follows its own recovered event.
type laneNotify struct {
	mu sync.Mutex
	// rateSince is when the failure rate began the current period; nil
	// when no period is on or a circuit opening began it.
	rateSince *time.Time
	// byRate mirrors rateSince != nil for the check's fast path.
	byRate atomic.Bool
	// recoveredMs is when the last period ended (unix ms): the rate check
	// leaves the endpoint alone for an hour after it.
	recoveredMs atomic.Int64

	exhausted exhaustedAgg
}

// hourStats is an endpoint's last hour as the failing event shows it.
type hourStats struct {
	Attempts uint64 `json:"attempts"`
	Failed   uint64 `json:"failed"`
}

type endpointFailingPayload struct {
	EndpointID   string    `json:"endpoint_id"`
	URL          string    `json:"url"`
	Reason       string    `json:"reason"`
	At           time.Time `json:"at"`
	FailingSince time.Time `json:"failing_since"`
	LastHour     hourStats `json:"last_hour"`
}

type endpointRecoveredPayload struct {
	EndpointID   string    `json:"endpoint_id"`
	URL          string    `json:"url"`
	At           time.Time `json:"at"`
	FailingSince time.Time `json:"failing_since"`
	// FailingSeconds is how long the period lasted.
	FailingSeconds float64 `json:"failing_seconds"`
}

// notify publishes one operational event to tenant. A tenant deleted
// meanwhile, or a shutdown, are not errors worth a log line.
func (e *Engine) notify(tenant, typ, epID string, payload any) {
	data, err := sonic.Marshal(payload)
	if err != nil {
		e.logger.Error("cannot encode operational event", "type", typ, "endpoint", epID, "err", err)
		return
	}
	var res [1]wal.AppendResult
	evs := []PublishEvent{{Type: typ, Payload: data}}
	if err := e.publish(tenant, evs, res[:], OriginSystem); err != nil {
		var ee *Error
		if errors.As(err, &ee) && (ee.Code == "shutting_down" || ee.Code == "tenant_not_found") || errors.Is(err, ErrNotOwner) {
			return
		}
		e.logger.Error("cannot publish operational event", "type", typ, "endpoint", epID, "err", err)
	}
}

// failingStartedLocked publishes the failing event of a circuit's first
// opening, which set ep's FailingSince at now, unless the failure rate
// began the period already. The caller holds ln.notify.mu.
func (e *Engine) failingStartedLocked(ln *Lane, ep Endpoint, now time.Time) {
	if ln.notify.rateSince != nil {
		return
	}
	e.notify(ep.Tenant, EventEndpointFailing, ep.ID, endpointFailingPayload{
		EndpointID: ep.ID, URL: ep.URL, Reason: failingCircuit,
		At: now, FailingSince: now, LastHour: ln.health.lastHour(now),
	})
}

// failingEndedLocked ends the failing period: the circuit closed and
// cleared FailingSince, which was since, or the rate fell. It publishes
// the recovered event. The caller holds ln.notify.mu.
func (e *Engine) failingEndedLocked(ln *Lane, ep Endpoint, since time.Time) {
	n := &ln.notify
	if n.rateSince != nil && n.rateSince.Before(since) {
		since = *n.rateSince
	}
	now := time.Now().UTC()
	n.rateSince = nil
	n.byRate.Store(false)
	n.recoveredMs.Store(now.UnixMilli())
	e.notify(ep.Tenant, EventEndpointRecovered, ep.ID, endpointRecoveredPayload{
		EndpointID: ep.ID, URL: ep.URL, At: now, FailingSince: since,
		FailingSeconds: math.Round(now.Sub(since).Seconds()*1000) / 1000,
	})
}

// checkFailureRates runs every RateCheckEvery: each endpoint's last hour
// may start or end a failing period of the rate (see the comment at the
// top).
func (e *Engine) checkFailureRates() {
	o := &e.opts.Notify
	if o.FailureMinAttempts < 0 {
		return
	}
	for _, ln := range e.allLanes() {
		e.checkFailureRate(ln, e.health.now().UTC())
	}
}

func (e *Engine) checkFailureRate(ln *Lane, now time.Time) {
	o := &e.opts.Notify
	n := &ln.notify
	if ep := &ln.config().ep; ep.FailingSince != nil || ep.Disabled || ln.deleted.Load() {
		// A circuit period ends when the circuit closes; a disabled
		// endpoint makes no attempts, its hour only ages.
		return
	}
	byRate := n.byRate.Load()
	if !byRate && now.UnixMilli()-n.recoveredMs.Load() < hourMs {
		return
	}
	h := ln.health.lastHour(now)
	failing := h.Attempts > 0 && h.Attempts >= uint64(o.FailureMinAttempts) && float64(h.Failed) >= o.FailureRatio*float64(h.Attempts)
	recovered := h.Attempts > 0 && float64(h.Failed) < o.FailureRatio/2*float64(h.Attempts)
	if byRate && !recovered || !byRate && !failing {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	ep := ln.config().ep
	switch {
	case ep.FailingSince != nil:
		// The circuit opened meanwhile.
	case byRate && n.rateSince != nil:
		e.failingEndedLocked(ln, ep, *n.rateSince)
	case !byRate && n.rateSince == nil:
		n.rateSince = &now
		n.byRate.Store(true)
		e.notify(ep.Tenant, EventEndpointFailing, ep.ID, endpointFailingPayload{
			EndpointID: ep.ID, URL: ep.URL, Reason: failingRate,
			At: now, FailingSince: now, LastHour: h,
		})
	}
}
