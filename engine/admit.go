package engine

import (
	"time"

	"golang.org/x/time/rate"
)

// admit decides, on the lane's run goroutine, whether one more attempt may
// start now: the endpoint's rate_limit must have a token and its circuit
// must let a request through. When not, it arms the wake timer for when
// that changes (a half-open probe in flight wakes run by finishing) and
// consumes nothing.
func (ln *Lane) admit() (done func(error), ok bool) {
	now := time.Now()
	var res *rate.Reservation
	if ln.limiter != nil {
		res = ln.limiter.ReserveN(now, 1)
		if d := res.DelayFrom(now); d > 0 {
			res.CancelAt(now)
			ln.wakeAt(now.Add(d))
			return nil, false
		}
	}
	done, retryAt := ln.circuit.Load().allow()
	if done == nil {
		if res != nil {
			res.CancelAt(now)
		}
		if !retryAt.IsZero() {
			ln.wakeAt(retryAt)
		}
		return nil, false
	}
	return done, true
}

// syncLimiter follows the endpoint's rate_limit. The bucket holds one token:
// requests are spaced at least 1/rate apart, so no one-second window sees
// more than rate_limit of them.
func (ln *Lane) syncLimiter(cfg *laneConfig) {
	r := cfg.ep.RateLimit
	switch {
	case r <= 0:
		ln.limiter = nil
	case ln.limiter == nil:
		ln.limiter = rate.NewLimiter(rate.Limit(r), 1)
	case ln.limiter.Limit() != rate.Limit(r):
		ln.limiter.SetLimit(rate.Limit(r))
	}
}

// wakeAt kicks run at t; an earlier pending wake-up is replaced, which is
// fine because run re-evaluates everything when woken.
func (ln *Lane) wakeAt(t time.Time) {
	d := max(time.Until(t), 0)
	if ln.wake == nil {
		ln.wake = time.AfterFunc(d, ln.kick)
		return
	}
	ln.wake.Reset(d)
}

func (ln *Lane) stopWake() {
	if ln.wake != nil {
		ln.wake.Stop()
	}
}
