package wal

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// The append path: Append queues a request, and the single writer
// (writeLoop) turns every request queued meanwhile into one batch, one
// commit and one fsync (see "Commit path" in the package comment).

// AppendEvent is one event to append, with the endpoints it fans out to.
type AppendEvent struct {
	Tenant         string
	Type           string
	TimeMs         int64
	Body           []byte // the delivery body
	IdempotencyKey string // "" for none
	// AltIdempotencyKey is a second key for the same event ("" for none):
	// the event is a duplicate when either key was seen, of the event the
	// first one seen names (IdempotencyKey's first). A new event gets
	// both. engine/inbound keys a request on its provider's delivery id
	// and on what its signature covers, so a replay under a new id is
	// caught too.
	AltIdempotencyKey string
	Endpoints         []ID // one queue entry is written per endpoint
	// Ref and RefIndex are the caller's, opaque to the wal: they come back
	// to the append hook so it can find its own state for this event without
	// taking locks on the writer goroutine.
	Ref      any
	RefIndex int
}

// AppendResult says what Append did with one event.
type AppendResult struct {
	ID ID
	// Duplicate is true when the idempotency key was seen before: ID is then
	// the first event's ID and nothing was written.
	Duplicate bool
}

type appendReq struct {
	// fence asks the writer for one ID between the events committed before
	// it and those after (see Fence); it comes back in res[0].
	fence bool
	evs   []AppendEvent
	recs  []byte
	ends  []int // recs[ends[i-1]:ends[i]] is event i's encoded record
	res   []AppendResult
	err   error
	done  chan struct{}
}

var appendReqPool = sync.Pool{New: func() any { return &appendReq{done: make(chan struct{}, 1)} }}

// Append writes evs durably: it returns once the batch holding them is
// fsynced. res must have len(evs) entries. Either every event of the call is
// written or none is.
func (l *Log) Append(evs []AppendEvent, res []AppendResult) error {
	if len(res) < len(evs) {
		panic(fmt.Sprintf("BUG: Append got %d results for %d events", len(res), len(evs)))
	}
	req := appendReqPool.Get().(*appendReq)
	req.fence = false
	req.evs, req.res, req.err = evs, res[:len(evs)], nil
	req.recs, req.ends = req.recs[:0], req.ends[:0]
	for i := range evs {
		ev := &evs[i]
		req.recs = l.codec.appendEvent(req.recs, ev.TimeMs, ev.Tenant, ev.Type, ev.Body)
		req.ends = append(req.ends, len(req.recs))
	}
	l.closeMu.RLock()
	if l.closed {
		l.closeMu.RUnlock()
		appendReqPool.Put(req)
		return ErrClosed
	}
	l.reqs <- req
	l.closeMu.RUnlock()
	<-req.done
	err := req.err
	req.evs, req.res = nil, nil
	appendReqPool.Put(req)
	return err
}

// writeLoop is the single writer: it turns every request queued while the
// previous fsync ran into one batch and one fsync.
func (l *Log) writeLoop() {
	defer l.writer.Done()
	group := make([]*appendReq, 0, l.opts.MaxGroupRequests)
	seen := make(map[string]ID)
	var key []byte
	for req := range l.reqs {
		group = append(group[:0], req)
	drain:
		for len(group) < cap(group) {
			select {
			case r, ok := <-l.reqs:
				if !ok {
					break drain
				}
				group = append(group, r)
			default:
				break drain
			}
		}
		key = l.commitGroup(group, seen, key)
		clear(seen)
	}
}

