package engine_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"os/exec"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"

	"hookline/engine"
	"hookline/httpout"
	"hookline/internal/replicatest"
	"hookline/wal"
)

// Tiny assertion helpers in the style of nats-server: no assertion library.

func require_NoError(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
}

func require_Equal[T comparable](t testing.TB, got, want T) {
	t.Helper()
	if got != want {
		t.Fatalf("got %v, want %v", got, want)
	}
}

func require_DeepEqual(t testing.TB, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
}

func require_True(t testing.TB, ok bool, format string, args ...any) {
	t.Helper()
	if !ok {
		t.Fatalf(format, args...)
	}
}

// require_ErrorCode checks that err is an *engine.Error of the given kind and code.
func require_ErrorCode(t testing.TB, err error, kind engine.Kind, code string) {
	t.Helper()
	var ee *engine.Error
	if !errors.As(err, &ee) {
		t.Fatalf("got error %v (%T), want *engine.Error with code %q", err, err, code)
	}
	if ee.Code != code || ee.Kind != kind {
		t.Fatalf("got error kind %d code %q (%s), want kind %d code %q", ee.Kind, ee.Code, ee.Message, kind, code)
	}
	if ee.Message == "" {
		t.Fatalf("error %q has no message", ee.Code)
	}
}

// eventually is the least time a test waits for something that must
// happen before it fails. A wait limit guards against a hang; it is not a
// bound on speed: a loaded machine (two cores, -race, another suite
// running) can be many times slower than an idle one, and a test that
// fails there proves nothing. Speed is measured by benchmarks and
// `hookline bench`.
const eventually = time.Minute

// waitFor polls cond every few milliseconds until it holds, failing the test
// after d or eventually, whichever is longer: d says how long cond takes on
// an idle machine.
func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	limit := max(d, eventually)
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", limit, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func ptr[T any](v T) *T { return &v }

// quiet is how long tests wait to prove that something does NOT happen (a
// second attempt, an extra delivery): several retry periods of 100ms.
const quiet = 500 * time.Millisecond

var loopbackOnly = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}

// testOptions are the engine options of most tests: fast retries and a fine
// timer wheel (10ms × 1024 slots ≈ 10s held in memory).
func testOptions() engine.Options {
	return engine.Options{
		RetrySchedule: []time.Duration{100 * time.Millisecond, 100 * time.Millisecond, 100 * time.Millisecond, 100 * time.Millisecond},
		Tick:          10 * time.Millisecond,
		WheelSlots:    1024,
	}
}

// syncBuffer collects the engine's log lines; they are shown when a test fails.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// testDeliveryTimeout is the harness's delivery timeout: longer than any
// test receiver holds a request (a blocked one answers after 30 s at the
// latest), so a loaded machine never turns a request held on purpose into
// a timeout and a retry. Tests of timeouts set their own
// (newHarnessTimeout).
const testDeliveryTimeout = time.Minute

// harness is one engine over one wal directory. stop and start simulate a
// restart on the same directory.
type harness struct {
	t       testing.TB
	dir     string
	opts    engine.Options
	walOpts *wal.Options
	timeout time.Duration // the sender's delivery timeout
	logs    *syncBuffer
	log     *wal.Log
	sender  *httpout.Sender
	e       *engine.Engine
	metrics *metrics.Set
	running bool
}

func newHarness(t testing.TB, opts engine.Options) *harness {
	t.Helper()
	return newHarnessWAL(t, opts, nil)
}

// newHarnessWAL is newHarness with the wal's options too.
func newHarnessWAL(t testing.TB, opts engine.Options, walOpts *wal.Options) *harness {
	t.Helper()
	return startHarness(t, &harness{t: t, dir: t.TempDir(), opts: opts, walOpts: walOpts, timeout: testDeliveryTimeout, logs: new(syncBuffer)})
}

// newHarnessTimeout is newHarness with delivery timeout d.
func newHarnessTimeout(t testing.TB, opts engine.Options, d time.Duration) *harness {
	t.Helper()
	return startHarness(t, &harness{t: t, dir: t.TempDir(), opts: opts, timeout: d, logs: new(syncBuffer)})
}

func startHarness(t testing.TB, h *harness) *harness {
	t.Helper()
	h.start()
	t.Cleanup(func() {
		h.stop(5 * time.Second)
		if t.Failed() {
			t.Logf("engine log lines:\n%s", h.logs.String())
		}
	})
	return h
}

