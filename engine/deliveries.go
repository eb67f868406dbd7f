package engine

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"hookline/wal"
)

// DeliveryFilter selects deliveries for ListDeliveries (one endpoint's)
// and ListTenantDeliveries.
type DeliveryFilter struct {
	Status string // pending, succeeded, retrying, dead; "" for all
	// Type is an event type pattern as in event_types ("invoice.*").
	Type string
	// Since and Until bound the events' times: Since inclusive, Until
	// exclusive; zero means unbounded.
	Since, Until time.Time
	// Cursor is the NextCursor of the previous page.
	Cursor string
	Limit  int
}

// Delivery is one event to one endpoint as the API shows it.
type Delivery struct {
	EventID       string     `json:"event_id"`
	EndpointID    string     `json:"endpoint_id"`
	EventType     string     `json:"event_type"`
	Status        string     `json:"status"`
	Attempts      int        `json:"attempts"`
	LastAttempt   *Attempt   `json:"last_attempt,omitempty"`
	NextAttemptAt *time.Time `json:"next_attempt_at,omitempty"`
	// AttemptLog is every attempt, oldest first (GetDelivery only).
	AttemptLog []Attempt `json:"attempt_log,omitempty"`
}

// Attempt is one logged attempt.
type Attempt struct {
	Attempt       int        `json:"attempt"`
	At            time.Time  `json:"at"`
	URL           string     `json:"url,omitempty"`
	Outcome       string     `json:"outcome"` // succeeded, retry, dead, replay_queued
	Status        int        `json:"status,omitempty"`
	ErrorClass    string     `json:"error_class,omitempty"`
	LatencyMs     float64    `json:"latency_ms"`
	NextAttemptAt *time.Time `json:"next_attempt_at,omitempty"`
	// ResponseHeaders are the logged headers of a failed attempt's answer
	// (Content-Type, Retry-After, Location, X-Request-Id), and ResponseBody
	// its first bytes (GetDelivery only).
	ResponseHeaders map[string]string `json:"response_headers,omitempty"`
	ResponseBody    string            `json:"response_body,omitempty"`
	// Method is the attempt's request method (GetDelivery only).
	// RequestBody is the first 4 KiB of the body sent, when it was not the
	// standard envelope: a body template's, or a corrected payload's.
	// Corrected says the attempt carried a payload given with a replay.
	// Error explains an attempt that sent nothing (render_failed).
	Method      string `json:"method,omitempty"`
	RequestBody string `json:"request_body,omitempty"`
	Corrected   bool   `json:"corrected,omitempty"`
	Error       string `json:"error,omitempty"`
}

// statusInFlight is a pending or retrying delivery whose attempt is under
// way: only the engine knows it, the wal's keys do not.
const statusInFlight = "in_flight"

// Listing bounds: a filter that matches little must not walk the whole log.
const (
	// maxDeliveryScan caps the deliveries a status or type filter may pass
	// over for one page (about 0.2 s); the page then ends early, maybe
	// empty, with a cursor to go on from.
	maxDeliveryScan = 100_000
)

func attemptView(a *wal.Attempt) Attempt {
	v := Attempt{
		Corrected:  a.Corrected,
		Attempt:    a.Attempt,
		At:         time.UnixMilli(a.TimeMs).UTC(),
		Status:     a.Status,
		ErrorClass: a.ErrClass,
		LatencyMs:  float64(a.LatencyUs) / 1e3,
	}
	switch a.Outcome {
	case wal.OutcomeSuccess:
		v.Outcome = "succeeded"
	case wal.OutcomeRetry:
		v.Outcome = "retry"
		next := time.UnixMilli(a.NextMs).UTC()
		v.NextAttemptAt = &next
	case wal.OutcomeQueued:
		// A replay's placeholder: At is when the attempt is due.
		v.Outcome = "replay_queued"
	case wal.OutcomeCancelled:
		v.Outcome = "cancelled"
	default:
		v.Outcome = "dead"
	}
	return v
}

