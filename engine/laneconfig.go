package engine

import (
	"maps"
	"math"
	"slices"
	"sync"
	"time"

	"hookline/httpout"
	"hookline/internal/rotation"
)

// laneConfig is an endpoint's config with what is derived from it; a new one
// replaces the old on update, so attempts in flight keep a consistent view.
type laneConfig struct {
	ep       Endpoint
	shape    *requestShape // nil: the standard request
	schedule []time.Duration
	signers  sync.Pool // *httpout.Signer for ep's scheme, ep.Secret and ep.PreviousSecrets
	// signUntil (unix ns) is when the first of ep.PreviousSecrets expires;
	// MaxInt64 when there are none. From then on the signers would still
	// sign with it, so attempts sign with expired.cfg instead, built once
	// by the first of them (see withoutExpiredSecrets).
	signUntil int64
	expired   struct {
		once sync.Once
		cfg  *laneConfig
	}
}

// laneConfig derives the lane config of ep. It first drops ep's previous
// secrets that have expired, so the record written next is without them.
func (e *Engine) laneConfig(ep *Endpoint) (*laneConfig, error) {
	ep.PreviousSecrets = rotation.Unexpired(ep.PreviousSecrets, time.Now())
	cfg := &laneConfig{ep: *ep, schedule: e.opts.RetrySchedule, signUntil: math.MaxInt64}
	previous := make([]string, 0, len(ep.PreviousSecrets))
	for _, p := range ep.PreviousSecrets {
		previous = append(previous, p.Secret)
		cfg.signUntil = min(cfg.signUntil, p.ExpiresAt.UnixNano())
	}
	var sig httpout.SignatureConfig
	if ep.Signature != nil {
		sig = *ep.Signature
	}
	signer, err := httpout.NewSignerFor(sig, ep.Secret, previous)
	if err != nil {
		return nil, Invalid("invalid_secret", "%s", err)
	}
	if len(ep.RetrySchedule) > 0 {
		if cfg.schedule, err = parseDelays(ep.RetrySchedule); err != nil {
			return nil, Invalid("invalid_retry_schedule", "%s", err)
		}
	}
	if cfg.shape, err = compileShape(ep); err != nil {
		return nil, err
	}
	cfg.signers.New = func() any { return signer.Clone() }
	return cfg, nil
}

func (c *laneConfig) view() Endpoint {
	v := c.ep
	if v.Auth != nil {
		masked := v.Auth.Masked()
		v.Auth = &masked
	}
	v.Headers = maps.Clone(v.Headers)
	if v.Signature != nil {
		sig := *v.Signature
		v.Signature = &sig
	}
	if v.scheme() == httpout.SchemeEd25519 {
		v.PublicKey, _ = httpout.PublicKey(v.Secret)
	}
	if v.Method == "" {
		v.Method = "POST"
	}
	v.Secret = ""
	v.PreviousSecrets = nil
	v.PreviousURLs = nil
	v.PreviousSecretExpiresAt = rotation.LastExpiry(rotation.Unexpired(c.ep.PreviousSecrets, time.Now()))
	v.EventTypes = slices.Clone(v.EventTypes)
	v.RetrySchedule = slices.Clone(v.RetrySchedule)
	return v
}
