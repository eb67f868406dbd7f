package engine

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sony/gobreaker/v2"
	"golang.org/x/time/rate"

	"hookline/wal"
)

// readAhead is how many queued event IDs a lane reads per scan of its queue.
const readAhead = 256

// freshCap bounds a lane's in-memory list of new deliveries; past it the
// lane reads them back from disk, so a backlog costs disk, not memory.
const freshCap = 512

// Lane delivers one endpoint's events. How it works:
//  1. Publish writes a queue entry per subscribed endpoint and kicks the lane.
//  2. The lane's goroutine (run) reads its queue in event-ID order with a
//     cursor, and due retries handed over by the scheduler, and starts one
//     goroutine per attempt while fewer than max_in_flight are open. New
//     deliveries come from memory (offer), their bodies from
//     Engine.recent; a backlog is read from disk, its queue keys and then
//     its events, readAhead at a time (readBacklog).
//  3. Each attempt renders the endpoint's request from the stored event
//     (shaping.go), signs it (with the current secret and, in a rotation's
//     overlap, the previous ones: see laneConfig.signUntil), sends it, and
//     records the outcome in one batch (done, retry at a time, or dead
//     letter), then tells run a slot is free.
//  4. depth and retrying count the endpoint's deliveries on disk: Publish
//     adds its fan-out to depth, and each recorded outcome moves the
//     counters as it moved the delivery (see noteRecorded). They are seeded
//     from the wal at start-up and summed into the queue metrics on scrape.
//
// Invariants: at most max_in_flight attempts are open; a lane never waits on
// another lane; the cursor only moves forward, which is sound because the wal
// commits event IDs in increasing order (see package wal).
type Lane struct {
	e  *Engine
	id wal.ID
	// gate is open while this node delivers the endpoint's tenant (cluster
	// mode; nil on a single node: always).
	gate *atomic.Bool

	cfg    atomic.Pointer[laneConfig]
	kickCh chan struct{}
	doneCh chan struct{}
	stopCh chan struct{}
	exited chan struct{}
	once   sync.Once
	// deleted is set when the endpoint is deleted (not on shutdown): its
	// retries are then dropped instead of kept for a restart. recordMu makes
	// "check deleted, then commit an outcome" atomic against markDeleted, so
	// no outcome lands after the endpoint's ranges were deleted.
	recordMu sync.RWMutex
	deleted  atomic.Bool

	circuit atomic.Pointer[circuit]
	// limiter and wake belong to run: the rate_limit bucket, and the timer
	// that kicks run when a limit or an open circuit lets it send again.
	limiter *rate.Limiter
	wake    *time.Timer

	// inFlight holds the events with an attempt under way (at most
	// max_in_flight), for the delivery log's in_flight status; its own lock
	// keeps it off the path of offers and retries.
	inFlightMu sync.Mutex
	inFlight   map[wal.ID]struct{}

	// cancels counts retries cancelled on this lane since start: a fired
	// retry may be one of them only when it is not zero (a cancel before a
	// restart removed its entry, so it is never loaded).
	cancels atomic.Int64

	mu      sync.Mutex
	retries []wal.Retry // due retries waiting for a free slot
	// fresh holds deliveries appended since run last took them, in ID
	// order (see onAppend). When it is full, offers are dropped and
	// overflow tells run to read its queue from disk instead.
	fresh    []wal.ID
	overflow bool

	// The counters are written by every publish to the endpoint and every
	// outcome; the padding keeps them off the cache line of cfg, which every
	// publish to the tenant reads.
	_        [64]byte
	depth    atomic.Int64 // deliveries in the queue or the retry index
	retrying atomic.Int64 // of which in the retry index
	_        [64]byte

	// health is written by every attempt: after the padding, off the
	// counters' cache line too.
	health laneHealth

	// notify is the endpoint's failure notification state (notify.go).
	notify laneNotify
	// deadLog limits the log lines of its dead letters (deadlog.go).
	deadLog deadLog
}

// view is the endpoint as the API shows it: no secret, live circuit state.
func (ln *Lane) view() Endpoint {
	v := ln.config().view()
	if v.DeletedAt == nil {
		v.Circuit = ln.circuit.Load().view()
	}
	return v
}

