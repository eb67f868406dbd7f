package cluster

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"hookline/wal"
)

// The stream every node's store is a replica of (docs/cluster.md).
const (
	logStream  = "HL_LOG"
	logSubject = "hl.log"
)

// ErrUnavailable is returned when the replicated log could not store a
// write in time (no quorum, or this node cut off from it).
var ErrUnavailable = wal.ErrReplicaUnavailable

// LogOptions configure a node's handle on the replicated log.
type LogOptions struct {
	// Name is this node's name, unique in the cluster.
	Name string
	// Addr is this node's HTTP API address, which the others forward to.
	Addr string
	// Conn is connected to the cluster's NATS servers.
	Conn *nats.Conn
	// Replicas is the stream's replication factor; 0 means 3.
	Replicas int
	// MaxAge is how long the stream keeps records: the store's retention.
	// 0 means 30 days.
	MaxAge time.Duration
	// EndpointTenant names the tenant of an endpoint, for the ownership
	// check of a write that touches it (see membership.accepts).
	EndpointTenant func(wal.ID) (string, bool)
	// OnOwnership is called on the applier goroutine after a change of
	// members is applied. It must not block: the node's writes wait for
	// that goroutine.
	OnOwnership func()
	// WriteTimeout bounds a write's wait for the log; 0 means 30 s.
	WriteTimeout time.Duration
	// Logf logs what an operator should see; nil discards it.
	Logf func(format string, args ...any)
}

// Log is a node's handle on the replicated log: the wal.Replicator of its
// store, the applier that keeps the store a replica, and the membership
// that says who may write which partition.
type Log struct {
	o           LogOptions
	js          jetstream.JetStream
	incarnation uint64
	nonce       atomic.Uint64

	store *wal.Log

	mu      sync.Mutex
	waiters map[uint64]chan error
	state   membership // a copy of the applier's, for readers

	applied atomic.Uint64
	stop    context.CancelFunc
	done    chan struct{} // the applier's
	// watchDone is closed when the reader's watchdog has returned.
	watchDone chan struct{}
	// The reader the applier takes records from (reader.go): rd, of
	// generation gen; the watchdog replaces it when it stalls or asks.
	readerMu sync.Mutex
	rd       *logReader
	gen      atomic.Uint64
	in       chan delivery
	replace  chan uint64
	failure  atomic.Pointer[error]
}

// NewLog creates the stream if it does not exist yet.
func NewLog(ctx context.Context, o LogOptions) (*Log, error) {
	if o.Name == "" || o.Conn == nil {
		return nil, errors.New("cluster: a log needs the node's name and a NATS connection")
	}
	if o.Replicas == 0 {
		o.Replicas = 3
	}
	if o.MaxAge == 0 {
		o.MaxAge = 30 * 24 * time.Hour
	}
	if o.WriteTimeout == 0 {
		o.WriteTimeout = 30 * time.Second
	}
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
	js, err := jetstream.New(o.Conn)
	if err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	_, err = js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:       logStream,
		Subjects:   []string{logSubject},
		Replicas:   o.Replicas,
		Storage:    jetstream.FileStorage,
		MaxAge:     o.MaxAge,
		Duplicates: min(2*time.Minute, o.MaxAge), // no longer than the records
		Discard:    jetstream.DiscardOld,
	})
	if err != nil {
		return nil, fmt.Errorf("cluster: cannot create stream %s: %w", logStream, err)
	}
	var inc [8]byte
	_, _ = rand.Read(inc[:])
	l := &Log{o: o, js: js, incarnation: binary.BigEndian.Uint64(inc[:]) | 1, waiters: map[uint64]chan error{}}
	l.state.set(0, nil)
	return l, nil
}

