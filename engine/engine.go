package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/bytedance/sonic"

	"hookline/httpout"
	"hookline/wal"
)

// Options configure an Engine. Zero values take the defaults.
type Options struct {
	// RetrySchedule is the server-wide delay before attempts 2..N;
	// endpoints may override it. Default: DefaultRetrySchedule.
	RetrySchedule []time.Duration
	// DefaultMaxInFlight is an endpoint's max_in_flight when it sets none. Default 16.
	DefaultMaxInFlight int
	// Tick is the retry timer wheel's resolution. Default 100ms.
	Tick time.Duration
	// RecentBodyBytes is the memory for the delivery bodies of the newest
	// events, so lanes keeping up with ingest need not read them from disk.
	// Default 32 MiB.
	RecentBodyBytes int
	// WheelSlots is the wheel size (a power of two); Tick × WheelSlots is how
	// far ahead retries are held in memory. Default 4096 (~7 min at 100ms).
	WheelSlots int
	// MaxBacklog is how many deliveries may wait (queued or retrying)
	// before ingest answers 503 backlog_full. Default 50,000,000;
	// negative: no bound.
	MaxBacklog int64
	// MinFreeDisk is the free space on DataDir's filesystem under which
	// ingest answers 503 disk_full, leaving room for Pebble's compactions.
	// Default 256 MiB; negative: not checked (nor when DataDir is "").
	MinFreeDisk int64
	DataDir     string
	// Circuit configures every endpoint's circuit breaker.
	Circuit CircuitOptions
	// DisableAfter disables an endpoint whose circuit has stayed open (no
	// successful probe) this long, and tells its tenant with an
	// endpoint.disabled event. Default 5 days; negative: never.
	DisableAfter time.Duration
	Logger       *slog.Logger
	// Metrics is where the engine registers its metrics; nil creates a set.
	Metrics *metrics.Set

	// Retention is how long events, their delivery logs, idempotency keys
	// and audit records are kept (see retention). Default 30 days.
	Retention time.Duration
	// RetentionInterval is the time between retention passes; records live
	// up to Retention plus this long. Default 1h.
	RetentionInterval time.Duration

	// SecretOverlap is how long a rotated-out secret keeps signing when the
	// rotation names no overlap. Default 24h; negative: none (the old
	// secret is dropped at once); at most MaxSecretOverlap.
	SecretOverlap time.Duration

	// now is endpoint health's clock; nil means time.Now. For tests.
	now func() time.Time
}

// EnsureDefaults fills zero fields with their defaults.
func (o *Options) EnsureDefaults() {
	if len(o.RetrySchedule) == 0 {
		o.RetrySchedule = DefaultRetrySchedule
	}
	if o.DefaultMaxInFlight == 0 {
		o.DefaultMaxInFlight = 16
	}
	if o.Tick == 0 {
		o.Tick = 100 * time.Millisecond
	}
	if o.RecentBodyBytes == 0 {
		o.RecentBodyBytes = 32 << 20
	}
	if o.WheelSlots == 0 {
		o.WheelSlots = 4096
	}
	if o.MaxBacklog == 0 {
		o.MaxBacklog = 50_000_000
	}
	if o.MinFreeDisk == 0 {
		o.MinFreeDisk = 256 << 20
	}
	o.Circuit.ensureDefaults()
	if o.DisableAfter == 0 {
		o.DisableAfter = 5 * 24 * time.Hour
	}
	if o.Retention == 0 {
		o.Retention = DefaultRetention
	}
	if o.RetentionInterval == 0 {
		o.RetentionInterval = DefaultRetentionInterval
	}
	if o.SecretOverlap == 0 {
		o.SecretOverlap = DefaultSecretOverlap
	}
	o.SecretOverlap = min(o.SecretOverlap, MaxSecretOverlap)
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Metrics == nil {
		o.Metrics = metrics.NewSet()
	}
}

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
	apiKeys map[[32]byte]*apiKeyEntry // by the key's SHA-256

	workers  sync.Pool // *worker
	pressure pressureMonitor
	ret      retention
	replayMu sync.Mutex
	jobs     jobSet
	// sources are the inbound sources by API ID, under cfgMu.
	sources map[string]*sourceState
	feed    feedWaiters
	health  healthState
}

type tenantState struct {
	t Tenant
	// lanes is replaced, never mutated, so Publish can use it after unlocking.
	lanes []*Lane
	// types is the event-type catalogue, replaced, never mutated.
	types map[string]*eventTypeEntry
}

