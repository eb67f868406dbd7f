package bench

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"hookline/httpout"
)

func (r *runner) scenario(name string) ([]Result, error) {
	o := r.opts
	all := func(int) []string { return []string{"*"} }
	fixed := func(t string) func(int64) string { return func(int64) string { return t } }
	// Bounded event counts keep the drain after publishing short even when
	// delivery is slower than ingest (fan-out multiplies the work).
	perSecond := func(n int) int64 { return int64(o.Duration.Seconds() * float64(n)) }

	switch name {
	case "ceiling":
		res, err := r.ceiling()
		return []Result{res}, err
	case "throughput":
		var out []Result
		for _, p := range []*phase{
			{scenario: name, variant: "single-ingest", endpoints: 0, subscribe: all, eventType: fixed("bench.event"), perEvent: 0, batch: 1, publishers: o.Publishers},
			{scenario: name, variant: "single", endpoints: 1, maxInFlight: 64, subscribe: all, eventType: fixed("bench.event"), perEvent: 1, batch: 1, publishers: o.Publishers, verifyEvery: 100},
			{scenario: name, variant: "batch" + strconv.Itoa(o.BatchSize), endpoints: 1, maxInFlight: 64, subscribe: all, eventType: fixed("bench.event"), perEvent: 1, batch: o.BatchSize, publishers: o.BatchPublishers, verifyEvery: 100, maxEvents: perSecond(200000)},
		} {
			res, err := r.runPhase(p)
			if err != nil {
				return out, err
			}
			out = append(out, res)
		}
		// Latency is judged at half the batched maximum, not at saturation,
		// where it only measures the backlog the publishers keep.
		half := out[len(out)-1].DeliveriesPerSec / 2
		if half > 0 {
			res, err := r.runPhase(&phase{scenario: name, variant: "batch" + strconv.Itoa(o.BatchSize) + "-half-rate", endpoints: 1, maxInFlight: 64,
				subscribe: all, eventType: fixed("bench.event"), perEvent: 1, batch: o.BatchSize, publishers: o.BatchPublishers,
				verifyEvery: 100, rate: half})
			if err != nil {
				return out, err
			}
			res.Notes = append(res.Notes, fmt.Sprintf("paced at %.0f events/s, half the batch100 rate (target p99 <= 20 ms)", half))
			out = append(out, res)
		}
		return out, nil
	case "burst":
		res, err := r.burst()
		return []Result{res}, err
	case "fanout":
		res, err := r.runPhase(&phase{scenario: name, variant: fmt.Sprintf("1to%d", o.Fanout), endpoints: o.Fanout, maxInFlight: 16, subscribe: all,
			eventType: fixed("bench.event"), perEvent: o.Fanout, batch: o.BatchSize, publishers: 2, verifyEvery: 100,
			maxEvents: perSecond(100000) / int64(o.Fanout)})
		return []Result{res}, err
	case "many-endpoints":
		n := o.Endpoints
		res, err := r.runPhase(&phase{scenario: name, variant: strconv.Itoa(n), endpoints: n, maxInFlight: 4,
			subscribe: func(i int) []string { return []string{"me." + strconv.Itoa(i)} },
			eventType: func(seq int64) string { return "me." + strconv.Itoa(int(seq%int64(n))) },
			perEvent:  1, batch: o.BatchSize, publishers: o.BatchPublishers, verifyEvery: 100, maxEvents: perSecond(100000)})
		return []Result{res}, err
	case "slow-endpoint":
		return r.slowEndpoint()
	case "failing":
		var n atomic.Uint64
		res, err := r.runPhase(&phase{scenario: name, variant: "20pct-503", endpoints: 1, maxInFlight: 64, subscribe: all,
			eventType: fixed("bench.event"), perEvent: 1, batch: o.BatchSize, publishers: 2, verifyEvery: 1,
			maxEvents: perSecond(10000),
			// Every fifth answer is a 503: 20% of attempts fail, retries included.
			status: func(*Delivery) int {
				if n.Add(1)%5 == 0 {
					return 503
				}
				return 200
			},
			retrySchedule: []string{"100ms", "200ms", "400ms", "800ms", "1s", "1s", "1s", "1s", "1s", "1s"}})
		if err == nil && res.Missing > 0 {
			res.Notes = append(res.Notes, "some events were not delivered despite retries")
		}
		return []Result{res}, err
	case "crash":
		if o.Target != "" {
			return []Result{{Scenario: name, Notes: []string{"skipped: needs a server the bench spawns and can kill"}}}, nil
		}
		res, err := r.crash()
		return []Result{res}, err
	case "retry-backlog":
		return r.retryBacklog()
	case "cluster":
		return r.cluster()
	case "inbound":
		return r.inbound()
	case "shaped":
		return r.shaped()
	}
	return nil, fmt.Errorf("BUG: unknown scenario %q", name)
}

