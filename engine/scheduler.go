package engine

import (
	"errors"
	"sync"
	"time"

	"hookline/engine/wheel"
	"hookline/wal"
)

// scheduler fires retries when they come due. The retry index on disk holds
// every pending retry; the wheel holds those due before loadedUntil, which
// advances with the wheel's horizon as time passes.
//
// Invariant: a retry is in the wheel iff its due time is below loadedUntil.
// Recording a retry and deciding whether it goes into the wheel happen under
// mu, as do loading a range from disk and raising loadedUntil, so a retry is
// never loaded twice nor missed.
type scheduler struct {
	e           *Engine
	mu          sync.Mutex
	wheel       *wheel.Wheel[wal.Retry]
	loadedUntil int64
	// loadStepMs is how far the horizon must pass loadedUntil before the next
	// scan of the retry index: a scan costs a Pebble iterator (about 2 ms under
	// ingest load, measured), so doing one per tick would be 2% of a core.
	loadStepMs int64
	fired      []wal.Retry
	stopCh     chan struct{}
	done       chan struct{}
}

func newScheduler(e *Engine, nowMs int64) *scheduler {
	// A sixteenth of the wheel's span: loadedUntil stays at least 15/16 of
	// the span ahead of now, so a retry due there is loaded long before it fires.
	step := (e.opts.Tick.Milliseconds() * int64(e.opts.WheelSlots)) / 16
	step = max(step, e.opts.Tick.Milliseconds())
	return &scheduler{
		e:          e,
		wheel:      wheel.New[wal.Retry](e.opts.Tick, e.opts.WheelSlots, nowMs),
		loadStepMs: step,
		stopCh:     make(chan struct{}),
		done:       make(chan struct{}),
	}
}

func (s *scheduler) start() { go s.run() }

func (s *scheduler) stop() {
	close(s.stopCh)
	<-s.done
}

func (s *scheduler) pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.wheel.Len()
}

func (s *scheduler) run() {
	defer close(s.done)
	t := time.NewTicker(s.e.opts.Tick)
	defer t.Stop()
	s.tick(time.Now().UnixMilli())
	for {
		select {
		case <-t.C:
			s.tick(time.Now().UnixMilli())
		case <-s.stopCh:
			return
		}
	}
}

func (s *scheduler) tick(nowMs int64) {
	s.mu.Lock()
	s.loadLocked()
	s.fired = s.fired[:0]
	s.wheel.Advance(nowMs, func(r wal.Retry) {
		// A retry of an endpoint another node delivers stays on disk:
		// reloadFor loads it if this node takes the endpoint over. Decided
		// under mu, as reloadFor opens gates under it: each fired retry is
		// either handed over here or loaded again there, never both.
		if s.e.endpointDelivering(r.Endpoint) {
			s.fired = append(s.fired, r)
		}
	})
	s.mu.Unlock()
	for _, r := range s.fired {
		s.e.m.retryFireDelay.Update(float64(max(nowMs-r.DueMs, 0)) / 1e3)
		if ln := s.e.lane(r.Endpoint); ln != nil {
			ln.pushRetry(r)
			continue
		}
		if t, ok := s.e.EndpointTenant(r.Endpoint); s.e.opts.Cluster != nil && (!ok || !s.e.owns(t)) {
			continue // the endpoint's owner drops it
		}
		if err := s.e.log.DeleteRetry(r); err != nil && !errors.Is(err, wal.ErrClosed) {
			s.e.logger.Error("cannot drop retry of deleted endpoint", "err", err)
		}
	}
	clear(s.fired)
}

// loadLocked moves retries due before the wheel's horizon from disk into it.
func (s *scheduler) loadLocked() {
	to := s.wheel.HorizonMs()
	if to-s.loadedUntil < s.loadStepMs {
		return
	}
	err := s.e.log.ScanRetries(s.loadedUntil, to, func(r wal.Retry) bool {
		if !s.wheel.Add(r.DueMs, r) {
			panic("BUG: a retry below the wheel horizon was refused")
		}
		s.e.m.retriesLoaded.Inc()
		return true
	})
	if err != nil {
		if !errors.Is(err, wal.ErrClosed) {
			s.e.logger.Error("cannot load retries; trying again next tick", "err", err)
		}
		return
	}
	s.loadedUntil = to
}

// reloadFor opens the gates of endpoints eps (open) and adds to the wheel
// their retries whose deadline has fired: those of endpoints this node just took over, which the wheel
// fired while another node delivered them (tick drops those) or whose
// lanes were parked. Later ones are in the wheel already, or on disk past
// loadedUntil, and fire as usual.
func (s *scheduler) reloadFor(eps map[wal.ID]bool, open func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	open()
	// Advance fires exactly what is due at or before its time: a retry
	// due in the current tick's slot may have fired already.
	fired := min(s.wheel.FiredThroughMs()+1, s.loadedUntil)
	err := s.e.log.ScanRetries(0, fired, func(r wal.Retry) bool {
		if eps[r.Endpoint] {
			s.wheel.Add(r.DueMs, r)
			s.e.m.retriesLoaded.Inc()
		}
		return true
	})
	if err != nil && !errors.Is(err, wal.ErrClosed) {
		s.e.logger.Error("cannot load the retries of endpoints taken over", "err", err)
	}
}

// record writes a retry outcome and, if its due time is already covered by
// the wheel, adds it there.
func (s *scheduler) record(m *wal.Move) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.e.log.RecordAttempt(m); err != nil {
		return err
	}
	if due := m.Attempt.NextMs; due < s.loadedUntil {
		s.wheel.Add(due, wal.Retry{DueMs: due, Endpoint: m.Endpoint, Event: m.Event, Attempts: m.Attempt.Attempt})
	}
	return nil
}

// replay writes a replay's retry entry and, as record does, puts it in the
// wheel when its due time is already covered: under mu, so the invariant
// holds against a concurrent load.
func (s *scheduler) replay(ep, ev wal.ID, attempts int, dueMs int64, wasDead, noSync bool, correction []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.e.log.Replay(ep, ev, attempts, dueMs, wasDead, noSync, correction); err != nil {
		return err
	}
	if dueMs < s.loadedUntil {
		s.wheel.Add(dueMs, wal.Retry{DueMs: dueMs, Endpoint: ep, Event: ev, Attempts: attempts, Replayed: true})
	}
	return nil
}
