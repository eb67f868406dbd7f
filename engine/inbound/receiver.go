package inbound

import (
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/VictoriaMetrics/metrics"

	"hookline/engine"
	"hookline/internal/seal"
	"hookline/wal"
)

// Options configure a Receiver. Zero values take the defaults; the
// bounds on requests that fail verification are explained in
// rejections.go.
type Options struct {
	Logger *slog.Logger // default slog.Default()
	// Metrics is where the receiver registers its metrics (the engine's
	// set, so /metrics shows both); nil creates a set.
	Metrics *metrics.Set
	// MaxRejectedPerSource bounds the stored requests of one source that
	// failed verification; past it the oldest go. 0 means
	// DefaultMaxRejectedPerSource (1,000).
	MaxRejectedPerSource int
	// RejectedRetention is how long such requests are kept. 0 means
	// DefaultRejectedRetention (24 h).
	RejectedRetention time.Duration
	// FailureRate is the failed verifications per second one source may
	// have logged, after a burst of FailureBurst; the others are answered
	// 429 too_many_failures. 0 means DefaultFailureRate (10/s) and
	// DefaultFailureBurst (50); a negative FailureRate means no limit.
	FailureRate  float64
	FailureBurst int
	// Secrets seals the secrets in stored source records (see
	// secret_seal.go); nil stores them as given (tests only).
	Secrets *seal.Keyring
}

// EnsureDefaults fills zero fields with their defaults.
func (o *Options) EnsureDefaults() {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Metrics == nil {
		o.Metrics = metrics.NewSet()
	}
	if o.MaxRejectedPerSource == 0 {
		o.MaxRejectedPerSource = DefaultMaxRejectedPerSource
	}
	if o.RejectedRetention == 0 {
		o.RejectedRetention = DefaultRejectedRetention
	}
	if o.FailureRate == 0 {
		o.FailureRate = DefaultFailureRate
	}
	if o.FailureBurst == 0 {
		o.FailureBurst = DefaultFailureBurst
	}
}

// Validate reports the first option out of its bounds, naming it and its
// value. It expects EnsureDefaults to have run.
func (o *Options) Validate() error {
	switch {
	case o.MaxRejectedPerSource < 0:
		return fmt.Errorf("inbound.Options.MaxRejectedPerSource is %d; it must be positive", o.MaxRejectedPerSource)
	case o.RejectedRetention < 0:
		return fmt.Errorf("inbound.Options.RejectedRetention is %v; it must be positive", o.RejectedRetention)
	case o.FailureBurst < 1:
		return fmt.Errorf("inbound.Options.FailureBurst is %d; it must be positive", o.FailureBurst)
	}
	return nil
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
	opts   Options
	logger *slog.Logger
	m      receiverMetrics
	// secrets seals the source records' secrets; set at New.
	secrets *seal.Keyring

	mu sync.RWMutex
	// sources are the sources by API ID. A sourceState is replaced,
	// never changed, so requests use it after unlocking.
	sources map[string]*sourceState

	// rejects are the sources' failure buckets and rejection counts
	// (rejections.go), by source, made on a source's first failure.
	// rejMu is taken after mu, never before, and only around the map.
	rejMu   sync.Mutex
	rejects map[wal.ID]*rejectState
}

// New loads the stored sources and hooks the receiver into e, so that
// deleting a tenant deletes its sources and the engine's retention passes
// expire the requests that failed verification. Call it before serving.
// Options out of bounds are an error (Options.Validate), never replaced.
func New(e *engine.Engine, log *wal.Log, opts Options) (*Receiver, error) {
	opts.EnsureDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	rc := &Receiver{e: e, log: log, opts: opts, logger: opts.Logger, m: newReceiverMetrics(opts.Metrics),
		rejects: make(map[wal.ID]*rejectState), secrets: opts.Secrets}
	if err := rc.loadSources(); err != nil {
		return nil, fmt.Errorf("cannot load sources: %w", err)
	}
	e.OnTenantDelete(rc.deleteTenantSources)
	e.OnRetentionPass(rc.expireRejected)
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
	// throttled counts the requests that failed verification past their
	// source's failure rate: answered 429, not logged (among rejected).
	throttled *metrics.Counter
}

func newReceiverMetrics(set *metrics.Set) receiverMetrics {
	var m receiverMetrics
	for o, name := range outcomeNames {
		m.requests[o] = set.NewCounter(fmt.Sprintf(`hookline_inbound_requests_total{outcome=%q}`, name))
	}
	m.throttled = set.NewCounter(`hookline_inbound_verification_throttled_total`)
	return m
}
