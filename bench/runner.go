package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Options configure a bench run. Zero values take the defaults.
type Options struct {
	Scenario        string        // "all", or one or more of Scenarios and ExtraScenarios, comma-separated
	Duration        time.Duration // publishing time of each measured phase; default 10s
	PayloadBytes    int           // payload size of each event; default 600
	Publishers      int           // concurrent single-event publishers; default 256
	BatchPublishers int           // concurrent batch publishers; default 4
	BatchSize       int           // events per batch; default 100
	Fanout          int           // endpoints per event in fanout; default 100
	Endpoints       int           // endpoints in many-endpoints; default 10,000
	SlowDelay       time.Duration // answer delay of the slow endpoint; default 10s
	DrainTimeout    time.Duration // wait for deliveries after publishing; default 60s
	Retries         int           // pending retries built up in retry-backlog; default 1,000,000
	BurstEvents     int           // events published at once in burst; default 200,000
	// ProbeDelay scales the retry delays of retry-backlog's probe endpoints
	// (1x to 2x, and 3x for those due after the restart); default 20s.
	ProbeDelay time.Duration
	// HeapProfile, when set, is where retry-backlog saves the server's heap
	// profile at the full backlog (and with ".restart" appended, after the
	// restart).
	HeapProfile string `json:"-"`
	// MaxBacklog pauses publishers while more deliveries than this are
	// outstanding, so a phase measures the rate the server sustains end to
	// end instead of a burst of ingest followed by a drain (which the burst
	// scenario measures, without this bound). Default 20,000.
	MaxBacklog int64
	// Durability is the spawned server's ingest durability (--durability):
	// "" or "fsync", the default, or "os".
	Durability string
	// Target and Token run against a running server instead of spawning one;
	// its --allow-net must include 127.0.0.0/8, where the sink listens.
	Target string
	Token  string `json:"-"`
	// ServerBinary is the hookline binary spawned for each phase.
	ServerBinary string `json:"-"`
	// Progress receives a status line every second; nil for none.
	Progress io.Writer `json:"-"`
}

// Scenarios in the order "all" runs them.
var Scenarios = []string{"ceiling", "throughput", "burst", "fanout", "many-endpoints", "slow-endpoint", "failing", "crash", "inbound", "shaped"}

// ExtraScenarios run only when named: retry-backlog takes minutes and some
// 400 MB of disk at its default size, and measures memory at scale rather
// than a rate, so it would only slow "all" down; cluster starts three
// clusters of nodes on this one machine (cluster.go).
var ExtraScenarios = []string{"retry-backlog", "cluster"}

func (o *Options) ensureDefaults() {
	if o.Scenario == "" {
		o.Scenario = "all"
	}
	if o.Duration <= 0 {
		o.Duration = 10 * time.Second
	}
	if o.PayloadBytes <= 0 {
		o.PayloadBytes = 600
	}
	if o.Publishers <= 0 {
		o.Publishers = 256
	}
	if o.BatchPublishers <= 0 {
		o.BatchPublishers = 4
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 100
	}
	if o.Fanout <= 0 {
		o.Fanout = 100
	}
	if o.Endpoints <= 0 {
		o.Endpoints = 10000
	}
	if o.SlowDelay <= 0 {
		o.SlowDelay = 10 * time.Second
	}
	if o.MaxBacklog <= 0 {
		o.MaxBacklog = 20000
	}
	if o.DrainTimeout <= 0 {
		o.DrainTimeout = 60 * time.Second
	}
	if o.Retries <= 0 {
		o.Retries = 1000000
	}
	if o.ProbeDelay <= 0 {
		o.ProbeDelay = 20 * time.Second
	}
	if o.BurstEvents <= 0 {
		o.BurstEvents = 200000
	}
}

