package inbound

import (
	"fmt"
	"log/slog"
	"sync"

	"github.com/VictoriaMetrics/metrics"

	"hookline/engine"
	"hookline/internal/seal"
	"hookline/wal"
)

// Options configure a Receiver. Zero values take the defaults.
type Options struct {
	Logger *slog.Logger // default slog.Default()
	// Metrics is where the receiver registers its metrics (the engine's
	// set, so /metrics shows both); nil creates a set.
	Metrics *metrics.Set
	// Secrets seals the secrets in stored source records (see
	// secret_seal.go); nil stores them as given (tests only).
	Secrets *seal.Keyring
}

// Receiver holds the tenants' inbound sources, receives their requests
// and keeps each source's request log. All methods are safe for
// concurrent use.
//
// Lock order: the engine's cfgMu (held by Engine.WithTenant and by
// DeleteTenant's hooks) comes before mu; no goroutine holding mu calls the
// engine.
type Receiver struct {
	e      *engine.Engine
	log    *wal.Log
	logger *slog.Logger
	m      receiverMetrics
	// secrets seals the source records' secrets; set at New.
	secrets *seal.Keyring

	mu sync.RWMutex
	// sources are the sources by API ID. A sourceState is replaced,
	// never changed, so requests use it after unlocking.
	sources map[string]*sourceState
}

// New loads the stored sources and hooks the receiver into e, so that
// deleting a tenant deletes its sources. Call it before serving.
func New(e *engine.Engine, log *wal.Log, opts Options) (*Receiver, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Metrics == nil {
		opts.Metrics = metrics.NewSet()
	}
	rc := &Receiver{e: e, log: log, logger: opts.Logger, m: newReceiverMetrics(opts.Metrics), secrets: opts.Secrets}
	if err := rc.loadSources(); err != nil {
		return nil, fmt.Errorf("cannot load sources: %w", err)
	}
	e.OnTenantDelete(rc.deleteTenantSources)
	return rc, nil
}

// outcome indexes the request counters by Result.Outcome.
type outcome int

const (
	accepted outcome = iota
	duplicate
	dropped
	challenge
	rejected
	outcomeCount
)

var outcomeNames = [outcomeCount]string{Accepted, Duplicate, Dropped, Challenge, Rejected}

type receiverMetrics struct {
	// requests counts requests to sources by outcome.
	requests [outcomeCount]*metrics.Counter
}

func newReceiverMetrics(set *metrics.Set) receiverMetrics {
	var m receiverMetrics
	for o, name := range outcomeNames {
		m.requests[o] = set.NewCounter(fmt.Sprintf(`hookline_inbound_requests_total{outcome=%q}`, name))
	}
	return m
}
