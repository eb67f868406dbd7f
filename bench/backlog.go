package bench

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/valyala/fasthttp"
)

// The retry-backlog scenario holds a day of pending retries on the server
// and measures what they cost and how punctually they fire. How it runs:
//  1. backlogLongEndpoints "long" endpoints always answer 503; endpoint k
//     retries once, (k+1)×15 min after attempt 1, so the Retries events
//     (one endpoint each) leave Retries deliveries in the retry index, due
//     15 min to 24 h ahead (±10% jitter). None comes due during the run,
//     which backlogFillTimeout keeps well under the first 13.5 min.
//  2. While the backlog fills, probe events go every probeEvery to probe
//     endpoints that answer 503 to attempt 1 and 200 after, with delays of
//     1x to 2x ProbeDelay: their retries come due under load and are what
//     the fire-delay histogram times.
//  3. With hookline_retry_backlog_deliveries at the count and the probes
//     fired, the server's RSS, heap and histogram are read: row 1.
//  4. Restart probes (3x ProbeDelay) get their first attempt, the server is
//     killed with SIGKILL and restarted on the same data: the backlog must
//     come back from disk and the restart probes fire on time: row 2.
const (
	backlogLongEndpoints = 96
	backlogLongStep      = 15 * time.Minute
	backlogFillTimeout   = 8 * time.Minute
	probeEvery           = 250 * time.Millisecond
	restartProbes        = 50
	restartProbeFactor   = 3
	// probeSlack is how long past a probe's latest possible due time the
	// bench waits for it before counting it missing.
	probeSlack = 10 * time.Second

	backlogRSSTarget  = 300 << 20
	backlogFireTarget = 1.0 // seconds from due time to firing

	backlogGauge   = "hookline_retry_backlog_deliveries"
	fireDelayHisto = "hookline_retry_fire_delay_seconds"
)

// probeFactors are the probe endpoints' delays in units of ProbeDelay.
var probeFactors = []float64{1, 1.25, 1.5, 2}

// BacklogStats is what retry-backlog measured at one point of its run; it
// rides along in the JSON report for the smoke test and for scripts.
type BacklogStats struct {
	Target int64 `json:"backlog_target"` // deliveries the retry index should hold

	Backlog        int64 `json:"backlog"` // hookline_retry_backlog_deliveries
	WheelPending   int64 `json:"wheel_pending"`
	LoadedFromDisk int64 `json:"loaded_from_disk"`
	RSSBytes       int64 `json:"rss_bytes"`
	HeapInuseBytes int64 `json:"go_heap_inuse_bytes"`
	FireDelayCount int64 `json:"fire_delay_count"`
	// The fire-delay quantiles are bucket bounds in seconds as the le label
	// writes them ("0.1", "+Inf"); "" when nothing fired.
	FireDelayP99   string  `json:"fire_delay_p99_le"`
	FireDelayMax   string  `json:"fire_delay_max_le"`
	ProbesExpected int64   `json:"probes_expected"`
	ProbesFired    int64   `json:"probes_fired"`
	ProbesEarly    int64   `json:"probes_early"`
	ProbesLate     int64   `json:"probes_late"`
	ProbesRepeated int64   `json:"probes_repeated"` // attempt 1 made again: the retry record was lost
	RestartSec     float64 `json:"restart_seconds,omitempty"`
}

func longType(k int) string  { return "rb." + strconv.Itoa(k) }
func probeType(j int) string { return "rbp." + strconv.Itoa(j) }

const restartType = "rbr"

// backlogPlan lays out the endpoints: [0, backlogLongEndpoints) long, then
// one per probe factor, then the restart probe endpoint.
type backlogPlan struct {
	probeDelays  []time.Duration
	restartDelay time.Duration
}

func newBacklogPlan(probeDelay time.Duration) *backlogPlan {
	p := &backlogPlan{restartDelay: restartProbeFactor * probeDelay}
	for _, f := range probeFactors {
		p.probeDelays = append(p.probeDelays, time.Duration(f*float64(probeDelay)))
	}
	return p
}

func (p *backlogPlan) endpoints() int { return backlogLongEndpoints + len(p.probeDelays) + 1 }

func (p *backlogPlan) subscribe(i int) []string {
	switch {
	case i < backlogLongEndpoints:
		return []string{longType(i)}
	case i < backlogLongEndpoints+len(p.probeDelays):
		return []string{probeType(i - backlogLongEndpoints)}
	}
	return []string{restartType}
}

