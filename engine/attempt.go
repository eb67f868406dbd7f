package engine

import (
	"errors"
	"time"

	"hookline/httpout"
	"hookline/wal"
)

// One attempt of one delivery, from the lane's dispatch to the recorded
// outcome (step 3 of Lane's comment): read the event, render and sign the
// endpoint's request, send it, decide and record what comes next.

// attemptItem is one delivery a lane hands to an attempt.
type attemptItem struct {
	ev        wal.ID
	fromDueMs int64 // 0 when the delivery came from the queue
	replayed  bool  // the retry entry was a replay's
	attempts  int   // attempts already made
	// raw is the event's stored record when the lane read it with its
	// backlog (see Lane.readBacklog); nil: the attempt reads it.
	raw []byte
	// done reports the attempt's result to the endpoint's circuit.
	done func(error)
}

// worker holds one attempt's reusable buffers.
type worker struct {
	recent []byte // body copied out of Engine.recent
	// Buffers of a shaped request (see renderRequest) and a corrected
	// payload.
	env, url, body, corr, stored []byte
	rec                          wal.EventRecord
	buf                          wal.EventBuf
	res                          httpout.Result
	sig                          []byte
	msgID                        []byte
	move                         wal.Move
}

func (ln *Lane) attempt(cfg *laneConfig, it attemptItem) {
	defer func() {
		ln.inFlightMu.Lock()
		delete(ln.inFlight, it.ev)
		ln.inFlightMu.Unlock()
		ln.e.m.inFlight.Dec()
		ln.doneCh <- struct{}{}
	}()
	e := ln.e
	w := e.workers.Get().(*worker)
	defer e.workers.Put(w)
	circuitResult := errNotAttempted
	defer func() { it.done(circuitResult) }()

	now := time.Now()
	w.move = wal.Move{Endpoint: ln.id, Event: it.ev, FromDueMs: it.fromDueMs, Replayed: it.replayed}
	a := &w.move.Attempt
	a.TimeMs, a.Attempt = now.UnixMilli(), it.attempts+1

	if err := e.readEvent(it.ev, it.raw, w); err != nil {
		if errors.Is(err, wal.ErrClosed) {
			return
		}
		// The event is gone (or unreadable): no attempt can ever succeed, so
		// dead-letter the delivery instead of leaving it queued forever.
		a.Outcome, a.ErrClass = wal.OutcomeDead, "event_unreadable"
		if errors.Is(err, wal.ErrNotFound) && e.pastRetention(it.ev, now) {
			// Expected, not a fault: the delivery waited past the retention
			// age (a paused or disabled endpoint). Counted, not logged: one
			// long pause can expire millions.
			a.ErrClass = errClassExpired
			e.m.retentionExpired.Inc()
		} else {
			e.logger.Error("cannot read event for delivery; dead-lettering it", "event", FormatEventID(it.ev), "endpoint", cfg.ep.ID, "err", err)
		}
		e.m.countAttempt(cfg.ep.Tenant, outcomeFinal, classError)
		ln.health.recordDead(now)
		ln.recordDeath(cfg, &w.move, "", exhaustedUndeliverable)
		return
	}

	w.msgID = it.ev.AppendString(append(w.msgID[:0], eventPrefix...))
	msgID := string(w.msgID)
	stored := w.rec.Body
	if it.fromDueMs != 0 && e.corrections.Load() {
		// A replay with a corrected payload, or a retry after one.
		corr, ok, err := e.log.Correction(ln.id, it.ev, w.corr[:0])
		w.corr = corr
		if err != nil {
			if errors.Is(err, wal.ErrClosed) {
				return
			}
			e.logger.Error("cannot read a delivery's corrected payload; dead-lettering it", "event", FormatEventID(it.ev), "endpoint", cfg.ep.ID, "err", err)
			a.Outcome, a.ErrClass = wal.OutcomeDead, "event_unreadable"
			e.m.countAttempt(cfg.ep.Tenant, outcomeFinal, classError)
			ln.health.recordDead(now)
			ln.recordDeath(cfg, &w.move, bodyType(stored), exhaustedUndeliverable)
			return
		}
		if ok {
			w.stored = withPayload(w.stored[:0], stored, w.corr)
			stored, a.Corrected = w.stored, true
		}
	}
	cfg, req, r, err := ln.buildRequest(cfg, w, msgID, stored, now, a.Attempt)
	cfg.logRequest(a, r, err)
	if err != nil {
		// The same event and config render the same way on every retry:
		// dead-lettered at once, with the reason where the response goes.
		a.Outcome, a.ErrClass = wal.OutcomeDead, errClassRender
		a.Response = append(w.res.Body[:0], err.Error()...)
		e.m.countAttempt(cfg.ep.Tenant, outcomeFinal, classError)
		ln.health.recordDead(now)
		ln.recordDeath(cfg, &w.move, bodyType(stored), exhaustedUndeliverable)
		return
	}
	e.sender.Send(&req, &w.res)
	res := &w.res
	e.m.attemptDuration.Update(res.Latency.Seconds())

	a.Status, a.ErrClass = res.Status, res.ErrClass
	a.LatencyUs = res.Latency.Microseconds()
	a.Response = res.Body
	a.Headers = res.Headers // only a failure's: httpout keeps none for 2xx
	verdict := classify(res)
	circuitResult = nil
	if verdict == verdictRetry {
		circuitResult = errAttemptFailed
	}
	if verdict == verdictSuccess {
		// From the event's time (ms precision; see readEvent) to this
		// answer: now+Latency is the answer's time to within the
		// microseconds spent reading and signing, with no second clock read.
		e.m.deliveryLatency.Update(float64(max(now.Add(res.Latency).UnixMilli()-w.rec.TimeMs, 0)) / 1e3)
	}
	var oc outcome
	a.Outcome, a.NextMs, oc = nextStep(verdict, a.Attempt, cfg.schedule, res.RetryAfter)
	ln.health.record(now.Add(res.Latency), res.Status, res.ErrClass, res.Latency, a.Attempt, a.Outcome)
	e.m.countAttempt(cfg.ep.Tenant, oc, classOf(res))
	switch {
	case a.Outcome != wal.OutcomeDead:
		ln.record(&w.move)
	case verdict == verdictRetry:
		ln.recordDeath(cfg, &w.move, bodyType(stored), exhaustedRetries)
	default:
		ln.recordDeath(cfg, &w.move, bodyType(stored), exhaustedFinal)
	}
	switch {
	case res.Status == 410:
		// The receiver says the URL is gone for good: sending more would
		// only fill its logs and spend attempts.
		e.disableEndpoint(ln, disabledGone)
	case verdict == verdictSuccess && cfg.ep.FailingSince != nil:
		e.clearFailing(ln)
	}
}

