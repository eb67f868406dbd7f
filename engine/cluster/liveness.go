package cluster

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
)

// Liveness: every node publishes a heartbeat (core NATS, subject
// hl.beat, no JetStream: beats flow while a stream elects a leader) every
// BeatEvery, and every node listens to all of them. A member whose beats
// this node has not heard for FenceAfter is taken out of the log's
// membership, by a node that is Healthy: one that hears a majority of the
// members (itself included) within SelfFenceAfter. A node cut off from
// the others hears only itself, stops being Healthy after SelfFenceAfter
// (shorter than FenceAfter) and must stop delivering, before the others
// can take its partitions over.
const (
	beatSubject = "hl.beat"

	BeatEvery      = 250 * time.Millisecond
	SelfFenceAfter = 1500 * time.Millisecond
	FenceAfter     = 3 * time.Second
)

// Liveness runs a node's heartbeats and fences silent members.
type Liveness struct {
	log  *Log
	sub  *nats.Subscription
	stop context.CancelFunc
	wg   sync.WaitGroup

	mu   sync.Mutex
	seen map[string]time.Time // node -> when its last beat arrived
	// since is when this node last became healthy (or started): a member
	// is judged silent from then on only, as no beats arrive while this
	// node is cut off.
	since   time.Time
	healthy bool
}

// StartLiveness starts the heartbeats.
func StartLiveness(l *Log) (*Liveness, error) {
	v := &Liveness{log: l, seen: map[string]time.Time{}, since: time.Now()}
	sub, err := l.o.Conn.Subscribe(beatSubject, func(m *nats.Msg) {
		v.mu.Lock()
		v.seen[string(m.Data)] = time.Now()
		v.mu.Unlock()
	})
	if err != nil {
		return nil, fmt.Errorf("cluster: cannot listen to heartbeats: %w", err)
	}
	v.sub = sub
	ctx, cancel := context.WithCancel(context.Background())
	v.stop = cancel
	v.wg.Add(2)
	go v.beat(ctx)
	go v.run(ctx)
	return v, nil
}

// Close stops the heartbeats (the others fence this node after
// FenceAfter unless it left).
func (v *Liveness) Close() {
	v.stop()
	v.wg.Wait()
	_ = v.sub.Unsubscribe()
}

// Healthy reports whether this node hears a majority of the members now:
// a node that is not healthy must not deliver. It is computed on each
// call, so nothing this node waits for can keep a stale answer.
func (v *Liveness) Healthy() bool {
	st := v.log.members()
	v.mu.Lock()
	defer v.mu.Unlock()
	heard, total := v.count(st, time.Now())
	return 2*heard > total
}

// count is how many members (this node always counted) this node heard
// within SelfFenceAfter; the caller holds mu.
func (v *Liveness) count(st membership, now time.Time) (heard, total int) {
	total = len(st.members)
	if st.index(v.log.o.Name) < 0 {
		total++
	}
	if now.Sub(v.seen[v.log.o.Name]) < SelfFenceAfter {
		heard++
	}
	for _, m := range st.members {
		if m.name != v.log.o.Name && now.Sub(v.seen[m.name]) < SelfFenceAfter {
			heard++
		}
	}
	return heard, total
}

// beat publishes the heartbeats; nothing else runs on its goroutine, so a
// slow membership write cannot silence this node.
func (v *Liveness) beat(ctx context.Context) {
	defer v.wg.Done()
	t := time.NewTicker(BeatEvery)
	defer t.Stop()
	beat := []byte(v.log.o.Name)
	for {
		if err := v.log.o.Conn.Publish(beatSubject, beat); err != nil {
			v.log.o.Logf("cluster: cannot send a heartbeat: %v", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (v *Liveness) run(ctx context.Context) {
	defer v.wg.Done()
	t := time.NewTicker(BeatEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		v.check(ctx)
	}
}

// check updates Healthy, takes silent members out, and joins again if
// this node was taken out while it was cut off.
func (v *Liveness) check(ctx context.Context) {
	st := v.log.members()
	self := st.index(v.log.o.Name)
	now := time.Now()
	v.mu.Lock()
	heard, total := v.count(st, now)
	healthy := 2*heard > total
	if healthy != v.healthy {
		if healthy {
			v.log.o.Logf("cluster: node %s hears %d of %d members again", v.log.o.Name, heard, total)
		} else {
			v.log.o.Logf("cluster: node %s hears %d of %d members, not a majority: it stops delivering", v.log.o.Name, heard, total)
		}
	}
	if healthy && !v.healthy {
		v.since = now
	}
	v.healthy = healthy
	var silent []member
	for _, m := range st.members {
		last := v.seen[m.name]
		if last.Before(v.since) {
			last = v.since
		}
		if m.name != v.log.o.Name && now.Sub(last) >= FenceAfter {
			silent = append(silent, m)
		}
	}
	v.mu.Unlock()
	if !healthy {
		return
	}
	if self < 0 || st.members[self].incarnation != v.log.incarnation {
		// Never joined, or taken out while cut off: back in.
		jctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		if err := v.log.Join(jctx); err != nil && !errors.Is(err, context.Canceled) {
			v.log.o.Logf("cluster: cannot join: %v", err)
		}
		cancel()
		return
	}
	for _, m := range silent {
		v.log.o.Logf("cluster: no heartbeat from node %s for %s: taking over its partitions", m.name, FenceAfter)
		rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := v.log.remove(rctx, m.name, m.incarnation)
		cancel()
		if err != nil && !errors.Is(err, context.Canceled) {
			v.log.o.Logf("cluster: cannot fence node %s: %v", m.name, err)
		}
	}
}
