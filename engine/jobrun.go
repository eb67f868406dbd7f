package engine

import (
	"context"
	"errors"
	"time"

	"golang.org/x/time/rate"

	"hookline/wal"
)

// runJob works through a job's range until it is done, stopped or fails.
func (e *Engine) runJob(ctx context.Context, r *jobRun) {
	j := r.view()
	lim := rate.NewLimiter(rate.Inf, 1)
	if j.RatePerSecond > 0 {
		// A burst of 10 ms' worth keeps high rates from waking a timer per
		// delivery while a low rate still sends one at a time.
		lim = rate.NewLimiter(rate.Limit(j.RatePerSecond), max(1, j.RatePerSecond/100))
	}
	var after wal.ID
	if j.Since != nil {
		after = lastIDBefore(*j.Since)
	}
	if j.Cursor != "" {
		id, ok := ParseEventID(j.Cursor)
		if !ok {
			e.failJob(r, "internal", "the job's stored position is corrupt")
			return
		}
		after = id
	}
	if j.Kind == JobBackfill {
		// A backfill scans the whole event log by tenant name: events of an
		// earlier tenant of the name lie below the incarnation.
		if inc, ok := e.incarnation(j.Tenant); ok && after.Less(inc) {
			after = inc
		}
	}
	before := wal.IDAt(j.Until.UnixMilli())
	lastSave := time.Now()
	for {
		ln, err := e.laneOf(j.Tenant, j.EndpointID)
		if err != nil {
			e.failJob(r, "endpoint_not_found", "the endpoint was deleted while the job ran")
			return
		}
		c, err := e.jobChunk(ln, &j, after, before)
		if err != nil {
			e.jobError(r, err)
			return
		}
		r.mu.Lock()
		r.job.Progress.Scanned += int64(c.scanned)
		r.mu.Unlock()
		for _, ev := range c.events {
			if lim.Wait(ctx) != nil {
				e.saveJob(r)
				return
			}
			// The endpoint may have gone while the rate held the job
			// back: a replay or cancel would find nothing of it left,
			// skip the rest and complete.
			if ln.deleted.Load() {
				e.failJob(r, "endpoint_not_found", "the endpoint was deleted while the job ran")
				return
			}
			acted, err := e.jobAct(ln, &j, ev)
			if err != nil {
				e.jobError(r, err)
				return
			}
			r.mu.Lock()
			p := &r.job.Progress
			p.Matched++
			if acted {
				p.Done++
			} else {
				p.Skipped++
			}
			r.job.Cursor = FormatEventID(ev)
			pos := ev.Time().UTC()
			p.Position = &pos
			r.mu.Unlock()
		}
		r.mu.Lock()
		if !c.next.IsZero() {
			r.job.Cursor = FormatEventID(c.next)
			pos := c.next.Time().UTC()
			r.job.Progress.Position = &pos
		}
		r.mu.Unlock()
		if c.end {
			if ln.deleted.Load() {
				e.failJob(r, "endpoint_not_found", "the endpoint was deleted while the job ran")
				return
			}
			if err := e.finishJob(r, JobCompleted, nil, time.Now().UTC()); err != nil {
				e.logger.Error("cannot record a job's completion", "job", j.ID, "err", err)
			}
			return
		}
		after = c.next
		if time.Since(lastSave) >= jobSaveEvery {
			e.saveJob(r)
			lastSave = time.Now()
		}
		if ctx.Err() != nil {
			e.saveJob(r)
			return
		}
	}
}

// jobChunkResult is one scan's candidates, in event order: next is the
// position after them, end whether the scan reached the range's end.
type jobChunkResult struct {
	events  []wal.ID
	scanned int
	next    wal.ID
	end     bool
}

// jobChunk finds the next deliveries (events, for a backfill) the job
// selects after the given position.
func (e *Engine) jobChunk(ln *Lane, j *Job, after, before wal.ID) (jobChunkResult, error) {
	var (
		c    jobChunkResult
		last wal.ID
		typ  []byte
		terr error
		res  wal.ListResult
		err  error
	)
	if j.Kind == JobBackfill {
		var (
			rec wal.EventRecord
			buf wal.EventBuf
		)
		res, err = e.log.ScanEventHeads(after, before, jobScanLimit, func(id wal.ID, tenant, t []byte) bool {
			c.scanned++
			last = id
			if string(tenant) == j.Tenant && (j.Type == "" || matchType(j.Type, string(t))) && e.backfillAccepts(ln, id, string(t), &rec, &buf) {
				c.events = append(c.events, id)
			}
			return len(c.events) < jobChunk
		})
	} else {
		res, err = e.log.ScanAttempted(ln.id, after, before, jobScanLimit, func(d *wal.Delivery) bool {
			c.scanned++
			last = d.Event
			if !jobWants(j, d.Status) {
				return true
			}
			if j.Type != "" || j.Kind == JobReplay {
				typ, terr = e.log.EventType(d.Event, typ[:0])
				if terr != nil && !errors.Is(terr, wal.ErrNotFound) {
					return false
				}
				terr = nil
				if j.Type != "" && !matchType(j.Type, string(typ)) {
					return true
				}
				// A test event that failed is a dead letter like any
				// other, but a bulk replay after an outage must not send
				// the operator's old tests again, unless asked by name.
				if j.Kind == JobReplay && string(typ) == EventTest && j.Type != EventTest {
					return true
				}
			}
			c.events = append(c.events, d.Event)
			return len(c.events) < jobChunk
		})
	}
	if err == nil {
		err = terr
	}
	switch {
	case err != nil:
		return c, err
	case !res.Resume.IsZero():
		c.next = res.Resume
	case len(c.events) == jobChunk:
		c.next = last
	default:
		c.next, c.end = last, true
	}
	return c, nil
}

