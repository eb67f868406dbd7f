package engine

import (
	"context"
	"encoding/json"
	"strings"

	"hookline/internal/transform"
)

// Endpoint policy per tenant: how many live endpoints it may have, and
// whether their URLs must be https. Each has a server default
// (Options.EndpointsPerTenant, Options.RequireHTTPS) that a tenant's own
// field (max_endpoints, require_https; null: the default) overrides.

// DefaultEndpointsPerTenant is Options.EndpointsPerTenant's default, and
// MaxEndpointsPerTenant the bound of it and of a tenant's max_endpoints.
const (
	DefaultEndpointsPerTenant = 1000
	MaxEndpointsPerTenant     = 100_000
)

// applyTenantPolicyInput applies the policy fields of a tenant create or
// patch: absent keeps the value, null removes the override.
func applyTenantPolicyInput(t *Tenant, in TenantInput) error {
	if in.MaxEndpoints != nil {
		if isNull(in.MaxEndpoints) {
			t.MaxEndpoints = nil
		} else {
			var n int
			if err := json.Unmarshal(in.MaxEndpoints, &n); err != nil || n < 1 || n > MaxEndpointsPerTenant {
				return Invalid("invalid_max_endpoints", "max_endpoints is %s; it must be a whole number from 1 to %d, or null for the server's default", in.MaxEndpoints, MaxEndpointsPerTenant)
			}
			t.MaxEndpoints = &n
		}
	}
	if in.RequireHTTPS != nil {
		if isNull(in.RequireHTTPS) {
			t.RequireHTTPS = nil
		} else {
			var b bool
			if err := json.Unmarshal(in.RequireHTTPS, &b); err != nil {
				return Invalid("invalid_require_https", "require_https is %s; it must be true, false, or null for the server's default", in.RequireHTTPS)
			}
			t.RequireHTTPS = &b
		}
	}
	return nil
}

// endpointLimit is tenant t's bound on live endpoints.
func (e *Engine) endpointLimit(t *Tenant) int {
	if t.MaxEndpoints != nil {
		return *t.MaxEndpoints
	}
	return e.opts.EndpointsPerTenant
}

// checkEndpointLimitLocked refuses a new endpoint for ts past its bound;
// deleted endpoints, kept for their history, do not count. The caller
// holds cfgMu.
func (e *Engine) checkEndpointLimitLocked(ts *tenantState) error {
	if limit := e.endpointLimit(&ts.t); len(ts.lanes) >= limit {
		return Conflict("endpoint_limit", "tenant %q has %d endpoints, its limit of %d (max_endpoints); delete one or ask the operator to raise the limit", ts.t.ID, len(ts.lanes), limit)
	}
	return nil
}

// plainHTTP reports whether an endpoint URL (a template's literal prefix
// for a URL with placeholders) is http:// into a network the operator did
// not allow-list: what require_https refuses. It may resolve the host, so
// callers run it before taking cfgMu. The URL passed CheckURL already.
func (e *Engine) plainHTTP(raw *string) bool {
	if raw == nil {
		return false
	}
	u := strings.TrimSpace(*raw)
	if strings.ContainsAny(u, "{}") {
		t, err := transform.CompileURL(u)
		if err != nil {
			return false // refused as invalid_template by applyEndpointInput
		}
		u = t.Skeleton()
	}
	if len(u) < len("http://") || !strings.EqualFold(u[:len("http://")], "http://") {
		return false
	}
	return !e.sender.Guard().AllowListed(context.Background(), u)
}

// checkHTTPSLocked refuses a plain http URL (see plainHTTP) when tenant t
// requires https; the caller holds cfgMu.
func (e *Engine) checkHTTPSLocked(t *Tenant, plain bool, url string) error {
	if !plain {
		return nil
	}
	switch {
	case t.RequireHTTPS != nil && *t.RequireHTTPS:
		return Invalid("https_required", "url %q is plain http; tenant %q requires https (its require_https), except into networks the operator allow-listed", url, t.ID)
	case t.RequireHTTPS == nil && e.opts.RequireHTTPS:
		return Invalid("https_required", "url %q is plain http; this server requires https (delivery.require_https), except into networks the operator allow-listed", url)
	}
	return nil
}
