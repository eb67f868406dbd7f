package bench

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The burst scenario drains a burst, the shape of traffic after an
// upstream outage or a backfill: BurstEvents events are published in
// batches of BatchSize by BatchPublishers publishers as fast as the server
// accepts them, with no bound on the backlog (the other phases pause their
// publishers at MaxBacklog, so they never measure this), to one endpoint on
// the sink, which then receives them all. It reports the ingest rate over
// the publish phase, the end-to-end rate from the first publish to the last
// delivery (its ratio to the ceiling is the figure issue 16 targets) and
// the server's peak RSS.
const (
	burstRatioTarget = 0.55
	burstRSSTarget   = 512 << 20
	// burstFloorRate sizes the time bound of a burst: DrainTimeout plus one
	// second per burstFloorRate events. A server slower than that end to
	// end fails the scenario with the counts instead of holding the run.
	burstFloorRate = 2000
)

// burstVariant names a burst of n events: "200k", "1m".
func burstVariant(n int) string { return strings.ToLower(countName(n)) }

func (r *runner) burst() (Result, error) {
	o := r.opts
	n := int64(o.BurstEvents)
	p := &phase{scenario: "burst", variant: burstVariant(o.BurstEvents), endpoints: 1, maxInFlight: 64,
		subscribe: func(int) []string { return []string{"*"} }, eventType: func(int64) string { return "bench.event" },
		perEvent: 1, batch: o.BatchSize, publishers: o.BatchPublishers, verifyEvery: 100}
	name := p.name()
	pr, err := r.startPhase(p, randomSecret())
	if err != nil {
		return Result{}, err
	}
	defer pr.close()
	before := pr.sample()
	bound := o.DrainTimeout + time.Duration(n/burstFloorRate)*time.Second
	start := time.Now()
	deadline := start.Add(bound)
	stopProgress := make(chan struct{})
	go r.progress(name, start, pr.accepted.Load, func() int64 { return int64(pr.sink.Stats().Unique) }, stopProgress)
	resent, err := r.publishBurst(pr, n, deadline)
	pubElapsed := time.Since(start)
	backlog := n - int64(pr.sink.Stats().Unique)
	published := pr.sample()
	if err == nil {
		err = r.awaitBurst(pr, n, deadline)
	}
	close(stopProgress)
	if err != nil {
		return Result{}, fmt.Errorf("%s (bound %s: the drain timeout plus 1 s per %d events): %w", name, bound, burstFloorRate, err)
	}

	st := pr.sink.Stats()
	total := st.Last.Sub(start)
	res := Result{
		Scenario:         p.scenario,
		Variant:          p.variant,
		DurationSec:      pubElapsed.Seconds(),
		Published:        pr.accepted.Load(),
		Expected:         n,
		Deliveries:       int64(st.Unique),
		Attempts:         int64(st.Requests),
		AcceptedPerSec:   Rate(pr.accepted.Load(), pubElapsed),
		DeliveriesPerSec: Rate(int64(st.Unique), total),
		LatencyMs:        LatencyOf(&pr.latency),
		Duplicates:       int64(st.Duplicates),
	}
	if st.Unique > 0 {
		res.AttemptsPerEvent = float64(st.Requests) / float64(st.Unique)
	}
	res.Notes = append(res.Notes, fmt.Sprintf("%s events in batches of %d from %d publishers as fast as accepted (no backlog bound) to 1 endpoint: "+
		"accepted/s is over the publish phase (%.2f s), delivered/s from the first publish to the last delivery (%.2f s)",
		humanInt(n), p.batch, p.publishers, pubElapsed.Seconds(), total.Seconds()))
	if pr.srv != nil {
		if after, err := ReadProc(pr.srv.pid()); err == nil {
			res.CPUSecPer10k = CPUPer10k(before, after, int64(st.Unique))
			res.PeakRSSBytes = after.PeakRSS
			res.Notes = append(res.Notes, fmt.Sprintf("server RSS %s MiB before the burst, %s MiB when the last batch was accepted (%s deliveries outstanding), %s MiB after the drain; peak %s MiB (target <= %d MiB: %s)",
				mib(before.RSS), mib(published.RSS), humanInt(backlog), mib(after.RSS), mib(after.PeakRSS), burstRSSTarget>>20, verdict(after.PeakRSS <= burstRSSTarget)))
		}
	}
	if resent > 0 {
		res.Notes = append(res.Notes, fmt.Sprintf("%d batches were refused or failed and sent again", resent))
	}
	if st.BadSignature > 0 {
		res.Notes = append(res.Notes, fmt.Sprintf("%d deliveries had a bad signature", st.BadSignature))
	}
	return res, nil
}