// New loads tenants and endpoints from log and starts their lanes and the
// retry scheduler. Corrupt config records are logged and skipped.
func New(log *wal.Log, sender *httpout.Sender, opts Options) (*Engine, error) {
	opts.EnsureDefaults()
	// A negative age would put the cutoff in the future and remove every event.
	if opts.Retention < 0 || opts.RetentionInterval < 0 {
		return nil, fmt.Errorf("retention %s with interval %s: both must be positive", opts.Retention, opts.RetentionInterval)
	}
	e := &Engine{
		log:     log,
		sender:  sender,
		opts:    opts,
		logger:  opts.Logger,
		m:       newMetrics(opts.Metrics),
		tenants: make(map[string]*tenantState),
		lanes:   make(map[wal.ID]*Lane),
		apiKeys: make(map[[32]byte]*apiKeyEntry),
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
	e.attempts = newAttemptWorkers()
	e.recent = newRecentBodies(opts.RecentBodyBytes, opts.RecentBodyBytes/256)
	log.SetAppendHook(e.onAppend)
	e.sched = newScheduler(e, time.Now().UnixMilli())
	e.registerGauges(opts.Metrics)
	e.sched.start()
	e.startPressureMonitor()
	e.startHealth()
	e.startRetention()
	e.cfgMu.RLock()
	for _, ln := range e.lanes {
		ln.start()
	}
	e.cfgMu.RUnlock()
	e.startJobs()
	return e, nil
}

func (e *Engine) load() error {
	err := e.log.Tenants(func(id string, val []byte) error {
		var t Tenant
		if err := sonic.Unmarshal(val, &t); err != nil {
			e.logger.Error("skipping corrupt tenant record", "tenant", id, "err", err)
			return nil
		}
		e.tenants[id] = &tenantState{t: t}
		return nil
	})
	if err != nil {
		return fmt.Errorf("cannot load tenants: %w", err)
	}
	err = e.log.Endpoints(func(id wal.ID, val []byte) error {
		var ep Endpoint
		if err := sonic.Unmarshal(val, &ep); err != nil {
			e.logger.Error("skipping corrupt endpoint record", "endpoint", id, "err", err)
			return nil
		}
		ts := e.tenants[ep.Tenant]
		if ts == nil {
			e.logger.Error("skipping endpoint of unknown tenant", "endpoint", ep.ID, "tenant", ep.Tenant)
			return nil
		}
		cfg, err := e.laneConfig(&ep)
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
	if err := e.loadAPIKeys(); err != nil {
		return fmt.Errorf("cannot load API keys: %w", err)
	}
	if err := e.loadSources(); err != nil {
		return fmt.Errorf("cannot load sources: %w", err)
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
// ctx is done, and then writes the endpoints' health. Attempts not finished by
// then stay queued on disk and are made again after a restart. The caller
// stops ingest first and closes the log after.
func (e *Engine) Stop(ctx context.Context) {
	e.feed.stop()
	e.stopJobs()
	e.sched.stop()
	e.stopPressureMonitor()
	e.stopRetention()
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
	e.stopHealth()
}

// PublishEvent is one event to publish.
type PublishEvent struct {
	Type           string
	Payload        []byte // raw JSON, placed unchanged as the body's "data"
	IdempotencyKey string
}

// Publish appends evs for tenant durably and queues one delivery per
// subscribed endpoint. It returns once the events are fsynced; res[i] gets
// event i's ID, or the first event's ID for a repeated idempotency key.
func (e *Engine) Publish(tenant string, evs []PublishEvent, res []wal.AppendResult) error {
	return e.publish(tenant, evs, res, sourceAPI)
}

func (e *Engine) publish(tenant string, evs []PublishEvent, res []wal.AppendResult, src source) error {
	// hookline's own few events go through: they tell operators what broke.
	if src != sourceSystem {
		if err := e.checkPressure(); err != nil {
			return err
		}
	}
	for i := range evs {
		if !ValidEventType(evs[i].Type) {
			return invalid("invalid_type", "event %d: type %q must be 1-%d characters of A-Z a-z 0-9 . _ : -", i, evs[i].Type, maxTypeLen)
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
		return notFound("tenant_not_found", "tenant %q does not exist", tenant)
	}
	if err := validatePayloads(ts, evs); err != nil {
		e.cfgMu.RUnlock()
		return err
	}
	for i := range evs {
		for _, ln := range ts.lanes {
			if ln.accepts(evs[i].Type) {
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
			Tenant:         tenant,
			Type:           evs[i].Type,
			TimeMs:         now.UnixMilli(),
			Body:           p.bodies[bodyStart:p.ends[i]],
			IdempotencyKey: evs[i].IdempotencyKey,
			Endpoints:      p.eps[epStart:p.epEnds[i]],
			Ref:            p,
			RefIndex:       i,
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
			return unavailable("shutting_down", "the server is shutting down")
		}
		return fmt.Errorf("cannot append %d events of tenant %q: %w", len(evs), tenant, err)
	}

	epStart = 0
	ingested, duplicates := e.m.eventsIngested[src], e.m.eventsDuplicate[src]
	for i := range p.wevs {
		if res[i].Duplicate {
			duplicates.Inc()
			for _, ln := range p.targets[epStart:p.epEnds[i]] {
				ln.depth.Add(-1)
			}
		} else {
			ingested.Inc()
			e.m.fanoutDeliveries.Add(p.epEnds[i] - epStart)
		}
		epStart = p.epEnds[i]
	}
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