// openStore opens the store on h.dir: replicated under
// HOOKLINE_TEST_STORE=replica (internal/replicatest), as make test runs
// the suite a second time.
func (h *harness) openStore() (*wal.Log, error) { return replicatest.Open(h.dir, h.walOpts) }

// start opens the log and creates the engine on h.dir.
func (h *harness) start() {
	h.t.Helper()
	l, err := h.openStore()
	require_NoError(h.t, err)
	h.sender = httpout.NewSender(httpout.Options{
		Allow:          loopbackOnly,
		Timeout:        h.timeout,
		ConnectTimeout: time.Second,
	})
	opts := h.opts
	if replicatest.Enabled() {
		opts.Cluster = replicatest.SoleOwner{}
	}
	opts.RetrySchedule = append([]time.Duration(nil), h.opts.RetrySchedule...)
	opts.Logger = slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	h.metrics = metrics.NewSet()
	opts.Metrics = h.metrics
	e, err := engine.New(l, h.sender, opts)
	if err != nil {
		_ = l.Close()
		h.t.Fatalf("cannot create engine: %v", err)
	}
	h.log, h.e, h.running = l, e, true
}

// stop stops the engine (waiting up to timeout for attempts in flight) and
// closes the log, as cmd/hookline does at shutdown. It is idempotent.
func (h *harness) stop(timeout time.Duration) {
	if !h.running {
		return
	}
	h.running = false
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	h.e.Stop(ctx)
	if err := h.log.Close(); err != nil {
		h.t.Errorf("cannot close log: %v", err)
	}
	h.sender.CloseIdle()
}

func (h *harness) tenant(id string) {
	h.t.Helper()
	_, err := h.e.CreateTenant(context.Background(), engine.TenantInput{ID: &id, Name: ptr("Tenant " + id)})
	require_NoError(h.t, err)
}

func (h *harness) endpoint(tenant string, in engine.EndpointInput) engine.Endpoint {
	h.t.Helper()
	ep, err := h.e.CreateEndpoint(context.Background(), tenant, in)
	require_NoError(h.t, err)
	if in.Signature == nil && in.Secret == nil {
		require_True(h.t, strings.HasPrefix(ep.Secret, httpout.SecretPrefix), "created endpoint has secret %q", ep.Secret)
	}
	require_True(h.t, ep.Secret != "", "created endpoint shows no secret")
	return ep
}

func (h *harness) publish(tenant string, evs ...engine.PublishEvent) []wal.AppendResult {
	h.t.Helper()
	res := make([]wal.AppendResult, len(evs))
	require_NoError(h.t, h.e.Publish(tenant, evs, res))
	return res
}

func (h *harness) counts() wal.Counts {
	h.t.Helper()
	c, err := h.log.Count()
	require_NoError(h.t, err)
	return c
}

// requireSettled asserts every delivery reaches a final state: nothing is
// queued, waiting for a retry, or dead-lettered, within eventually.
func (h *harness) requireSettled() {
	h.t.Helper()
	// A receiver answers before the outcome is recorded: the last record
	// may still be on its way (a loaded machine's fsync can take a while).
	var c wal.Counts
	waitFor(h.t, eventually, "every delivery settled", func() bool {
		c = h.counts()
		return c.Queued == 0 && c.Retries == 0 && c.Dead == 0
	})
	require_Equal(h.t, c.Queued, 0)
	require_Equal(h.t, c.Retries, 0)
	require_Equal(h.t, c.Dead, 0)
}

// attempts returns the logged attempts of ev to ep, with their responses copied.
func (h *harness) attempts(ep engine.Endpoint, ev wal.ID) []wal.Attempt {
	h.t.Helper()
	var out []wal.Attempt
	err := h.log.ScanAttempts(walID(h.t, ep), ev, func(a *wal.Attempt) error {
		c := *a
		c.Response = append([]byte(nil), a.Response...)
		out = append(out, c)
		return nil
	})
	require_NoError(h.t, err)
	return out
}

func (h *harness) dead(ep engine.Endpoint) []wal.DeadLetter {
	h.t.Helper()
	var out []wal.DeadLetter
	require_NoError(h.t, h.log.ScanDead(walID(h.t, ep), func(d wal.DeadLetter) { out = append(out, d) }))
	return out
}

func (h *harness) queued(ep engine.Endpoint) int {
	h.t.Helper()
	n, err := h.log.ScanQueue(walID(h.t, ep), wal.ID{}, 1<<20, func(wal.ID) {})
	require_NoError(h.t, err)
	return n
}