func newLane(e *Engine, id wal.ID, cfg *laneConfig) *Lane {
	ln := &Lane{
		e:        e,
		id:       id,
		kickCh:   make(chan struct{}, 1),
		inFlight: make(map[wal.ID]struct{}),
		doneCh:   make(chan struct{}, maxInFlightLimit),
		stopCh:   make(chan struct{}),
		exited:   make(chan struct{}),
	}
	ln.cfg.Store(cfg)
	ln.resetCircuit()
	ln.gate = e.gateFor(cfg.ep.Tenant)
	e.epTenants.Store(id, cfg.ep.Tenant)
	return ln
}

// delivering reports whether this node delivers the lane's endpoint now.
func (ln *Lane) delivering() bool { return ln.gate == nil || ln.gate.Load() }

// park forgets what run had taken from the queue and the due retries
// handed to it: another node delivers them while the gate is closed, and
// when it opens again run reads the queue from its start and the
// scheduler loads the retries again.
func (ln *Lane) park(q *queueReader) {
	*q = queueReader{diskBehind: true}
	ln.mu.Lock()
	// Checked again under mu, which pushRetry and offer take: a retry
	// handed over after the gate opened is kept.
	if !ln.delivering() {
		ln.retries, ln.fresh, ln.overflow = nil, nil, false
	}
	ln.mu.Unlock()
}

// resetCircuit gives the lane a closed circuit: at start and when an
// operator enables the endpoint again.
func (ln *Lane) resetCircuit() {
	inFlight := func() int {
		if ep := &ln.config().ep; ep.Ordering != OrderingFIFO {
			return ep.MaxInFlight
		}
		return 1
	}
	ln.circuit.Store(newCircuit(ln.e.opts.Circuit, inFlight, func(from, to gobreaker.State) {
		ln.e.circuitChanged(ln, from, to)
	}, func() {
		ln.e.goNotify(func() { ln.e.circuitFailing(ln) })
	}))
}

func (ln *Lane) config() *laneConfig { return ln.cfg.Load() }

func (ln *Lane) setConfig(cfg *laneConfig) {
	ln.cfg.Store(cfg)
	ln.kick()
}

// accepts reports whether an event of type typ, stored as body, is
// delivered to the endpoint: its subscription and its filter pass.
func (ln *Lane) accepts(typ string, body []byte) bool {
	cfg := ln.cfg.Load()
	return !cfg.ep.Disabled && cfg.ep.subscribes(typ) && cfg.passes(body)
}

// kick wakes run without blocking; one pending kick is enough.
func (ln *Lane) kick() {
	select {
	case ln.kickCh <- struct{}{}:
	default:
	}
}

// offer hands a newly appended delivery to the lane; see Lane.
func (ln *Lane) offer(id wal.ID) {
	ln.mu.Lock()
	if len(ln.fresh) < freshCap {
		ln.fresh = append(ln.fresh, id)
	} else {
		ln.overflow = true
	}
	ln.mu.Unlock()
	ln.kick()
}

// takeFresh moves the fresh deliveries into dst (which it returns) unless
// offers were dropped: then it reports overflow and the caller reads the
// queue from disk, where every dropped delivery is.
func (ln *Lane) takeFresh(dst []wal.ID) ([]wal.ID, bool) {
	ln.mu.Lock()
	defer ln.mu.Unlock()
	if ln.overflow {
		ln.fresh = ln.fresh[:0]
		return dst, false
	}
	dst, ln.fresh = ln.fresh, dst[:0]
	return dst, true
}

// clearOverflow is called before a disk scan: any offer dropped after it
// sets overflow again, so the lane cannot miss it.
func (ln *Lane) clearOverflow() {
	ln.mu.Lock()
	ln.overflow = false
	ln.mu.Unlock()
}

func (ln *Lane) pushRetry(r wal.Retry) {
	ln.recordMu.RLock()
	defer ln.recordMu.RUnlock()
	if ln.deleted.Load() {
		// The lane may have exited already: nobody would drop this one.
		if err := ln.e.log.DeleteRetry(r); err != nil && !errors.Is(err, wal.ErrClosed) {
			ln.e.logger.Error("cannot drop retry of deleted endpoint", "err", err)
		}
		return
	}
	ln.mu.Lock()
	ln.retries = append(ln.retries, r)
	ln.mu.Unlock()
	ln.kick()
}

