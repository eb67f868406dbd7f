package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"hookline/httpout"
	"hookline/internal/rotation"
	"hookline/internal/transform"
	"hookline/wal"
)

// Endpoint is a customer URL receiving the events it subscribes to. The
// stored record carries Secret; API views show it on creation only.
type Endpoint struct {
	ID     string `json:"id"`
	Tenant string `json:"tenant"`
	URL    string `json:"url"`
	// The request shaping fields (shaping.go); empty for the standard
	// request. Auth holds credentials: stored sealed, shown masked.
	Method    string                   `json:"method,omitempty"`
	Headers   map[string]string        `json:"headers,omitempty"`
	Auth      *httpout.AuthConfig      `json:"auth,omitempty"`
	Body      json.RawMessage          `json:"body,omitempty"`
	Filter    json.RawMessage          `json:"filter,omitempty"`
	Signature *httpout.SignatureConfig `json:"signature,omitempty"`
	// PublicKey is the key receivers verify an ed25519 endpoint's
	// signatures with; shown, derived from Secret, not stored.
	PublicKey string `json:"public_key,omitempty"`

	Description string   `json:"description"`
	EventTypes  []string `json:"event_types"`
	MaxInFlight int      `json:"max_in_flight"`
	// RateLimit caps requests per second to the endpoint; 0 means none.
	RateLimit int `json:"rate_limit"`
	// Ordering "fifo" delivers strictly in publish order, one request at a
	// time, a failing head holding the rest; "" delivers concurrently.
	Ordering      string   `json:"ordering,omitempty"`
	RetrySchedule []string `json:"retry_schedule,omitempty"`
	// Paused endpoints keep receiving events into their queue but send
	// nothing until resumed. Disabled endpoints receive no new events.
	Paused   bool `json:"paused"`
	Disabled bool `json:"disabled"`
	// DisabledReason says why hookline disabled the endpoint itself:
	// "gone" (it answered 410) or "failing" (its circuit stayed open for
	// the configured time). Empty when an operator disabled it.
	DisabledReason string     `json:"disabled_reason,omitempty"`
	DisabledAt     *time.Time `json:"disabled_at,omitempty"`
	// FailingSince is when the endpoint's circuit first opened without
	// closing since; it survives restarts, so a 5-day outage is measured
	// as one.
	FailingSince *time.Time `json:"failing_since,omitempty"`
	// Circuit is the breaker's live state; shown by the API, not stored.
	Circuit   *CircuitView `json:"circuit,omitempty"`
	Secret    string       `json:"secret,omitempty"`
	CreatedAt time.Time    `json:"created_at"`
	UpdatedAt time.Time    `json:"updated_at"`
	// DeletedAt is when the endpoint was deleted: it is kept, without its
	// secrets, for its delivery history (see endpoint_delete.go).
	DeletedAt *time.Time `json:"deleted_at,omitempty"`

	// PreviousSecrets are the secrets replaced by rotations whose overlap
	// window is still open, newest first; deliveries are signed with them
	// too until they expire (see Engine.RotateSecret). Stored, never shown.
	PreviousSecrets []rotation.Previous `json:"previous_secrets,omitempty"`
	// SecretRotatedAt is when the secret was last rotated. Stored and shown.
	SecretRotatedAt *time.Time `json:"secret_rotated_at,omitempty"`
	// PreviousSecretExpiresAt is when the last previous secret stops
	// signing; shown by the API (derived from PreviousSecrets), not stored.
	PreviousSecretExpiresAt *time.Time `json:"previous_secret_expires_at,omitempty"`

	// PreviousURLs are the URLs the endpoint had before, newest first, each
	// with when it stopped being used (at most maxPreviousURLs): the attempt
	// log names the URL of each attempt from them without storing it per
	// attempt. Stored, not shown.
	PreviousURLs []PreviousURL `json:"previous_urls,omitempty"`
}