// publishBurst publishes events [0, n) in batches, each publisher taking
// the next batch until none is left, and sends a refused or failed batch
// again until deadline. It returns how many sends were repeated; an error
// when not every event was accepted by deadline.
func (r *runner) publishBurst(pr *phaseRun, n int64, deadline time.Time) (int64, error) {
	p := pr.p
	size := int64(max(p.batch, 1))
	batches := (n + size - 1) / size
	b := newEventBuilder(r.opts.PayloadBytes)
	var (
		next, resent atomic.Int64
		wg           sync.WaitGroup
		mu           sync.Mutex
		lastErr      error
	)
	for range p.publishers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var body []byte
			for i := next.Add(1) - 1; i < batches; i = next.Add(1) - 1 {
				first := i * size
				k := min(size, n-first)
				body = p.appendBody(body[:0], b, first, k)
				for {
					err := pr.cl.publish(pr.tenant, body, p.batch, nil)
					if err == nil {
						pr.accepted.Add(k)
						break
					}
					if time.Now().After(deadline) || r.ctx.Err() != nil || pr.exited() {
						mu.Lock()
						lastErr = err
						mu.Unlock()
						return
					}
					// A busy server (503, 429): the same events again.
					resent.Add(1)
					time.Sleep(10 * time.Millisecond)
				}
			}
		}()
	}
	wg.Wait()
	if got := pr.accepted.Load(); got < n {
		if lastErr == nil {
			lastErr = errors.New("stopped")
		}
		return resent.Load(), fmt.Errorf("%s of %s events accepted: %w%s", humanInt(got), humanInt(n), lastErr, pr.serverLog())
	}
	return resent.Load(), nil
}

// awaitBurst waits until the sink has seen n unique deliveries; an error
// with the counts when deadline passes or the server exits first.
func (r *runner) awaitBurst(pr *phaseRun, n int64, deadline time.Time) error {
	for {
		got := int64(pr.sink.Stats().Unique)
		switch {
		case got >= n:
			return nil
		case pr.exited():
			return fmt.Errorf("the server exited with %s of %s deliveries at the sink%s", humanInt(got), humanInt(n), pr.serverLog())
		case r.ctx.Err() != nil:
			return fmt.Errorf("%s of %s deliveries at the sink: %w", humanInt(got), humanInt(n), r.ctx.Err())
		case time.Now().After(deadline):
			return fmt.Errorf("only %s of %s deliveries arrived at the sink in time", humanInt(got), humanInt(n))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// exited reports whether the spawned server has exited; false for --target.
func (pr *phaseRun) exited() bool {
	if pr.srv == nil {
		return false
	}
	select {
	case <-pr.srv.exited:
		return true
	default:
		return false
	}
}

// serverLog is the tail of a spawned server's log for an error message.
func (pr *phaseRun) serverLog() string {
	if pr.srv == nil {
		return ""
	}
	return "; server log:\n" + pr.srv.logTail()
}

// noteBurstTargets adds each burst result's verdict on the ratio target,
// once FillRatios has set the ratios.
func noteBurstTargets(results []Result) {
	ceiling := false
	for i := range results {
		ceiling = ceiling || results[i].Scenario == "ceiling"
	}
	for i := range results {
		r := &results[i]
		if r.Scenario != "burst" {
			continue
		}
		if !ceiling {
			r.Notes = append(r.Notes, "no ceiling in this run, so no ratio: run --scenario ceiling,burst")
			continue
		}
		r.Notes = append(r.Notes, fmt.Sprintf("end to end %.2f of the ceiling measured in this run (target >= %.2f: %s)",
			r.CeilingRatio, burstRatioTarget, verdict(r.CeilingRatio >= burstRatioTarget)))
	}
}
