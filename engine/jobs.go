package engine

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/bytedance/sonic"

	"hookline/wal"
)

// Bulk jobs act on many deliveries of one endpoint in the background:
// replay finished ones, backfill past events to an endpoint that did not
// exist then, cancel pending retries. A job walks forward through the
// endpoint's history in short scans (no iterator stays open while it waits
// for its rate limit), re-checks each delivery under replayMu before acting,
// and stores its position as it goes, so a restarted server resumes it and a
// delivery acted on twice is only skipped the second time.
const (
	JobReplay   = "replay"
	JobBackfill = "backfill"
	JobCancel   = "cancel"
)

// Job states.
const (
	JobRunning   = "running"
	JobCompleted = "completed"
	JobStopped   = "stopped"
	JobFailed    = "failed"
)

const (
	jobPrefix = "job_"
	// DefaultJobRate is the pace of replays and backfills when the request
	// names none: steady enough for a receiver that just came back.
	DefaultJobRate = 100
	MaxJobRate     = 10_000
	// maxRunningJobs bounds one tenant's concurrent jobs; maxFinishedJobs
	// how many finished ones it keeps to show.
	maxRunningJobs  = 10
	maxFinishedJobs = 100
	// jobChunk is how many deliveries a job takes per scan, and
	// jobScanLimit how many records one scan may pass over.
	jobChunk     = 256
	jobScanLimit = 20_000
	// jobSaveEvery is how often a running job stores its progress.
	jobSaveEvery = time.Second
)

// JobInput is a bulk job request. Since and Until bound the events' times
// (Since inclusive, Until exclusive; Until defaults to the job's creation).
type JobInput struct {
	Kind string
	// Status selects the deliveries a replay sends again: dead (the
	// default), succeeded, cancelled, or all (every finished delivery).
	Status        string
	Type          string
	Since, Until  time.Time
	RatePerSecond int
}

// Job is a bulk job as the API shows it.
type Job struct {
	ID            string      `json:"id"`
	Tenant        string      `json:"tenant"`
	Kind          string      `json:"kind"`
	EndpointID    string      `json:"endpoint_id"`
	Status        string      `json:"status,omitempty"`
	Type          string      `json:"type,omitempty"`
	Since         *time.Time  `json:"since,omitempty"`
	Until         time.Time   `json:"until"`
	RatePerSecond int         `json:"rate_per_second,omitempty"`
	State         string      `json:"state"`
	Progress      JobProgress `json:"progress"`
	Error         *JobError   `json:"error,omitempty"`
	CreatedAt     time.Time   `json:"created_at"`
	UpdatedAt     time.Time   `json:"updated_at"`
	FinishedAt    *time.Time  `json:"finished_at,omitempty"`
	// Cursor is the last event passed over: the job resumes after it.
	Cursor string `json:"cursor,omitempty"`
}

// JobProgress counts what a job has done so far. Position is the time of
// the last event passed over: with Since and Until it tells how far along
// the job is.
type JobProgress struct {
	Scanned  int64      `json:"scanned"`
	Matched  int64      `json:"matched"`
	Done     int64      `json:"done"`
	Skipped  int64      `json:"skipped"`
	Position *time.Time `json:"position,omitempty"`
}

// JobError is why a job failed.
type JobError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// jobRun is a job and, while it runs, the means to stop it.
type jobRun struct {
	// saveMu orders the writes of the job's record (held across them,
	// which may wait for a cluster's log); mu guards the fields, briefly.
	saveMu sync.Mutex
	mu     sync.Mutex
	job    Job
	inc    wal.ID // the incarnation of the job's tenant
	stop   context.CancelFunc
	done   chan struct{}
}

func (r *jobRun) view() Job {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.job
}

// jobSet is the engine's jobs, running and finished.
type jobSet struct {
	mu   sync.Mutex
	runs map[string]*jobRun
	// stopping is set by Engine.Stop: no job starts after it.
	stopping bool
}

// CreateJob validates in and starts the job on endpoint epID.
func (e *Engine) CreateJob(ctx context.Context, tenant, epID string, in JobInput) (Job, error) {
	j, err := e.createJob(tenant, epID, in)
	if err == nil {
		e.Audit(ctx, Change{Action: "job." + j.Kind, Tenant: tenant, Resource: j.ID, After: j})
	}
	return j, err
}