// PreviousURL is a URL the endpoint delivered to until Until.
type PreviousURL struct {
	URL   string    `json:"url"`
	Until time.Time `json:"until"`
}

const maxPreviousURLs = 20

// urlAt returns the URL the endpoint delivered to at t.
func (ep *Endpoint) urlAt(t time.Time) string {
	url := ep.URL
	for _, p := range ep.PreviousURLs { // newest first
		if t.Before(p.Until) {
			url = p.URL
		} else {
			break
		}
	}
	return url
}

// Ordering values.
const (
	OrderingFIFO = "fifo"
)

// EndpointInput carries the fields of a create or patch request; nil means
// absent (keep the current value on patch, the default on create).
type EndpointInput struct {
	URL           *string   `json:"url"`
	Description   *string   `json:"description"`
	EventTypes    *[]string `json:"event_types"`
	MaxInFlight   *int      `json:"max_in_flight"`
	RateLimit     *int      `json:"rate_limit"`
	Ordering      *string   `json:"ordering"`
	RetrySchedule *[]string `json:"retry_schedule"`
	Paused        *bool     `json:"paused"`
	Disabled      *bool     `json:"disabled"`
	Secret        *string   `json:"secret"`
	// The shaping fields (see Endpoint); a json.RawMessage is nil when
	// absent and null to remove the field.
	Method    *string                  `json:"method"`
	Headers   json.RawMessage          `json:"headers"`
	Auth      json.RawMessage          `json:"auth"`
	Body      json.RawMessage          `json:"body"`
	Filter    json.RawMessage          `json:"filter"`
	Signature *httpout.SignatureConfig `json:"signature"`
}

// CreateEndpoint creates an endpoint for tenant. The returned Endpoint
// carries the signing secret: the only time it is shown besides rotation.
func (e *Engine) CreateEndpoint(ctx context.Context, tenant string, in EndpointInput) (Endpoint, error) {
	ep, err := e.createEndpoint(tenant, in)
	if err == nil {
		e.Audit(ctx, Change{Action: "endpoint.create", Tenant: tenant, Resource: ep.ID, After: auditView(ep)})
	}
	return ep, err
}

// auditView is an endpoint as the audit log keeps it: its API view without
// the secret, the only place one appears, and without the circuit, which
// is live state rather than a setting.
func auditView(ep Endpoint) Endpoint {
	ep.Secret, ep.Circuit = "", nil
	return ep
}

func (e *Engine) createEndpoint(tenant string, in EndpointInput) (Endpoint, error) {
	if in.URL == nil {
		return Endpoint{}, Invalid("missing_url", "url is required")
	}
	ep := e.newEndpoint(tenant)
	if err := e.applyEndpointInput(&ep, in); err != nil {
		return Endpoint{}, err
	}
	cfg, err := e.laneConfig(&ep)
	if err != nil {
		return Endpoint{}, err
	}
	id, _ := ParseEndpointID(ep.ID)
	plain := e.plainHTTP(in.URL)

	e.cfgMu.Lock()
	ts := e.tenants[tenant]
	if ts == nil {
		e.cfgMu.Unlock()
		return Endpoint{}, NotFound("tenant_not_found", "tenant %q does not exist", tenant)
	}
	if err := e.checkHTTPSLocked(&ts.t, plain, ep.URL); err != nil {
		e.cfgMu.Unlock()
		return Endpoint{}, err
	}
	if err := e.checkEndpointLimitLocked(ts); err != nil {
		e.cfgMu.Unlock()
		return Endpoint{}, err
	}
	if err := e.putEndpoint(id, &ep); err != nil {
		e.cfgMu.Unlock()
		return Endpoint{}, err
	}
	ln := newLane(e, id, cfg)
	e.lanes[id] = ln
	ts.lanes = append(slices.Clip(ts.lanes), ln)
	e.cfgMu.Unlock()
	ln.start()
	v := ln.view()
	v.Secret = ep.Secret // shown on creation only
	return v, nil
}