// ListDeliveries returns a page of the endpoint's deliveries, newest event
// first, and the cursor of the next page ("" at the end).
func (e *Engine) ListDeliveries(tenant, epID string, f DeliveryFilter) ([]Delivery, string, error) {
	ln, err := e.readLaneOf(tenant, epID)
	if err != nil {
		return nil, "", err
	}
	if err := f.check(); err != nil {
		return nil, "", err
	}
	q := wal.DeliveryQuery{Endpoint: ln.id, Status: f.Status, MaxScan: maxDeliveryScan}
	q.After, q.Before = f.timeBounds()
	if ln.deleted.Load() {
		// Nothing of a deleted endpoint waits: what the store still has as
		// retrying or replay-queued is shown cancelled (deliveryView), and
		// pageDeliveries filters on what is shown.
		switch f.Status {
		case wal.StatusPending, wal.StatusRetrying:
			return nil, "", nil
		case wal.StatusCancelled:
			q.Status = ""
		}
	}
	if f.Cursor != "" {
		id, ok := ParseEventID(f.Cursor)
		if !ok {
			return nil, "", Invalid("invalid_cursor", "cursor %q is not one this API returned", f.Cursor)
		}
		if q.Before.IsZero() || id.Less(q.Before) {
			q.Before = id
		}
	}
	if !q.After.IsZero() && !q.Before.IsZero() && !q.After.Less(q.Before) {
		return nil, "", nil // an empty range
	}
	var res wal.ListResult
	out, last, err := e.pageDeliveries(&f, func(fn func(*wal.Delivery) bool) (err error) {
		res, err = e.log.ListDeliveries(q, fn)
		return err
	}, func(d *wal.Delivery, typ string) Delivery { return deliveryView(ln, d, typ) })
	if err != nil {
		return nil, "", err
	}
	return out, pageCursor(wal.Position{Event: res.Resume}, last, func(p wal.Position) string { return FormatEventID(p.Event) }), nil
}

// pageCursor returns the cursor of the page after one whose listing
// stopped at resume (the wal's scan budget ran out) or last (the page
// filled, see pageDeliveries), formatted; "" when neither, at the end.
func pageCursor(resume, last wal.Position, format func(wal.Position) string) string {
	switch {
	case !resume.IsZero():
		return format(resume)
	case !last.IsZero():
		return format(last)
	}
	return ""
}

// check refuses a filter with an unknown status, a bad type pattern or a
// page size out of bounds.
func (f *DeliveryFilter) check() error {
	switch f.Status {
	case "", wal.StatusPending, wal.StatusSucceeded, wal.StatusRetrying, wal.StatusDead, wal.StatusCancelled:
	default:
		return Invalid("invalid_status", "status %q is not one of pending, succeeded, retrying, dead, cancelled", f.Status)
	}
	if f.Type != "" && !validPattern(f.Type) {
		return Invalid("invalid_type", "type %q is not an event type, \"prefix.*\" or \"*\"", f.Type)
	}
	return CheckPageLimit(f.Limit)
}

// timeBounds returns Since and Until as exclusive event ID bounds, zero
// where unbounded.
func (f *DeliveryFilter) timeBounds() (after, before wal.ID) {
	if !f.Since.IsZero() {
		after = lastIDBefore(f.Since)
	}
	if !f.Until.IsZero() {
		before = wal.IDAt(f.Until.UnixMilli())
	}
	return after, before
}

// pageDeliveries fills a page from list, a wal listing run with the
// callback it is given: each delivery's event type is read, f's type
// filter applied, and the match shown through view. It returns the page
// and, when the page filled or the scan budget ran out, the position of
// the last delivery passed (to go on from; zero when the listing ended).
// The wal's own Resume, when it stopped first, is the caller's to take.
func (e *Engine) pageDeliveries(f *DeliveryFilter, list func(fn func(*wal.Delivery) bool) error,
	view func(d *wal.Delivery, typ string) Delivery) ([]Delivery, wal.Position, error) {
	var (
		out     []Delivery
		typ     []byte
		scanned int
		last    wal.Position
		lerr    error
	)
	err := list(func(d *wal.Delivery) bool {
		scanned++
		last = wal.Position{Event: d.Event, Endpoint: d.Endpoint}
		typ, lerr = e.log.EventType(d.Event, typ[:0])
		if lerr != nil && !errors.Is(lerr, wal.ErrNotFound) {
			return false
		}
		lerr = nil
		if f.Type == "" || matchType(f.Type, string(typ)) {
			// A deleted endpoint's waiting deliveries show as cancelled:
			// the status filter applies to what is shown (in_flight is a
			// pending or retrying one the wal already matched).
			if v := view(d, string(typ)); f.Status == "" || v.Status == f.Status || v.Status == statusInFlight {
				out = append(out, v)
			}
		}
		return len(out) < f.Limit && scanned < maxDeliveryScan
	})
	if err == nil {
		err = lerr
	}
	if err != nil {
		return nil, wal.Position{}, err
	}
	if len(out) < f.Limit && scanned < maxDeliveryScan {
		last = wal.Position{}
	}
	return out, last, nil
}