// jobWants tells whether a delivery in status is one the job acts on.
func jobWants(j *Job, status string) bool {
	if j.Kind == JobCancel {
		return status == wal.StatusRetrying
	}
	if j.Status == "all" {
		return status == wal.StatusSucceeded || status == wal.StatusDead || status == wal.StatusCancelled
	}
	return status == j.Status
}

// jobAct acts on one delivery, after checking under replayMu that it is
// still one the job selects: a single replay or another job may have
// acted on it since the scan, or before a restart. It reports whether it
// acted.
func (e *Engine) jobAct(ln *Lane, j *Job, ev wal.ID) (bool, error) {
	e.replayMu.Lock()
	defer e.replayMu.Unlock()
	d, found, err := e.deliveryOf(ln, ev)
	if err != nil {
		return false, err
	}
	switch j.Kind {
	case JobBackfill:
		if found {
			return false, nil
		}
		return true, e.requeue(ln, ev, 0, false, true, nil)
	case JobCancel:
		if !found || d.Status != wal.StatusRetrying {
			return false, nil
		}
		return e.cancelRetry(ln, ev, &d, true)
	}
	if !found || !jobWants(j, d.Status) {
		return false, nil
	}
	return true, e.requeue(ln, ev, d.Attempts, d.Status == wal.StatusDead, true, nil)
}

// saveJob stores a running job's progress, so a restart resumes near it.
func (e *Engine) saveJob(r *jobRun) {
	r.saveMu.Lock()
	defer r.saveMu.Unlock()
	r.mu.Lock()
	if r.job.State != JobRunning {
		r.mu.Unlock()
		return
	}
	r.job.UpdatedAt = time.Now().UTC()
	j, inc := r.job, r.inc
	r.mu.Unlock()
	if err := e.putJob(&j, inc); err != nil && !errors.Is(err, wal.ErrClosed) && !lostTenant(err) {
		e.logger.Error("cannot store a job's progress", "job", j.ID, "err", err)
	}
}

func (e *Engine) jobError(r *jobRun, err error) {
	if errors.Is(err, wal.ErrClosed) {
		return // shutting down: the job resumes after the restart
	}
	if lostTenant(err) {
		// Cluster mode: the tenant moved, or this node is cut off. The
		// job stays running in its record; the tenant's owner resumes it
		// from the last position stored (cluster_jobs.go: resumeJobs, or
		// takeOverJobs on another node).
		e.logger.Info("job paused: its tenant is delivered by another node now", append(jobAttrs(&r.job), "err", err)...)
		r.mu.Lock()
		r.stop = nil
		r.mu.Unlock()
		return
	}
	var ee *Error
	if errors.As(err, &ee) {
		e.failJob(r, ee.Code, ee.Message)
		return
	}
	e.logger.Error("job failed", "job", r.view().ID, "err", err)
	e.failJob(r, "internal", err.Error())
}

func (e *Engine) failJob(r *jobRun, code, msg string) {
	if err := e.finishJob(r, JobFailed, &JobError{Code: code, Message: msg}, time.Now().UTC()); err != nil && !errors.Is(err, wal.ErrClosed) {
		e.logger.Error("cannot record a job's failure", "job", r.view().ID, "err", err)
	}
}

// lastIDBefore is the greatest ID of the millisecond before t: as an
// exclusive lower bound it admits every event at or after t.
func lastIDBefore(t time.Time) wal.ID {
	id := wal.IDAt(t.UnixMilli() - 1)
	for i := 6; i < 16; i++ {
		id[i] = 0xff
	}
	return id
}

// backfillAccepts reports whether the lane takes event id of type typ in a
// backfill: its subscription, and its filter, which needs the event's
// body (read only then). An event gone meanwhile is not taken.
func (e *Engine) backfillAccepts(ln *Lane, id wal.ID, typ string, rec *wal.EventRecord, buf *wal.EventBuf) bool {
	cfg := ln.config()
	if cfg.ep.Disabled || !cfg.ep.subscribes(typ) {
		return false
	}
	if cfg.shape == nil || cfg.shape.filter == nil {
		return true
	}
	if err := e.log.ReadEvent(id, rec, buf); err != nil {
		return false
	}
	return cfg.passes(rec.Body)
}