// newEndpoint is a new endpoint of tenant with the defaults a create's
// input is applied to.
func (e *Engine) newEndpoint(tenant string) Endpoint {
	now := time.Now().UTC()
	return Endpoint{
		ID:          endpointPrefix + e.log.NewConfigID().String(),
		Tenant:      tenant,
		EventTypes:  []string{"*"},
		MaxInFlight: e.opts.DefaultMaxInFlight,
		CreatedAt:   now,
		UpdatedAt:   now,
	}
}

func (e *Engine) applyEndpointInput(ep *Endpoint, in EndpointInput) error {
	if in.URL != nil {
		u := strings.TrimSpace(*in.URL)
		check := u
		if strings.ContainsAny(u, "{}") {
			// Placeholders: the template is checked here, and its literal
			// parts below; the rendered URL passes the guard when dialled.
			t, err := transform.CompileURL(u)
			if err != nil {
				return templateError(err)
			}
			check = t.Skeleton()
		}
		if err := e.sender.Guard().CheckURL(check); err != nil {
			var ue *httpout.URLError
			if errors.As(err, &ue) {
				return Invalid(ue.Code, "%s", ue.Message)
			}
			return Invalid("invalid_url", "%s", err)
		}
		if ep.URL != "" && u != ep.URL {
			prev := PreviousURL{URL: ep.URL, Until: time.Now().UTC()}
			ep.PreviousURLs = append([]PreviousURL{prev}, ep.PreviousURLs[:min(len(ep.PreviousURLs), maxPreviousURLs-1)]...)
		}
		ep.URL = u
	}
	if in.Description != nil {
		if len(*in.Description) > maxDescriptionLen {
			return Invalid("invalid_description", "description is %d bytes; at most %d allowed", len(*in.Description), maxDescriptionLen)
		}
		ep.Description = *in.Description
	}
	if in.EventTypes != nil {
		types := *in.EventTypes
		if len(types) == 0 || len(types) > maxEventTypes {
			return Invalid("invalid_event_types", "event_types needs 1-%d entries; use [\"*\"] for all events", maxEventTypes)
		}
		for _, p := range types {
			if !validPattern(p) {
				return Invalid("invalid_event_types", "event type pattern %q is not an exact type, \"prefix.*\" or \"*\"", p)
			}
		}
		ep.EventTypes = slices.Clone(types)
	}
	if in.MaxInFlight != nil {
		if n := *in.MaxInFlight; n < 1 || n > maxInFlightLimit {
			return Invalid("invalid_max_in_flight", "max_in_flight is %d; it must be 1-%d", n, maxInFlightLimit)
		}
		ep.MaxInFlight = *in.MaxInFlight
	}
	if in.RetrySchedule != nil {
		if len(*in.RetrySchedule) > 0 {
			if _, err := parseDelays(*in.RetrySchedule); err != nil {
				return Invalid("invalid_retry_schedule", "%s", err)
			}
		}
		ep.RetrySchedule = slices.Clone(*in.RetrySchedule)
	}
	if in.RateLimit != nil {
		if n := *in.RateLimit; n < 0 || n > maxRateLimit {
			return Invalid("invalid_rate_limit", "rate_limit is %d; it must be 0 (no limit) to %d requests per second", n, maxRateLimit)
		}
		ep.RateLimit = *in.RateLimit
	}
	if in.Ordering != nil {
		switch o := *in.Ordering; o {
		case "", "none":
			ep.Ordering = ""
		case OrderingFIFO:
			ep.Ordering = o
		default:
			return Invalid("invalid_ordering", "ordering is %q; it must be \"fifo\" or \"none\"", o)
		}
	}
	if in.Paused != nil {
		ep.Paused = *in.Paused
	}
	if in.Disabled != nil {
		if ep.Disabled && !*in.Disabled {
			// Re-enabled by hand: the outage that disabled it is over as far
			// as the operator is concerned, so it starts a fresh count.
			ep.DisabledReason, ep.DisabledAt, ep.FailingSince = "", nil, nil
		}
		ep.Disabled = *in.Disabled
	}
	oldScheme := ep.scheme()
	if err := applyShapeInput(ep, &in); err != nil {
		return err
	}
	scheme := ep.scheme()
	// An ed25519 private key is valid text for the HMAC schemes, but its
	// owner was shown it as a key pair's: it does not carry over.
	leavingKeyPair := oldScheme == httpout.SchemeEd25519 && scheme != httpout.SchemeEd25519
	if in.Secret != nil {
		if err := httpout.CheckSecret(scheme, *in.Secret); err != nil {
			return Invalid("invalid_secret", "%s", err)
		}
		ep.Secret = *in.Secret
	} else if ep.Secret == "" || leavingKeyPair || httpout.CheckSecret(scheme, ep.Secret) != nil {
		// A new endpoint, or a new scheme the secret cannot serve (an
		// ed25519 key pair for an HMAC scheme, or the reverse): a new
		// secret, shown in the answer as on creation. The old ones cannot
		// sign for the new scheme, so no overlap is kept.
		secret, err := httpout.NewSecretFor(scheme)
		if err != nil {
			return fmt.Errorf("cannot generate a secret: %w", err)
		}
		ep.Secret, ep.PreviousSecrets = secret, nil
	}
	if scheme != oldScheme && len(ep.PreviousSecrets) > 0 {
		// The secrets a rotation's overlap keeps sign for the new scheme
		// when it can use them (whsec_ and whsk_ keys for the Standard
		// Webhooks pair, text for the HMAC schemes); one it cannot (an
		// integration's own text secret for standard-webhooks, a key pair
		// for hmac-sha256) is dropped: kept, it made the signer, and so
		// the change, fail with invalid_secret until the overlap ended.
		var sig httpout.SignatureConfig
		if ep.Signature != nil {
			sig = *ep.Signature
		}
		kept := make([]rotation.Previous, 0, len(ep.PreviousSecrets))
		for _, p := range ep.PreviousSecrets {
			if _, err := httpout.NewSignerFor(sig, ep.Secret, []string{p.Secret}); err == nil {
				kept = append(kept, p)
			}
		}
		ep.PreviousSecrets = kept
	}
	return nil
}

