package engine

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"hookline/wal"
)

// PublishEvent is one event to publish.
type PublishEvent struct {
	Type           string
	Payload        []byte // raw JSON, placed unchanged as the body's "data"
	IdempotencyKey string
	// AltIdempotencyKey is a second key (wal.AppendEvent's): the event is
	// a duplicate when either was seen. engine/inbound sets it; the
	// ingest API does not.
	AltIdempotencyKey string
}

// Publish appends evs for tenant durably and queues one delivery per
// subscribed endpoint. It returns once the events are fsynced; res[i] gets
// event i's ID, or the first event's ID for a repeated idempotency key.
func (e *Engine) Publish(tenant string, evs []PublishEvent, res []wal.AppendResult) error {
	return e.publish(tenant, evs, res, OriginAPI)
}

// PublishFrom is Publish for events that did not come through the ingest
// API: origin labels them in the ingest counters (inbound sources use
// OriginInbound), and OriginSystem events pass back-pressure, as they
// tell operators what broke. Only OriginSystem and OriginTest events may
// have a type under ReservedTypePrefix; others get reserved_event_type.
func (e *Engine) PublishFrom(origin Origin, tenant string, evs []PublishEvent, res []wal.AppendResult) error {
	return e.publish(tenant, evs, res, origin)
}

func (e *Engine) publish(tenant string, evs []PublishEvent, res []wal.AppendResult, origin Origin) error {
	if !e.writable(tenant) {
		return ErrNotOwner
	}
	// hookline's own few events go through: they tell operators what broke.
	if origin != OriginSystem {
		if err := e.checkPressure(); err != nil {
			return err
		}
	}
	// Only hookline itself makes the types under ReservedTypePrefix.
	mayReserved := origin == OriginSystem || origin == OriginTest
	for i := range evs {
		if !ValidEventType(evs[i].Type) {
			return Invalid("invalid_type", "event %d: type %q must be 1-%d characters of A-Z a-z 0-9 . _ : -", i, evs[i].Type, maxTypeLen)
		}
		if !mayReserved && ReservedEventType(evs[i].Type) {
			return ReservedType("event %d: type %q is reserved", i, evs[i].Type)
		}
	}
	p := getPublishBuf(len(evs))
	defer putPublishBuf(p)
	now := time.Now()
	for i := range evs {
		p.bodies = appendBody(p.bodies, evs[i].Type, now, evs[i].Payload)
		p.ends = append(p.ends, len(p.bodies))
	}

	e.cfgMu.RLock()
	ts := e.tenants[tenant]
	if ts == nil {
		e.cfgMu.RUnlock()
		return NotFound("tenant_not_found", "tenant %q does not exist", tenant)
	}
	if err := validatePayloads(ts, evs); err != nil {
		e.cfgMu.RUnlock()
		return err
	}
	if origin == OriginAPI || origin == OriginInbound {
		if err := e.checkTenantLimits(ts, len(evs)); err != nil {
			e.cfgMu.RUnlock()
			return err
		}
	}
	for i := range evs {
		body := p.bodies[p.bodyStart(i):p.ends[i]]
		for _, ln := range ts.lanes {
			if ln.accepts(evs[i].Type, body) {
				p.eps = append(p.eps, ln.id)
				p.targets = append(p.targets, ln)
			}
		}
		p.epEnds = append(p.epEnds, len(p.eps))
	}
	// Count the deliveries before they exist: once committed, one may be
	// attempted and its outcome counted before Append returns here. What is
	// not written (an error, a duplicate) is taken back below.
	for _, ln := range p.targets {
		ln.depth.Add(1)
	}
	bodyStart, epStart := 0, 0
	for i := range evs {
		p.wevs = append(p.wevs, wal.AppendEvent{
			Tenant:            tenant,
			Type:              evs[i].Type,
			TimeMs:            now.UnixMilli(),
			Body:              p.bodies[bodyStart:p.ends[i]],
			IdempotencyKey:    evs[i].IdempotencyKey,
			AltIdempotencyKey: evs[i].AltIdempotencyKey,
			Endpoints:         p.eps[epStart:p.epEnds[i]],
			Ref:               p,
			RefIndex:          i,
		})
		bodyStart, epStart = p.ends[i], p.epEnds[i]
	}
	err := e.log.Append(p.wevs, res)
	e.cfgMu.RUnlock()
	if err != nil {
		for _, ln := range p.targets {
			ln.depth.Add(-1)
		}
		if errors.Is(err, wal.ErrClosed) {
			return Unavailable("shutting_down", "the server is shutting down")
		}
		return fmt.Errorf("cannot append %d events of tenant %q: %w", len(evs), tenant, err)
	}

	epStart = 0
	accepted := 0
	ingested, duplicates := e.m.eventsIngested[origin], e.m.eventsDuplicate[origin]
	for i := range p.wevs {
		if res[i].Duplicate {
			duplicates.Inc()
			for _, ln := range p.targets[epStart:p.epEnds[i]] {
				ln.depth.Add(-1)
			}
		} else {
			ingested.Inc()
			accepted++
			e.m.fanoutDeliveries.Add(p.epEnds[i] - epStart)
		}
		epStart = p.epEnds[i]
	}
	// One atomic add per call; counted at commit, on the stats' clock.
	ts.published.add(e.health.now(), uint64(accepted))
	return nil
}