// Start makes store a replica: it resumes from the store's position and
// returns once the store holds every record the stream had when Start
// was called. store must have been opened with l as its Replicator.
func (l *Log) Start(ctx context.Context, store *wal.Log) error {
	pos, members, err := store.ReplicaPosition()
	if err != nil {
		return err
	}
	state, err := decodeMembership(members)
	if err != nil {
		return fmt.Errorf("cluster: the store's membership does not decode: %w", err)
	}
	st, err := l.streamState(ctx)
	if err != nil {
		return err
	}
	if trimmed(st, pos) {
		// Config records among the removed ones would be missing for good.
		return fmt.Errorf("cluster: this node's store is at record %d but the log now starts at %d (retention removed the records between): Restore replaces such a store with a copy of another node's", pos, st.FirstSeq)
	}
	last := st.LastSeq
	var rd *logReader
	err = retryCall(ctx, func(cctx context.Context) (err error) {
		rd, err = l.openReader(cctx, pos+1)
		return err
	})
	if err != nil {
		return err
	}
	l.store = store
	l.applied.Store(pos)
	l.mu.Lock()
	l.state = state.clone()
	l.mu.Unlock()
	actx, cancel := context.WithCancel(context.Background())
	l.stop, l.done, l.watchDone = cancel, make(chan struct{}), make(chan struct{})
	l.in, l.replace = make(chan delivery, 1024), make(chan uint64, 1)
	l.useReader(actx, rd)
	go l.applyLoop(actx, state, pos)
	go l.watchReader(actx)
	if err := l.waitApplied(ctx, last); err != nil {
		return err
	}
	return l.serveSnapshots(actx, store)
}

// streamState reads the state of the log's stream. JetStream answers
// nothing to a request it lost while its cluster forms or elects a
// leader: each call gets a few seconds and is tried again until ctx ends.
func (l *Log) streamState(ctx context.Context) (jetstream.StreamState, error) {
	var info jetstream.Stream
	err := retryCall(ctx, func(cctx context.Context) (err error) {
		info, err = l.js.Stream(cctx, logStream)
		return err
	})
	if err != nil {
		return jetstream.StreamState{}, fmt.Errorf("cluster: cannot read stream %s: %w", logStream, err)
	}
	return info.CachedInfo().State, nil
}

// trimmed reports whether retention removed records of st that a store
// at pos never applied: the log can no longer bring it up to date.
func trimmed(st jetstream.StreamState, pos uint64) bool {
	return st.LastSeq > 0 && st.FirstSeq > pos+1
}

