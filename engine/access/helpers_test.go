package access_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"hookline/engine"
	"hookline/engine/access"
	"hookline/httpout"
	"hookline/wal"
)

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

func ptr[T any](v T) *T { return &v }

var bg = context.Background()

// harness is one engine and its Access over one wal directory; stop and
// start simulate a restart on the same directory.
type harness struct {
	t       testing.TB
	dir     string
	logMu   sync.Mutex
	logs    bytes.Buffer
	log     *wal.Log
	e       *engine.Engine
	acc     *access.Access
	running bool
	// maxSessions is access.Options.MaxPortalSessions (0: the default).
	maxSessions int
}

func newHarness(t testing.TB) *harness {
	t.Helper()
	return newHarnessSessions(t, 0)
}

// newHarnessSessions is newHarness with access.Options.MaxPortalSessions.
func newHarnessSessions(t testing.TB, maxSessions int) *harness {
	t.Helper()
	h := &harness{t: t, dir: t.TempDir(), maxSessions: maxSessions}
	h.start()
	t.Cleanup(func() {
		h.stop()
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

// start opens the log and creates the engine and Access on h.dir, as
// cmd/hookline does.
func (h *harness) start() {
	h.t.Helper()
	l, err := wal.Open(h.dir, nil)
	require_NoError(h.t, err)
	logger := slog.New(slog.NewTextHandler(h, nil))
	e, err := engine.New(l, httpout.NewSender(httpout.Options{}), engine.Options{Logger: logger})
	if err != nil {
		_ = l.Close()
		h.t.Fatalf("cannot create engine: %v", err)
	}
	acc, err := access.New(e, l, access.Options{Logger: logger, MaxPortalSessions: h.maxSessions})
	if err != nil {
		_ = l.Close()
		h.t.Fatalf("cannot create access: %v", err)
	}
	h.log, h.e, h.acc, h.running = l, e, acc, true
}

func (h *harness) stop() {
	if !h.running {
		return
	}
	h.running = false
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	h.e.Stop(ctx)
	if err := h.log.Close(); err != nil {
		h.t.Errorf("cannot close log: %v", err)
	}
}

func (h *harness) tenant(id string) {
	h.t.Helper()
	_, err := h.e.CreateTenant(bg, engine.TenantInput{ID: &id, Name: ptr("Tenant " + id)})
	require_NoError(h.t, err)
}
