package bench

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"
)

// The inbound scenario measures the receiver, POST /in/{source id}, end to
// end with real signed provider requests over loopback: read, verify the
// signature, map, dedupe on the provider's id, append durably (group-
// committed fsync), log the request, answer 200. How a phase runs:
//  1. A server is spawned with a tenant and one source of the provider's
//     preset (default mapping); the sink variant adds one endpoint that
//     takes every event, so delivery runs alongside.
//  2. Publishers goroutines post for the phase's time. Each request gets a
//     delivery id of its own and is signed on the client as the provider
//     signs it, per request. In the repeat variant one request in every
//     repeatEvery (the second of each ten, so a short or slow run repeats
//     too) instead resends one of the worker's own earlier, already
//     answered ids, as a provider retrying a delivery would.
//  3. Answers are checked: a new id must be answered {"id":"evt_…"}, a
//     repeat {"id":<the first answer's id>,"duplicate":true}.
//  4. After the load, the server's counters must match the client's, every
//     event id must be distinct, and a sample of events must read back by
//     id with the mapped type.
//
// The client (signing included) shares the 2 cores with the server, so
// each row says how the machine's CPU was split during the phase.

// Targets of issue 6: requests per second answered 200.
const (
	inboundTarget28k = 5000
	inboundTarget1k  = 20000
	// repeatEvery makes 10% of the repeat variant's requests retries.
	repeatEvery = 10
	// repeatRing is how many recent answered ids a worker picks repeats from.
	repeatRing = 64
	// readBackSample is how many accepted events are read back by id.
	readBackSample = 32
)

// InboundStats is what an inbound phase checked; it rides along in the
// JSON report for the smoke test and for scripts.
type InboundStats struct {
	Provider       string           `json:"provider"`
	Requests       int64            `json:"requests"`     // sent
	Answered       int64            `json:"answered_200"` // answered 200, repeats included
	Accepted       int64            `json:"accepted"`     // new events answered 200
	Errors         int64            `json:"errors"`       // non-200 answers and transport errors
	ErrorsByStatus map[string]int64 `json:"errors_by_status,omitempty"`
	UniqueIDs      int64            `json:"unique_event_ids"`  // distinct ids among Accepted
	NewAsDuplicate int64            `json:"new_as_duplicate"`  // a new delivery id answered as a duplicate
	Repeats        int64            `json:"repeats"`           // repeated delivery ids sent and answered 200
	RepeatsMatched int64            `json:"repeats_matched"`   // answered duplicate with the first event's id
	ServerAccepted int64            `json:"server_accepted"`   // hookline_inbound_requests_total{outcome="accepted"}
	ServerDups     int64            `json:"server_duplicates"` // hookline_inbound_requests_total{outcome="duplicate"}
	ServerIngested int64            `json:"server_ingested"`   // hookline_ingest_events_total{source="inbound"}
	ReadBack       int64            `json:"read_back"`         // sampled events fetched by id
	ReadBackOK     int64            `json:"read_back_ok"`      // ... found, with the mapped type
	ServerCores    float64          `json:"server_cores"`      // CPU seconds per second during the load
	ClientCores    float64          `json:"client_cores"`      // the bench process: signing, HTTP, sink
	OtherCores     float64          `json:"other_cores"`       // the rest of the machine
	ClientCPUPer10 float64          `json:"client_cpu_seconds_per_10k"`
}

// inboundPhase is one measured run of the scenario.
type inboundPhase struct {
	variant  string
	kind     inboundKind
	duration time.Duration
	repeat   bool // every repeatEvery-th request repeats an answered id
	sink     bool // one endpoint subscribed to everything
	target   float64
}