func (l *Log) commitGroup(group []*appendReq, seen map[string]ID, key []byte) []byte {
	b := l.db.NewBatch()
	now := time.Now()
	var err error
	events := 0
	if l.opts.Replicator != nil {
		// Events applied from other writers raise the floor: this writer's
		// IDs stay above every ID of the partitions it may take over.
		if f := l.replica.load(); l.ids.last.Less(f) {
			l.ids.last = f
		}
	}
	for _, req := range group {
		if req.fence {
			id := l.ids.next(now)
			_ = b.Set(metaIDFloor, id[:], nil)
			req.res[0] = AppendResult{ID: id}
		}
		for i := range req.evs {
			ev := &req.evs[i]
			var idemKey, altKey []byte
			if ev.IdempotencyKey != "" {
				idemKey = idempotencyKey(nil, ev.Tenant, ev.IdempotencyKey)
			}
			if ev.AltIdempotencyKey != "" {
				altKey = idempotencyKey(nil, ev.Tenant, ev.AltIdempotencyKey)
			}
			var (
				first ID
				found bool
			)
			for _, k := range [2][]byte{idemKey, altKey} {
				if k != nil && !found && err == nil {
					first, found, err = l.lookupIdempotency(k, seen)
				}
			}
			if err != nil {
				break
			}
			if found {
				req.res[i] = AppendResult{ID: first, Duplicate: true}
				continue
			}
			id := l.ids.next(now)
			start := 0
			if i > 0 {
				start = req.ends[i-1]
			}
			key = eventKey(key[:0], id)
			_ = b.Set(key, req.recs[start:req.ends[i]], nil)
			for _, ep := range ev.Endpoints {
				key = queueKey(key[:0], ep, id)
				_ = b.Set(key, nil, nil)
			}
			key = feedKey(key[:0], ev.Tenant, id)
			_ = b.Set(key, nil, nil)
			if idemKey != nil {
				_ = b.Set(idemKey, id[:], nil)
				// The time-ordered index lets retention find expired keys
				// without reading every key (see Expire).
				key = idemIndexKey(key[:0], id)
				_ = b.Set(key, idemKey[1:], nil)
				seen[string(idemKey)] = id
				// Added before the commit: should it fail, the key is a
				// false positive, never a false negative.
				l.idem.add(idemKey[1:], id)
			}
			if altKey != nil {
				_ = b.Set(altKey, id[:], nil)
				key = altIdemIndexKey(key[:0], id)
				_ = b.Set(key, altKey[1:], nil)
				seen[string(altKey)] = id
				l.idem.add(altKey[1:], id)
			}
			req.res[i] = AppendResult{ID: id}
			events++
		}
	}
	var took time.Duration
	committed := false
	if err == nil && !b.Empty() {
		start := time.Now()
		if cerr := l.commit(b, pebble.Sync); cerr != nil {
			err = fmt.Errorf("cannot commit batch of %d requests: %w", len(group), cerr)
		} else {
			took, committed = time.Since(start), true
		}
	}
	_ = b.Close()
	if committed {
		if h := l.appendHook.Load(); h != nil {
			for _, req := range group {
				for i := range req.evs {
					if !req.res[i].Duplicate {
						h.fn(req.res[i].ID, &req.evs[i])
					}
				}
			}
		}
	}
	for _, req := range group {
		req.err = err
		req.done <- struct{}{}
	}
	if committed && l.opts.OnCommit != nil {
		l.opts.OnCommit(events, took)
	}
	return key
}

// lookupIdempotency returns the event that idempotency key k (an i key)
// names: first among the keys written earlier in this group (seen), then
// in the store. The store is read only when the filter says k may be in
// it: a fresh key, which every inbound request has, is answered from
// memory, as the Get that proves it absent walks the memtables and every
// overlapping L0 table (26-32% of the server's CPU at 1 KB inbound).
func (l *Log) lookupIdempotency(k []byte, seen map[string]ID) (ID, bool, error) {
	if id, ok := seen[string(k)]; ok {
		return id, true, nil
	}
	if !l.idem.mayContain(k[1:]) {
		return ID{}, false, nil
	}
	v, closer, err := l.db.Get(k)
	if errors.Is(err, pebble.ErrNotFound) {
		l.idem.falsePositives.Add(1)
		return ID{}, false, nil
	}
	if err != nil {
		return ID{}, false, fmt.Errorf("cannot read idempotency key: %w", err)
	}
	var id ID
	copy(id[:], v)
	_ = closer.Close()
	return id, true, nil
}
