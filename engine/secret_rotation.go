package engine

import (
	"fmt"
	"slices"
	"time"

	"hookline/httpout"
)

// Secret rotation limits.
const (
	// DefaultSecretOverlap is Options.SecretOverlap's default.
	DefaultSecretOverlap = 24 * time.Hour
	// MaxSecretOverlap bounds a rotation's overlap: a secret meant to be
	// replaced should not sign for longer than a week.
	MaxSecretOverlap = 7 * 24 * time.Hour
	// maxPreviousSecrets bounds the old secrets signing besides the current
	// one, and so the signatures per delivery, when rotations follow each
	// other within their overlaps.
	maxPreviousSecrets = 5
)

// RotateSecret gives the endpoint a new secret (in.Secret, else a random
// one) and keeps the replaced one signing for the overlap (in.Overlap, else
// Options.SecretOverlap): deliveries meanwhile carry one signature per
// valid secret, the new one first. How it works:
//  1. The replaced secret becomes the newest previous secret, expiring at
//     now + overlap.
//  2. Older previous secrets keep their expiry but none outlives the new
//     overlap, so overlap 0 drops every old secret at once (a leaked
//     secret stops signing now). At most maxPreviousSecrets are kept.
//  3. The record is written and the lane signs with the new set from its
//     next attempt; an attempt past an expiry drops the expired secrets
//     even when nothing is written (see Lane.withoutExpiredSecrets).
//
// The returned Endpoint carries the new secret: the only time it is shown.
func (e *Engine) RotateSecret(tenant, epID string, in SecretRotation) (Endpoint, error) {
	overlap := max(e.opts.SecretOverlap, 0)
	if in.Overlap != nil {
		d, err := parseOverlap(*in.Overlap)
		if err != nil {
			return Endpoint{}, invalid("invalid_overlap", "%s", err)
		}
		overlap = d
	}
	var secret string
	if in.Secret != nil {
		if _, err := httpout.ParseSecret(*in.Secret); err != nil {
			return Endpoint{}, invalid("invalid_secret", "%s", err)
		}
		secret = *in.Secret
	} else {
		var err error
		if secret, err = httpout.NewSecret(); err != nil {
			return Endpoint{}, fmt.Errorf("cannot generate a secret: %w", err)
		}
	}

	e.cfgMu.Lock()
	defer e.cfgMu.Unlock()
	ln, err := e.lookupLaneLocked(tenant, epID)
	if err != nil {
		return Endpoint{}, err
	}
	ep := ln.config().ep
	if secret == ep.Secret {
		return Endpoint{}, invalid("secret_unchanged", "the new secret is the endpoint's current secret; give another or omit it for a random one")
	}
	now := time.Now().UTC()
	ep.PreviousSecrets = rotatedSecrets(ep.Secret, ep.PreviousSecrets, secret, now.Add(overlap), now)
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

// rotatedSecrets is the previous secrets after cur is replaced by next:
// cur first, valid until until, then the older ones, none valid past
// until (a rotation never lengthens an earlier overlap) and next itself
// dropped if it was one of them (a roll-back).
func rotatedSecrets(cur string, prev []PreviousSecret, next string, until, now time.Time) []PreviousSecret {
	out := make([]PreviousSecret, 0, maxPreviousSecrets)
	out = append(out, PreviousSecret{Secret: cur, ExpiresAt: until})
	for _, p := range prev {
		if p.Secret == next {
			continue
		}
		if p.ExpiresAt.After(until) {
			p.ExpiresAt = until
		}
		out = append(out, p)
	}
	return unexpiredSecrets(out[:min(len(out), maxPreviousSecrets)], now)
}

// parseOverlap parses a rotation's overlap: a Go duration from 0 to
// MaxSecretOverlap.
func parseOverlap(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("overlap %q is not a duration like \"24h\", \"90m\" or \"0s\"", s)
	}
	if d < 0 || d > MaxSecretOverlap {
		return 0, fmt.Errorf("overlap is %s; it must be from 0s to %s", d, MaxSecretOverlap)
	}
	return d, nil
}

// unexpiredSecrets returns the secrets of ps still valid at now; ps itself is
// never modified, so it may be shared with a live laneConfig.
func unexpiredSecrets(ps []PreviousSecret, now time.Time) []PreviousSecret {
	valid := func(p PreviousSecret) bool { return p.ExpiresAt.After(now) }
	if !slices.ContainsFunc(ps, func(p PreviousSecret) bool { return !valid(p) }) {
		return ps
	}
	var out []PreviousSecret
	for _, p := range ps {
		if valid(p) {
			out = append(out, p)
		}
	}
	return out
}

// lastExpiry is when the last of ps expires; nil when ps is empty.
func lastExpiry(ps []PreviousSecret) *time.Time {
	if len(ps) == 0 {
		return nil
	}
	last := ps[0].ExpiresAt
	for _, p := range ps[1:] {
		if p.ExpiresAt.After(last) {
			last = p.ExpiresAt
		}
	}
	return &last
}

// PreviousSecret is a rotated-out secret still signing until ExpiresAt.
type PreviousSecret struct {
	Secret    string    `json:"secret"`
	ExpiresAt time.Time `json:"expires_at"`
}

// SecretRotation carries a rotate-secret request; nil means absent.
type SecretRotation struct {
	// Overlap is how long the replaced secret keeps signing, as a Go
	// duration ("1h", "0s"); absent: Options.SecretOverlap.
	Overlap *string `json:"overlap"`
	// Secret is the new secret; absent: a random one.
	Secret *string `json:"secret"`
}