func deliveryView(ln *Lane, d *wal.Delivery, typ string) Delivery {
	v := Delivery{
		EventID:    FormatEventID(d.Event),
		EndpointID: ln.config().ep.ID,
		EventType:  typ,
		Status:     d.Status,
		Attempts:   d.Attempts,
	}
	switch waiting := d.Status == wal.StatusPending || d.Status == wal.StatusRetrying; {
	case waiting && ln.deleted.Load():
		v.Status = wal.StatusCancelled
	case waiting && ln.isInFlight(d.Event):
		v.Status = statusInFlight
	}
	if d.Attempts > 0 {
		a := attemptView(&d.Last)
		v.LastAttempt = &a
		if d.Status == wal.StatusRetrying && v.Status != wal.StatusCancelled {
			v.NextAttemptAt = a.NextAttemptAt
		}
	}
	return v
}

// GetDelivery returns one delivery with its whole attempt log.
// The delivery and its attempts are read from one snapshot of the store,
// so the status always counts the attempts shown.
func (e *Engine) GetDelivery(tenant, epID, eventID string) (Delivery, error) {
	ln, err := e.readLaneOf(tenant, epID)
	if err != nil {
		return Delivery{}, err
	}
	notFound := NotFound("delivery_not_found", "event %q has no delivery to endpoint %q", eventID, epID)
	ev, ok := ParseEventID(eventID)
	if !ok {
		return Delivery{}, notFound
	}
	ep := ln.config().ep
	var attempts []Attempt
	found, ok, err := e.log.ReadDelivery(ln.id, ev, func(a *wal.Attempt) error {
		av := attemptView(a)
		if a.Outcome != wal.OutcomeQueued && a.Outcome != wal.OutcomeCancelled {
			av.URL, av.Method = a.URL, a.Method
			if av.URL == "" {
				av.URL = ep.urlAt(av.At)
			}
			if av.Method == "" {
				av.Method = "POST"
			}
		}
		av.RequestBody = string(a.Request)
		if a.ErrClass == errClassRender {
			av.Error = string(a.Response)
		} else {
			av.ResponseBody = string(a.Response)
		}
		for line := range strings.SplitSeq(string(a.Headers), "\n") {
			if name, value, ok := strings.Cut(line, ": "); ok {
				if av.ResponseHeaders == nil {
					av.ResponseHeaders = map[string]string{}
				}
				av.ResponseHeaders[name] = value
			}
		}
		attempts = append(attempts, av)
		return nil
	})
	if err != nil {
		return Delivery{}, err
	}
	if !ok {
		return Delivery{}, notFound
	}
	typ, err := e.log.EventType(ev, nil)
	if err != nil && !errors.Is(err, wal.ErrNotFound) {
		return Delivery{}, err
	}
	v := deliveryView(ln, &found, string(typ))
	v.AttemptLog = attempts
	return v, nil
}