func (e *Engine) createJob(tenant, epID string, in JobInput) (Job, error) {
	ln, err := e.laneOf(tenant, epID)
	if err != nil {
		return Job{}, err
	}
	now := time.Now().UTC()
	// Until is exclusive at millisecond precision, as event IDs' times
	// are: a default of now+1ms takes in every event committed so far.
	j := Job{Tenant: tenant, Kind: in.Kind, EndpointID: ln.config().ep.ID, Type: in.Type, Until: now.Truncate(time.Millisecond).Add(time.Millisecond), State: JobRunning, CreatedAt: now, UpdatedAt: now}
	if err := checkJobInput(&j, in, now); err != nil {
		return Job{}, err
	}
	id := wal.NewID()
	j.ID = jobPrefix + id.String()
	inc, ok := e.incarnation(tenant)
	if !ok {
		return Job{}, NotFound("tenant_not_found", "tenant %q does not exist", tenant)
	}
	if !e.writable(tenant) {
		return Job{}, ErrNotOwner
	}

	e.jobs.mu.Lock()
	defer e.jobs.mu.Unlock()
	running := 0
	for _, r := range e.jobs.runs {
		if v := r.view(); v.Tenant == tenant && v.State == JobRunning {
			running++
		}
	}
	if running >= maxRunningJobs {
		return Job{}, Conflict("too_many_jobs", "tenant %q has %d jobs running; stop one or wait for one to finish", tenant, running)
	}
	if e.jobs.stopping {
		return Job{}, wal.ErrClosed
	}
	if err := e.putJob(&j, inc); err != nil {
		return Job{}, err
	}
	r := &jobRun{job: j, inc: inc}
	e.jobs.runs[j.ID] = r
	e.startJobLocked(r)
	e.logger.Info("job started", jobAttrs(&j)...)
	e.pruneJobsLocked(tenant)
	return j, nil
}

func checkJobInput(j *Job, in JobInput, now time.Time) error {
	switch in.Kind {
	case JobReplay:
		switch in.Status {
		case "":
			j.Status = wal.StatusDead
		case wal.StatusDead, wal.StatusSucceeded, wal.StatusCancelled, "all":
			j.Status = in.Status
		default:
			return Invalid("invalid_status", "status %q is not one of dead, succeeded, cancelled, all", in.Status)
		}
	case JobBackfill:
		if in.Since.IsZero() {
			return Invalid("missing_since", "a backfill needs since: the time of the first event to send")
		}
		fallthrough
	case JobCancel:
		if in.Status != "" {
			return Invalid("invalid_status", "a %s takes no status", in.Kind)
		}
	default:
		return Invalid("invalid_kind", "job kind %q is not one of replay, backfill, cancel", in.Kind)
	}
	if in.Type != "" && !validPattern(in.Type) {
		return Invalid("invalid_type", "type %q is not an event type, \"prefix.*\" or \"*\"", in.Type)
	}
	if !in.Until.IsZero() && in.Until.Before(now) {
		j.Until = in.Until.UTC()
	}
	if !in.Since.IsZero() {
		since := in.Since.UTC()
		if !since.Before(j.Until) {
			return Invalid("invalid_range", "since (%s) must be before until (%s)", since.Format(time.RFC3339Nano), j.Until.Format(time.RFC3339Nano))
		}
		j.Since = &since
	}
	switch {
	case in.RatePerSecond < 0 || in.RatePerSecond > MaxJobRate:
		return Invalid("invalid_rate", "rate_per_second is %d; it must be 1-%d", in.RatePerSecond, MaxJobRate)
	case in.RatePerSecond > 0:
		j.RatePerSecond = in.RatePerSecond
	case in.Kind != JobCancel:
		// A cancel sends nothing, so it is not paced unless asked to be.
		j.RatePerSecond = DefaultJobRate
	}
	return nil
}

// GetJob returns one of tenant's jobs.
func (e *Engine) GetJob(tenant, id string) (Job, error) {
	r, err := e.jobOf(tenant, id)
	if err != nil {
		return Job{}, err
	}
	return r.view(), nil
}

// ListJobs returns tenant's jobs, newest first.
func (e *Engine) ListJobs(tenant string) ([]Job, error) {
	if _, err := e.GetTenant(tenant); err != nil {
		return nil, err
	}
	e.jobs.mu.Lock()
	out := []Job{}
	for _, r := range e.jobs.runs {
		if v := r.view(); v.Tenant == tenant {
			out = append(out, v)
		}
	}
	e.jobs.mu.Unlock()
	// Newest first by creation time: two IDs made in one millisecond are
	// in random order.
	slices.SortFunc(out, func(a, b Job) int {
		return cmp.Or(b.CreatedAt.Compare(a.CreatedAt), cmp.Compare(b.ID, a.ID))
	})
	return out, nil
}