// retryCall runs f with 5 s each try until it succeeds or ctx ends.
func retryCall(ctx context.Context, f func(context.Context) error) error {
	for {
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err := f(cctx)
		cancel()
		if err == nil || ctx.Err() != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// publishTry bounds one try of a write's publish; tries repeat with the
// same message id until the write's timeout.
const publishTry = 500 * time.Millisecond

func (l *Log) waitApplied(ctx context.Context, seq uint64) error {
	for l.applied.Load() < seq {
		if err := l.failure.Load(); err != nil {
			return *err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("cluster: catching up with the log (at %d of %d): %w", l.applied.Load(), seq, ctx.Err())
		case <-time.After(5 * time.Millisecond):
		}
	}
	return nil
}

// Close stops the applier; writes waiting for it fail.
func (l *Log) Close() {
	if l.stop == nil {
		return
	}
	l.stop()
	<-l.watchDone // no reader is made after this
	l.stopReader()
	<-l.done
	l.mu.Lock()
	for n, ch := range l.waiters {
		ch <- ErrUnavailable
		delete(l.waiters, n)
	}
	l.mu.Unlock()
}

// Replicate is wal.Replicator's: it tags repr with the partitions it
// writes, publishes it, and waits for this node's applier to reach it.
func (l *Log) Replicate(repr []byte) error {
	r := record{kind: kindBatch, origin: l.o.Name, incarnation: l.incarnation, repr: repr}
	var scopeErr error
	err := wal.BatchScope(repr, func(tenant string) {
		r.partitions = append(r.partitions, uint16(PartitionOf(tenant)))
	}, func(ep wal.ID) {
		tenant, ok := l.o.EndpointTenant(ep)
		if !ok {
			scopeErr = fmt.Errorf("cluster: endpoint %s is not known on this node", ep)
			return
		}
		r.partitions = append(r.partitions, uint16(PartitionOf(tenant)))
	})
	if err == nil {
		err = scopeErr
	}
	if err != nil {
		return err
	}
	slices.Sort(r.partitions)
	r.partitions = slices.Compact(r.partitions)
	return l.write(&r)
}

// write publishes r and waits for its verdict from this node's applier.
func (l *Log) write(r *record) error {
	r.nonce = l.nonce.Add(1)
	ch := make(chan error, 1)
	l.mu.Lock()
	l.waiters[r.nonce] = ch
	l.mu.Unlock()
	forget := func() {
		l.mu.Lock()
		delete(l.waiters, r.nonce)
		l.mu.Unlock()
	}
	ctx, cancel := context.WithTimeout(context.Background(), l.o.WriteTimeout)
	defer cancel()
	msg := &nats.Msg{Subject: logSubject, Data: appendRecord(nil, r)}
	// The same message id on every try: JetStream keeps one copy of a
	// publish retried after a lost acknowledgement.
	id := l.o.Name + "." + strconv.FormatUint(l.incarnation, 36) + "." + strconv.FormatUint(r.nonce, 36)
	for try := 0; ; try++ {
		// Short tries: a publish to a stream whose leader died is
		// answered by no one, and the try that is waiting when a new one
		// is elected waits on for nothing.
		pctx, pcancel := context.WithTimeout(ctx, publishTry)
		_, err := l.js.PublishMsg(pctx, msg, jetstream.WithMsgID(id))
		pcancel()
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			forget()
			return fmt.Errorf("%w: %v", ErrUnavailable, err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Duration(min(try+1, 10)) * 50 * time.Millisecond):
		}
	}
	select {
	case err := <-ch:
		return err
	case <-ctx.Done():
		forget()
		return fmt.Errorf("%w: stored, but not applied on this node within %s", ErrUnavailable, l.o.WriteTimeout)
	}
}

// applyLoop applies records in stream order, in chunks of what has
// arrived, each chunk one Pebble batch with its position and membership.
func (l *Log) applyLoop(ctx context.Context, state membership, pos uint64) {
	defer close(l.done)
	type verdict struct {
		nonce uint64
		err   error
	}
	var (
		batches  []wal.ReplicaBatch
		verdicts []verdict
		chunk    []delivery
		r        record
	)
	for {
		select {
		case d := <-l.in:
			chunk = append(chunk[:0], d)
		case <-ctx.Done():
			return
		}
	drain:
		for len(chunk) < 256 {
			select {
			case d := <-l.in:
				chunk = append(chunk, d)
			default:
				break drain
			}
		}
		batches, verdicts = batches[:0], verdicts[:0]
		changed := false
	records:
		for _, d := range chunk {
			if d.gen != l.gen.Load() {
				continue // from a replaced reader
			}
			m := d.m
			meta, err := m.Metadata()
			if err != nil {
				l.fail(fmt.Errorf("cluster: a log record without metadata: %w", err))
				return
			}
			seq := meta.Sequence.Stream
			if seq <= pos {
				continue // read again by a replaced reader
			}
			if seq != pos+1 && pos > 0 {
				// The reader lost records (a consumer's deliveries are not
				// acknowledged, so nothing sends them again): read again
				// from the first one missing. The watchdog tells a gap
				// retention made from this.
				l.askReplace(d.gen)
				break records
			}
			pos = seq
			if err := decodeRecord(m.Data(), &r); err != nil {
				// Every replica skips it alike.
				l.o.Logf("cluster: record %d skipped: %v", seq, err)
				continue
			}
			own := r.origin == l.o.Name && r.incarnation == l.incarnation
			var ok bool
			switch r.kind {
			case kindBatch:
				if ok = state.accepts(&r); ok {
					batches = append(batches, wal.ReplicaBatch{Repr: r.repr, Own: own})
				}
			case kindMembers:
				if ok = state.applyMembers(&r, seq); ok {
					changed = true
				}
			}
			if own {
				v := verdict{nonce: r.nonce}
				if !ok {
					v.err = wal.ErrReplicaRefused
				}
				verdicts = append(verdicts, v)
			}
		}
		if err := l.store.Apply(batches, pos, state.encode()); err != nil {
			l.fail(fmt.Errorf("cluster: cannot apply records up to %d: %w", pos, err))
			return
		}
		l.applied.Store(pos)
		l.mu.Lock()
		if changed {
			l.state = state.clone()
		}
		for _, v := range verdicts {
			if ch, ok := l.waiters[v.nonce]; ok {
				ch <- v.err
				delete(l.waiters, v.nonce)
			}
		}
		l.mu.Unlock()
		if changed && l.o.OnOwnership != nil {
			l.o.OnOwnership()
		}
	}
}

// fail stops the node's writes for good: its store can no longer follow
// the log.
func (l *Log) fail(err error) {
	l.o.Logf("%v", err)
	l.failure.Store(&err)
	// The applier, the readers and the snapshots this node served stop.
	l.stop()
	l.mu.Lock()
	for n, ch := range l.waiters {
		ch <- err
		delete(l.waiters, n)
	}
	l.mu.Unlock()
}

// Members is the membership this node has applied.
func (l *Log) members() membership {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.state.clone()
}

// MemberCount is how many nodes the membership this node applied has.
func (l *Log) MemberCount() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.state.members)
}