// slowEndpoint measures 10 endpoints sharing the load, first all fast, then
// with one answering after SlowDelay and one answering 500 to everything:
// the other eight must keep their rate and their latency.
func (r *runner) slowEndpoint() ([]Result, error) {
	o := r.opts
	const n = 10
	mk := func(variant string, slow, failing int) *phase {
		return &phase{scenario: "slow-endpoint", variant: variant, endpoints: n, maxInFlight: 16,
			slowEndpoints: slow, failingEndpoints: failing,
			subscribe: func(i int) []string { return []string{"se." + strconv.Itoa(i)} },
			eventType: func(seq int64) string { return "se." + strconv.Itoa(int(seq%n)) },
			perEvent:  1, batch: o.BatchSize, publishers: o.BatchPublishers, verifyEvery: 100,
			maxEvents: int64(o.Duration.Seconds() * 40000)}
	}
	base, err := r.runPhase(mk("all-fast", 0, 0))
	if err != nil {
		return nil, err
	}
	// Events go to endpoints round robin (seq % n); the fast sink expects
	// those of endpoints 2..9.
	const bad = 2
	p := mk("one-slow-one-failing", 1, 1)
	with, err := r.runPhaseExpecting(p, func(accepted int64) int64 {
		return accepted - (accepted/n*bad + min(accepted%n, bad))
	})
	if err != nil {
		return []Result{base}, err
	}
	with.Notes = append(with.Notes, fmt.Sprintf("endpoint 0 answers after %s, endpoint 1 answers 500 to everything (its circuit opens)", o.SlowDelay))
	if base.DeliveriesPerSec > 0 && base.LatencyMs.P99 > 0 {
		kept := with.DeliveriesPerSec / (base.DeliveriesPerSec * (n - bad) / n)
		with.Notes = append(with.Notes, fmt.Sprintf("the 8 healthy endpoints kept %.0f%% of their all-fast throughput (target >= 90%%); their p99 latency is %.0f%% of all-fast",
			100*kept, 100*with.LatencyMs.P99/base.LatencyMs.P99))
	}
	return []Result{base, with}, nil
}