func (r *runner) inbound() ([]Result, error) {
	o := r.opts
	// The repeat and sink variants are checks more than rates: half the
	// time keeps the scenario under 40 s at the default 10 s.
	half := max(o.Duration/2, time.Millisecond)
	var out []Result
	for _, p := range []inboundPhase{
		{variant: "github-28k", kind: githubPR, duration: o.Duration, target: inboundTarget28k},
		{variant: "1k", kind: stripeInvoice, duration: o.Duration, target: inboundTarget1k},
		{variant: "1k-10pct-repeats", kind: stripeInvoice, duration: half, repeat: true},
		{variant: "1k-sink", kind: stripeInvoice, duration: half, sink: true},
	} {
		res, err := r.inboundPhase(&p)
		if err != nil {
			return out, fmt.Errorf("%s: %w", p.variant, err)
		}
		out = append(out, res)
	}
	return out, nil
}

// inboundRun is the live state of an inbound phase.
type inboundRun struct {
	ip      *inboundPhase
	pr      *phaseRun
	url     string
	secret  string
	tag     uint32
	latency Histogram

	sent, answered, accepted, errors atomic.Int64
	newAsDup, repeats, repeatsOK     atomic.Int64

	mu       sync.Mutex
	byStatus map[string]int64
	ids      [][]string // per worker: event ids of accepted new requests
}

func (r *runner) inboundPhase(ip *inboundPhase) (Result, error) {
	p := &phase{scenario: "inbound", variant: ip.variant, perEvent: 0}
	if ip.sink {
		p.endpoints, p.maxInFlight, p.perEvent, p.verifyEvery = 1, 64, 1, 100
		p.subscribe = func(int) []string { return []string{"*"} }
	}
	pr, err := r.startPhase(p, randomSecret())
	if err != nil {
		return Result{}, err
	}
	defer pr.close()
	run := &inboundRun{ip: ip, pr: pr, secret: randomSecret(), byStatus: map[string]int64{}}
	if ip.sink {
		// runner.wait holds the workers back while more than MaxBacklog
		// accepted events wait for their delivery.
		pr.expected = func(int64) int64 { return run.accepted.Load() }
	}
	var tagb [4]byte
	_, _ = rand.Read(tagb[:])
	run.tag = binary.LittleEndian.Uint32(tagb[:])
	var src struct {
		URL string `json:"url"`
	}
	in, _ := json.Marshal(map[string]string{"name": "bench " + ip.variant, "provider": ip.kind.provider, "secret": run.secret})
	if err := pr.cl.do("POST", "/v1/tenants/"+pr.tenant+"/sources", "application/json", in, 201, &src); err != nil {
		return Result{}, err
	}
	run.url = pr.cl.base + src.URL

	var srvBefore ProcSample
	if pr.srv != nil {
		srvBefore, _ = ReadProc(pr.srv.pid())
	}
	cliBefore, _ := ReadProc(os.Getpid())
	busyBefore, _ := ReadMachineBusy()
	start := time.Now()
	stopProgress := make(chan struct{})
	go r.progress("inbound/"+ip.variant, start, run.answered.Load, func() int64 { return int64(pr.sink.Stats().Unique) }, stopProgress)
	r.postInbound(run, start.Add(ip.duration))
	el := time.Since(start)
	var srvAfter ProcSample
	if pr.srv != nil {
		srvAfter, _ = ReadProc(pr.srv.pid())
	}
	cliAfter, _ := ReadProc(os.Getpid())
	busyAfter, _ := ReadMachineBusy()
	accepted := run.accepted.Load()
	drained := true
	if ip.sink {
		drained = r.drain(pr, accepted)
	}
	close(stopProgress)

	st := &InboundStats{
		Provider:       ip.kind.provider,
		Requests:       run.sent.Load(),
		Answered:       run.answered.Load(),
		Accepted:       accepted,
		Errors:         run.errors.Load(),
		NewAsDuplicate: run.newAsDup.Load(),
		Repeats:        run.repeats.Load(),
		RepeatsMatched: run.repeatsOK.Load(),
	}
	if len(run.byStatus) > 0 {
		st.ErrorsByStatus = run.byStatus
	}
	ids := run.allIDs()
	st.UniqueIDs = int64(len(ids))
	if err := r.checkInbound(run, st, ids); err != nil {
		return Result{}, err
	}
	secs := el.Seconds()
	srvCPU, cliCPU := (srvAfter.CPU - srvBefore.CPU).Seconds(), (cliAfter.CPU - cliBefore.CPU).Seconds()
	st.ServerCores, st.ClientCores = srvCPU/secs, cliCPU/secs
	st.OtherCores = max(0, (busyAfter-busyBefore).Seconds()/secs-st.ServerCores-st.ClientCores)
	if st.Answered > 0 {
		st.ClientCPUPer10 = cliCPU * 10000 / float64(st.Answered)
	}

	res := Result{
		Scenario:       "inbound",
		Variant:        ip.variant,
		DurationSec:    secs,
		Published:      accepted,
		AcceptedPerSec: Rate(st.Answered, el),
		LatencyMs:      LatencyOf(&run.latency),
		Duplicates:     accepted - st.UniqueIDs,
		Inbound:        st,
	}
	// Missing: accepted events the server does not show, repeats not
	// answered with their first event, and, with a sink, undelivered ones.
	res.Missing = max(0, accepted-st.ServerAccepted) + max(0, accepted-st.ServerIngested) +
		(st.ReadBack - st.ReadBackOK) + (st.Repeats - st.RepeatsMatched) + st.NewAsDuplicate
	if pr.srv != nil {
		res.CPUSecPer10k = CPUPer10k(srvBefore, srvAfter, st.Answered)
		res.PeakRSSBytes = srvAfter.PeakRSS
	}
	if ip.sink {
		sk := pr.sink.Stats()
		res.Expected, res.Deliveries, res.Attempts = accepted, int64(sk.Unique), int64(sk.Requests)
		res.Missing += max(0, accepted-int64(sk.Unique))
		if !sk.Last.IsZero() {
			res.DeliveriesPerSec = Rate(int64(sk.Unique), sk.Last.Sub(start))
		}
		if sk.BadSignature > 0 {
			res.Notes = append(res.Notes, fmt.Sprintf("%d deliveries had a bad signature", sk.BadSignature))
		}
		if !drained {
			res.Notes = append(res.Notes, fmt.Sprintf("not every delivery arrived within the drain timeout (%s)", r.opts.DrainTimeout))
		}
	}
	res.Notes = append(res.Notes, inboundNotes(&res, run, st)...)
	return res, nil
}

