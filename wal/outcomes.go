package wal

import (
	"encoding/binary"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// Outcomes are committed in groups, like appends: each RecordAttempt call
// queues its move and waits, and one goroutine turns every move queued
// meanwhile into one Pebble batch. Without fsync a commit is cheap, but one
// commit per attempt still costs a WAL write syscall and a trip through
// Pebble's commit pipeline each; at tens of thousands of attempts a second
// that was a tenth of the server's CPU.

type moveReq struct {
	m    *Move
	err  error
	done chan struct{}
}

var moveReqPool = sync.Pool{New: func() any { return &moveReq{done: make(chan struct{}, 1)} }}

// moveWriter is the state of the outcome-writer goroutine.
type moveWriter struct {
	reqs chan *moveReq
	wg   sync.WaitGroup
}

func (l *Log) startMoveWriter() {
	l.moves.reqs = make(chan *moveReq, 4096)
	l.moves.wg.Add(1)
	go l.moveLoop()
}

// outcomeSyncDelay bounds how long committed outcomes may sit unsynced.
// Pebble keeps a partly filled WAL block in the process until a sync, so
// on an idle server a kill -9 would otherwise lose every outcome since the
// last append: each means a repeated attempt after the restart. Measured:
// 27 and 50 of 50 retry records lost 250 ms after the last outcomes.
const outcomeSyncDelay = 100 * time.Millisecond

func (l *Log) moveLoop() {
	defer l.moves.wg.Done()
	group := make([]*moveReq, 0, 1024)
	var scratch []byte
	syncTimer := time.NewTimer(time.Hour)
	syncTimer.Stop()
	syncPending := false
	for {
		var req *moveReq
		select {
		case r, ok := <-l.moves.reqs:
			if !ok {
				syncTimer.Stop()
				return
			}
			req = r
		case <-syncTimer.C:
			syncPending = false
			// An empty log record with fsync makes every earlier write durable.
			if err := l.db.LogData(nil, pebble.Sync); err != nil {
				l.opts.Logger.Errorf("cannot sync attempt records: %v", err)
			}
			continue
		}
		group = append(group[:0], req)
	drain:
		for len(group) < cap(group) {
			select {
			case r, ok := <-l.moves.reqs:
				if !ok {
					break drain
				}
				group = append(group, r)
			default:
				break drain
			}
		}
		b := l.db.NewBatch()
		var err error
		for _, r := range group {
			scratch = applyMove(b, r.m, scratch[:0])
		}
		if !b.Empty() {
			if cerr := l.commit(b, pebble.NoSync); cerr != nil {
				err = fmt.Errorf("cannot commit %d attempt records: %w", len(group), cerr)
			} else if !syncPending && l.opts.Replicator == nil {
				syncPending = true
				syncTimer.Reset(outcomeSyncDelay)
			}
		}
		_ = b.Close()
		for _, r := range group {
			r.err = err
			r.done <- struct{}{}
		}
	}
}

// checkMove runs on the caller's goroutine, so a caller's bug panics there
// and not in the shared writer.
func checkMove(m *Move) error {
	switch m.Attempt.Outcome {
	case OutcomeSuccess, OutcomeDead:
	case OutcomeRetry:
		// Due 0 would read as "from the queue" when the retry is recorded.
		if m.Attempt.NextMs <= 0 {
			return fmt.Errorf("cannot schedule a retry of event %s at %d: due time must be positive", m.Event, m.Attempt.NextMs)
		}
	default:
		panic(fmt.Sprintf("BUG: unknown outcome %q", m.Attempt.Outcome))
	}
	return nil
}

// applyMove adds m's writes to b; m passed checkMove.
func applyMove(b *pebble.Batch, m *Move, k []byte) []byte {
	if m.FromDueMs == 0 {
		k = queueKey(k, m.Endpoint, m.Event)
	} else {
		k = retryKey(k, m.FromDueMs, m.Endpoint, m.Event)
	}
	_ = b.Delete(k, nil)
	if m.Replayed {
		k = replayedKey(k[:0], m.Endpoint, m.Event)
		_ = b.Delete(k, nil)
	}
	switch m.Attempt.Outcome {
	case OutcomeSuccess:
	case OutcomeRetry:
		k = retryKey(k[:0], m.Attempt.NextMs, m.Endpoint, m.Event)
		var v [binary.MaxVarintLen64]byte
		_ = b.Set(k, v[:binary.PutUvarint(v[:], uint64(m.Attempt.Attempt))], nil)
	case OutcomeDead:
		k = deadKey(k[:0], m.Endpoint, m.Event)
		var vb [2 * binary.MaxVarintLen64]byte
		v := binary.AppendUvarint(vb[:0], uint64(m.Attempt.Attempt))
		v = binary.AppendUvarint(v, uint64(m.Attempt.TimeMs))
		_ = b.Set(k, v, nil)
	}
	// Key and value share the scratch buffer: key first, value after it.
	// Batch.Set copies both, so the buffer is reused for the next move.
	k = attemptKey(k[:0], m.Endpoint, m.Event, m.Attempt.Attempt)
	kv := appendAttempt(k, &m.Attempt)
	_ = b.Set(kv[:len(k)], kv[len(k):], nil)
	return kv[:0]
}

// AppendHook is told of every event an Append wrote, in commit order (which
// is ID order), after the commit and before the Append returns. It runs on
// the writer goroutine: it must be quick and must not call the Log.
type AppendHook func(id ID, ev *AppendEvent)

type appendHookBox struct{ fn AppendHook }

// SetAppendHook installs fn; the engine uses it to hand new deliveries to
// its lanes in memory instead of having them read their queues back.
func (l *Log) SetAppendHook(fn AppendHook) { l.appendHook.Store(&appendHookBox{fn}) }

type appendHookPtr = atomic.Pointer[appendHookBox]
