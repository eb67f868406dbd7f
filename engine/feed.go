package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"sync"
	"sync/atomic"
	"time"

	"hookline/wal"
)

// The event feed lets internal consumers read a tenant's events in order
// without being webhook endpoints: a cursor (the last event ID seen) and a
// long poll, so a consumer that has caught up waits for the next event
// instead of polling.

// Feed bounds.
const (
	MaxFeedWait  = 30 * time.Second
	maxFeedLimit = 1000
)

// FeedEvent is one event of the feed.
type FeedEvent struct {
	ID        string          `json:"id"`
	Type      string          `json:"type"`
	CreatedAt time.Time       `json:"created_at"`
	Payload   json.RawMessage `json:"payload"`
}

// feedWaiters wakes long polls when their tenant gets an event. The append
// hook runs on the wal's writer goroutine, so with nobody waiting it costs
// one atomic load per event.
type feedWaiters struct {
	waiting atomic.Int32
	mu      sync.Mutex
	wake    map[string]chan struct{}
	closed  chan struct{} // closed by Stop: every poll returns
	once    sync.Once
}

func (f *feedWaiters) init() {
	f.wake = make(map[string]chan struct{})
	f.closed = make(chan struct{})
}

func (f *feedWaiters) notify(tenant string) {
	if f.waiting.Load() == 0 {
		return
	}
	f.mu.Lock()
	if ch := f.wake[tenant]; ch != nil {
		close(ch)
		delete(f.wake, tenant)
	}
	f.mu.Unlock()
}

// channel returns the channel closed by tenant's next event.
func (f *feedWaiters) channel(tenant string) chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	ch := f.wake[tenant]
	if ch == nil {
		ch = make(chan struct{})
		f.wake[tenant] = ch
	}
	return ch
}

func (f *feedWaiters) stop() { f.once.Do(func() { close(f.closed) }) }

// Feed returns up to limit of tenant's events after the cursor after (an
// event ID; "" for the oldest kept, "now" for only events to come), and
// the cursor to go on from. With none to return it waits up to wait for
// one (ctx ends the wait early).
func (e *Engine) Feed(ctx context.Context, tenant, after string, limit int, wait time.Duration) ([]FeedEvent, string, error) {
	inc, ok := e.incarnation(tenant)
	if !ok {
		return nil, "", NotFound("tenant_not_found", "tenant %q does not exist", tenant)
	}
	if limit < 1 || limit > maxFeedLimit {
		return nil, "", Invalid("invalid_limit", "limit is %d; it must be 1-%d", limit, maxFeedLimit)
	}
	if wait < 0 || wait > MaxFeedWait {
		return nil, "", Invalid("invalid_wait", "wait is %s; it must be 0-%s", wait, MaxFeedWait)
	}
	var cursor wal.ID
	switch after {
	case "":
	case "now":
		// The newest event so far, not a time: an event committed in the
		// current millisecond is either before it or still to come.
		id, err := e.log.LastFeedID(tenant)
		if err != nil {
			return nil, "", err
		}
		if id.Less(inc) {
			id = inc // an earlier tenant's event is no cursor of this one
		}
		cursor = id
	default:
		id, ok := ParseEventID(after)
		if !ok {
			return nil, "", Invalid("invalid_cursor", "after %q is not an event id (evt_...) or \"now\"", after)
		}
		cursor = id
	}
	// The feed index still lists an earlier tenant's events of the same
	// name until they are removed: read from the incarnation on.
	from := cursor
	if from.Less(inc) {
		from = inc
	}
	out, err := e.readFeed(tenant, from, limit)
	if err != nil || len(out) > 0 || wait == 0 {
		return out, feedCursor(out, cursor), err
	}
	e.feed.waiting.Add(1)
	defer e.feed.waiting.Add(-1)
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		// Registered before reading again: an event committed after this
		// read closes the channel, so none is missed in between.
		ch := e.feed.channel(tenant)
		if out, err = e.readFeed(tenant, from, limit); err != nil || len(out) > 0 {
			return out, feedCursor(out, cursor), err
		}
		select {
		case <-ch:
		case <-timer.C:
			return out, feedCursor(out, cursor), nil
		case <-ctx.Done():
			return out, feedCursor(out, cursor), nil
		case <-e.feed.closed:
			return out, feedCursor(out, cursor), nil
		}
	}
}

func (e *Engine) readFeed(tenant string, after wal.ID, limit int) ([]FeedEvent, error) {
	out := []FeedEvent{}
	err := e.log.ReadFeed(tenant, after, limit, func(r *wal.EventRecord) bool {
		out = append(out, FeedEvent{
			ID:        FormatEventID(r.ID),
			Type:      string(r.Type),
			CreatedAt: time.UnixMilli(r.TimeMs).UTC(),
			Payload:   json.RawMessage(bytes.Clone(bodyData(r.Body))),
		})
		return true
	})
	return out, err
}

// feedCursor is where the next read goes on from: the last event returned,
// or the cursor given (as an event ID) when there was none.
func feedCursor(out []FeedEvent, after wal.ID) string {
	if len(out) > 0 {
		return out[len(out)-1].ID
	}
	if after.IsZero() {
		return ""
	}
	return FormatEventID(after)
}
