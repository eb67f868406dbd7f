package access

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"hookline/engine"
	"hookline/wal"
)

// Options configure Access. Zero values take the defaults.
type Options struct {
	Logger *slog.Logger // default slog.Default()
}

// Access holds the tenant API keys in memory and writes the audit log.
// All methods are safe for concurrent use.
//
// Lock order: engine's cfgMu (held by WithTenant and by DeleteTenant's
// hooks) comes before mu.
type Access struct {
	e      *engine.Engine
	log    *wal.Log
	logger *slog.Logger

	mu   sync.RWMutex
	keys map[[32]byte]*apiKeyEntry // by the key's SHA-256
}

// New loads the stored keys and hooks Access into e: every change e's
// mutating calls make is recorded in the audit log (with the actor the
// call's context carries, see WithActor), and deleting a tenant revokes
// its keys. Call it before serving.
func New(e *engine.Engine, log *wal.Log, opts Options) (*Access, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	a := &Access{e: e, log: log, logger: opts.Logger, keys: make(map[[32]byte]*apiKeyEntry)}
	if err := a.loadAPIKeys(); err != nil {
		return nil, fmt.Errorf("cannot load API keys: %w", err)
	}
	e.SetAuditor(a)
	e.OnTenantDelete(a.deleteTenantKeys)
	return a, nil
}

// Actor is who made a request, as the audit log names it.
type Actor struct {
	// ID is "admin" for the admin token, else the API key's id.
	ID string
}

// AdminActor is the actor of requests made with the admin token.
var AdminActor = Actor{ID: "admin"}

type actorKey struct{}

// WithActor returns ctx carrying who acts; mutating calls made with it are
// audited under that actor.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// actorOf is the actor ctx carries. A call without one was made by
// hookline itself (a test, a start-up task), and is recorded as "system".
func actorOf(ctx context.Context) Actor {
	if a, ok := ctx.Value(actorKey{}).(Actor); ok {
		return a
	}
	return Actor{ID: "system"}
}
