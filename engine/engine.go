package engine

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"hookline/httpout"
	"hookline/wal"
)

// Engine holds the live configuration and the lanes. All methods are safe for
// concurrent use.
type Engine struct {
	log      *wal.Log
	sender   *httpout.Sender
	opts     Options
	logger   *slog.Logger
	m        *Metrics
	sched    *scheduler
	recent   *recentBodies
	attempts *attemptWorkers

	// cfgMu is held for reading while an event is matched and appended, and
	// for writing while endpoints change, so an endpoint deleted or created
	// concurrently is either in an event's fan-out or not, never half.
	cfgMu   sync.RWMutex
	tenants map[string]*tenantState
	lanes   map[wal.ID]*Lane
	// deleted holds the deleted endpoints kept for their history (see
	// endpoint_delete.go): lanes that never run.
	deleted map[wal.ID]*Lane

	workers  sync.Pool // *worker
	pressure pressureMonitor
	ret      retention
	purge    purger
	replayMu sync.Mutex
	// corrections is set once any delivery has a corrected payload (see
	// wal.Log.Correction): until then retries do not look for one.
	corrections atomic.Bool
	jobs        jobSet
	feed        feedWaiters
	health      healthState
	rateCheck   ticker // see checkFailureRates

	// notifying counts the circuit changes being recorded (goNotify);
	// notifyStopped, under notifyMu, refuses more once Stop waits for them.
	notifying     sync.WaitGroup
	notifyMu      sync.Mutex
	notifyStopped bool

	// gates and epTenants serve cluster mode (cluster_mode.go).
	gates        gates
	epTenants    sync.Map // wal.ID -> tenant name
	clusterStop  chan struct{}
	jobGates     chan jobGates // cluster_jobs.go
	clusterWatch sync.WaitGroup

	// tenantHooks and auditor are set before serving (see hooks.go).
	tenantHooks []func(tenant string) error
	auditor     Auditor
}

type tenantState struct {
	t Tenant
	// inc is the tenant's incarnation (see incarnation.go): its events have
	// greater IDs, and those of the same name below it are an earlier
	// tenant's.
	inc wal.ID
	// lanes is replaced, never mutated, so Publish can use it after unlocking.
	lanes []*Lane
	// types is the event-type catalogue, replaced, never mutated.
	types map[string]*eventTypeEntry
	// limits holds the tenant's own back-pressure (see tenant_limits.go).
	limits tenantLimits
	// published counts the events accepted (see published.go).
	published tenantPublished
}

// New loads tenants and endpoints from log and starts their lanes and the
// retry scheduler. Corrupt config records are logged and skipped. Options
// out of bounds are an error (Options.Validate), never replaced.
func New(log *wal.Log, sender *httpout.Sender, opts Options) (*Engine, error) {
	opts.EnsureDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	e := &Engine{
		log:     log,
		sender:  sender,
		opts:    opts,
		logger:  opts.Logger,
		m:       newMetrics(opts.Metrics, opts.TenantSeries),
		tenants: make(map[string]*tenantState),
		lanes:   make(map[wal.ID]*Lane),
		deleted: make(map[wal.ID]*Lane),
	}
	e.workers.New = func() any { return new(worker) }
	e.feed.init()
	if err := e.load(); err != nil {
		return nil, err
	}
	if err := e.loadDepths(); err != nil {
		return nil, err
	}
	if err := e.loadJobs(); err != nil {
		return nil, fmt.Errorf("cannot load jobs: %w", err)
	}
	anyCorrection, err := log.AnyCorrection()
	if err != nil {
		return nil, err
	}
	e.corrections.Store(anyCorrection)
	e.attempts = newAttemptWorkers()
	e.recent = newRecentBodies(opts.RecentBodyBytes, opts.RecentBodyBytes/256)
	log.SetAppendHook(e.onAppend)
	e.sched = newScheduler(e, time.Now().UnixMilli())
	e.registerGauges(opts.Metrics)
	e.sched.start()
	e.startPressureMonitor()
	e.startHealth()
	e.rateCheck.start(opts.Notify.RateCheckEvery, e.checkFailureRates)
	e.startRetention()
	e.startPurge()
	e.cfgMu.RLock()
	for _, ln := range e.lanes {
		ln.start()
	}
	e.cfgMu.RUnlock()
	e.startJobs()
	if opts.Cluster != nil {
		e.clusterStop = make(chan struct{})
		e.jobGates = make(chan jobGates, 64)
		e.clusterWatch.Add(2)
		go func() {
			defer e.clusterWatch.Done()
			e.watchCluster(e.clusterStop)
		}()
		go func() {
			defer e.clusterWatch.Done()
			e.followJobs(e.clusterStop)
		}()
	}
	return e, nil
}

