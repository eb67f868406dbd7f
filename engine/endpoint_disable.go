package engine

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"time"

	"github.com/sony/gobreaker/v2"

	"hookline/httpout"
	"hookline/wal"
)

// Reasons hookline disables an endpoint by itself (Endpoint.DisabledReason).
const (
	disabledGone    = "gone"    // it answered 410 Gone
	disabledFailing = "failing" // its circuit stayed open for Options.DisableAfter
)

// EventEndpointDisabled is the operational event a tenant receives when
// hookline disables one of its endpoints, so an ops endpoint subscribed to it
// hears of it.
const EventEndpointDisabled = ReservedTypePrefix + "endpoint.disabled"

// circuitChanged runs under the circuit's lock (see newCircuit), so it only
// counts and logs; what writes the endpoint record runs on its own goroutine.
func (e *Engine) circuitChanged(ln *Lane, from, to gobreaker.State) {
	e.m.circuitTransitions[to].Inc()
	cfg := ln.config()
	level := slog.LevelInfo
	if to == gobreaker.StateOpen {
		level = slog.LevelWarn // deliveries to the endpoint stop for open_for
	}
	e.logger.Log(context.Background(), level, "endpoint circuit "+stateName(to), "endpoint", cfg.ep.ID, "tenant", cfg.ep.Tenant, "from", stateName(from))
	switch {
	case to == gobreaker.StateOpen:
		e.goNotify(func() { e.circuitFailing(ln) })
	case to == gobreaker.StateClosed && from == gobreaker.StateHalfOpen:
		e.goNotify(func() { e.clearFailing(ln) })
	}
}

// circuitFailing runs when the circuit opens and when a probe fails
// without opening it again (see CircuitOptions.HalfOpenProbes): it starts
// the endpoint's failing time on the first opening and, later, disables the
// endpoint once it has failed for DisableAfter, so an endpoint whose probes
// fail one at a time, far apart, is disabled as soon as one opening per
// probe would have disabled it.
func (e *Engine) circuitFailing(ln *Lane) {
	now := time.Now().UTC()
	since := ln.config().ep.FailingSince
	if since == nil {
		// Under the notification lock: the failing event goes out with the
		// change, never after a recovery that followed it.
		ln.notify.mu.Lock()
		defer ln.notify.mu.Unlock()
		ep, changed := e.mutateEndpoint(ln, func(ep *Endpoint) bool {
			if ep.FailingSince != nil || ep.Disabled {
				return false
			}
			ep.FailingSince = &now
			return true
		})
		if changed {
			e.failingStartedLocked(ln, ep, now)
		}
		return
	}
	if e.opts.DisableAfter > 0 && now.Sub(*since) >= e.opts.DisableAfter {
		e.disableEndpoint(ln, disabledFailing)
	}
}

// clearFailing ends the failing time: a probe or, after a restart, any
// attempt succeeded.
func (e *Engine) clearFailing(ln *Lane) {
	ln.notify.mu.Lock()
	defer ln.notify.mu.Unlock()
	var since *time.Time
	ep, changed := e.mutateEndpoint(ln, func(ep *Endpoint) bool {
		if ep.FailingSince == nil {
			return false
		}
		since, ep.FailingSince = ep.FailingSince, nil
		return true
	})
	if changed {
		e.failingEndedLocked(ln, ep, *since)
	}
}

// disableEndpoint disables the endpoint for reason, logs it and publishes
// hookline.endpoint.disabled to its tenant. Its queued deliveries stay queued: an
// operator who enables it again gets them delivered.
func (e *Engine) disableEndpoint(ln *Lane, reason string) {
	now := time.Now().UTC()
	ep, changed := e.mutateEndpoint(ln, func(ep *Endpoint) bool {
		if ep.Disabled {
			return false
		}
		ep.Disabled, ep.DisabledReason, ep.DisabledAt = true, reason, &now
		return true
	})
	if !changed {
		return
	}
	e.m.endpointsAutoDisabled[reason].Inc()
	// The query's values are often the receiver's token: the log keeps
	// their names only. The tenant's own event below has the whole URL.
	e.logger.Warn("endpoint disabled", "endpoint", ep.ID, "tenant", ep.Tenant, "reason", reason, "url", httpout.RedactURL(ep.URL))
	e.notify(ep.Tenant, EventEndpointDisabled, ep.ID, endpointDisabledPayload{
		EndpointID:   ep.ID,
		URL:          ep.URL,
		Reason:       reason,
		At:           now,
		DisabledAt:   now,
		FailingSince: ep.FailingSince,
	})
}

type endpointDisabledPayload struct {
	EndpointID string    `json:"endpoint_id"`
	URL        string    `json:"url"`
	Reason     string    `json:"reason"`
	At         time.Time `json:"at"`
	// DisabledAt is At under the name the event had before the other
	// hookline.* events came: receivers written then read it.
	DisabledAt   time.Time  `json:"disabled_at"`
	FailingSince *time.Time `json:"failing_since,omitempty"`
}

// mutateEndpoint applies f to a copy of the lane's endpoint and, when f
// reports a change, stores it and hands the lane the new config. It does
// nothing for a deleted endpoint. It returns the endpoint as stored.
func (e *Engine) mutateEndpoint(ln *Lane, f func(ep *Endpoint) bool) (Endpoint, bool) {
	e.cfgMu.Lock()
	defer e.cfgMu.Unlock()
	if e.lanes[ln.id] != ln {
		return Endpoint{}, false
	}
	ep := ln.config().ep
	ep.EventTypes = slices.Clone(ep.EventTypes)
	if !f(&ep) {
		return ep, false
	}
	ep.UpdatedAt = time.Now().UTC()
	cfg, err := e.laneConfig(&ep)
	if err == nil {
		err = e.putEndpoint(ln.id, &ep)
	}
	if err != nil {
		if !errors.Is(err, wal.ErrClosed) {
			e.logger.Error("cannot update endpoint state", "endpoint", ep.ID, "err", err)
		}
		return ep, false
	}
	ln.setConfig(cfg)
	return ep, true
}

// goNotify runs f, a circuit change's record and notification, on its own
// goroutine (the circuit calls back under its lock), counted so Stop waits
// for it before the log closes: a failing event published as the server
// stopped was refused (shutting_down) and never sent, while the endpoint's
// failing_since was already stored, so no later start sent it either.
// One that comes after Stop began waiting (an attempt that outlived the
// shutdown deadline) is dropped: the log is about to close.
func (e *Engine) goNotify(f func()) {
	e.notifyMu.Lock()
	defer e.notifyMu.Unlock()
	if e.notifyStopped {
		return
	}
	e.notifying.Add(1)
	go func() {
		defer e.notifying.Done()
		f()
	}()
}
