package httpin

import (
	"strconv"
	"sync"
	"time"

	"github.com/valyala/fasthttp"
	"golang.org/x/time/rate"
)

// defaultReplaysPerSecond is Options.ReplaysPerSecond's default: a
// customer clicking "replay" down a page of failures cannot flood their
// own receiver, and a person replaying one at a time never notices.
const defaultReplaysPerSecond = 1

// maxReplayLimiters is how many endpoints' limiters are kept before the
// idle ones (whose bucket is full again, so forgetting them changes
// nothing) are dropped.
const maxReplayLimiters = 10_000

// replayLimits holds a token bucket per endpoint for single-delivery
// replays asked by tenant credentials: burst 1 at Options.ReplaysPerSecond.
type replayLimits struct {
	every rate.Limit
	mu    sync.Mutex
	byEP  map[string]*rate.Limiter
}

func newReplayLimits(perSecond float64) *replayLimits {
	if perSecond < 0 {
		return nil // no limit
	}
	return &replayLimits{every: rate.Limit(perSecond), byEP: make(map[string]*rate.Limiter)}
}

// reserve takes a replay of endpoint key at now: it returns 0 and the
// reservation (to cancel if the replay is not made), or how long to wait
// before one is allowed (and then takes nothing).
func (rl *replayLimits) reserve(key string, now time.Time) (time.Duration, *rate.Reservation) {
	rl.mu.Lock()
	defer rl.mu.Unlock()
	lim := rl.byEP[key]
	if lim == nil {
		if len(rl.byEP) >= maxReplayLimiters {
			for k, l := range rl.byEP {
				if l.TokensAt(now) >= 1 {
					delete(rl.byEP, k)
				}
			}
		}
		lim = rate.NewLimiter(rl.every, 1)
		rl.byEP[key] = lim
	}
	r := lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return d, nil
	}
	return 0, r
}

// allowReplay answers 429 replay_rate_limited with Retry-After when a
// tenant credential replays a delivery of endpoint faster than
// Options.ReplaysPerSecond allows; the admin token is never limited.
// When it allows one, undo gives the replay back: a replay refused
// (404, 409) does not spend the endpoint's budget.
func (s *Server) allowReplay(ctx *fasthttp.RequestCtx, tenant, endpoint string) (ok bool, undo func()) {
	if s.replays == nil || principalOfRequest(ctx).admin {
		return true, func() {}
	}
	now := time.Now()
	wait, r := s.replays.reserve(tenant+"\x00"+endpoint, now)
	if wait <= 0 {
		// At the reservation's own time: rate cancels nothing at a later one.
		return true, func() { r.CancelAt(now) }
	}
	writeError(ctx, fasthttp.StatusTooManyRequests, "replay_rate_limited",
		"replays of this endpoint's deliveries by tenant credentials are rate limited; retry after Retry-After seconds")
	ctx.Response.Header.Set("Retry-After", strconv.Itoa(int((wait+time.Second-1)/time.Second)))
	return false, nil
}