func (e *Engine) load() error {
	err := e.log.Tenants(func(id string, val []byte) error {
		t, inc, err := decodeTenant(val)
		if err != nil {
			e.logger.Error("skipping corrupt tenant record", "tenant", id, "err", err)
			return nil
		}
		e.tenants[id] = e.newTenantState(t, inc)
		return nil
	})
	if err != nil {
		return fmt.Errorf("cannot load tenants: %w", err)
	}
	err = endpointRecords.Load(e.log, e.opts.Secrets, e.logger, func(id wal.ID, ep *Endpoint) error {
		ts := e.tenants[ep.Tenant]
		if ts == nil {
			e.logger.Error("skipping endpoint of unknown tenant", "endpoint", ep.ID, "tenant", ep.Tenant)
			return nil
		}
		if ep.DeletedAt != nil {
			e.deleted[id] = e.deletedLane(id, ep)
			return nil
		}
		cfg, err := e.laneConfig(ep)
		if err != nil {
			e.logger.Error("skipping endpoint with invalid config", "endpoint", ep.ID, "err", err)
			return nil
		}
		ln := newLane(e, id, cfg)
		e.lanes[id] = ln
		ts.lanes = append(ts.lanes, ln)
		return nil
	})
	if err != nil {
		return fmt.Errorf("cannot load endpoints: %w", err)
	}
	if err := e.loadEventTypes(); err != nil {
		return fmt.Errorf("cannot load event types: %w", err)
	}
	return nil
}

// loadDepths seeds each lane's depth counters from the deliveries on disk;
// from then on publishes and outcomes keep them current.
func (e *Engine) loadDepths() error {
	depths, err := e.log.QueueDepths()
	if err != nil {
		return fmt.Errorf("cannot count queued deliveries: %w", err)
	}
	for id, d := range depths {
		if ln := e.lanes[id]; ln != nil {
			ln.depth.Store(int64(d.Queued + d.Retrying))
			ln.retrying.Store(int64(d.Retrying))
		}
	}
	return nil
}

// Stop stops the scheduler and the lanes, waiting for attempts in flight until
// ctx is done, and then publishes the exhausted summaries counted so far
// (notify_exhausted.go) and writes the endpoints' health. Attempts not finished by
// then stay queued on disk and are made again after a restart. The caller
// stops ingest first and closes the log after.
func (e *Engine) Stop(ctx context.Context) {
	if e.clusterStop != nil {
		close(e.clusterStop)
		e.clusterWatch.Wait()
	}
	e.feed.stop()
	e.stopJobs()
	e.sched.stop()
	e.stopPressureMonitor()
	e.stopRetention()
	e.stopPurge()
	e.rateCheck.stop()
	e.cfgMu.RLock()
	lanes := make([]*Lane, 0, len(e.lanes))
	for _, ln := range e.lanes {
		lanes = append(lanes, ln)
	}
	e.cfgMu.RUnlock()
	for _, ln := range lanes {
		ln.stop()
	}
	for _, ln := range lanes {
		if !ln.wait(ctx) {
			e.logger.Warn("shutdown deadline passed with attempts in flight; they will be retried after restart")
			break
		}
	}
	e.notifyMu.Lock()
	e.notifyStopped = true
	e.notifyMu.Unlock()
	e.notifying.Wait()
	e.flushExhausted()
	e.stopHealth()
}