func (e *Engine) putEndpoint(id wal.ID, ep *Endpoint) error {
	b, err := endpointRecords.Encode(e.opts.Secrets, ep)
	if err != nil {
		return err
	}
	return e.log.PutEndpoint(id, b)
}

// lookupLaneLocked finds tenant's live endpoint epID, for the calls that
// change or send to it: a deleted one is 409 endpoint_deleted. The caller
// holds cfgMu.
func (e *Engine) lookupLaneLocked(tenant, epID string) (*Lane, error) {
	if e.tenants[tenant] == nil {
		return nil, NotFound("tenant_not_found", "tenant %q does not exist", tenant)
	}
	id, ok := ParseEndpointID(epID)
	if ok {
		if ln := e.lanes[id]; ln != nil && ln.config().ep.Tenant == tenant {
			return ln, nil
		}
		if ln := e.deletedLaneLocked(tenant, id); ln != nil {
			return nil, endpointDeleted(&ln.config().ep)
		}
	}
	return nil, NotFound("endpoint_not_found", "endpoint %q does not exist in tenant %q", epID, tenant)
}

// GetEndpoint returns the endpoint without its secret, deleted or not.
func (e *Engine) GetEndpoint(tenant, epID string) (Endpoint, error) {
	e.cfgMu.RLock()
	defer e.cfgMu.RUnlock()
	ln, err := e.lookupEndpointLocked(tenant, epID)
	if err != nil {
		return Endpoint{}, err
	}
	return ln.view(), nil
}