// postInbound runs the publishers until deadline.
func (r *runner) postInbound(run *inboundRun, deadline time.Time) {
	workers := r.opts.Publishers
	run.ids = make([][]string, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			run.ids[w] = r.inboundWorker(run, w, deadline)
		}()
	}
	wg.Wait()
}

// answeredKey is a delivery id already answered, for a repeat.
type answeredKey struct {
	key []byte
	id  string
}

// inboundWorker posts requests until deadline and returns the event ids of
// its accepted new requests.
func (r *runner) inboundWorker(run *inboundRun, w int, deadline time.Time) []string {
	ip, pr := run.ip, run.pr
	signer := newInboundSigner(ip.kind, run.secret)
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	rng := mrand.New(mrand.NewPCG(uint64(run.tag), uint64(w)))
	var ids []string
	var ring []answeredKey
	var key []byte
	// The repeat variant checks that repeats are answered as duplicates, so
	// a worker that has an answered id sends at least one repeat, past the
	// deadline if it must: a slow or busy machine may give a short phase
	// fewer than repeatEvery requests per worker.
	repeated := false
	// runner.wait checks deadline only while it holds a worker back.
	for seq := int64(0); r.ctx.Err() == nil; seq++ {
		late := !time.Now().Before(deadline)
		if late && (!ip.repeat || repeated || len(ring) == 0) {
			break
		}
		if !late && !r.wait(pr, 1, deadline) {
			break
		}
		var first *answeredKey
		if ip.repeat && len(ring) > 0 && (seq%repeatEvery == repeatEvery-1 || late) {
			first, repeated = &ring[rng.IntN(len(ring))], true
			key = append(key[:0], first.key...)
		} else {
			key = appendDeliveryKey(key[:0], ip.kind.provider, run.tag, w, seq)
		}
		now := time.Now()
		signer.fill(req, run.url, key, now)
		run.sent.Add(1)
		err := pr.cl.hc.Do(req, resp)
		took := time.Since(now)
		if err != nil {
			run.fail("transport: " + err.Error())
			time.Sleep(10 * time.Millisecond) // a busy server: try again
			continue
		}
		if resp.StatusCode() != fasthttp.StatusOK {
			run.fail(strconv.Itoa(resp.StatusCode()))
			continue
		}
		id, dup, ok := parseInboundAnswer(resp.Body())
		if !ok {
			run.fail("200 with an unexpected answer")
			continue
		}
		run.answered.Add(1)
		run.latency.Record(took)
		switch {
		case first != nil:
			run.repeats.Add(1)
			if dup && string(id) == first.id {
				run.repeatsOK.Add(1)
			}
		case dup:
			run.newAsDup.Add(1)
		default:
			run.accepted.Add(1)
			sid := string(id)
			ids = append(ids, sid)
			if ip.repeat {
				k := answeredKey{key: append([]byte(nil), key...), id: sid}
				if len(ring) < repeatRing {
					ring = append(ring, k)
				} else {
					ring[rng.IntN(repeatRing)] = k
				}
			}
		}
	}
	return ids
}