func (o *Options) validate() error {
	if o.Scenario != "all" {
		for _, name := range strings.Split(o.Scenario, ",") {
			if !contains(Scenarios, name) && !contains(ExtraScenarios, name) {
				return fmt.Errorf("unknown scenario %q; all, or one or more of %s, comma-separated", name, strings.Join(slices.Concat(Scenarios, ExtraScenarios), ", "))
			}
		}
	}
	if o.Target == "" && o.ServerBinary == "" {
		return errors.New("BUG: no server binary to spawn and no --target")
	}
	if o.Target != "" && o.Token == "" {
		return errors.New("--target needs --token")
	}
	if o.Endpoints > 100_000 {
		return fmt.Errorf("--endpoints is %d; a tenant has at most 100000", o.Endpoints)
	}
	if o.Durability != "" && o.Durability != "fsync" && o.Durability != "os" {
		return fmt.Errorf("--durability is %q; it must be fsync or os", o.Durability)
	}
	if o.Durability != "" && o.Target != "" {
		return errors.New("--durability sets the spawned servers' mode; give it to the --target server instead")
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// Run runs the selected scenarios and returns their results. Every loop in
// it is bounded by Duration, DrainTimeout or a count, and ctx stops it early.
func Run(ctx context.Context, opts Options) ([]Result, error) {
	opts.ensureDefaults()
	if err := opts.validate(); err != nil {
		return nil, err
	}
	r := &runner{opts: opts, ctx: ctx}
	var results []Result
	for _, name := range slices.Concat(Scenarios, ExtraScenarios) {
		if !opts.selects(name) {
			continue
		}
		if ctx.Err() != nil {
			break
		}
		rs, err := r.scenario(name)
		if err != nil {
			return results, fmt.Errorf("scenario %s: %w", name, err)
		}
		results = append(results, rs...)
	}
	FillRatios(results)
	noteBurstTargets(results)
	return results, nil
}

// selects reports whether the run includes scenario name: "all" runs
// Scenarios, a list runs the ones it names, in the order of Scenarios.
func (o *Options) selects(name string) bool {
	if o.Scenario == "all" {
		return !contains(ExtraScenarios, name)
	}
	return contains(strings.Split(o.Scenario, ","), name)
}

type runner struct {
	opts Options
	ctx  context.Context
	seq  atomic.Int64 // tenant names
}

// phase is one measured run: a server, a tenant with endpoints, publishers
// for Duration, then a wait until every expected delivery has arrived.
type phase struct {
	scenario, variant string
	endpoints         int
	maxInFlight       int
	subscribe         func(i int) []string // event types endpoint i subscribes to
	eventType         func(seq int64) string
	perEvent          int // deliveries expected at the sink per event
	batch             int
	publishers        int
	maxEvents         int64 // 0: no bound but Duration
	status            func(*Delivery) int
	verifyEvery       int
	slowEndpoints     int                  // endpoints [0, slowEndpoints) point at a slow sink
	failingEndpoints  int                  // the next failingEndpoints point at a sink answering 500
	retrySchedule     []string             // endpoint retry schedule
	schedule          func(i int) []string // retry schedule of endpoint i; nil: retrySchedule for all
	track             bool                 // keep exact sets of accepted and delivered ids
	crashAfter        time.Duration
	rate              float64 // events/s to publish at; 0: as fast as the backlog bound allows
	// serverConfig, when set, is a config file (YAML) for the spawned server.
	serverConfig string
	// shape, when set, shapes every endpoint's request (shaped.go).
	shape *endpointShape
}

// phaseRun is the live state of a phase.
type phaseRun struct {
	p        *phase
	srv      *server
	cl       *client
	tenant   string
	sink     *Sink
	slow     *Sink
	failing  *Sink
	latency  Histogram
	accepted atomic.Int64
	reserved atomic.Int64
	nextSend atomic.Int64 // unix ns the next paced publish is due
	// expected maps accepted events to the deliveries the sink is to see.
	expected func(accepted int64) int64

	mu        sync.Mutex
	ackedIDs  map[string]struct{}
	delivered map[string]int
}

func (r *runner) newTenant(p *phase) string {
	return fmt.Sprintf("bench-%s-%d-%d", strings.ReplaceAll(p.scenario, "_", "-"), os.Getpid(), r.seq.Add(1))
}

// startPhase brings up the server (unless targeting one), the sinks, the
// tenant and its endpoints.
func (r *runner) startPhase(p *phase, secret string) (*phaseRun, error) {
	pr := &phaseRun{p: p, tenant: r.newTenant(p)}
	if p.track {
		pr.ackedIDs = map[string]struct{}{}
		pr.delivered = map[string]int{}
	}
	var err error
	pr.sink, err = NewSink(SinkOptions{
		PerPath:     true,
		Secret:      secret,
		VerifyEvery: p.verifyEvery,
		Status:      p.status,
		OnDelivery:  pr.onDelivery,
	})
	if err == nil {
		err = pr.sink.Start()
	}
	if err != nil {
		return nil, fmt.Errorf("cannot start sink: %w", err)
	}
	if p.slowEndpoints > 0 {
		delay := r.opts.SlowDelay
		pr.slow, err = NewSink(SinkOptions{Secret: secret, VerifyEvery: 100, Status: func(*Delivery) int {
			time.Sleep(delay)
			return 200
		}})
		if err == nil {
			err = pr.slow.Start()
		}
		if err != nil {
			pr.close()
			return nil, fmt.Errorf("cannot start slow sink: %w", err)
		}
	}
	if p.failingEndpoints > 0 {
		pr.failing, err = NewSink(SinkOptions{Secret: secret, VerifyEvery: 100, Status: func(*Delivery) int { return 500 }})
		if err == nil {
			err = pr.failing.Start()
		}
		if err != nil {
			pr.close()
			return nil, fmt.Errorf("cannot start failing sink: %w", err)
		}
	}
	if r.opts.Target != "" {
		pr.cl = newClient(strings.TrimPrefix(strings.TrimPrefix(r.opts.Target, "http://"), "https://"), r.opts.Token)
	} else {
		dir, derr := os.MkdirTemp("", "hookline-bench-")
		if derr != nil {
			pr.close()
			return nil, derr
		}
		var extra []string
		if p.serverConfig != "" {
			path := filepath.Join(dir, "hookline.yaml")
			if err := os.WriteFile(path, []byte(p.serverConfig), 0o600); err != nil {
				_ = os.RemoveAll(dir)
				pr.close()
				return nil, err
			}
			extra = []string{"--config", path}
		}
		if r.opts.Durability != "" {
			extra = append(extra, "--durability", r.opts.Durability)
		}
		pr.srv, err = startServer(r.opts.ServerBinary, dir, randomToken(), extra)
		if err != nil {
			_ = os.RemoveAll(dir)
			pr.close()
			return nil, err
		}
		pr.cl = newClient(pr.srv.addr, pr.srv.token)
	}
	if err := pr.cl.createTenant(pr.tenant); err != nil {
		pr.close()
		return nil, err
	}
	specs := make([]endpointSpec, p.endpoints)
	for i := range specs {
		// One path per endpoint: the sink counts deliveries per endpoint.
		url := pr.sink.URL() + "e" + strconv.Itoa(i)
		switch {
		case i < p.slowEndpoints:
			url = pr.slow.URL() + "e" + strconv.Itoa(i)
		case i < p.slowEndpoints+p.failingEndpoints:
			url = pr.failing.URL() + "e" + strconv.Itoa(i)
		}
		specs[i] = endpointSpec{URL: url, EventTypes: p.subscribe(i), MaxInFlight: p.maxInFlight, RetrySchedule: p.retrySchedule, Secret: secret}
		if sh := p.shape; sh != nil {
			specs[i].URL += sh.URLSuffix
			specs[i].Auth, specs[i].Body, specs[i].Filter = sh.Auth, sh.Body, sh.Filter
		}
		if p.schedule != nil {
			specs[i].RetrySchedule = p.schedule(i)
		}
	}
	if err := pr.cl.createEndpoints(pr.tenant, specs); err != nil {
		pr.close()
		return nil, err
	}
	return pr, nil
}

// name is "scenario/variant", or the scenario alone without a variant.
func (p *phase) name() string {
	if p.variant == "" {
		return p.scenario
	}
	return p.scenario + "/" + p.variant
}

// sample reads the spawned server's /proc; a zero sample for --target or
// when it cannot.
func (pr *phaseRun) sample() ProcSample {
	if pr.srv == nil {
		return ProcSample{}
	}
	s, _ := ReadProc(pr.srv.pid())
	return s
}

func (pr *phaseRun) onDelivery(d *Delivery) {
	if d.Status < 200 || d.Status >= 300 {
		return
	}
	if t, ok := sentAt(d.Body); ok {
		pr.latency.Record(d.Received.Sub(t))
	}
	if pr.p.track {
		pr.mu.Lock()
		pr.delivered[d.ID]++
		pr.mu.Unlock()
	}
}

func (pr *phaseRun) close() {
	if pr.srv != nil {
		pr.srv.kill()
		_ = os.RemoveAll(pr.srv.dataDir)
	}
	if pr.sink != nil {
		_ = pr.sink.Close()
	}
	if pr.slow != nil {
		_ = pr.slow.Close()
	}
	if pr.failing != nil {
		_ = pr.failing.Close()
	}
}

// publish runs the publishers until d passes, maxEvents are accepted, stop
// is closed or a publish fails (the server died: expected in crash).
func (r *runner) publish(pr *phaseRun, d time.Duration, stop <-chan struct{}) {
	p := pr.p
	deadline := time.Now().Add(d)
	b := newEventBuilder(r.opts.PayloadBytes)
	var wg sync.WaitGroup
	for range p.publishers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var body []byte
			var ans publishAnswer
			for time.Now().Before(deadline) && r.ctx.Err() == nil {
				select {
				case <-stop:
					return
				default:
				}
				n := int64(max(p.batch, 1))
				if !r.wait(pr, n, deadline) {
					return
				}
				first := pr.reserved.Add(n) - n
				if p.maxEvents > 0 && first >= p.maxEvents {
					return
				}
				body = p.appendBody(body[:0], b, first, n)
				// Decoding every answer would cost the publishers (who
				// share the machine with the server) more than the server's
				// parsing; only the crash scenario needs the ids.
				var out *publishAnswer
				if p.track {
					ans = publishAnswer{}
					out = &ans
				}
				if err := pr.cl.publish(pr.tenant, body, p.batch, out); err != nil {
					if p.crashAfter == 0 {
						time.Sleep(10 * time.Millisecond) // a busy server: try again
					}
					continue
				}
				pr.accepted.Add(n)
				if p.track {
					pr.mu.Lock()
					if ans.ID != "" {
						pr.ackedIDs[ans.ID] = struct{}{}
					}
					for _, id := range ans.IDs {
						pr.ackedIDs[id] = struct{}{}
					}
					pr.mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
}

// appendBody appends events [first, first+n) to dst as one publish body:
// NDJSON lines for a batch phase.
func (p *phase) appendBody(dst []byte, b *eventBuilder, first, n int64) []byte {
	now := time.Now()
	for i := range n {
		dst = b.append(dst, p.eventType(first+i), first+i, now)
		if p.batch > 1 {
			dst = append(dst, '\n')
		}
	}
	return dst
}

// wait holds a publisher of n events back while the backlog is over the
// bound, or until its paced time; it reports false when deadline passed.
func (r *runner) wait(pr *phaseRun, n int64, deadline time.Time) bool {
	if pr.p.rate > 0 {
		step := int64(float64(n) / pr.p.rate * 1e9)
		due := pr.nextSend.Add(step) - step
		if d := time.Until(time.Unix(0, due)); d > 0 {
			if time.Now().Add(d).After(deadline) {
				return false
			}
			time.Sleep(d)
		}
	}
	if pr.expected == nil || pr.p.track {
		return time.Now().Before(deadline)
	}
	for pr.expected(pr.accepted.Load())-int64(pr.sink.Stats().Unique) > r.opts.MaxBacklog {
		if !time.Now().Before(deadline) || r.ctx.Err() != nil {
			return false
		}
		time.Sleep(200 * time.Microsecond)
	}
	return true
}

// progress prints a status line every second until stop is closed.
func (r *runner) progress(name string, start time.Time, accepted func() int64, delivered func() int64, stop <-chan struct{}) {
	if r.opts.Progress == nil {
		return
	}
	t := time.NewTicker(time.Second)
	defer t.Stop()
	var lastA, lastD int64
	for {
		select {
		case <-stop:
			fmt.Fprint(r.opts.Progress, "\r\033[K")
			return
		case <-t.C:
			a, d := accepted(), delivered()
			line := ProgressLine(name, time.Since(start), float64(a-lastA), float64(d-lastD), a-d)
			fmt.Fprint(r.opts.Progress, "\r\033[K"+line)
			lastA, lastD = a, d
		}
	}
}

// drain waits until the sink has answered want distinct deliveries 2xx
// (a delivery answered only with failures so far is still due: its
// retries come), for at most the drain timeout. It reports whether all
// arrived.
func (r *runner) drain(pr *phaseRun, want int64) bool {
	deadline := time.Now().Add(r.opts.DrainTimeout)
	for time.Now().Before(deadline) && r.ctx.Err() == nil {
		if int64(pr.sink.Stats().Delivered) >= want {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return int64(pr.sink.Stats().Delivered) >= want
}

// runPhase runs a non-crash phase and measures it.
func (r *runner) runPhase(p *phase) (Result, error) {
	return r.runPhaseExpecting(p, func(accepted int64) int64 { return accepted * int64(p.perEvent) })
}

// runPhaseExpecting is runPhase with the number of deliveries the sink is to
// receive for a number of accepted events.
func (r *runner) runPhaseExpecting(p *phase, expected func(accepted int64) int64) (Result, error) {
	secret := randomSecret()
	pr, err := r.startPhase(p, secret)
	if err != nil {
		return Result{}, err
	}
	defer pr.close()
	before := pr.sample()
	name := p.name()
	pr.expected = expected
	start := time.Now()
	pr.nextSend.Store(start.UnixNano())
	stopProgress := make(chan struct{})
	go r.progress(name, start, pr.accepted.Load, func() int64 { return int64(pr.sink.Stats().Unique) }, stopProgress)
	r.publish(pr, r.opts.Duration, nil)
	pubElapsed := time.Since(start)
	want := expected(pr.accepted.Load())
	drained := r.drain(pr, want)
	close(stopProgress)

	st := pr.sink.Stats()
	res := Result{
		Scenario:       p.scenario,
		Variant:        p.variant,
		DurationSec:    pubElapsed.Seconds(),
		Published:      pr.accepted.Load(),
		Expected:       want,
		Deliveries:     int64(st.Delivered),
		Attempts:       int64(st.Requests),
		AcceptedPerSec: Rate(pr.accepted.Load(), pubElapsed),
		LatencyMs:      LatencyOf(&pr.latency),
		Missing:        max(0, want-int64(st.Delivered)),
		Duplicates:     int64(st.Duplicates),
	}
	if !st.Last.IsZero() {
		res.DeliveriesPerSec = Rate(int64(st.Delivered), st.Last.Sub(start))
	}
	if st.Delivered > 0 {
		res.AttemptsPerEvent = float64(st.Requests) / float64(st.Delivered)
	}
	if pr.srv != nil {
		if after, err := ReadProc(pr.srv.pid()); err == nil {
			res.CPUSecPer10k = CPUPer10k(before, after, int64(st.Delivered))
			if st.Delivered == 0 && res.Published > 0 {
				// Ingest only: the server's cost per accepted event.
				res.CPUSecPer10k = CPUPer10k(before, after, res.Published)
				res.Notes = append(res.Notes, "no endpoints: cpu s/10k is per 10,000 accepted events")
			}
			res.PeakRSSBytes = after.PeakRSS
		}
	}
	if !drained {
		res.Notes = append(res.Notes, fmt.Sprintf("not every delivery arrived within the drain timeout (%s)", r.opts.DrainTimeout))
	}
	if st.BadSignature > 0 {
		res.Notes = append(res.Notes, fmt.Sprintf("%d deliveries had a bad signature", st.BadSignature))
	}
	return res, nil
}