// ListEndpoints returns up to limit of tenant's endpoints with IDs after the
// given one, in ID (creation) order, without secrets; the deleted ones too
// with includeDeleted.
func (e *Engine) ListEndpoints(tenant, after string, limit int, includeDeleted bool) ([]Endpoint, error) {
	e.cfgMu.RLock()
	ts := e.tenants[tenant]
	if ts == nil {
		e.cfgMu.RUnlock()
		return nil, NotFound("tenant_not_found", "tenant %q does not exist", tenant)
	}
	out := make([]Endpoint, 0, len(ts.lanes))
	for _, ln := range ts.lanes {
		if v := ln.view(); v.ID > after {
			out = append(out, v)
		}
	}
	if includeDeleted {
		for _, ln := range e.deleted {
			if v := ln.view(); v.Tenant == tenant && v.ID > after {
				out = append(out, v)
			}
		}
	}
	e.cfgMu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// UpdateEndpoint applies a patch; the lane picks the new config up at once.
func (e *Engine) UpdateEndpoint(ctx context.Context, tenant, epID string, in EndpointInput) (Endpoint, error) {
	return e.updateEndpoint(ctx, "endpoint.update", tenant, epID, in)
}

// SetPaused pauses or resumes deliveries to an endpoint. A paused endpoint
// still queues its events; resuming sends the backlog in order.
func (e *Engine) SetPaused(ctx context.Context, tenant, epID string, paused bool) (Endpoint, error) {
	action := "endpoint.resume"
	if paused {
		action = "endpoint.pause"
	}
	return e.updateEndpoint(ctx, action, tenant, epID, EndpointInput{Paused: &paused})
}

func (e *Engine) updateEndpoint(ctx context.Context, action, tenant, epID string, in EndpointInput) (Endpoint, error) {
	before, after, err := e.patchEndpoint(tenant, epID, in)
	if err == nil {
		e.Audit(ctx, Change{Action: action, Tenant: tenant, Resource: after.ID, Before: auditView(before), After: auditView(after)})
	}
	return after, err
}

func (e *Engine) patchEndpoint(tenant, epID string, in EndpointInput) (before, after Endpoint, err error) {
	plain := e.plainHTTP(in.URL)
	e.cfgMu.Lock()
	defer e.cfgMu.Unlock()
	ln, err := e.lookupLaneLocked(tenant, epID)
	if err != nil {
		return Endpoint{}, Endpoint{}, err
	}
	before = ln.view()
	ep := ln.config().ep
	wasDisabled := ep.Disabled
	ep.EventTypes = slices.Clone(ep.EventTypes)
	keepMaskedAuth(&ep, &in)
	if err := e.applyEndpointInput(&ep, in); err != nil {
		return Endpoint{}, Endpoint{}, err
	}
	if err := e.checkHTTPSLocked(&e.tenants[tenant].t, plain, ep.URL); err != nil {
		return Endpoint{}, Endpoint{}, err
	}
	ep.UpdatedAt = time.Now().UTC()
	cfg, err := e.laneConfig(&ep)
	if err != nil {
		return Endpoint{}, Endpoint{}, err
	}
	if err := e.putEndpoint(ln.id, &ep); err != nil {
		return Endpoint{}, Endpoint{}, err
	}
	if wasDisabled && !ep.Disabled {
		// Enabled again: the operator says the receiver is fixed, so the
		// lane starts sending at once rather than after a probe.
		ln.resetCircuit()
	}
	newSecret := ep.Secret != ln.config().ep.Secret
	ln.setConfig(cfg)
	after = ln.view()
	if newSecret {
		after.Secret = ep.Secret // shown as on creation (see applyEndpointInput)
	}
	return before, after, nil
}

func (e *Engine) lane(id wal.ID) *Lane {
	e.cfgMu.RLock()
	defer e.cfgMu.RUnlock()
	return e.lanes[id]
}