func (run *inboundRun) fail(what string) {
	run.errors.Add(1)
	run.mu.Lock()
	if len(run.byStatus) < 20 || run.byStatus[what] > 0 {
		run.byStatus[what]++
	}
	run.mu.Unlock()
}

// allIDs returns the distinct accepted event ids.
func (run *inboundRun) allIDs() map[string]struct{} {
	n := 0
	for _, ids := range run.ids {
		n += len(ids)
	}
	out := make(map[string]struct{}, n)
	for _, ids := range run.ids {
		for _, id := range ids {
			out[id] = struct{}{}
		}
	}
	return out
}

// checkInbound reads the server's inbound counters and reads a sample of
// the accepted events back by id.
func (r *runner) checkInbound(run *inboundRun, st *InboundStats, ids map[string]struct{}) error {
	cl := run.pr.cl
	page, err := cl.get("/metrics")
	if err != nil {
		return fmt.Errorf("cannot read the server's metrics: %w", err)
	}
	m, err := parsePromText(page)
	if err != nil {
		return err
	}
	v := func(series string) int64 { x, _ := m.value(series); return int64(x) }
	st.ServerAccepted = v(`hookline_inbound_requests_total{outcome="accepted"}`)
	st.ServerDups = v(`hookline_inbound_requests_total{outcome="duplicate"}`)
	st.ServerIngested = v(`hookline_ingest_events_total{source="inbound"}`)

	sample := make([]string, 0, len(ids))
	for id := range ids {
		sample = append(sample, id)
	}
	sort.Strings(sample) // ids sort by time: take first, last and evenly between
	if len(sample) > readBackSample {
		picked := make([]string, 0, readBackSample)
		for i := range readBackSample {
			picked = append(picked, sample[i*(len(sample)-1)/(readBackSample-1)])
		}
		sample = picked
	}
	for _, id := range sample {
		st.ReadBack++
		var ev struct {
			ID   string `json:"id"`
			Type string `json:"type"`
		}
		if err := cl.do("GET", "/v1/tenants/"+run.pr.tenant+"/events/"+id, "", nil, 200, &ev); err == nil &&
			ev.ID == id && ev.Type == run.ip.kind.eventType {
			st.ReadBackOK++
		}
	}
	return nil
}

