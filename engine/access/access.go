package access

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"hookline/engine"
	"hookline/wal"
)

// Options configure Access. Zero values take the defaults.
type Options struct {
	Logger *slog.Logger // default slog.Default()
	// MaxPortalSessions bounds a tenant's live portal sessions; 0 means
	// 1000.
	MaxPortalSessions int
}

// Access holds the tenant API keys and portal sessions in memory and
// writes the audit log.
// All methods are safe for concurrent use.
//
// Lock order: engine's cfgMu (held by WithTenant and by DeleteTenant's
// hooks) comes before mu.
type Access struct {
	e      *engine.Engine
	log    *wal.Log
	logger *slog.Logger
	// maxSessions is Options.MaxPortalSessions.
	maxSessions int

	mu       sync.RWMutex
	keys     map[[32]byte]*apiKeyEntry // by the key's SHA-256
	sessions map[[32]byte]*portalEntry // by the token's SHA-256
}

// New loads the stored keys and portal sessions and hooks Access into e:
// every change e's mutating calls make is recorded in the audit log (with
// the actor the call's context carries, see WithActor), and deleting a
// tenant revokes its keys and sessions. Call it before serving.
func New(e *engine.Engine, log *wal.Log, opts Options) (*Access, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.MaxPortalSessions <= 0 {
		opts.MaxPortalSessions = defaultMaxPortalSessions
	}
	a := &Access{e: e, log: log, logger: opts.Logger, maxSessions: opts.MaxPortalSessions,
		keys: make(map[[32]byte]*apiKeyEntry), sessions: make(map[[32]byte]*portalEntry)}
	if err := a.loadAPIKeys(); err != nil {
		return nil, fmt.Errorf("cannot load API keys: %w", err)
	}
	if err := a.loadPortalSessions(); err != nil {
		return nil, fmt.Errorf("cannot load portal sessions: %w", err)
	}
	e.SetAuditor(a)
	e.OnTenantDelete(a.deleteTenantCredentials)
	return a, nil
}

// Actor is who made a request, as the audit log names it.
type Actor struct {
	// ID is "admin" for the admin token, the API key's id, the portal
	// session's id, or "system" for hookline itself.
	ID string
	// Type is one of the ActorType* values.
	Type string
	// Name is the API key's name; "" for the others.
	Name string
}

// The actor types an audit entry's actor_type holds.
const (
	ActorTypeAdmin         = "admin"
	ActorTypeAPIKey        = "api_key"
	ActorTypePortalSession = "portal_session"
	ActorTypeSystem        = "system"
)

// AdminActor is the actor of requests made with the admin token.
var AdminActor = Actor{ID: "admin", Type: ActorTypeAdmin}

type actorKey struct{}

// acting is what a request's context carries for its audit entries.
type acting struct {
	actor  Actor
	reason string
}

// WithActor returns ctx carrying who acts and why (reason, "" for none,
// see CheckReason); mutating calls made with it are audited under that
// actor, with that reason.
func WithActor(ctx context.Context, a Actor, reason string) context.Context {
	return context.WithValue(ctx, actorKey{}, acting{a, reason})
}

// actingOf is the actor and reason ctx carries. A call without them was
// made by hookline itself (a test, a start-up task), and is recorded as
// "system".
func actingOf(ctx context.Context) acting {
	if a, ok := ctx.Value(actorKey{}).(acting); ok {
		return a
	}
	return acting{actor: Actor{ID: ActorTypeSystem, Type: ActorTypeSystem}}
}

func actorOf(ctx context.Context) Actor { return actingOf(ctx).actor }

// MaxReasonBytes bounds an audit entry's reason.
const MaxReasonBytes = 500

// CheckReason validates a request's reason for its audit entries: at most
// MaxReasonBytes of UTF-8 text without control characters.
func CheckReason(r string) error {
	if len(r) > MaxReasonBytes {
		return engine.Invalid("invalid_reason", "reason is %d bytes; at most %d allowed", len(r), MaxReasonBytes)
	}
	if !utf8.ValidString(r) {
		return engine.Invalid("invalid_reason", "reason is not valid UTF-8")
	}
	for _, c := range r {
		if unicode.IsControl(c) {
			return engine.Invalid("invalid_reason", "reason holds the control character %U", c)
		}
	}
	return nil
}

// deleteTenantCredentials revokes the keys and portal sessions of a
// tenant being deleted; it runs as the engine's OnTenantDelete hook,
// under the engine's cfgMu.
func (a *Access) deleteTenantCredentials(tenant string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return errors.Join(a.deleteTenantKeysLocked(tenant), a.deleteTenantSessionsLocked(tenant))
}

// deleteTenantLocked removes tenant's credentials from m (API keys or
// portal sessions, by hash), each record first with del; a.mu is held.
// A record that cannot be deleted stays, and its error is returned.
func deleteTenantLocked[E any](m map[[32]byte]E, tenant string, tenantOf func(E) string, del func([32]byte) error) error {
	var errs []error
	for h, en := range m {
		if tenantOf(en) == tenant {
			if err := del(h); err != nil {
				errs = append(errs, err)
				continue
			}
			delete(m, h)
		}
	}
	return errors.Join(errs...)
}

// listTenant returns the credentials of m that pick keeps, of an
// existing tenant, sorted by id: oldest first, as ids sort by time.
func listTenant[E, V any](a *Access, tenant string, m map[[32]byte]E, pick func(E) (V, bool), id func(V) string) ([]V, error) {
	out := []V{}
	err := a.e.WithTenant(tenant, func() error {
		a.mu.RLock()
		defer a.mu.RUnlock()
		for _, en := range m {
			if v, ok := pick(en); ok {
				out = append(out, v)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b V) int { return strings.Compare(id(a), id(b)) })
	return out, nil
}