// StopJob stops a running job where it is; a finished job is left as it
// is and returned.
func (e *Engine) StopJob(ctx context.Context, tenant, id string) (Job, error) {
	before, err := e.GetJob(tenant, id)
	if err != nil {
		return Job{}, err
	}
	j, err := e.stopJob(tenant, id)
	if err == nil {
		e.Audit(ctx, Change{Action: "job.stop", Tenant: tenant, Resource: id, Before: before, After: j})
	}
	return j, err
}

func (e *Engine) stopJob(tenant, id string) (Job, error) {
	r, err := e.jobOf(tenant, id)
	if err != nil {
		return Job{}, err
	}
	r.mu.Lock()
	stop, done := r.stop, r.done
	r.mu.Unlock()
	if stop == nil {
		return r.view(), nil
	}
	stop()
	<-done
	now := time.Now().UTC()
	if err := e.finishJob(r, JobStopped, nil, now); err != nil {
		return Job{}, err
	}
	return r.view(), nil
}

func (e *Engine) jobOf(tenant, id string) (*jobRun, error) {
	e.jobs.mu.Lock()
	r := e.jobs.runs[id]
	e.jobs.mu.Unlock()
	if r == nil || r.view().Tenant != tenant {
		return nil, NotFound("job_not_found", "job %q does not exist in tenant %q", id, tenant)
	}
	return r, nil
}

// pruneJobsLocked forgets tenant's oldest finished jobs beyond
// maxFinishedJobs.
func (e *Engine) pruneJobsLocked(tenant string) {
	var finished []string
	for id, r := range e.jobs.runs {
		if v := r.view(); v.Tenant == tenant && v.State != JobRunning {
			finished = append(finished, id)
		}
	}
	if len(finished) <= maxFinishedJobs {
		return
	}
	slices.Sort(finished)
	for _, id := range finished[:len(finished)-maxFinishedJobs] {
		jid, _ := wal.ParseID(id[len(jobPrefix):])
		if err := e.log.DeleteJob(jid); err != nil {
			e.logger.Error("cannot delete finished job", "job", id, "err", err)
			continue
		}
		delete(e.jobs.runs, id)
	}
}

// jobRecord is a job as stored: the API view and the incarnation of its
// tenant (see incarnation.go), so a job of an earlier tenant of the same
// name, left behind by a crash during the deletion, is dropped at load.
type jobRecord struct {
	Job
	TenantIncarnation string `json:"tenant_incarnation,omitempty"`
}

func (e *Engine) putJob(j *Job, inc wal.ID) error {
	rec := jobRecord{Job: *j}
	if !inc.IsZero() {
		rec.TenantIncarnation = inc.String()
	}
	b, err := sonic.Marshal(&rec)
	if err != nil {
		return fmt.Errorf("cannot encode job %s: %w", j.ID, err)
	}
	id, err := wal.ParseID(j.ID[len(jobPrefix):])
	if err != nil {
		return fmt.Errorf("job id %q: %w", j.ID, err)
	}
	return e.log.PutJob(id, b)
}

// loadJobs reads the stored jobs; running ones are started by startJobs
// once the lanes and the scheduler are up. A job whose tenant no longer
// exists, or exists as another incarnation, is an earlier tenant's that
// DeleteTenant did not get to remove: it is deleted. Records written
// before incarnations have none, like the tenants of their time.
func (e *Engine) loadJobs() error {
	e.jobs.runs = make(map[string]*jobRun)
	var stale []wal.ID
	err := e.scanJobs(func(id wal.ID, rec *jobRecord, inc wal.ID) {
		if ts := e.tenants[rec.Tenant]; ts == nil || ts.inc != inc {
			stale = append(stale, id)
			return
		}
		e.jobs.runs[rec.ID] = &jobRun{job: rec.Job, inc: inc}
	})
	if err != nil {
		return err
	}
	if e.log.Replicated() {
		// Not a member of the cluster yet, this node's writes would be
		// refused: a replica skips the stale records, and keeps them.
		return nil
	}
	for _, id := range stale {
		e.logger.Info("deleting a deleted tenant's job", "job", jobPrefix+id.String())
		if err := e.log.DeleteJob(id); err != nil {
			return err
		}
	}
	return nil
}

