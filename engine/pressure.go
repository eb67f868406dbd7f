package engine

import (
	"sync/atomic"
	"syscall"
	"time"
)

// Back-pressure: when the deliveries waiting exceed Options.MaxBacklog, or
// the data directory's filesystem has less than Options.MinFreeDisk free,
// ingest is refused with 503 and Retry-After until the condition clears.
// Nothing already accepted is touched: lanes keep delivering, which is what
// clears a backlog. A monitor samples both every pressureInterval, so the
// publish path pays one atomic load.

const pressureInterval = 250 * time.Millisecond

// pressureRetryAfter is what refused publishers are told to wait.
const pressureRetryAfter = 5 * time.Second

type pressure int32

const (
	pressureNone pressure = iota
	pressureBacklog
	pressureDisk
)

// Reasons a publish is refused, past the pressures: the labels of
// hookline_ingest_refused_requests_total.
const (
	refusedTenantBacklog = int(pressureDisk) + 1 + iota
	refusedTenantRate
	refusedCount
)

type pressureMonitor struct {
	state    atomic.Int32 // a pressure
	backlog  atomic.Int64 // last sample
	freeDisk atomic.Int64 // last sample; -1 when not measured
	ticker   ticker
}

func (e *Engine) startPressureMonitor() {
	p := &e.pressure
	p.freeDisk.Store(-1)
	e.samplePressure()
	p.ticker.start(pressureInterval, e.samplePressure)
}

func (e *Engine) stopPressureMonitor() {
	e.pressure.ticker.stop()
}

// samplePressure measures and sets the state. Leaving a state needs some
// headroom (5% of the backlog bound; 5% of the disk threshold, at most 64
// MiB), so ingest does not flap on and off at the bound.
func (e *Engine) samplePressure() {
	p := &e.pressure
	backlog := int64(e.sumLanes(func(ln *Lane) int64 { return ln.depth.Load() }))
	e.sampleTenantBacklogs()
	p.backlog.Store(backlog)
	free := int64(-1)
	if e.opts.DataDir != "" && e.opts.MinFreeDisk > 0 {
		var st syscall.Statfs_t
		if err := syscall.Statfs(e.opts.DataDir, &st); err != nil {
			e.logger.Error("cannot measure free disk space", "dir", e.opts.DataDir, "err", err)
		} else {
			free = int64(st.Bavail) * int64(st.Bsize)
		}
	}
	p.freeDisk.Store(free)

	was := pressure(p.state.Load())
	now := pressureNone
	switch maxBacklog, minFree := e.opts.MaxBacklog, e.opts.MinFreeDisk; {
	case free >= 0 && (free < minFree || was == pressureDisk && free < minFree+min(minFree/20, 64<<20)):
		now = pressureDisk
	case maxBacklog > 0 && (backlog > maxBacklog || was == pressureBacklog && backlog > maxBacklog-maxBacklog/20):
		now = pressureBacklog
	}
	if now == was {
		return
	}
	p.state.Store(int32(now))
	switch now {
	case pressureNone:
		e.logger.Info("ingest accepting again", "backlog", backlog, "free_disk_bytes", free)
	case pressureBacklog:
		e.logger.Warn("ingest refused: delivery backlog over its bound", "backlog", backlog, "max_backlog", e.opts.MaxBacklog)
	case pressureDisk:
		e.logger.Warn("ingest refused: free disk space under its threshold", "free_disk_bytes", free, "min_free_disk_bytes", e.opts.MinFreeDisk)
	}
}

// checkPressure is the publish path's check.
func (e *Engine) checkPressure() error {
	switch pressure(e.pressure.state.Load()) {
	case pressureBacklog:
		e.m.ingestRefused[pressureBacklog].Inc()
		// The server-wide count is other tenants' business: not said.
		err := Unavailable("backlog_full", "the server has more deliveries waiting than it holds; try again later")
		err.RetryAfter = pressureRetryAfter
		return err
	case pressureDisk:
		e.m.ingestRefused[pressureDisk].Inc()
		err := Unavailable("disk_full", "the server's data disk is nearly full; try again later")
		err.RetryAfter = pressureRetryAfter
		return err
	}
	return nil
}
