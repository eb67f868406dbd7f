package engine

import (
	"context"
	"errors"
	"strings"
	"time"

	"hookline/httpout"
	"hookline/wal"
)

// EventTest is the type of the event TestEndpoint sends.
const EventTest = ReservedTypePrefix + "test"

// TestResult is the outcome of the one attempt TestEndpoint makes, as the
// API shows it.
type TestResult struct {
	EventID    string `json:"event_id"`
	EndpointID string `json:"endpoint_id"`
	// Success is true for a 2xx answer.
	Success bool `json:"success"`
	// Status is the HTTP status, 0 when no response arrived; ErrorClass is
	// then one of timeout, refused, dns, tls, ssrf, network, invalid_url,
	// response_headers_too_large.
	Status     int     `json:"status"`
	ErrorClass string  `json:"error_class"`
	LatencyMs  float64 `json:"latency_ms"`
	// ResponseBody is the first 4 KiB (the sender's capture size) of the
	// answer, as text; invalid UTF-8 is replaced by U+FFFD.
	ResponseBody string    `json:"response_body"`
	AttemptedAt  time.Time `json:"attempted_at"`
}

// TestEndpoint sends tenant's endpoint epID a hookline.test event and returns
// the result of that one attempt. How it works:
//  1. The event is appended durably, like a published one, so it is in the
//     event log with its own ID; but it is addressed to no endpoint: no
//     queue entry is written and no lane is offered it, so no other
//     endpoint gets it (whatever it subscribes to) and the endpoint's own
//     lane cannot send it a second time.
//  2. One attempt is made at once, on the caller's goroutine: signed with
//     the endpoint's secret, with the usual headers (webhook-id is the
//     event's ID, hookline-attempt 1), bounded by the delivery timeout.
//  3. The attempt is recorded in the attempt log as a final outcome:
//     success, or a dead letter for any failure, retryable or not. A test
//     is never retried, and nothing is left in the queue or the retry index.
//
// A test goes out whatever the endpoint's state and subscriptions: paused,
// disabled and open-circuit endpoints are tested too (it is how an operator
// checks that a receiver was fixed), outside max_in_flight and rate_limit.
// It changes no state of the endpoint: its circuit, failing time and
// disabled flag are left as they are, and a 410 answer does not disable it.
// Back-pressure from the delivery backlog does not refuse a test (it adds no
// delivery to the backlog); low free disk does.
//
// payload is raw JSON placed unchanged as the body's "data", as in Publish;
// nil sends a default payload naming the endpoint. After a crash between
// steps 1 and 3 the event stays in the log with no attempt: a test is at
// most once.
func (e *Engine) TestEndpoint(ctx context.Context, tenant, epID string, payload []byte) (TestResult, error) {
	res, err := e.testEndpoint(tenant, epID, payload)
	if err == nil {
		e.Audit(ctx, Change{Action: "endpoint.test", Tenant: tenant, Resource: epID})
	}
	return res, err
}

func (e *Engine) testEndpoint(tenant, epID string, payload []byte) (TestResult, error) {
	if pressure(e.pressure.state.Load()) == pressureDisk {
		if err := e.checkPressure(); err != nil {
			return TestResult{}, err
		}
	}
	e.cfgMu.RLock()
	ln, err := e.lookupLaneLocked(tenant, epID)
	if err != nil {
		e.cfgMu.RUnlock()
		return TestResult{}, err
	}
	cfg := ln.config()
	if payload == nil {
		payload = defaultTestPayload(cfg.ep.ID)
	}
	now := time.Now()
	body := appendBody(nil, EventTest, now, payload)
	// cfgMu is held across the append, as Publish holds it, so a tenant
	// deleted meanwhile gets no event written after its deletion.
	var res [1]wal.AppendResult
	err = e.log.Append([]wal.AppendEvent{{Tenant: tenant, Type: EventTest, TimeMs: now.UnixMilli(), Body: body}}, res[:])
	ts := e.tenants[tenant]
	e.cfgMu.RUnlock()
	if err != nil {
		if errors.Is(err, wal.ErrClosed) {
			return TestResult{}, Unavailable("shutting_down", "the server is shutting down")
		}
		return TestResult{}, err
	}
	e.m.eventsIngested[OriginTest].Inc()
	ts.published.add(e.health.now(), 1)
	id := res[0].ID
	msgID := FormatEventID(id)

	at := time.Now()
	var (
		r httpout.Result
		w worker
	)
	cfg, req, rr, rerr := ln.buildRequest(cfg, &w, msgID, body, at, 1)
	if rerr != nil {
		// Nothing was sent: the test shows why, as the log does.
		r.ErrClass, r.Body = errClassRender, []byte(rerr.Error())
	} else {
		e.sender.Send(&req, &r)
	}
	e.m.testAttempts[classOf(&r)].Inc()

	m := wal.Move{Endpoint: ln.id, Event: id, Attempt: wal.Attempt{
		TimeMs:    at.UnixMilli(),
		Attempt:   1,
		Outcome:   wal.OutcomeDead,
		Status:    r.Status,
		ErrClass:  r.ErrClass,
		LatencyUs: r.Latency.Microseconds(),
		Response:  r.Body,
	}}
	// Logged as a delivery's attempt is: the request actually sent.
	cfg.logRequest(&m.Attempt, rr, rerr)
	success := classify(&r) == verdictSuccess
	if success {
		m.Attempt.Outcome = wal.OutcomeSuccess
	}
	ln.recordTest(&m)
	return TestResult{
		EventID:      msgID,
		EndpointID:   cfg.ep.ID,
		Success:      success,
		Status:       r.Status,
		ErrorClass:   r.ErrClass,
		LatencyMs:    float64(r.Latency.Microseconds()) / 1e3,
		ResponseBody: strings.ToValidUTF8(string(r.Body), "\uFFFD"),
		AttemptedAt:  at.UTC(),
	}, nil
}

// defaultTestPayload is the data of a test event sent without a payload.
// id is an endpoint ID: prefix and ULID characters, nothing to escape.
func defaultTestPayload(id string) []byte {
	return []byte(`{"message":"test event from hookline","endpoint_id":"` + id + `"}`)
}

// recordTest commits a test attempt's outcome. Unlike Lane.record it moves
// no depth counter: the test delivery was never queued. A failure to record
// is logged, not returned: the attempt was made, and its result is what the
// caller asked for.
func (ln *Lane) recordTest(m *wal.Move) {
	ln.recordMu.RLock()
	defer ln.recordMu.RUnlock()
	if ln.deleted.Load() {
		// Deleted during the attempt: its records are gone, record nothing.
		return
	}
	if err := ln.e.log.RecordAttempt(m); err != nil && !errors.Is(err, wal.ErrClosed) {
		ln.e.logger.Error("cannot record test attempt", "event", FormatEventID(m.Event), "endpoint", ln.config().ep.ID, "err", err)
	}
}