// metric returns the value of an engine metric, -1 when it is absent.
func (h *harness) metric(name string) float64 {
	return metricValue(h.metrics, name)
}

func metricValue(set *metrics.Set, name string) float64 {
	var buf bytes.Buffer
	set.WritePrometheus(&buf)
	sc := bufio.NewScanner(&buf)
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, name+" "); ok {
			v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
			if err == nil {
				return v
			}
		}
	}
	return -1
}

func walID(t testing.TB, ep engine.Endpoint) wal.ID {
	t.Helper()
	id, ok := engine.ParseEndpointID(ep.ID)
	require_True(t, ok, "cannot parse endpoint id %q", ep.ID)
	return id
}

func outcomes(as []wal.Attempt) string {
	var b strings.Builder
	for _, a := range as {
		b.WriteByte(a.Outcome)
	}
	return b.String()
}

// reply is a receiver's scripted answer to one request.
type reply struct {
	status     int
	retryAfter string        // Retry-After header, if any
	body       string        // response body
	delay      time.Duration // wait before answering
	block      bool          // wait until release (at most 30s) before answering
}

// delivery is one request a receiver got.
type delivery struct {
	at        time.Time // when the request arrived
	repliedAt time.Time // just before the response was written
	method    string
	uri       string // the request-target: path and query as sent
	header    http.Header
	body      []byte
	id        string // webhook-id
	attempt   int    // hookline-attempt
}

// recvConfig scripts a receiver.
type recvConfig struct {
	// replies[i] answers the i-th request (in arrival order); the last one
	// repeats. None means 200 to everything.
	replies []reply
	// sleep is spent in every request.
	sleep time.Duration
	// blocked makes every request wait until release (at most 30s).
	blocked bool
	// failFirst answers 503 to the first request of each webhook-id and
	// 200 to the rest: every delivery needs exactly one retry.
	failFirst bool
	// failTimes answers 503 to the first failTimes requests of each
	// webhook-id (counted here, not read from hookline-attempt) and the
	// reply as scripted to the rest.
	failTimes int
	// addr, when set, is the address to listen on, and prefix the path
	// prefix to take (to come back at the URL of an earlier receiver).
	addr, prefix string
}

// receiver is a real HTTP server on 127.0.0.1 recording every request.
type receiver struct {
	t   testing.TB
	cfg recvConfig
	srv *httptest.Server
	// prefix starts every path the receiver answers: a request to another
	// path is another test's, to a port that test's receiver had before
	// this one (tests run in parallel and retry to closed receivers), and
	// is answered 404 without being counted.
	prefix string
	gate   chan struct{}
	once   sync.Once

	mu  sync.Mutex
	got []delivery

	cur, peak atomic.Int32
}

func newReceiver(t testing.TB, cfg recvConfig) *receiver {
	t.Helper()
	rc := &receiver{t: t, cfg: cfg, gate: make(chan struct{}), prefix: cfg.prefix}
	if rc.prefix == "" {
		rc.prefix = fmt.Sprintf("/r%016x", rand.Uint64())
	}
	rc.srv = httptest.NewUnstartedServer(rc)
	if cfg.addr != "" {
		_ = rc.srv.Listener.Close()
		rc.srv.Listener = listenOn(t, cfg.addr)
	}
	rc.srv.Start()
	t.Cleanup(rc.close)
	return rc
}