// findDelivery resolves the endpoint (with laneOf or readLaneOf) and event
// of a delivery request and reads the delivery, answering not-found errors
// the API shows.
func (e *Engine) findDelivery(lookup func(tenant, epID string) (*Lane, error), tenant, epID, eventID string) (*Lane, wal.ID, wal.Delivery, error) {
	ln, err := lookup(tenant, epID)
	if err != nil {
		return nil, wal.ID{}, wal.Delivery{}, err
	}
	ev, ok := ParseEventID(eventID)
	if !ok {
		return nil, wal.ID{}, wal.Delivery{}, NotFound("delivery_not_found", "event %q has no delivery to endpoint %q", eventID, epID)
	}
	d, found, err := e.deliveryOf(ln, ev)
	if err != nil {
		return nil, wal.ID{}, wal.Delivery{}, err
	}
	if !found {
		return nil, wal.ID{}, wal.Delivery{}, NotFound("delivery_not_found", "event %q has no delivery to endpoint %q", eventID, epID)
	}
	return ln, ev, d, nil
}

// laneOf finds a live endpoint, for the calls that change or send to it;
// readLaneOf a live or deleted one, for those that read its history.
func (e *Engine) laneOf(tenant, epID string) (*Lane, error) {
	e.cfgMu.RLock()
	defer e.cfgMu.RUnlock()
	return e.lookupLaneLocked(tenant, epID)
}

func (e *Engine) readLaneOf(tenant, epID string) (*Lane, error) {
	e.cfgMu.RLock()
	defer e.cfgMu.RUnlock()
	return e.lookupEndpointLocked(tenant, epID)
}

// ReplayDelivery sends a finished delivery (succeeded: forced; dead or cancelled) once
// more, at once, as its next attempt; with no success, it follows the rest
// of the retry schedule, if any is left. A delivery still waiting for an
// attempt is refused: it will be made anyway. With corr, the replay's
// attempts (and the retries after them) carry corr.Payload as the event's
// data instead of the published one, each marked corrected in the log;
// without, the delivery carries the event as published again.
func (e *Engine) ReplayDelivery(ctx context.Context, tenant, epID, eventID string, corr *Correction) (Delivery, error) {
	d, err := e.replayDelivery(tenant, epID, eventID, corr)
	if err == nil {
		c := Change{Action: "delivery.replay", Tenant: tenant, Resource: epID + "/" + eventID}
		if corr != nil {
			c.After = correctionAudit{Corrected: corr.Payload != nil, Reason: corr.Reason, PayloadBytes: len(corr.Payload)}
		}
		e.Audit(ctx, c)
	}
	return d, err
}

// Correction is a corrected payload given with a replay, and why; a nil
// Payload replays the event as published, with the reason audited.
type Correction struct {
	Payload []byte // raw JSON
	Reason  string
}

// correctionAudit is what the audit log keeps of a correction: the reason
// and the size, not the payload, which the delivery log shows.
type correctionAudit struct {
	Corrected    bool   `json:"corrected"`
	Reason       string `json:"reason,omitempty"`
	PayloadBytes int    `json:"payload_bytes"`
}

// maxReasonLen bounds a correction's reason.
const maxReasonLen = 1000

func (e *Engine) replayDelivery(tenant, epID, eventID string, corr *Correction) (Delivery, error) {
	// One replay or cancel at a time: the status check and the write must
	// not interleave with another action on the same delivery.
	e.replayMu.Lock()
	defer e.replayMu.Unlock()
	ln, ev, d, err := e.findDelivery(e.laneOf, tenant, epID, eventID)
	if err != nil {
		return Delivery{}, err
	}
	if d.Status != wal.StatusSucceeded && d.Status != wal.StatusDead && d.Status != wal.StatusCancelled {
		return Delivery{}, Conflict("delivery_pending", "the delivery is %s: its next attempt will be made without a replay", d.Status)
	}
	if corr != nil && len(corr.Reason) > maxReasonLen {
		return Delivery{}, Invalid("invalid_reason", "reason is %d bytes; at most %d allowed", len(corr.Reason), maxReasonLen)
	}
	var payload []byte
	if corr != nil && corr.Payload != nil {
		if err := e.checkCorrection(tenant, ev, corr); err != nil {
			return Delivery{}, err
		}
		payload = corr.Payload
	}
	if err := e.requeue(ln, ev, d.Attempts, d.Status == wal.StatusDead, false, payload); err != nil {
		return Delivery{}, err
	}
	return e.GetDelivery(tenant, epID, eventID)
}

