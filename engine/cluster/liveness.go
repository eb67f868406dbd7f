package cluster

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Liveness: every node puts a heartbeat into the key-value bucket
// HL_NODES every BeatEvery; every node watches the bucket, and takes a
// member out of the log's membership once it has seen no heartbeat of it
// for FenceAfter. A node also watches its own: when none of its puts has
// succeeded for SelfFenceAfter (shorter than FenceAfter), it is cut off
// and stops delivering (Healthy false) before the others can take its
// partitions over.
const (
	nodesBucket = "HL_NODES"

	BeatEvery      = 250 * time.Millisecond
	SelfFenceAfter = 1500 * time.Millisecond
	FenceAfter     = 3 * time.Second
)

// Liveness runs a node's heartbeats and fences silent members.
type Liveness struct {
	log  *Log
	kv   jetstream.KeyValue
	stop context.CancelFunc
	wg   sync.WaitGroup

	mu     sync.Mutex
	lastOK time.Time
	seen   map[string]time.Time // node -> when its last heartbeat arrived
	// since is when this node last became healthy (or started): a member
	// is judged silent from then on only, as heartbeats do not arrive
	// while this node is cut off or the bucket elects a leader.
	since time.Time
}

// StartLiveness creates the bucket if needed and starts the heartbeats.
func StartLiveness(ctx context.Context, l *Log) (*Liveness, error) {
	kv, err := l.js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:   nodesBucket,
		Replicas: l.o.Replicas,
		Storage:  jetstream.FileStorage,
		History:  1,
	})
	if err != nil {
		return nil, fmt.Errorf("cluster: cannot create bucket %s: %w", nodesBucket, err)
	}
	// The watch lives as long as the heartbeats, not ctx.
	lctx, cancel := context.WithCancel(context.Background())
	w, err := kv.WatchAll(lctx)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("cluster: cannot watch bucket %s: %w", nodesBucket, err)
	}
	v := &Liveness{log: l, kv: kv, stop: cancel, seen: map[string]time.Time{}, since: time.Now()}
	v.wg.Add(3)
	go v.beat(lctx)
	go v.watch(lctx, w)
	go v.fence(lctx)
	return v, nil
}

// Close stops the heartbeats (the others fence this node after
// FenceAfter unless it left).
func (v *Liveness) Close() {
	v.stop()
	v.wg.Wait()
}

// Healthy reports whether this node's heartbeats reach the cluster: a
// node that is not healthy must not deliver.
func (v *Liveness) Healthy() bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	return time.Since(v.lastOK) < SelfFenceAfter
}

func (v *Liveness) beat(ctx context.Context) {
	defer v.wg.Done()
	t := time.NewTicker(BeatEvery)
	defer t.Stop()
	val := []byte(strconv.FormatUint(v.log.incarnation, 36))
	for {
		sent := time.Now()
		pctx, cancel := context.WithTimeout(ctx, SelfFenceAfter)
		_, err := v.kv.Put(pctx, v.log.o.Name, val)
		cancel()
		if err == nil {
			v.mu.Lock()
			// The time the put was sent, not answered: a put answered late
			// proves the node was reachable only then.
			v.lastOK = sent
			v.mu.Unlock()
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (v *Liveness) watch(ctx context.Context, w jetstream.KeyWatcher) {
	defer v.wg.Done()
	defer func() { _ = w.Stop() }()
	for {
		select {
		case <-ctx.Done():
			return
		case e, ok := <-w.Updates():
			if !ok {
				return
			}
			if e == nil || e.Operation() != jetstream.KeyValuePut {
				continue
			}
			v.mu.Lock()
			v.seen[e.Key()] = time.Now()
			v.mu.Unlock()
		}
	}
}

// fence takes out of the membership every member whose heartbeats stopped
// FenceAfter ago, as seen from this node. A node that is not healthy
// fences no one: it is the one cut off.
func (v *Liveness) fence(ctx context.Context) {
	defer v.wg.Done()
	t := time.NewTicker(BeatEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if !v.Healthy() {
			v.mu.Lock()
			v.since = time.Now()
			v.mu.Unlock()
			continue
		}
		st := v.log.members()
		if st.index(v.log.o.Name) < 0 || st.members[st.index(v.log.o.Name)].incarnation != v.log.incarnation {
			// Fenced while cut off (or never joined): back in.
			jctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			if err := v.log.Join(jctx); err != nil && !errors.Is(err, context.Canceled) {
				v.log.o.Logf("cluster: cannot join: %v", err)
			}
			cancel()
			continue
		}
		now := time.Now()
		for _, m := range st.members {
			if m.name == v.log.o.Name {
				continue
			}
			v.mu.Lock()
			last := v.seen[m.name]
			if last.Before(v.since) {
				last = v.since
			}
			v.mu.Unlock()
			if now.Sub(last) < FenceAfter {
				continue
			}
			v.log.o.Logf("cluster: no heartbeat from node %s for %s: taking over its partitions", m.name, now.Sub(last).Round(time.Millisecond))
			rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			err := v.log.remove(rctx, m.name, m.incarnation)
			cancel()
			if err != nil && !errors.Is(err, context.Canceled) {
				v.log.o.Logf("cluster: cannot fence node %s: %v", m.name, err)
			}
		}
	}
}