// hasRetry reports whether a due retry waits, dropping those cancelled
// since they fired (their entry is gone from the retry index): a point
// read per retry, on the lane's own goroutine, paid only by lanes that had
// a cancellation since the engine started (3% of the CPU per delivery at a
// 20% retry rate, measured, if every lane paid it).
func (ln *Lane) hasRetry() bool {
	for {
		ln.mu.Lock()
		if len(ln.retries) == 0 {
			ln.mu.Unlock()
			return false
		}
		r := ln.retries[0]
		ln.mu.Unlock()
		if ln.cancels.Load() == 0 {
			return true
		}
		ok, err := ln.e.log.HasRetry(r)
		if err != nil || ok {
			// On a read error, attempt it: a repeat beats a lost delivery.
			return true
		}
		ln.popRetry()
	}
}

func (ln *Lane) popRetry() (wal.Retry, bool) {
	ln.mu.Lock()
	defer ln.mu.Unlock()
	if len(ln.retries) == 0 {
		return wal.Retry{}, false
	}
	r := ln.retries[0]
	ln.retries = ln.retries[1:]
	if len(ln.retries) == 0 {
		ln.retries = nil
	}
	return r, true
}

func (ln *Lane) start() { go ln.run() }

func (ln *Lane) stop() { ln.once.Do(func() { close(ln.stopCh) }) }

// markDeleted is called before the endpoint's records are deleted: every
// outcome committed after it returns sees deleted and writes nothing.
func (ln *Lane) markDeleted() { ln.setDeleted(true) }

// setDeleted(false) undoes markDeleted when deleting the records failed.
func (ln *Lane) setDeleted(v bool) {
	ln.recordMu.Lock()
	ln.deleted.Store(v)
	ln.recordMu.Unlock()
}

// wait reports whether the lane finished its attempts before ctx was done.
func (ln *Lane) wait(ctx context.Context) bool {
	select {
	case <-ln.exited:
		return true
	case <-ctx.Done():
		return false
	}
}

func (ln *Lane) run() {
	defer close(ln.exited)
	defer ln.stopWake()
	q := queueReader{diskBehind: true}
	inFlight := 0
	for {
		cfg := ln.cfg.Load()
		ln.syncLimiter(cfg)
		fifo := cfg.ep.Ordering == OrderingFIFO
		limit := cfg.ep.MaxInFlight
		if fifo {
			limit = 1
		}
		changed := false
		parked := !ln.delivering()
		if parked {
			ln.park(&q)
		}
		for !parked && !cfg.ep.Disabled && !cfg.ep.Paused && inFlight < limit {
			retry := ln.hasRetry()
			// In order: nothing new goes out while an earlier delivery
			// waits for its retry.
			if !retry && (fifo && ln.retrying.Load() > 0 || !ln.peekQueue(&q, cfg)) {
				break
			}
			if ln.cfg.Load() != cfg {
				// The config changed since this pass loaded it: what was
				// just found may have come after the change (a publish
				// after a pause returned), so it must see the new one.
				// Seen on a loaded machine: a paused endpoint sent 7.
				changed = true
				break
			}
			done, ok := ln.admit()
			if !ok {
				break
			}
			inFlight++
			if r, ok := ln.popRetry(); ok {
				ln.dispatch(attemptItem{ev: r.Event, fromDueMs: r.DueMs, replayed: r.Replayed, attempts: r.Attempts, done: done})
				continue
			}
			ln.dispatch(attemptItem{ev: q.pending[q.next], raw: q.rawEvent(q.next), done: done})
			q.next++
		}
		if changed {
			continue
		}
		select {
		case <-ln.kickCh:
		case <-ln.doneCh:
			inFlight--
		case <-ln.stopCh:
			for ; inFlight > 0; inFlight-- {
				<-ln.doneCh
			}
			if ln.deleted.Load() {
				ln.dropRetries()
			}
			return
		}
	}
}

