package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"hookline/wal"
)

// CreateTenant creates tenant in.ID.
func (e *Engine) CreateTenant(ctx context.Context, in TenantInput) (Tenant, error) {
	t, err := e.createTenant(in)
	if err == nil {
		e.Audit(ctx, Change{Action: "tenant.create", Tenant: t.ID, Resource: t.ID, After: t})
	}
	return t, err
}

func (e *Engine) createTenant(in TenantInput) (Tenant, error) {
	if in.ID == nil || !validTenantID(*in.ID) {
		return Tenant{}, Invalid("invalid_tenant_id", "tenant id must be 1-%d characters of a-z 0-9 - _, starting with a letter or digit", maxTenantIDLen)
	}
	now := time.Now().UTC()
	t := Tenant{ID: *in.ID, CreatedAt: now, UpdatedAt: now}
	if err := applyTenantInput(&t, in); err != nil {
		return Tenant{}, err
	}
	e.cfgMu.Lock()
	defer e.cfgMu.Unlock()
	if e.tenants[t.ID] != nil {
		return Tenant{}, Conflict("tenant_exists", "tenant %q already exists", t.ID)
	}
	// Under cfgMu: every event of an earlier tenant of this name is
	// committed, and none of this one is yet (see incarnation.go).
	inc, err := e.log.Fence()
	if err != nil {
		return Tenant{}, fmt.Errorf("cannot create tenant %q: %w", t.ID, err)
	}
	if err := e.putTenant(&t, inc); err != nil {
		return Tenant{}, err
	}
	e.tenants[t.ID] = e.newTenantState(t, inc)
	return t, nil
}

func applyTenantInput(t *Tenant, in TenantInput) error {
	if in.Name != nil {
		if len(*in.Name) > MaxNameLen {
			return Invalid("invalid_name", "name is %d bytes; at most %d allowed", len(*in.Name), MaxNameLen)
		}
		t.Name = *in.Name
	}
	return applyTenantPolicyInput(t, in)
}

func (e *Engine) putTenant(t *Tenant, inc wal.ID) error {
	b, err := encodeTenant(t, inc)
	if err != nil {
		return err
	}
	return e.log.PutTenant(t.ID, b)
}

// GetTenant returns tenant id.
func (e *Engine) GetTenant(id string) (Tenant, error) {
	e.cfgMu.RLock()
	defer e.cfgMu.RUnlock()
	ts := e.tenants[id]
	if ts == nil {
		return Tenant{}, NotFound("tenant_not_found", "tenant %q does not exist", id)
	}
	return ts.t, nil
}

// ListTenants returns up to limit tenants with IDs after the given one, in ID order.
func (e *Engine) ListTenants(after string, limit int) []Tenant {
	e.cfgMu.RLock()
	out := make([]Tenant, 0, len(e.tenants))
	for id, ts := range e.tenants {
		if id > after {
			out = append(out, ts.t)
		}
	}
	e.cfgMu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	if len(out) > limit {
		out = out[:limit]
	}
	return out
}

// UpdateTenant applies a patch to tenant id.
func (e *Engine) UpdateTenant(ctx context.Context, id string, in TenantInput) (Tenant, error) {
	before, t, err := e.updateTenant(id, in)
	if err == nil {
		e.Audit(ctx, Change{Action: "tenant.update", Tenant: id, Resource: id, Before: before, After: t})
	}
	return t, err
}

func (e *Engine) updateTenant(id string, in TenantInput) (before, after Tenant, err error) {
	if in.ID != nil && *in.ID != id {
		return Tenant{}, Tenant{}, Invalid("immutable_field", "a tenant's id cannot change")
	}
	e.cfgMu.Lock()
	defer e.cfgMu.Unlock()
	ts := e.tenants[id]
	if ts == nil {
		return Tenant{}, Tenant{}, NotFound("tenant_not_found", "tenant %q does not exist", id)
	}
	t := ts.t
	if err := applyTenantInput(&t, in); err != nil {
		return Tenant{}, Tenant{}, err
	}
	t.UpdatedAt = time.Now().UTC()
	if err := e.putTenant(&t, ts.inc); err != nil {
		return Tenant{}, Tenant{}, err
	}
	before = ts.t
	ts.t = t
	return before, t, nil
}

// DeleteTenant deletes tenant id with its endpoints and their queues, and
// what the feature packages keep of it (see OnTenantDelete).
func (e *Engine) DeleteTenant(ctx context.Context, id string) error {
	e.cfgMu.Lock()
	ts := e.tenants[id]
	if ts == nil {
		e.cfgMu.Unlock()
		return NotFound("tenant_not_found", "tenant %q does not exist", id)
	}
	before := ts.t
	for _, ln := range ts.lanes {
		ln.markDeleted()
		if err := e.log.DeleteEndpoint(ln.id); err != nil {
			ln.setDeleted(false)
			e.cfgMu.Unlock()
			return err
		}
		delete(e.lanes, ln.id)
	}
	err := e.deleteTenantDeletedLocked(id)
	for _, hook := range e.tenantHooks {
		if err != nil {
			break
		}
		err = hook(id)
	}
	if err == nil {
		err = e.log.DeleteTenant(id)
	}
	lanes := ts.lanes
	ts.lanes = nil
	if err == nil {
		delete(e.tenants, id)
	}
	e.cfgMu.Unlock()
	for _, ln := range lanes {
		ln.stop()
	}
	if err == nil {
		e.wakePurge()
		e.forgetTenantJobs(id)
		e.m.tenants.forget(id)
		e.Audit(ctx, Change{Action: "tenant.delete", Tenant: id, Resource: id, Before: before})
	}
	return err
}

// Tenant is one customer account: endpoints and events belong to one.
type Tenant struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// MaxEndpoints and RequireHTTPS override the server's endpoint policy
	// for this tenant (see endpoint_policy.go); null: the server's.
	MaxEndpoints *int      `json:"max_endpoints"`
	RequireHTTPS *bool     `json:"require_https"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// TenantInput carries the fields of a tenant create or patch request.
type TenantInput struct {
	ID   *string `json:"id"`
	Name *string `json:"name"`
	// Absent keeps the value, null removes the override.
	MaxEndpoints json.RawMessage `json:"max_endpoints"`
	RequireHTTPS json.RawMessage `json:"require_https"`
}

func validTenantID(s string) bool {
	if s == "" || len(s) > maxTenantIDLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case (c == '-' || c == '_') && i > 0:
		default:
			return false
		}
	}
	return true
}