// inboundNotes explains a row: the target, where the CPU went and what was
// checked.
func inboundNotes(res *Result, run *inboundRun, st *InboundStats) []string {
	ip := run.ip
	var notes []string
	req := fasthttp.AcquireRequest()
	defer fasthttp.ReleaseRequest(req)
	newInboundSigner(ip.kind, run.secret).fill(req, run.url, appendDeliveryKey(nil, ip.kind.provider, run.tag, 0, 0), time.Now())
	what := fmt.Sprintf("the %d-byte GitHub pull_request.opened, X-Hub-Signature-256", len(req.Body()))
	if ip.kind.provider == providerStripe {
		what = fmt.Sprintf("a %d-byte Stripe-like invoice.paid, Stripe-Signature (t, v1)", len(req.Body()))
	}
	notes = append(notes, fmt.Sprintf("%s signed per request by %d client goroutines; accepted/s is requests answered 200; cpu s/10k is the server's per 10,000 of them",
		what, len(run.ids)))
	if ip.target > 0 {
		notes = append(notes, fmt.Sprintf("target >= %s requests/s: %s", humanInt(int64(ip.target)), verdict(res.AcceptedPerSec >= ip.target)))
	}
	if run.pr.srv != nil {
		notes = append(notes, fmt.Sprintf("CPU of the %d cores while posting: server %.2f, bench client %.2f (%.3f s per 10k requests), rest of the machine %.2f; load average at the end %s",
			runtime.NumCPU(), st.ServerCores, st.ClientCores, st.ClientCPUPer10, st.OtherCores, loadAvg()))
	} else {
		// A --target server's CPU is not ours to read: it counts as the rest.
		notes = append(notes, fmt.Sprintf("CPU while posting: bench client %.2f cores (%.3f s per 10k requests), the rest of the machine (the target server, if local) %.2f",
			st.ClientCores, st.ClientCPUPer10, st.OtherCores))
	}
	errs := "no errors"
	if st.Errors > 0 {
		keys := make([]string, 0, len(st.ErrorsByStatus))
		for k, n := range st.ErrorsByStatus {
			keys = append(keys, fmt.Sprintf("%s x%d", k, n))
		}
		sort.Strings(keys)
		errs = fmt.Sprintf("%d ERRORS (%s)", st.Errors, strings.Join(keys, "; "))
	}
	notes = append(notes, fmt.Sprintf("%s; %s new events, %s distinct ids; server counted %s accepted and %s ingested from inbound; %d of %d sampled events read back by id with type %s",
		errs, humanInt(st.Accepted), humanInt(st.UniqueIDs), humanInt(st.ServerAccepted), humanInt(st.ServerIngested), st.ReadBackOK, st.ReadBack, ip.kind.eventType))
	if ip.repeat {
		notes = append(notes, fmt.Sprintf("%s repeated delivery ids (one request in %d): %s answered duplicate with the first event's id; server counted %s duplicates",
			humanInt(st.Repeats), repeatEvery, humanInt(st.RepeatsMatched), humanInt(st.ServerDups)))
	}
	if st.NewAsDuplicate > 0 {
		notes = append(notes, fmt.Sprintf("%d NEW delivery ids were answered as duplicates", st.NewAsDuplicate))
	}
	if ip.sink {
		l := LatencyOf(&run.pr.latency)
		notes = append(notes, fmt.Sprintf("one endpoint takes every event (a sink on loopback): request-to-delivery p50 %s ms, p99 %s ms, max %s ms",
			humanFloat(l.P50), humanFloat(l.P99), humanFloat(l.Max)))
	}
	return notes
}

// loadAvg is the 1-minute load average, "?" when unknown.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	if f := strings.Fields(string(b)); len(f) > 0 {
		return f[0]
	}
	return "?"
}