// ceiling is the physical limit of this machine for the delivery side: a
// bare client signing the same bodies and posting them to the same sink,
// with no engine, no storage and no ingest.
func (r *runner) ceiling() (Result, error) {
	o := r.opts
	secret := randomSecret()
	var lat Histogram
	sink, err := NewSink(SinkOptions{Secret: secret, VerifyEvery: 100, OnDelivery: func(d *Delivery) {
		if t, ok := sentAt(d.Body); ok && d.Status == 200 {
			lat.Record(d.Received.Sub(t))
		}
	}})
	if err == nil {
		err = sink.Start()
	}
	if err != nil {
		return Result{}, err
	}
	defer sink.Close()
	key, err := httpout.ParseSecret(secret)
	if err != nil {
		return Result{}, err
	}
	sender := httpout.NewSender(httpout.Options{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
	defer sender.CloseIdle()
	b := newEventBuilder(o.PayloadBytes)
	var sent atomic.Int64
	start := time.Now()
	deadline := start.Add(o.Duration)
	stop := make(chan struct{})
	go r.progress("ceiling", start, sent.Load, func() int64 { return int64(sink.Stats().Unique) }, stop)
	var wg sync.WaitGroup
	for w := range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			signer := httpout.NewSigner(key)
			var res httpout.Result
			var body, sig, id []byte
			for i := 0; time.Now().Before(deadline) && r.ctx.Err() == nil; i++ {
				now := time.Now()
				// The same body an engine delivery carries: envelope around the payload.
				body = append(body[:0], `{"type":"bench.event","timestamp":"`...)
				body = now.UTC().AppendFormat(body, "2006-01-02T15:04:05.000Z07:00")
				body = append(body, `","data":`...)
				ev := b.append(nil, "x", int64(i), now)
				body = append(body, ev[len(`{"type":"x","payload":`):len(ev)-1]...)
				body = append(body, '}')
				id = strconv.AppendInt(append(id[:0], "msg_"+strconv.Itoa(w)+"_"...), int64(i), 10)
				sig = signer.AppendSignatures(sig[:0], string(id), now.Unix(), body)
				sender.Send(&httpout.Request{URL: sink.URL(), MsgID: string(id), Timestamp: now.Unix(), Signature: sig, Attempt: 1, Body: body}, &res)
				if res.Status == 200 {
					sent.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	el := time.Since(start)
	st := sink.Stats()
	return Result{
		Scenario:         "ceiling",
		Variant:          "client-to-sink",
		DurationSec:      el.Seconds(),
		Deliveries:       int64(st.Unique),
		Attempts:         int64(st.Requests),
		DeliveriesPerSec: Rate(int64(st.Unique), el),
		LatencyMs:        LatencyOf(&lat),
		Duplicates:       int64(st.Duplicates),
		Notes:            []string{"64 signing clients post straight to the sink: no engine, no storage"},
	}, nil
}

// crash kills the server with SIGKILL at a random moment under load,
// restarts it on the same data directory and counts what was lost.
func (r *runner) crash() (Result, error) {
	o := r.opts
	p := &phase{scenario: "crash", variant: "kill-9", endpoints: 1, maxInFlight: 64,
		subscribe: func(int) []string { return []string{"*"} }, eventType: func(int64) string { return "bench.event" },
		perEvent: 1, batch: 20, publishers: 8, verifyEvery: 1, track: true,
		crashAfter: o.Duration/4 + rand.N(o.Duration/2+1)}
	secret := randomSecret()
	pr, err := r.startPhase(p, secret)
	if err != nil {
		return Result{}, err
	}
	defer pr.close()
	start := time.Now()
	stopPub := make(chan struct{})
	done := make(chan struct{})
	go func() {
		r.publish(pr, o.Duration, stopPub)
		close(done)
	}()
	select {
	case <-time.After(p.crashAfter):
	case <-done:
	}
	before, _ := ReadProc(pr.srv.pid())
	pr.srv.kill()
	close(stopPub)
	<-done
	pubElapsed := time.Since(start)

	srv, err := startServer(o.ServerBinary, pr.srv.dataDir, pr.srv.token, pr.srv.extra)
	if err != nil {
		return Result{}, fmt.Errorf("cannot restart after the kill: %w", err)
	}
	pr.srv = srv
	pr.mu.Lock()
	acked := len(pr.ackedIDs)
	pr.mu.Unlock()
	missing := func() int64 {
		pr.mu.Lock()
		defer pr.mu.Unlock()
		var n int64
		for id := range pr.ackedIDs {
			if pr.delivered[id] == 0 {
				n++
			}
		}
		return n
	}
	deadline := time.Now().Add(o.DrainTimeout)
	for missing() > 0 && time.Now().Before(deadline) && r.ctx.Err() == nil {
		time.Sleep(50 * time.Millisecond)
	}
	st := pr.sink.Stats()
	res := Result{
		Scenario:       "crash",
		Variant:        "kill-9",
		DurationSec:    pubElapsed.Seconds(),
		Published:      int64(acked),
		Expected:       int64(acked),
		Deliveries:     int64(st.Unique),
		Attempts:       int64(st.Requests),
		AcceptedPerSec: Rate(int64(acked), pubElapsed),
		LatencyMs:      LatencyOf(&pr.latency),
		PeakRSSBytes:   before.PeakRSS,
		Missing:        missing(),
		Duplicates:     int64(st.Duplicates),
		Notes:          []string{fmt.Sprintf("killed with SIGKILL %.1fs into the load, restarted on the same data", p.crashAfter.Seconds())},
	}
	if !st.Last.IsZero() {
		res.DeliveriesPerSec = Rate(int64(st.Unique), st.Last.Sub(start))
	}
	if res.Missing > 0 {
		res.Notes = append(res.Notes, fmt.Sprintf("LOST %d events answered 202", res.Missing))
	}
	return res, nil
}
