package engine

import (
	"context"
	"fmt"
	"time"

	"hookline/httpout"
	"hookline/internal/rotation"
)

// RotateSecret gives the endpoint a new secret (in.Secret, else a random
// one) and keeps the replaced one signing for the overlap (in.Overlap, else
// Options.SecretOverlap): deliveries meanwhile carry one signature per
// valid secret, the new one first. How it works:
//  1. The replaced secret becomes the newest previous secret, expiring at
//     now + overlap.
//  2. Older previous secrets keep their expiry but none outlives the new
//     overlap, so overlap 0 drops every old secret at once (a leaked
//     secret stops signing now). At most rotation.MaxPrevious are kept.
//  3. The record is written and the lane signs with the new set from its
//     next attempt; an attempt past an expiry drops the expired secrets
//     even when nothing is written (see Lane.withoutExpiredSecrets).
//
// The returned Endpoint carries the new secret: the only time it is shown.
func (e *Engine) RotateSecret(ctx context.Context, tenant, epID string, in SecretRotation) (Endpoint, error) {
	before, _ := e.GetEndpoint(tenant, epID)
	ep, err := e.rotateSecret(tenant, epID, in)
	if err == nil {
		after, _ := e.GetEndpoint(tenant, epID)
		e.Audit(ctx, Change{Action: "endpoint.rotate_secret", Tenant: tenant, Resource: epID, Before: auditView(before), After: auditView(after)})
	}
	return ep, err
}

func (e *Engine) rotateSecret(tenant, epID string, in SecretRotation) (Endpoint, error) {
	overlap := e.SecretOverlap()
	if in.Overlap != nil {
		d, err := rotation.ParseOverlap(*in.Overlap, MaxSecretOverlap)
		if err != nil {
			return Endpoint{}, Invalid("invalid_overlap", "%s", err)
		}
		overlap = d
	}
	e.cfgMu.Lock()
	defer e.cfgMu.Unlock()
	ln, err := e.lookupLaneLocked(tenant, epID)
	if err != nil {
		return Endpoint{}, err
	}
	ep := ln.config().ep
	// The new secret is of the endpoint's scheme: an ed25519 endpoint gets
	// a new key pair, whose public key the answer shows.
	var secret string
	if in.Secret != nil {
		if err := httpout.CheckSecret(ep.scheme(), *in.Secret); err != nil {
			return Endpoint{}, Invalid("invalid_secret", "%s", err)
		}
		secret = *in.Secret
	} else if secret, err = httpout.NewSecretFor(ep.scheme()); err != nil {
		return Endpoint{}, fmt.Errorf("cannot generate a secret: %w", err)
	}
	if secret == ep.Secret {
		return Endpoint{}, Invalid("secret_unchanged", "the new secret is the endpoint's current secret; give another or omit it for a random one")
	}
	now := time.Now().UTC()
	ep.PreviousSecrets = rotation.Rotated(ep.Secret, ep.PreviousSecrets, secret, now.Add(overlap), now)
	ep.Secret = secret
	ep.SecretRotatedAt = &now
	ep.UpdatedAt = now
	cfg, err := e.laneConfig(&ep)
	if err != nil {
		return Endpoint{}, err
	}
	if err := e.putEndpoint(ln.id, &ep); err != nil {
		return Endpoint{}, err
	}
	ln.setConfig(cfg)
	v := ln.view()
	v.Secret = secret
	return v, nil
}

// SecretRotation carries a rotate-secret request, for endpoints and
// sources alike; nil means absent.
type SecretRotation struct {
	// Overlap is how long the replaced secret keeps signing, as a Go
	// duration ("1h", "0s"); absent: Options.SecretOverlap.
	Overlap *string `json:"overlap"`
	// Secret is the new secret; absent: a random one.
	Secret *string `json:"secret"`
}