// onAppend runs on the wal's writer goroutine for each event written, in
// ID order, before the Publish that wrote it returns: it hands the new
// deliveries to their lanes in memory. ev.Ref is that Publish's publishBuf,
// still owned by the Publish call waiting for this commit.
func (e *Engine) onAppend(id wal.ID, ev *wal.AppendEvent) {
	e.recent.add(id, ev.Body)
	e.feed.notify(ev.Tenant)
	p, ok := ev.Ref.(*publishBuf)
	if !ok {
		return
	}
	start := 0
	if ev.RefIndex > 0 {
		start = p.epEnds[ev.RefIndex-1]
	}
	for _, ln := range p.targets[start:p.epEnds[ev.RefIndex]] {
		ln.offer(id)
	}
}

// appendBody renders the delivery body. typ was validated to need no JSON
// escaping, and the payload is raw JSON copied as it came.
func appendBody(dst []byte, typ string, t time.Time, payload []byte) []byte {
	dst = append(dst, `{"type":"`...)
	dst = append(dst, typ...)
	dst = append(dst, `","timestamp":"`...)
	dst = t.UTC().AppendFormat(dst, "2006-01-02T15:04:05.000Z07:00")
	dst = append(dst, `","data":`...)
	if len(payload) == 0 {
		dst = append(dst, "null"...)
	} else {
		dst = append(dst, payload...)
	}
	return append(dst, '}')
}

// publishBuf holds one Publish call's scratch space.
type publishBuf struct {
	bodies  []byte
	ends    []int
	wevs    []wal.AppendEvent
	eps     []wal.ID
	epEnds  []int
	targets []*Lane
}

// bodyStart is where event i's body starts in bodies.
func (p *publishBuf) bodyStart(i int) int {
	if i == 0 {
		return 0
	}
	return p.ends[i-1]
}

var publishBufPool = sync.Pool{New: func() any { return new(publishBuf) }}

func getPublishBuf(n int) *publishBuf {
	p := publishBufPool.Get().(*publishBuf)
	p.bodies, p.ends, p.wevs = p.bodies[:0], p.ends[:0], p.wevs[:0]
	p.eps, p.epEnds, p.targets = p.eps[:0], p.epEnds[:0], p.targets[:0]
	if cap(p.wevs) < n {
		p.wevs = make([]wal.AppendEvent, 0, n)
	}
	return p
}

func putPublishBuf(p *publishBuf) {
	clear(p.wevs)
	clear(p.targets)
	// Keep pooled buffers from pinning memory after one huge batch.
	if cap(p.bodies) > 4<<20 {
		p.bodies = nil
	}
	publishBufPool.Put(p)
}
