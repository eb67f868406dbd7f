package engine

import (
	"sync"
	"time"

	"hookline/httpout"
	"hookline/wal"
)

// deadLogEvery is how often an endpoint's dead letters may be logged: its
// first death is logged at once, the ones within the minute that follows
// in one line at its end with their count, so a dead receiver under load
// writes a line a minute, not one per delivery.
const deadLogEvery = time.Minute

// deadLog is an endpoint's dead-letter log limiter.
type deadLog struct {
	mu    sync.Mutex
	timer *time.Timer // the window's end; nil when no window is open
	count int         // deaths in the window not yet logged
	last  deadLogged  // the last of them
}

// deadLogged is what a log line tells of a death.
type deadLogged struct {
	event, reason, errClass string
	status, attempts        int
}

// logDeath logs a dead-lettered delivery of ln, or counts it for the line
// at the end of the endpoint's window.
func (ln *Lane) logDeath(cfg *laneConfig, m *wal.Move, reason string) {
	d := deadLogged{event: FormatEventID(m.Event), reason: reason, errClass: m.Attempt.ErrClass,
		status: m.Attempt.Status, attempts: m.Attempt.Attempt}
	g := &ln.deadLog
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.timer != nil {
		g.count++
		g.last = d
		return
	}
	ln.e.logDead(cfg, 1, d)
	g.timer = time.AfterFunc(deadLogEvery, func() { ln.endDeadLogWindow() })
}

// endDeadLogWindow logs the deaths counted in the window that ends, if
// any, and opens the next window for them; a window without deaths closes,
// so the next death is logged at once.
func (ln *Lane) endDeadLogWindow() {
	g := &ln.deadLog
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.count == 0 || ln.deleted.Load() {
		g.timer, g.count = nil, 0
		return
	}
	ln.e.logDead(ln.config(), g.count, g.last)
	g.count = 0
	g.timer = time.AfterFunc(deadLogEvery, func() { ln.endDeadLogWindow() })
}

func (e *Engine) logDead(cfg *laneConfig, n int, d deadLogged) {
	e.logger.Warn("deliveries dead-lettered",
		"endpoint", cfg.ep.ID, "tenant", cfg.ep.Tenant, "url", httpout.RedactURL(cfg.ep.URL),
		"count", n, "last_event", d.event, "reason", d.reason, "status", d.status,
		"error_class", d.errClass, "attempts", d.attempts)
}
