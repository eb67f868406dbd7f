package inbound_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"

	"hookline/engine"
	"hookline/engine/inbound"
	"hookline/httpout"
	"hookline/internal/seal"
	"hookline/wal"
)

// Tiny assertion helpers in the style of nats-server, as in the engine's
// tests.

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
	if ee.Code != code || ee.Kind != kind || ee.Message == "" {
		t.Fatalf("got error kind %d code %q (%s), want kind %d code %q with a message", ee.Kind, ee.Code, ee.Message, kind, code)
	}
}

// eventually is the least time waitFor waits before it fails: a wait limit
// guards against a hang, it is not a bound on speed, and a loaded machine
// can be many times slower than a quiet one.
const eventually = time.Minute

// waitFor polls cond until it holds, failing the test after d or
// eventually, whichever is longer: d says how long cond takes on a quiet
// machine.
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

var bg = context.Background()

// harness is one engine and its receiver over one wal directory; stop
// and start simulate a restart on the same directory.
type harness struct {
	t       testing.TB
	dir     string
	walOpts *wal.Options
	logs    bytes.Buffer
	logMu   sync.Mutex
	log     *wal.Log
	sender  *httpout.Sender
	e       *engine.Engine
	rc      *inbound.Receiver
	metrics *metrics.Set
	running bool

	// rcOpts and engineOpts, when set before start, change the receiver's
	// and the engine's options.
	rcOpts     inbound.Options
	engineOpts func(*engine.Options)
	// secrets is the keyring of the engine and the receiver (nil: none).
	secrets *seal.Keyring
}

func newHarness(t testing.TB) *harness {
	t.Helper()
	return newHarnessWith(t, nil)
}

// newHarnessWith is newHarness with h's options set by set before start.
func newHarnessWith(t testing.TB, set func(h *harness)) *harness {
	t.Helper()
	h := &harness{t: t, dir: t.TempDir()}
	if set != nil {
		set(h)
	}
	h.start()
	t.Cleanup(func() {
		h.stop(5 * time.Second)
		if t.Failed() {
			h.logMu.Lock()
			t.Logf("engine log lines:\n%s", h.logs.String())
			h.logMu.Unlock()
		}
	})
	return h
}

func (h *harness) Write(p []byte) (int, error) {
	h.logMu.Lock()
	defer h.logMu.Unlock()
	return h.logs.Write(p)
}

// start opens the log, creates the engine and the receiver on h.dir, as
// cmd/hookline does.
func (h *harness) start() {
	h.t.Helper()
	l, err := wal.Open(h.dir, h.walOpts)
	require_NoError(h.t, err)
	h.sender = httpout.NewSender(httpout.Options{
		Allow:          []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")},
		Timeout:        2 * time.Second,
		ConnectTimeout: time.Second,
	})
	logger := slog.New(slog.NewTextHandler(h, &slog.HandlerOptions{Level: slog.LevelDebug}))
	h.metrics = metrics.NewSet()
	opts := engine.Options{
		RetrySchedule: []time.Duration{100 * time.Millisecond},
		Tick:          10 * time.Millisecond,
		WheelSlots:    1024,
		Logger:        logger,
		Metrics:       h.metrics,
		Secrets:       h.secrets,
	}
	if h.engineOpts != nil {
		h.engineOpts(&opts)
	}
	e, err := engine.New(l, h.sender, opts)
	if err != nil {
		_ = l.Close()
		h.t.Fatalf("cannot create engine: %v", err)
	}
	rcOpts := h.rcOpts
	rcOpts.Logger, rcOpts.Metrics, rcOpts.Secrets = logger, h.metrics, h.secrets
	rc, err := inbound.New(e, l, rcOpts)
	if err != nil {
		_ = l.Close()
		h.t.Fatalf("cannot create receiver: %v", err)
	}
	h.log, h.e, h.rc, h.running = l, e, rc, true
}

// stop stops the engine and closes the log, as cmd/hookline does at
// shutdown. It is idempotent.
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
	_, err := h.e.CreateTenant(bg, engine.TenantInput{ID: &id, Name: ptr("Tenant " + id)})
	require_NoError(h.t, err)
}

func (h *harness) endpoint(tenant string, in engine.EndpointInput) engine.Endpoint {
	h.t.Helper()
	ep, err := h.e.CreateEndpoint(bg, tenant, in)
	require_NoError(h.t, err)
	return ep
}

// metric returns the value of a metric, -1 when it is absent.
func (h *harness) metric(name string) float64 {
	var buf bytes.Buffer
	h.metrics.WritePrometheus(&buf)
	sc := bufio.NewScanner(&buf)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			if v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64); err == nil {
				return v
			}
		}
	}
	return -1
}

// delivery is one request a receiver got.
type delivery struct {
	header http.Header
	body   []byte
}

// recvConfig scripts a receiver; every request gets 200.
type recvConfig struct{}

// receiver is a real HTTP server on 127.0.0.1 recording every request.
type receiver struct {
	srv *httptest.Server
	mu  sync.Mutex
	got []delivery
}

func newReceiver(t testing.TB, _ recvConfig) *receiver {
	t.Helper()
	rc := &receiver{}
	rc.srv = httptest.NewServer(rc)
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) URL() string { return rc.srv.URL + "/hook" }

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	rc.got = append(rc.got, delivery{header: r.Header.Clone(), body: body})
	rc.mu.Unlock()
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