func (p *backlogPlan) schedule(i int) []string {
	switch {
	case i < backlogLongEndpoints:
		return []string{(time.Duration(i+1) * backlogLongStep).String()}
	case i < backlogLongEndpoints+len(p.probeDelays):
		return []string{p.probeDelays[i-backlogLongEndpoints].String()}
	}
	return []string{p.restartDelay.String()}
}

// backlogServerConfig keeps the circuits closed: every first attempt fails on
// purpose, and an open circuit would leave the events queued instead of
// putting them in the retry index this scenario measures.
const backlogServerConfig = `delivery:
  circuit_breaker:
    consecutive_failures: 2000000000
    min_requests: 2000000000
`

// retryBacklog runs the scenario described at the top of this file.
func (r *runner) retryBacklog() ([]Result, error) {
	o := r.opts
	const name = "retry-backlog"
	if o.Target != "" {
		return []Result{{Scenario: name, Notes: []string{"skipped: needs a server the bench spawns, reads from /proc and kills"}}}, nil
	}
	plan := newBacklogPlan(o.ProbeDelay)
	pre, post := newProbeLog(), newProbeLog()
	p := &phase{scenario: name, variant: countName(o.Retries), endpoints: plan.endpoints(), maxInFlight: 8,
		subscribe: plan.subscribe, schedule: plan.schedule,
		eventType: func(seq int64) string { return longType(int(seq % backlogLongEndpoints)) },
		perEvent:  1, batch: o.BatchSize, publishers: o.BatchPublishers, verifyEvery: 100, maxEvents: int64(o.Retries),
		status: func(d *Delivery) int {
			switch {
			case strings.HasPrefix(d.Type, "rbp."):
				return pre.see(d)
			case d.Type == restartType:
				return post.see(d)
			}
			return 503
		},
		serverConfig: backlogServerConfig}
	pr, err := r.startPhase(p, randomSecret())
	if err != nil {
		return nil, err
	}
	defer pr.close()
	// The sink's unique ids count first attempts: publishers pause while
	// more than MaxBacklog events wait for theirs, so the fill measures the
	// rate at which retries pile up, not a queue of untouched deliveries.
	pr.expected = func(accepted int64) int64 { return accepted }
	before, _ := ReadProc(pr.srv.pid())
	start := time.Now()

	stopProbes := make(chan struct{})
	probesDone := make(chan time.Time, 1)
	go func() { probesDone <- r.publishProbes(pr, plan, pre, stopProbes) }()
	stopProgress := make(chan struct{})
	go r.progress(name+"/"+p.variant, start, pr.accepted.Load, func() int64 { return int64(pr.sink.Stats().Unique) - pre.seen() }, stopProgress)
	r.publish(pr, backlogFillTimeout, nil)
	pubElapsed := time.Since(start)
	close(stopProgress)
	accepted := pr.accepted.Load()

	var backlog float64
	_, err = r.waitUntil(pr.srv, time.Now().Add(o.DrainTimeout), func() (bool, string) {
		backlog = scrapeValue(pr.cl, backlogGauge)
		return backlog >= float64(accepted), fmt.Sprintf("retry backlog %s of %s", humanInt(int64(backlog)), humanInt(accepted))
	})
	filled := time.Since(start)
	afterFill, _ := ReadProc(pr.srv.pid())
	close(stopProbes)
	lastProbe := <-probesDone
	if err != nil {
		return nil, err
	}

	// Wait for the probes while the full backlog sits idle. The sink sees a
	// probe's retry before the server records it: the retry index holds
	// the long backlog alone only once the records are in too (on a
	// loaded machine a read right after the last probe counted one more).
	maxDelay := plan.probeDelays[len(plan.probeDelays)-1]
	if _, err := r.waitUntil(pr.srv, lastProbe.Add(time.Duration(1.1*float64(maxDelay))+probeSlack), func() (bool, string) {
		s := pre.summary()
		if s.fired < s.expected {
			return false, fmt.Sprintf("probe retries fired %d of %d", s.fired, s.expected)
		}
		backlog = scrapeValue(pr.cl, backlogGauge)
		return backlog <= float64(accepted), fmt.Sprintf("retry backlog %s after the probes; %s without them", humanInt(int64(backlog)), humanInt(accepted))
	}); err != nil {
		return nil, err
	}
	st := pr.sink.Stats()
	at1, err := r.measureBacklog(pr, int64(o.Retries), pre.summary(), "")
	if err != nil {
		return nil, err
	}
	res1 := Result{
		Scenario:         name,
		Variant:          p.variant,
		DurationSec:      pubElapsed.Seconds(),
		Published:        accepted + at1.ProbesExpected,
		Expected:         accepted + at1.ProbesExpected,
		Deliveries:       int64(st.Unique),
		Attempts:         int64(st.Requests),
		AcceptedPerSec:   Rate(accepted, pubElapsed),
		DeliveriesPerSec: Rate(accepted, filled),
		CPUSecPer10k:     CPUPer10k(before, afterFill, accepted),
		PeakRSSBytes:     at1.peak,
		Missing:          max(0, accepted-at1.Backlog) + at1.ProbesExpected - at1.ProbesFired,
		Duplicates:       int64(st.Duplicates),
		RetryBacklog:     &at1.BacklogStats,
	}
	res1.Notes = append(res1.Notes,
		fmt.Sprintf("backlog %s deliveries in the retry index (%s), due %s to %s ahead ±10%%; %d in the wheel; full %.1f s after the start",
			humanInt(at1.Backlog), backlogGauge, backlogLongStep, backlogLongEndpoints*backlogLongStep, at1.WheelPending, filled.Seconds()),
		fmt.Sprintf("RSS with the full backlog: %s MiB when full, %s MiB after the probes (Go heap in use %s MiB); peak %s MiB (target <= 300 MiB: %s)",
			mib(afterFill.RSS), mib(at1.RSSBytes), mib(at1.HeapInuseBytes), mib(at1.peak), verdict(at1.peak <= backlogRSSTarget)),
		at1.fireNote("retries fired during the run"),
		fmt.Sprintf("probes (retry after %s to %s, due while the backlog filled and after): %d of %d fired, %d early, %d more than 1 s past their jitter window",
			plan.probeDelays[0], maxDelay, at1.ProbesFired, at1.ProbesExpected, at1.ProbesEarly, at1.ProbesLate),
		"delivered/s is first attempts (all answered 503) per second until the backlog was full; cpu s/10k is per 10,000 events taken into the retry index")
	if accepted < int64(o.Retries) {
		res1.Notes = append(res1.Notes, fmt.Sprintf("only %s of %s events accepted within %s", humanInt(accepted), humanInt(int64(o.Retries)), backlogFillTimeout))
	}

	res2, err := r.restartBacklog(pr, plan, post, at1.Backlog)
	if err != nil {
		return []Result{res1}, err
	}
	return []Result{res1, res2}, nil
}