// queueReader is run's position in the endpoint's queue.
type queueReader struct {
	pending []wal.ID // deliveries to start, in ID order
	next    int
	// cursor is the highest event ID taken into pending; what is at or
	// below it was already taken, from disk or from fresh.
	cursor wal.ID
	// diskBehind means the queue on disk may hold deliveries above the
	// cursor that fresh does not: at start (left from before a restart)
	// and after fresh overflowed.
	diskBehind bool
	// raw holds the stored records of pending when they were read from
	// disk (nil when they came from fresh, whose bodies are in
	// Engine.recent). Each disk read gets a new one: attempts dispatched
	// from the last one may still be reading it.
	raw *wal.RawEvents
	// rawBytes is the size of the last disk read, to size the next one.
	rawBytes int
}

// rawEvent is the stored record of pending[i], or nil when it must be read.
func (q *queueReader) rawEvent(i int) []byte {
	if q.raw == nil {
		return nil
	}
	return q.raw.Get(i)
}

// peekQueue makes q.pending[q.next] the next queued delivery, reading from
// fresh or disk as needed; false when there is none (or the read failed).
func (ln *Lane) peekQueue(q *queueReader, cfg *laneConfig) bool {
	for q.next == len(q.pending) {
		q.pending, q.next, q.raw = q.pending[:0], 0, nil
		if q.diskBehind {
			ln.clearOverflow()
			n, err := ln.e.log.ScanQueue(ln.id, q.cursor, readAhead, func(ev wal.ID) {
				q.pending = append(q.pending, ev)
				q.cursor = ev
			})
			if err != nil {
				if !errors.Is(err, wal.ErrClosed) {
					ln.e.logger.Error("cannot read endpoint queue", "endpoint", cfg.ep.ID, "err", err)
				}
				return false
			}
			q.diskBehind = n == readAhead
			if n > 0 {
				ln.readBacklog(q, cfg)
			}
			return len(q.pending) > 0
		}
		var ok bool
		if q.pending, ok = ln.takeFresh(q.pending); !ok {
			q.diskBehind = true
			continue
		}
		// Drop what a disk scan already took.
		kept := q.pending[:0]
		for _, ev := range q.pending {
			if q.cursor.Less(ev) {
				kept = append(kept, ev)
				q.cursor = ev
			}
		}
		q.pending = kept
		return len(kept) > 0
	}
	return true
}

// readBacklog reads the events of the deliveries a disk scan found with
// one iterator (wal.ReadRawEvents) for the attempts to decode. On an error
// the attempts read their events one by one, as they would have anyway.
func (ln *Lane) readBacklog(q *queueReader, cfg *laneConfig) {
	raw := new(wal.RawEvents)
	raw.Reserve(q.rawBytes)
	if err := ln.e.log.ReadRawEvents(q.pending, raw); err != nil {
		if !errors.Is(err, wal.ErrClosed) {
			ln.e.logger.Error("cannot read events of endpoint backlog", "endpoint", cfg.ep.ID, "err", err)
		}
		return
	}
	q.raw, q.rawBytes = raw, raw.Bytes()
}

// dispatch hands one attempt to a worker with the lane's config as it is
// now, not as run loaded it at the top of its pass: a config stored
// meanwhile (a rotated secret, a new URL) happened before the delivery
// run just found, and must apply to it. Signing with the pass's config
// sent a delivery published after rotate-secret returned with the old
// secret alone (TestRotateSecretExpiryUnderLoad, on a loaded machine).
func (ln *Lane) dispatch(it attemptItem) {
	ln.e.m.inFlight.Inc()
	ln.inFlightMu.Lock()
	ln.inFlight[it.ev] = struct{}{}
	ln.inFlightMu.Unlock()
	ln.e.attempts.run(attemptTask{ln: ln, cfg: ln.cfg.Load(), it: it})
}

// isInFlight reports whether an attempt of event ev is under way.
func (ln *Lane) isInFlight(ev wal.ID) bool {
	ln.inFlightMu.Lock()
	defer ln.inFlightMu.Unlock()
	_, ok := ln.inFlight[ev]
	return ok
}

// dropRetries removes from the retry index the due retries that were
// waiting for a slot when the endpoint was deleted.
func (ln *Lane) dropRetries() {
	for {
		r, ok := ln.popRetry()
		if !ok {
			return
		}
		if err := ln.e.log.DeleteRetry(r); err != nil && !errors.Is(err, wal.ErrClosed) {
			ln.e.logger.Error("cannot drop retry of deleted endpoint", "err", err)
		}
	}
}