// Applied is the position of the last record this node applied.
func (l *Log) Applied() uint64 { return l.applied.Load() }

// Owner is the name, address and incarnation (one per process) of the
// node that owns tenant's partition, as this node last applied, and false
// when no node is a member.
func (l *Log) Owner(tenant string) (name, addr string, incarnation uint64, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	m, ok := l.state.owner(PartitionOf(tenant))
	return m.name, m.addr, m.incarnation, ok
}

// Owns reports whether this process owns partition p.
func (l *Log) Owns(p int) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	m, ok := l.state.owner(p)
	return ok && m.name == l.o.Name && m.incarnation == l.incarnation
}

// changeMembers publishes the members edit makes of the current ones,
// again on a concurrent change, until it takes effect or edit says there
// is nothing to do (returns false).
func (l *Log) changeMembers(ctx context.Context, edit func([]member) ([]member, bool)) error {
	for {
		cur := l.members()
		ms, ok := edit(slices.Clone(cur.members))
		if !ok {
			return nil
		}
		err := l.write(&record{kind: kindMembers, origin: l.o.Name, incarnation: l.incarnation, prevView: cur.view, members: ms})
		if err == nil {
			return nil
		}
		if !errors.Is(err, wal.ErrReplicaRefused) {
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
}

// Join makes this process a member: partitions move to it as the members
// record lands.
func (l *Log) Join(ctx context.Context) error {
	return l.changeMembers(ctx, func(ms []member) ([]member, bool) {
		for i, m := range ms {
			if m.name == l.o.Name {
				if m.incarnation == l.incarnation && m.addr == l.o.Addr {
					return nil, false
				}
				ms[i] = member{l.o.Name, l.incarnation, l.o.Addr}
				return ms, true
			}
		}
		return append(ms, member{l.o.Name, l.incarnation, l.o.Addr}), true
	})
}

// remove takes node (in that incarnation) out of the members: its
// partitions move to the others, and what it writes from then on is
// dropped.
func (l *Log) remove(ctx context.Context, name string, incarnation uint64) error {
	return l.changeMembers(ctx, func(ms []member) ([]member, bool) {
		i := slices.IndexFunc(ms, func(m member) bool { return m.name == name && m.incarnation == incarnation })
		if i < 0 {
			return nil, false
		}
		return slices.Delete(ms, i, i+1), true
	})
}

// Leave takes this process out of the members, so its partitions move at
// once rather than when the others notice it is gone.
func (l *Log) Leave(ctx context.Context) error { return l.remove(ctx, l.o.Name, l.incarnation) }