// restartBacklog gives the restart probes their first attempt, kills the
// server with SIGKILL, restarts it on the same data and measures it.
func (r *runner) restartBacklog(pr *phaseRun, plan *backlogPlan, post *probeLog, longBacklog int64) (Result, error) {
	o := r.opts
	var body []byte
	b := newEventBuilder(o.PayloadBytes)
	now := time.Now()
	for i := range restartProbes {
		body = append(b.append(body, restartType, int64(i), now), '\n')
	}
	var ans publishAnswer
	if err := pr.cl.publish(pr.tenant, body, restartProbes, &ans); err != nil {
		return Result{}, fmt.Errorf("cannot publish the restart probes: %w", err)
	}
	for _, id := range ans.IDs {
		post.expect(id, plan.restartDelay)
	}
	// Kill only once every restart probe's retry is committed: a delivery
	// killed between its attempt and its record is attempted again after the
	// restart, and would measure the restart, not the retry index.
	if _, err := r.waitUntil(pr.srv, time.Now().Add(o.DrainTimeout), func() (bool, string) {
		s := post.summary()
		v := scrapeValue(pr.cl, backlogGauge)
		return s.firstSeen >= s.expected && v >= float64(longBacklog+s.expected),
			fmt.Sprintf("restart probes attempted %d of %d", s.firstSeen, s.expected)
	}); err != nil {
		return Result{}, err
	}
	// Outcomes are committed without fsync, and Pebble keeps the tail of its
	// log in memory until a block fills or a commit syncs: a SIGKILL now
	// would lose the last retry records, and their deliveries would start
	// over at attempt 1. A published event is fsynced with everything
	// logged before it, so the kill tests the retry index, not that tail.
	flush := b.append(nil, "rb.flush", 0, time.Now())
	if err := pr.cl.publish(pr.tenant, flush, 1, nil); err != nil {
		return Result{}, fmt.Errorf("cannot publish the event that syncs the log before the kill: %w", err)
	}
	killed := time.Now()
	pr.srv.kill()
	srv, err := startServer(o.ServerBinary, pr.srv.dataDir, pr.srv.token, pr.srv.extra)
	if err != nil {
		return Result{}, fmt.Errorf("cannot restart with the backlog: %w", err)
	}
	restart := time.Since(killed)
	pr.srv = srv
	pr.cl = newClient(srv.addr, srv.token)

	deadline := killed.Add(time.Duration(1.1 * float64(plan.restartDelay))).Add(probeSlack)
	if up := time.Now().Add(probeSlack); up.After(deadline) {
		deadline = up
	}
	if _, err := r.waitUntil(srv, deadline, func() (bool, string) {
		s := post.summary()
		return s.fired >= s.expected, fmt.Sprintf("restart probes fired %d of %d", s.fired, s.expected)
	}); err != nil {
		return Result{}, err
	}
	at, err := r.measureBacklog(pr, longBacklog, post.summary(), ".restart")
	if err != nil {
		return Result{}, err
	}
	at.RestartSec = restart.Seconds()
	st := pr.sink.Stats()
	res := Result{
		Scenario:     "retry-backlog",
		Variant:      "after-restart",
		DurationSec:  restart.Seconds(),
		Published:    at.ProbesExpected,
		Expected:     at.ProbesExpected,
		Deliveries:   at.ProbesFired,
		Attempts:     int64(st.Requests),
		PeakRSSBytes: at.peak,
		Missing:      max(0, longBacklog-at.Backlog) + at.ProbesExpected - at.ProbesFired,
		Duplicates:   int64(st.Duplicates),
		RetryBacklog: &at.BacklogStats,
	}
	res.Notes = append(res.Notes,
		fmt.Sprintf("killed with SIGKILL and restarted on the same data: listening %.2f s after the kill", restart.Seconds()),
		fmt.Sprintf("backlog after the restart %s of %s; %d retries loaded from disk into the wheel, %d in it",
			humanInt(at.Backlog), humanInt(longBacklog), at.LoadedFromDisk, at.WheelPending),
		fmt.Sprintf("RSS after the restart %s MiB (Go heap in use %s MiB); peak %s MiB (target <= 300 MiB: %s)",
			mib(at.RSSBytes), mib(at.HeapInuseBytes), mib(at.peak), verdict(at.peak <= backlogRSSTarget)),
		at.fireNote("retries fired after the restart"),
		fmt.Sprintf("restart probes (retry after %s, first attempt before the kill): %d of %d fired, %d early, %d more than 1 s past their jitter window",
			plan.restartDelay, at.ProbesFired, at.ProbesExpected, at.ProbesEarly, at.ProbesLate))
	s := post.summary()
	if at.ProbesRepeated > 0 {
		res.Notes = append(res.Notes, fmt.Sprintf("%d restart probes were attempted from attempt 1 again after the restart: their retry records did not survive the kill", at.ProbesRepeated))
	}
	if dueFrom := s.earliestFirst.Add(time.Duration(0.9 * float64(plan.restartDelay))); !s.earliestFirst.IsZero() && killed.Add(restart).After(dueFrom) {
		res.Notes = append(res.Notes, "some restart probes could come due before the server was back: raise --probe-delay")
	}
	return res, nil
}