// record commits an attempt's outcome and reports whether it did.
func (ln *Lane) record(m *wal.Move) bool {
	ln.recordMu.RLock()
	defer ln.recordMu.RUnlock()
	if ln.deleted.Load() {
		// The endpoint went away during the attempt: its queue and dead
		// letters are gone, so record nothing that no API could reach; only
		// a retry entry the attempt came from is left to remove.
		if m.FromDueMs != 0 {
			_ = ln.e.log.DeleteRetry(wal.Retry{DueMs: m.FromDueMs, Endpoint: m.Endpoint, Event: m.Event})
		}
		return false
	}
	var err error
	if m.Attempt.Outcome == wal.OutcomeRetry {
		err = ln.e.sched.record(m)
	} else {
		err = ln.e.log.RecordAttempt(m)
	}
	if err != nil {
		switch {
		case errors.Is(err, wal.ErrClosed):
		case errors.Is(err, wal.ErrReplicaRefused):
			// Cluster mode: another node took the endpoint over while the
			// attempt ran, and makes it again (the duplicate docs/cluster.md
			// bounds).
			ln.e.logger.Info("attempt outcome not recorded: another node delivers this endpoint now", "event", FormatEventID(m.Event))
		default:
			ln.e.logger.Error("cannot record delivery attempt", "event", FormatEventID(m.Event), "err", err)
		}
		return false
	}
	ln.noteRecorded(m)
	return true
}

// noteRecorded moves the depth counters as the committed m moved its
// delivery: queue to retry index adds a retry; leaving for good (success or
// dead letter) takes the delivery out of depth, and out of retrying if it
// came from there; retry to retry changes nothing.
func (ln *Lane) noteRecorded(m *wal.Move) {
	fromRetry := m.FromDueMs != 0
	if m.Attempt.Outcome == wal.OutcomeRetry {
		if !fromRetry {
			ln.retrying.Add(1)
		}
		return
	}
	ln.depth.Add(-1)
	if fromRetry {
		ln.retrying.Add(-1)
	}
}

// readEvent fills w.rec with the event's body and time: from raw, its
// stored record when the lane read it, or from the recent bodies when it
// is still there, else from the wal. The event ID's time is its commit
// time, a millisecond or so after the publish the record keeps.
func (e *Engine) readEvent(id wal.ID, raw []byte, w *worker) error {
	if e.removedByRetention(id) {
		return wal.ErrNotFound
	}
	if raw != nil {
		return e.log.DecodeEvent(id, raw, &w.rec, &w.buf)
	}
	var ok bool
	if w.recent, ok = e.recent.get(id, w.recent[:0]); ok {
		w.rec = wal.EventRecord{ID: id, TimeMs: id.Time().UnixMilli(), Body: w.recent}
		return nil
	}
	return e.log.ReadEvent(id, &w.rec, &w.buf)
}
