package engine

import (
	"bytes"
	"context"
	"errors"
	"time"

	"hookline/wal"
)

// What the feature packages (engine/inbound, engine/access) build on. They
// import the engine; the engine knows them only through these hooks, which
// cmd/hookline wires before the server takes requests.

// WithTenant runs fn while tenant exists and cannot be deleted, answering
// tenant_not_found otherwise. A feature package creates what belongs to a
// tenant inside it, so a DeleteTenant racing with it either runs after fn
// (and its OnTenantDelete hook sees what fn made) or before (and fn never
// runs). fn runs under cfgMu, which comes before a feature package's own
// lock: it must call no Engine method (each may take cfgMu, and a read
// lock taken twice deadlocks once a writer waits).
func (e *Engine) WithTenant(tenant string, fn func() error) error {
	e.cfgMu.RLock()
	defer e.cfgMu.RUnlock()
	if e.tenants[tenant] == nil {
		return NotFound("tenant_not_found", "tenant %q does not exist", tenant)
	}
	return fn()
}

// TenantExists reports whether tenant exists now.
func (e *Engine) TenantExists(tenant string) bool {
	e.cfgMu.RLock()
	defer e.cfgMu.RUnlock()
	return e.tenants[tenant] != nil
}

// OnTenantDelete registers fn to delete what a feature package keeps of a
// tenant. DeleteTenant calls the hooks in registration order under cfgMu,
// after the tenant's endpoints and before its record; a hook's error fails
// the deletion with the tenant still there. Register before serving: the
// hooks are read without a lock.
func (e *Engine) OnTenantDelete(fn func(tenant string) error) {
	e.tenantHooks = append(e.tenantHooks, fn)
}

// OnRetentionPass registers fn to run after each retention pass
// (Options.RetentionInterval), with the pass's time, for what a feature
// package expires on a schedule of its own (engine/inbound: the requests
// that failed verification, after a day). fn runs on the retention
// goroutine under no engine lock; ctx ends when the engine stops. A pass
// that starts before fn is registered does not call it.
func (e *Engine) OnRetentionPass(fn func(ctx context.Context, now time.Time)) {
	e.ret.hooksMu.Lock()
	defer e.ret.hooksMu.Unlock()
	e.ret.hooks = append(e.ret.hooks, fn)
}

// Change is one management action as the call that made it saw it: the
// resource before and after, as API views with no secret in them.
type Change struct {
	Action   string // e.g. "endpoint.update"
	Tenant   string
	Resource string
	Before   any
	After    any
}

// Auditor records changes. The context is the one the caller passed to
// the mutating call: it carries who acted, which only the auditor reads.
// Record must not fail the action, which is done when it is called.
type Auditor interface {
	Record(ctx context.Context, c Change)
}

// SetAuditor makes a record every mutating call. Set it before serving (it
// is read without a lock); without one nothing is recorded.
func (e *Engine) SetAuditor(a Auditor) { e.auditor = a }

// Audit records a change made by a feature package's mutating call.
func (e *Engine) Audit(ctx context.Context, c Change) {
	if e.auditor != nil {
		e.auditor.Record(ctx, c)
	}
}

// SecretOverlap is how long a rotated-out secret stays valid when a
// rotation names no overlap (Options.SecretOverlap).
func (e *Engine) SecretOverlap() time.Duration { return max(e.opts.SecretOverlap, 0) }

// EventPayload returns the payload of event eventID as published; found is
// false when there is no such event (retention removed it).
func (e *Engine) EventPayload(eventID string) (payload []byte, found bool, err error) {
	id, ok := ParseEventID(eventID)
	if !ok {
		return nil, false, nil
	}
	var (
		rec wal.EventRecord
		buf wal.EventBuf
	)
	err = e.log.ReadEvent(id, &rec, &buf)
	if errors.Is(err, wal.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return bytes.Clone(bodyData(rec.Body)), true, nil
}