// backlogPoint is BacklogStats with the peak RSS for the result row.
type backlogPoint struct {
	BacklogStats
	peak int64
}

// measureBacklog scrapes the server and samples /proc once the run is
// quiet, and saves a heap profile when asked (to HeapProfile+suffix).
func (r *runner) measureBacklog(pr *phaseRun, target int64, probes probeSummary, suffix string) (backlogPoint, error) {
	pt := backlogPoint{BacklogStats: BacklogStats{
		Target:         target,
		ProbesExpected: probes.expected,
		ProbesFired:    probes.fired,
		ProbesEarly:    probes.early,
		ProbesLate:     probes.late,
		ProbesRepeated: probes.repeats,
	}}
	page, err := pr.cl.get("/metrics")
	if err != nil {
		return pt, fmt.Errorf("cannot read the server's metrics: %w", err)
	}
	m, err := parsePromText(page)
	if err != nil {
		return pt, err
	}
	gauge := func(name string) int64 {
		v, _ := m.value(name)
		return int64(v)
	}
	pt.Backlog = gauge(backlogGauge)
	pt.WheelPending = gauge("hookline_retry_wheel_pending")
	pt.LoadedFromDisk = gauge("hookline_retry_loaded_from_disk_total")
	pt.HeapInuseBytes = gauge("go_memstats_heap_inuse_bytes")
	bs, err := m.histogram(fireDelayHisto)
	if err != nil {
		return pt, err
	}
	pt.FireDelayCount = int64(bs[len(bs)-1].Count)
	if le, ok := bucketQuantile(bs, 0.99); ok {
		pt.FireDelayP99 = formatLE(le)
	}
	if le, ok := bucketQuantile(bs, 1); ok {
		pt.FireDelayMax = formatLE(le)
	}
	ps, err := ReadProc(pr.srv.pid())
	if err != nil {
		return pt, err
	}
	pt.RSSBytes, pt.peak = ps.RSS, ps.PeakRSS
	if r.opts.HeapProfile != "" {
		prof, err := pr.cl.get("/debug/pprof/heap")
		if err == nil {
			err = os.WriteFile(r.opts.HeapProfile+suffix, prof, 0o644)
		}
		if err != nil {
			return pt, fmt.Errorf("cannot save the heap profile: %w", err)
		}
	}
	return pt, nil
}