// scanJobs calls fn with every stored job record that decodes (the others
// are logged and skipped) and its tenant's incarnation.
func (e *Engine) scanJobs(fn func(id wal.ID, rec *jobRecord, inc wal.ID)) error {
	return e.log.ScanJobs(func(id wal.ID, val []byte) {
		rec, inc, err := decodeJob(id, val)
		if err != nil {
			e.logger.Error("skipping corrupt job record", "job", id.String(), "err", err)
			return
		}
		fn(id, &rec, inc)
	})
}

// decodeJob reads job id's stored record and its tenant's incarnation.
func decodeJob(id wal.ID, val []byte) (jobRecord, wal.ID, error) {
	var rec jobRecord
	err := sonic.Unmarshal(val, &rec)
	var inc wal.ID
	if err == nil && rec.TenantIncarnation != "" {
		inc, err = wal.ParseID(rec.TenantIncarnation)
	}
	if err == nil && rec.ID != jobPrefix+id.String() {
		err = fmt.Errorf("the record names job %q", rec.ID)
	}
	return rec, inc, err
}

// startJobs starts the running jobs at start-up. In cluster mode the
// gates are closed then: each tenant's start when its gate opens
// (takeOverJobs).
func (e *Engine) startJobs() {
	e.jobs.mu.Lock()
	defer e.jobs.mu.Unlock()
	for _, r := range e.jobs.runs {
		if r.job.State == JobRunning && e.gateOpen(r.job.Tenant) {
			e.startJobLocked(r)
			e.logger.Info("job resumed", jobAttrs(&r.job)...)
		}
	}
}

func (e *Engine) startJobLocked(r *jobRun) {
	ctx, cancel := context.WithCancel(context.Background())
	r.mu.Lock()
	r.stop, r.done = cancel, make(chan struct{})
	r.mu.Unlock()
	go func() {
		defer close(r.done)
		e.runJob(ctx, r)
	}()
}

// stopJobs stops the running jobs for shutdown; their records stay
// running, so the next start resumes them.
func (e *Engine) stopJobs() {
	e.jobs.mu.Lock()
	e.jobs.stopping = true
	var waits []chan struct{}
	for _, r := range e.jobs.runs {
		r.mu.Lock()
		if r.stop != nil {
			r.stop()
			waits = append(waits, r.done)
		}
		r.mu.Unlock()
	}
	e.jobs.mu.Unlock()
	for _, w := range waits {
		<-w
	}
}

// forgetTenantJobs stops and deletes a deleted tenant's jobs.
func (e *Engine) forgetTenantJobs(tenant string) {
	e.jobs.mu.Lock()
	var gone []*jobRun
	for id, r := range e.jobs.runs {
		if r.view().Tenant == tenant {
			gone = append(gone, r)
			delete(e.jobs.runs, id)
		}
	}
	e.jobs.mu.Unlock()
	for _, r := range gone {
		r.mu.Lock()
		stop, done := r.stop, r.done
		r.mu.Unlock()
		if stop != nil {
			stop()
			<-done
		}
		id, _ := wal.ParseID(r.job.ID[len(jobPrefix):])
		if err := e.log.DeleteJob(id); err != nil && !errors.Is(err, wal.ErrClosed) {
			e.logger.Error("cannot delete a deleted tenant's job", "job", r.job.ID, "err", err)
		}
	}
}

// finishJob records a job's end once (the first of completion, failure
// or a stop wins).
func (e *Engine) finishJob(r *jobRun, state string, jerr *JobError, now time.Time) error {
	r.saveMu.Lock()
	defer r.saveMu.Unlock()
	r.mu.Lock()
	if r.job.State != JobRunning {
		r.mu.Unlock()
		return nil
	}
	r.job.State, r.job.Error = state, jerr
	r.job.UpdatedAt, r.job.FinishedAt = now, &now
	r.stop = nil
	j, inc := r.job, r.inc
	r.mu.Unlock()
	if err := e.putJob(&j, inc); err != nil {
		return err
	}
	attrs := append(jobAttrs(&j), "state", state, "took", now.Sub(j.CreatedAt),
		"scanned", j.Progress.Scanned, "done", j.Progress.Done, "skipped", j.Progress.Skipped)
	if jerr != nil {
		e.logger.Warn("job finished", append(attrs, "error_code", jerr.Code, "error", jerr.Message)...)
	} else {
		e.logger.Info("job finished", attrs...)
	}
	return nil
}

// jobAttrs name a job in the log.
func jobAttrs(j *Job) []any {
	return []any{"job", j.ID, "tenant", j.Tenant, "kind", j.Kind, "endpoint", j.EndpointID}
}