// checkCorrection checks a corrected payload as a publish of the event's
// type would be: JSON (its size and depth are the API's to bound), valid
// against the type's schema when it has one.
func (e *Engine) checkCorrection(tenant string, ev wal.ID, corr *Correction) error {
	if len(corr.Payload) == 0 || !json.Valid(corr.Payload) {
		return Invalid("invalid_payload", "payload must be JSON")
	}
	typ, err := e.log.EventType(ev, nil)
	if err != nil {
		if errors.Is(err, wal.ErrNotFound) {
			return NotFound("event_not_found", "event %s is gone: there is nothing to replay", FormatEventID(ev))
		}
		return err
	}
	e.cfgMu.RLock()
	defer e.cfgMu.RUnlock()
	ts := e.tenants[tenant]
	if ts == nil {
		return NotFound("tenant_not_found", "tenant %q does not exist", tenant)
	}
	return validatePayloads(ts, []PublishEvent{{Type: string(typ), Payload: corr.Payload}})
}

// requeue queues a delivery that has had attempts (or none, for a
// backfill) for its next one, now, through the retry index: the lane's
// queue cursor has moved past its event. The caller holds replayMu; a job
// passes noSync, and a replay with a corrected payload its correction (see
// wal.Log.Replay).
func (e *Engine) requeue(ln *Lane, ev wal.ID, attempts int, wasDead, noSync bool, correction []byte) error {
	ln.recordMu.RLock()
	defer ln.recordMu.RUnlock()
	if ln.deleted.Load() {
		cfg := ln.config()
		return NotFound("endpoint_not_found", "endpoint %q does not exist in tenant %q", cfg.ep.ID, cfg.ep.Tenant)
	}
	ln.depth.Add(1)
	ln.retrying.Add(1)
	if correction != nil {
		e.corrections.Store(true)
	}
	if err := e.sched.replay(ln.id, ev, attempts, time.Now().UnixMilli(), wasDead, noSync, correction); err != nil {
		ln.depth.Add(-1)
		ln.retrying.Add(-1)
		return err
	}
	return nil
}

// CancelDelivery cancels the pending retry of a delivery: it will not be
// attempted again (a replay can still send it). An attempt already under
// way when the cancel comes is not stopped; its outcome is recorded.
func (e *Engine) CancelDelivery(ctx context.Context, tenant, epID, eventID string) (Delivery, error) {
	d, err := e.cancelDelivery(tenant, epID, eventID)
	if err == nil {
		e.Audit(ctx, Change{Action: "delivery.cancel", Tenant: tenant, Resource: epID + "/" + eventID})
	}
	return d, err
}

func (e *Engine) cancelDelivery(tenant, epID, eventID string) (Delivery, error) {
	// One replay or cancel at a time: the status check and the write must
	// not interleave with another action on the same delivery.
	e.replayMu.Lock()
	defer e.replayMu.Unlock()
	ln, ev, d, err := e.findDelivery(e.laneOf, tenant, epID, eventID)
	if err != nil {
		return Delivery{}, err
	}
	if d.Status != wal.StatusRetrying {
		return Delivery{}, Conflict("delivery_not_retrying", "the delivery is %s: only a pending retry can be cancelled", d.Status)
	}
	cancelled, err := e.cancelRetry(ln, ev, &d, false)
	if err != nil {
		return Delivery{}, err
	}
	if !cancelled {
		return Delivery{}, Conflict("delivery_not_retrying", "the delivery's retry was attempted meanwhile")
	}
	return e.GetDelivery(tenant, epID, eventID)
}

// cancelRetry removes retrying delivery d's pending retry; false when it
// was attempted meanwhile. The caller holds replayMu; a job passes noSync.
func (e *Engine) cancelRetry(ln *Lane, ev wal.ID, d *wal.Delivery, noSync bool) (bool, error) {
	ln.recordMu.RLock()
	defer ln.recordMu.RUnlock()
	// Counted before the entry goes, so the lane checks any retry that
	// fires from here on.
	ln.cancels.Add(1)
	cancelled, err := e.log.CancelRetry(ln.id, ev, d.Last.NextMs, d.Attempts, time.Now().UnixMilli(), noSync)
	if cancelled {
		ln.depth.Add(-1)
		ln.retrying.Add(-1)
	}
	return cancelled, err
}