func (s *BacklogStats) fireDelayMet() bool {
	le, err := strconv.ParseFloat(s.FireDelayMax, 64)
	return err == nil && le <= backlogFireTarget
}

func (s *BacklogStats) fireNote(what string) string {
	if s.FireDelayCount == 0 {
		return "fire delay: no " + what
	}
	return fmt.Sprintf("fire delay of %d %s (%s): p99 <= %s s, max <= %s s (target <= 1 s: %s)",
		s.FireDelayCount, what, fireDelayHisto, s.FireDelayP99, s.FireDelayMax, verdict(s.fireDelayMet()))
}

// publishProbes publishes one event to each probe endpoint every
// probeEvery until stop is closed, and returns when the last was accepted.
func (r *runner) publishProbes(pr *phaseRun, plan *backlogPlan, probes *probeLog, stop <-chan struct{}) time.Time {
	b := newEventBuilder(r.opts.PayloadBytes)
	t := time.NewTicker(probeEvery)
	defer t.Stop()
	var body []byte
	var last time.Time
	for seq := int64(0); r.ctx.Err() == nil; seq++ {
		body = body[:0]
		now := time.Now()
		for j := range plan.probeDelays {
			body = append(b.append(body, probeType(j), seq, now), '\n')
		}
		var ans publishAnswer
		if err := pr.cl.publish(pr.tenant, body, len(plan.probeDelays), &ans); err == nil {
			for j, id := range ans.IDs {
				if j < len(plan.probeDelays) {
					probes.expect(id, plan.probeDelays[j])
				}
			}
			last = time.Now()
		}
		select {
		case <-stop:
			return last
		case <-t.C:
		}
	}
	return last
}

// waitUntil polls cond until it holds or deadline passes, with a status
// line each second. It fails only when the server died meanwhile.
func (r *runner) waitUntil(srv *server, deadline time.Time, cond func() (bool, string)) (bool, error) {
	var shown time.Time
	defer func() {
		if r.opts.Progress != nil && !shown.IsZero() {
			fmt.Fprint(r.opts.Progress, "\r\033[K")
		}
	}()
	for {
		ok, status := cond()
		if ok {
			return true, nil
		}
		select {
		case <-srv.exited:
			return false, fmt.Errorf("server exited while waiting (%s):\n%s", status, srv.logTail())
		default:
		}
		if time.Now().After(deadline) || r.ctx.Err() != nil {
			return false, nil
		}
		if r.opts.Progress != nil && time.Since(shown) >= time.Second {
			fmt.Fprint(r.opts.Progress, "\r\033[Kretry-backlog  "+status)
			shown = time.Now()
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// scrapeValue reads one unlabelled series from the server's /metrics; -1
// when it cannot, which no wait condition accepts.
func scrapeValue(c *client, name string) float64 {
	page, err := c.get("/metrics")
	if err != nil {
		return -1
	}
	m, err := parsePromText(page)
	if err != nil {
		return -1
	}
	if v, ok := m.value(name); ok {
		return v
	}
	return -1
}

// get fetches path with the admin token and returns a copy of the body.
func (c *client) get(path string) ([]byte, error) {
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI(c.base + path)
	req.Header.Set("Authorization", "Bearer "+c.token)
	if err := c.hc.Do(req, resp); err != nil {
		return nil, fmt.Errorf("GET %s: %w", path, err)
	}
	if resp.StatusCode() != fasthttp.StatusOK {
		return nil, fmt.Errorf("GET %s: status %d: %.200s", path, resp.StatusCode(), resp.Body())
	}
	return append([]byte(nil), resp.Body()...), nil
}

// countName names a count for a variant: 1000000 -> "1M", 2000 -> "2k".
func countName(n int) string {
	switch {
	case n >= 1000000 && n%1000000 == 0:
		return strconv.Itoa(n/1000000) + "M"
	case n >= 1000 && n%1000 == 0:
		return strconv.Itoa(n/1000) + "k"
	}
	return strconv.Itoa(n)
}

func mib(b int64) string { return humanFloat(float64(b) / (1 << 20)) }

func verdict(met bool) string {
	if met {
		return "met"
	}
	return "NOT MET"
}
