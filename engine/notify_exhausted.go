package engine

import (
	"bytes"
	"strings"
	"sync"
	"time"

	"hookline/wal"
)

// Why a delivery died (hookline.delivery.exhausted's reason).
const (
	// exhaustedRetries: its last attempt failed in a way worth retrying,
	// and the schedule had no delay left.
	exhaustedRetries = "retries_exhausted"
	// exhaustedFinal: the receiver's answer (a 3xx, a 4xx other than 408
	// and 429, 410) or the error (ssrf, invalid_url, ...) is not retried.
	exhaustedFinal = "not_retryable"
	// exhaustedUndeliverable: no request could be made: the event was
	// unreadable or past retention, or its request did not render
	// (error_class event_unreadable, expired, render).
	exhaustedUndeliverable = "undeliverable"
)

// exhaustedAgg aggregates one endpoint's hookline.delivery.exhausted
// events, so an endpoint down for a day does not make one event per dead
// delivery. How it works:
//  1. The first death opens a window of NotifyOptions.ExhaustedWindow. Its
//     first ExhaustedSingles deaths are announced one by one; the ones
//     after them are counted (how many, the first and last event ID, the
//     last death as a sample).
//  2. When a window ends with deaths counted, one summary is published and
//     the next window opens at once, in which every death is counted: an
//     endpoint that keeps failing gets one summary per window, and no
//     singles until a window passes without a death.
//  3. A window that ends with nothing counted closes; the next death opens
//     a fresh one, singles first.
//  4. At a graceful Stop a window with counted deaths publishes its summary
//     early (window_end is the stop). The counts live in memory only: a
//     crash loses those of the open window (the deaths are in the
//     dead-letter log all the same), and after any restart the next death
//     opens a fresh window.
//
// mu is taken before Engine.cfgMu: publishing under it keeps an endpoint's
// singles and summaries in order.
type exhaustedAgg struct {
	mu      sync.Mutex
	start   time.Time // the open window's start; zero when none is open
	singles int       // deaths announced one by one in the open window
	summing bool      // the open window follows a summary: it has no singles
	count   int       // deaths counted for the summary
	first   string    // the first counted death's event ID
	sample  deliveryExhaustedPayload
	timer   *time.Timer
	stopped bool // Stop published what was counted: nothing more
}

type deliveryExhaustedPayload struct {
	EndpointID string    `json:"endpoint_id"`
	URL        string    `json:"url"`
	Summary    bool      `json:"summary"`
	EventID    string    `json:"event_id"`
	EventType  string    `json:"event_type"`
	Attempts   int       `json:"attempts"`
	Status     int       `json:"status"`
	ErrorClass string    `json:"error_class"`
	Reason     string    `json:"reason"`
	At         time.Time `json:"at"`
}

type exhaustedSummaryPayload struct {
	EndpointID   string    `json:"endpoint_id"`
	URL          string    `json:"url"`
	Summary      bool      `json:"summary"`
	Count        int       `json:"count"`
	FirstEventID string    `json:"first_event_id"`
	LastEventID  string    `json:"last_event_id"`
	WindowStart  time.Time `json:"window_start"`
	WindowEnd    time.Time `json:"window_end"`
	At           time.Time `json:"at"`
	// Sample is the last death counted, as its single event would be.
	Sample deliveryExhaustedPayload `json:"sample"`
}

// recordDeath records a delivery's last attempt and, once it is stored,
// announces the death and logs it. typ is the event's type, "" when
// unknown.
func (ln *Lane) recordDeath(cfg *laneConfig, m *wal.Move, typ, reason string) {
	if ln.record(m) {
		ln.e.deliveryDied(ln, cfg, m, typ, reason)
		ln.logDeath(cfg, m, reason)
	}
}

// deliveryDied counts or announces one dead delivery (see exhaustedAgg).
func (e *Engine) deliveryDied(ln *Lane, cfg *laneConfig, m *wal.Move, typ, reason string) {
	if strings.HasPrefix(typ, ReservedTypePrefix) {
		return // see "Loops" in notify.go
	}
	ep := &cfg.ep
	a := &m.Attempt
	p := deliveryExhaustedPayload{
		EndpointID: ep.ID, URL: ep.URL,
		EventID: FormatEventID(m.Event), EventType: typ,
		Attempts: a.Attempt, Status: a.Status, ErrorClass: a.ErrClass,
		Reason: reason, At: time.UnixMilli(a.TimeMs).UTC(),
	}
	o := &e.opts.Notify
	g := &ln.notify.exhausted
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.stopped {
		return
	}
	if g.start.IsZero() {
		g.start, g.singles, g.summing = time.Now().UTC(), 0, false
		g.timer = time.AfterFunc(o.ExhaustedWindow, func() { e.exhaustedWindowEnd(ln) })
	}
	if !g.summing && g.singles < o.ExhaustedSingles {
		g.singles++
		e.notify(ep.Tenant, EventDeliveryExhausted, ep.ID, p)
		return
	}
	g.count++
	if g.count == 1 {
		g.first = p.EventID
	}
	g.sample = p
}

// exhaustedWindowEnd runs when ln's window ends (step 2 and 3).
func (e *Engine) exhaustedWindowEnd(ln *Lane) {
	g := &ln.notify.exhausted
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.stopped || ln.deleted.Load() {
		return
	}
	if g.count == 0 {
		g.start, g.timer = time.Time{}, nil
		return
	}
	now := e.publishSummaryLocked(ln)
	g.start, g.singles, g.summing = now, 0, true
	g.timer = time.AfterFunc(e.opts.Notify.ExhaustedWindow, func() { e.exhaustedWindowEnd(ln) })
}

// publishSummaryLocked publishes the counted deaths and resets the count;
// it returns the window's end.
func (e *Engine) publishSummaryLocked(ln *Lane) time.Time {
	g := &ln.notify.exhausted
	now := time.Now().UTC()
	ep := ln.config().ep
	e.notify(ep.Tenant, EventDeliveryExhausted, ep.ID, exhaustedSummaryPayload{
		EndpointID: ep.ID, URL: ep.URL, Summary: true,
		Count: g.count, FirstEventID: g.first, LastEventID: g.sample.EventID,
		WindowStart: g.start, WindowEnd: now, At: now, Sample: g.sample,
	})
	g.count, g.first, g.sample = 0, "", deliveryExhaustedPayload{}
	return now
}

// flushExhausted runs in Stop, after the lanes: every window with deaths
// counted publishes its summary now (step 4).
func (e *Engine) flushExhausted() {
	for _, ln := range e.allLanes() {
		g := &ln.notify.exhausted
		g.mu.Lock()
		g.stopped = true
		if g.timer != nil {
			g.timer.Stop()
		}
		if g.count > 0 && !ln.deleted.Load() {
			e.publishSummaryLocked(ln)
		}
		g.mu.Unlock()
	}
}

// bodyType is the event type at the start of a delivery body (see
// appendBody), "" when body does not start like one.
func bodyType(body []byte) string {
	const head = `{"type":"`
	rest, ok := bytes.CutPrefix(body, []byte(head))
	if !ok {
		return ""
	}
	if i := bytes.IndexByte(rest, '"'); i >= 0 {
		return string(rest[:i])
	}
	return ""
}
