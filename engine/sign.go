package engine

import (
	"time"

	"hookline/httpout"
	"hookline/internal/rotation"
)

// withoutExpiredSecrets returns the config to sign with at now, which is at
// or past c.signUntil: c without the previous secrets expired by then. The
// lane takes it too, unless its config changed meanwhile, so only the first
// attempt past an expiry builds it. Nothing is written: the record loses
// the expired secrets at its next write (see Engine.laneConfig).
func (ln *Lane) withoutExpiredSecrets(c *laneConfig, now time.Time) *laneConfig {
	for now.UnixNano() >= c.signUntil {
		c.expired.once.Do(func() {
			ep := c.ep
			// Pruned at now, not only at laneConfig's clock read: were the
			// clock stepped back, next would keep the expired secret and
			// this loop would not end.
			ep.PreviousSecrets = rotation.Unexpired(ep.PreviousSecrets, now)
			next, err := ln.e.laneConfig(&ep)
			if err != nil {
				panic("BUG: a valid endpoint config became invalid by dropping expired secrets: " + err.Error())
			}
			c.expired.cfg = next
		})
		next := c.expired.cfg
		ln.cfg.CompareAndSwap(c, next)
		c = next
	}
	return c
}

// sign appends the signature header's value for one request at now, with
// every secret valid then (never one whose overlap ended), and returns the
// config it signed with, which the request must use too, and the header's
// name. Scheme none appends nothing.
func (ln *Lane) sign(cfg *laneConfig, dst []byte, msgID string, now time.Time, body []byte) (*laneConfig, []byte, string) {
	if now.UnixNano() >= cfg.signUntil {
		cfg = ln.withoutExpiredSecrets(cfg, now)
	}
	signer := cfg.signers.Get().(*httpout.Signer)
	dst = signer.AppendSignatures(dst, msgID, now.Unix(), body)
	name := signer.Header()
	cfg.signers.Put(signer)
	return cfg, dst, name
}
