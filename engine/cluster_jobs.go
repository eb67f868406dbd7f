package engine

import (
	"errors"
	"slices"
	"time"

	"hookline/wal"
)

// Bulk jobs in cluster mode run on the owner of their tenant. Their
// records go through the replicated log (wal.PutJob), so every node holds
// each job with the position it last stored (every second, and when it
// stops). When a tenant's gate opens, its jobs are read from the store
// and the running ones start from that position; when it closes, they
// stop where they are and stay running in their records. A delivery a
// job acted on after its last stored position is checked again by the
// next owner and skipped (jobAct re-reads its status).

// jobGates are tenants whose gates opened and closed, for followJobs.
type jobGates struct{ opened, closed []string }

// gateJobs hands gate changes to followJobs without waiting: a job's
// writes wait for the log, and the gates must not wait for jobs. A change
// that does not fit is caught up with by resumeJobs, and a job left
// running on a closed gate has its next write refused and pauses.
func (e *Engine) gateJobs(opened, closed []string) {
	if len(opened) == 0 && len(closed) == 0 {
		return
	}
	select {
	case e.jobGates <- jobGates{opened, closed}:
	default:
	}
}

// followJobs starts and stops jobs as gates open and close, in the order
// they did, and resumes paused ones every second.
func (e *Engine) followJobs(stop <-chan struct{}) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case g := <-e.jobGates:
			if len(g.closed) > 0 {
				e.releaseJobs(g.closed)
			}
			e.takeOverJobs(g.opened)
		case <-t.C:
			e.resumeJobs()
		}
	}
}

// gateOpen reports whether this node delivers tenant's endpoints now:
// always on a single node.
func (e *Engine) gateOpen(tenant string) bool {
	g := e.gateFor(tenant)
	return g == nil || g.Load()
}

// lostTenant reports whether err says this node may no longer write a
// tenant's delivery state: another node owns it, the log refused the
// write (the tenant moved), or the log cannot be reached.
func lostTenant(err error) bool {
	return errors.Is(err, ErrNotOwner) || errors.Is(err, wal.ErrReplicaRefused) || errors.Is(err, wal.ErrReplicaUnavailable)
}

// takeOverJobs loads the jobs of tenants whose gates opened from the
// store and starts the running ones. A job still winding down here (its
// gate closed and opened again quickly) is left to resumeJobs.
func (e *Engine) takeOverJobs(tenants []string) {
	if len(tenants) == 0 {
		return
	}
	want := make(map[string]wal.ID, len(tenants))
	e.cfgMu.RLock()
	for _, t := range tenants {
		if ts := e.tenants[t]; ts != nil {
			want[t] = ts.inc
		}
	}
	e.cfgMu.RUnlock()
	type stored struct {
		rec jobRecord
		inc wal.ID
	}
	var found []stored
	err := e.scanJobs(func(_ wal.ID, rec *jobRecord, inc wal.ID) {
		if cur, ok := want[rec.Tenant]; ok && cur == inc {
			found = append(found, stored{*rec, inc})
		}
	})
	if err != nil {
		if !errors.Is(err, wal.ErrClosed) {
			e.logger.Error("cannot read the jobs of tenants taken over", "err", err)
		}
		return
	}
	e.jobs.mu.Lock()
	defer e.jobs.mu.Unlock()
	if e.jobs.stopping {
		return
	}
	for _, s := range found {
		if r := e.jobs.runs[s.rec.ID]; r != nil && r.busy() {
			continue
		}
		r := &jobRun{job: s.rec.Job, inc: s.inc}
		e.jobs.runs[s.rec.ID] = r
		if r.job.State == JobRunning && e.gateOpen(r.job.Tenant) {
			e.startJobLocked(r)
			e.logger.Info("job taken over", jobAttrs(&r.job)...)
		}
	}
}

// releaseJobs stops the running jobs of tenants whose gates closed,
// without waiting for them to store their position (which waits for the
// log). A job whose gate opened again by the time it stopped is taken
// over again by resumeJobs.
func (e *Engine) releaseJobs(tenants []string) {
	lost := make(map[string]bool, len(tenants))
	for _, t := range tenants {
		lost[t] = true
	}
	e.jobs.mu.Lock()
	defer e.jobs.mu.Unlock()
	for _, r := range e.jobs.runs {
		r.mu.Lock()
		stop, done, tenant := r.stop, r.done, r.job.Tenant
		r.mu.Unlock()
		if stop == nil || !lost[tenant] {
			continue
		}
		stop()
		go func() {
			<-done
			r.mu.Lock()
			r.stop = nil
			r.mu.Unlock()
		}()
	}
}

// resumeJobs takes over again the running jobs of open gates that run
// nowhere here: stopped by a gate that closed and opened again before
// they had stopped, or paused by a write the log did not take.
func (e *Engine) resumeJobs() {
	var tenants []string
	e.jobs.mu.Lock()
	for _, r := range e.jobs.runs {
		v := r.view()
		if v.State == JobRunning && !r.busy() && e.gateOpen(v.Tenant) && !slices.Contains(tenants, v.Tenant) {
			tenants = append(tenants, v.Tenant)
		}
	}
	e.jobs.mu.Unlock()
	if len(tenants) > 0 {
		e.takeOverJobs(tenants)
	}
}

// busy reports whether the job's goroutine runs or winds down here.
func (r *jobRun) busy() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stop != nil
}