// listenOn binds addr again, retrying briefly in case the old socket lingers.
func listenOn(t testing.TB, addr string) net.Listener {
	t.Helper()
	var err error
	for i := 0; i < 100; i++ {
		var l net.Listener
		if l, err = net.Listen("tcp", addr); err == nil {
			return l
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("cannot listen on %s again: %v", addr, err)
	return nil
}

// URL is the receiver's usual endpoint URL; base is where any path of its
// own starts.
func (rc *receiver) URL() string  { return rc.base() + "/hook" }
func (rc *receiver) base() string { return rc.srv.URL + rc.prefix }
func (rc *receiver) addr() string { return rc.srv.Listener.Addr().String() }

// release lets blocked requests answer.
func (rc *receiver) release() { rc.once.Do(func() { close(rc.gate) }) }

// closeListener stops accepting connections but keeps the open ones, so
// another server can bind the same port while old requests hang.
func (rc *receiver) closeListener() { _ = rc.srv.Listener.Close() }

func (rc *receiver) close() {
	rc.release()
	rc.srv.Close()
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	at := time.Now()
	uri, ok := strings.CutPrefix(r.RequestURI, rc.prefix)
	if !ok {
		http.NotFound(w, r)
		return
	}
	body, _ := io.ReadAll(r.Body)
	n := rc.cur.Add(1)
	for p := rc.peak.Load(); n > p && !rc.peak.CompareAndSwap(p, n); p = rc.peak.Load() {
	}
	attempt, _ := strconv.Atoi(r.Header.Get("hookline-attempt"))
	rc.mu.Lock()
	i := len(rc.got)
	seen := 0
	if rc.cfg.failTimes > 0 {
		for _, d := range rc.got {
			if d.id == r.Header.Get("webhook-id") {
				seen++
			}
		}
	}
	rc.got = append(rc.got, delivery{
		at:      at,
		method:  r.Method,
		uri:     uri,
		header:  r.Header.Clone(),
		body:    body,
		id:      r.Header.Get("webhook-id"),
		attempt: attempt,
	})
	rc.mu.Unlock()

	if rc.cfg.blocked {
		select {
		case <-rc.gate:
		case <-time.After(30 * time.Second):
		}
	}
	time.Sleep(rc.cfg.sleep)
	rep := reply{status: http.StatusOK}
	if len(rc.cfg.replies) > 0 {
		rep = rc.cfg.replies[min(i, len(rc.cfg.replies)-1)]
	}
	if rc.cfg.failFirst && attempt == 1 || seen < rc.cfg.failTimes {
		rep = reply{status: http.StatusServiceUnavailable}
	}
	time.Sleep(rep.delay)
	if rep.block {
		select {
		case <-rc.gate:
		case <-time.After(30 * time.Second):
		}
	}
	// Leave before the response goes out: once the engine sees it, it may
	// start the next request at once.
	rc.cur.Add(-1)
	rc.mu.Lock()
	rc.got[i].repliedAt = time.Now()
	rc.mu.Unlock()
	if rep.retryAfter != "" {
		w.Header().Set("Retry-After", rep.retryAfter)
	}
	w.WriteHeader(rep.status)
	_, _ = io.WriteString(w, rep.body)
}

func (rc *receiver) deliveries() []delivery {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]delivery(nil), rc.got...)
}

func (rc *receiver) count() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return len(rc.got)
}

// ids counts the requests per webhook-id.
func (rc *receiver) ids() map[string]int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	m := make(map[string]int, len(rc.got))
	for _, d := range rc.got {
		m[d.id]++
	}
	return m
}

// closedPortURL returns a URL where nothing listens: on 127.0.0.2, where
// no test's server binds (they take 127.0.0.1), so a receiver of a test
// running in parallel cannot take the port and answer in its stead (a
// 404 instead of refused kept an endpoint from being disabled once).
func closedPortURL(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.2:0")
	require_NoError(t, err)
	addr := l.Addr().String()
	require_NoError(t, l.Close())
	return "http://" + addr + "/hook"
}

// childEnv names the test a child process runs (see runInChild).
const childEnv = "HOOKLINE_ENGINE_TEST_CHILD"

// runInChild runs test t in a child process of the test binary and reports
// its result, so that a crash of the scenario (a panic on a background
// goroutine) fails this one test instead of killing the whole package run.
// It returns true in the child, where the caller runs the scenario itself.
func runInChild(t *testing.T) bool {
	t.Helper()
	if os.Getenv(childEnv) == t.Name() {
		return true
	}
	ctx, cancel := context.WithTimeout(context.Background(), 80*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^"+t.Name()+"$", "-test.v", "-test.count=1", "-test.timeout=70s")
	// The child's temp dirs live in ours, so a crashed child leaves nothing behind.
	cmd.Env = append(os.Environ(), childEnv+"="+t.Name(), "TMPDIR="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s failed in its child process (%v); child output:\n%s", t.Name(), err, tail(out, 8000))
	}
	if !bytes.Contains(out, []byte("--- PASS: "+t.Name())) {
		t.Fatalf("child process did not run %s; output:\n%s", t.Name(), tail(out, 4000))
	}
	return false
}

func tail(b []byte, n int) string {
	if len(b) <= n {
		return string(b)
	}
	return fmt.Sprintf("[... %d bytes cut ...]\n%s", len(b)-n, b[len(b)-n:])
}
