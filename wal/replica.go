package wal

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/cockroachdb/pebble/v2"
)

// Replicator makes a Log one replica of a log that is ordered and stored
// elsewhere (engine/cluster: a JetStream stream). With one set in
// Options, every write of delivery state (appends, fences, attempt
// outcomes, replays, cancellations, dropped retries) is not committed
// here: its Pebble batch is handed to Replicate, which stores it in the
// replicated log and returns once this Log has applied it through Apply,
// the way every other replica applies it. Config and bulk job records go
// through it too (setOne, deleteOne); health, published counts and the
// inbound request log stay local writes.
//
// The writer that calls Replicate has already done what needs this
// replica's state (idempotency lookups, ID assignment): a replica that
// applies the batch writes exactly its keys.
type Replicator interface {
	// Replicate stores repr, a Pebble batch representation, in the
	// replicated log and returns once Apply has applied it here, or an
	// error when the log refused it (this node lost the right to write)
	// or could not store it. On error nothing of repr is applied, here or
	// anywhere.
	Replicate(repr []byte) error
}

// ErrReplicaRefused is what a Replicator returns for a batch the
// replicated log dropped (its writer's view of the cluster was stale):
// nothing of it was written anywhere, and the caller may try again.
var ErrReplicaRefused = errors.New("the replicated log refused the write")

// ErrReplicaUnavailable is what a Replicator returns when the replicated
// log could not take a write in time (no quorum, or this node cut off).
var ErrReplicaUnavailable = errors.New("the replicated log is unavailable")

// metaReplicaPos is the position in the replicated log of the last batch
// applied: written in the same Pebble batch as what it applied, so after a
// crash a replica resumes from exactly where its store is.
var metaReplicaPos = []byte{kindMeta, 'r', 'e', 'p', 'l', 'i', 'c', 'a', '-', 'p', 'o', 's'}

// commit writes b: to Pebble, or through the Replicator when one is set.
func (l *Log) commit(b *pebble.Batch, opts *pebble.WriteOptions) error {
	if l.opts.Replicator == nil {
		return b.Commit(opts)
	}
	if b.Empty() {
		return nil
	}
	return l.opts.Replicator.Replicate(b.Repr())
}

// setOne and deleteOne write one key with fsync, through commit: config
// records, which a replicated log carries like delivery state.
func (l *Log) setOne(k, v []byte) error {
	b := l.db.NewBatch()
	defer b.Close()
	_ = b.Set(k, v, nil)
	return l.commit(b, pebble.Sync)
}

func (l *Log) deleteOne(k []byte) error {
	b := l.db.NewBatch()
	defer b.Close()
	_ = b.Delete(k, nil)
	return l.commit(b, pebble.Sync)
}

// Replicated reports whether the Log is a replica (Options.Replicator set).
func (l *Log) Replicated() bool { return l.opts.Replicator != nil }

// replicaState is what Apply learns that the writer goroutine needs: the
// highest event ID (or fence) applied, which later IDs must stay above.
type replicaState struct {
	mu    sync.Mutex
	floor ID
}

func (r *replicaState) observe(id ID) {
	r.mu.Lock()
	if r.floor.Less(id) {
		r.floor = id
	}
	r.mu.Unlock()
}

func (r *replicaState) load() ID {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.floor
}

// ReplicaBatch is one batch of the replicated log, as Apply takes it.
type ReplicaBatch struct {
	Repr []byte
	// Own is set when this Log's own Replicate call wrote Repr: the writer
	// already fed the idempotency filter and the ID generator, and calls
	// the append hook itself with the caller's references.
	Own bool
}

// Apply writes batches, in the replicated log's order, and pos, the
// position of the last of them, with state, the replicated log's own
// state at pos (opaque here), in one Pebble batch without fsync: the
// replicated log is durable, and after a crash a replica applies again
// from ReplicaPosition. For batches written elsewhere it feeds the
// idempotency filter, raises the floor of event IDs this Log assigns, and
// tells the append hook of each event (without a body or references).
// A batch that does not decode fails the call and nothing is written.
func (l *Log) Apply(batches []ReplicaBatch, pos uint64, state []byte) error {
	if !l.enter() {
		return ErrClosed
	}
	defer l.exit()
	if l.opts.Replicator == nil {
		return errors.New("BUG: Apply on a Log without a Replicator")
	}
	b := l.db.NewBatch()
	defer b.Close()
	// one only reads each repr: a batch of the DB's would take the
	// caller's slice as its own and hand it back to Pebble's pool on
	// Close, to be written over by another batch.
	var one pebble.Batch
	type applied struct {
		id     ID
		tenant string
	}
	var events []applied
	var changes []ConfigChange
	for i := range batches {
		if err := one.SetRepr(batches[i].Repr); err != nil {
			return fmt.Errorf("cannot decode replicated batch %d of %d: %w", i+1, len(batches), err)
		}
		if err := b.Apply(&one, nil); err != nil {
			return fmt.Errorf("cannot apply replicated batch %d of %d: %w", i+1, len(batches), err)
		}
		if batches[i].Own {
			continue
		}
		r := one.Reader()
		for {
			kind, k, v, ok, err := r.Next()
			if err != nil {
				return fmt.Errorf("cannot read replicated batch %d of %d: %w", i+1, len(batches), err)
			}
			if !ok {
				break
			}
			if kind != pebble.InternalKeyKindSet || len(k) == 0 {
				continue
			}
			switch {
			case k[0] == kindEvent && len(k) == 17:
				var id ID
				copy(id[:], k[1:])
				l.replica.observe(id)
			case k[0] == kindIdempotency && len(v) == len(ID{}):
				l.idem.add(k[1:], ID(v))
			case k[0] == kindFeed && len(k) > 17:
				var id ID
				copy(id[:], k[len(k)-16:])
				events = append(events, applied{id, string(k[1 : len(k)-17])})
			case string(k) == string(metaIDFloor) && len(v) == len(ID{}):
				l.replica.observe(ID(v))
			}
		}
		if ch := l.configHook.Load(); ch != nil {
			if err := configChanges(batches[i].Repr, &changes); err != nil {
				return fmt.Errorf("cannot read replicated batch %d of %d: %w", i+1, len(batches), err)
			}
		}
	}
	_ = b.Set(metaReplicaPos, append(binary.BigEndian.AppendUint64(nil, pos), state...), nil)
	if err := b.Commit(pebble.NoSync); err != nil {
		return fmt.Errorf("cannot commit %d replicated batches: %w", len(batches), err)
	}
	if h := l.appendHook.Load(); h != nil {
		for _, e := range events {
			h.fn(e.id, &AppendEvent{Tenant: e.tenant})
		}
	}
	if ch := l.configHook.Load(); ch != nil {
		for _, c := range changes {
			(*ch)(c)
		}
	}
	return nil
}

// ConfigChange names a config record a replicated batch wrote or deleted.
type ConfigChange struct {
	Kind ConfigKind
	// Key is the record's key without its kind byte: a tenant's name, an
	// endpoint's or a source's ID, a tenant and an event type joined by
	// 0x00, or a credential's hash. A range deletion (a tenant's
	// catalogue) names its start.
	Key []byte
}

// ConfigKind is the kind of a config record.
type ConfigKind byte

// The config records a ConfigHook hears of.
const (
	ConfigTenant        ConfigKind = kindTenant
	ConfigEndpoint      ConfigKind = kindEndpoint
	ConfigSource        ConfigKind = kindSource
	ConfigEventType     ConfigKind = kindEventType
	ConfigAPIKey        ConfigKind = kindAPIKey
	ConfigPortalSession ConfigKind = kindPortalSession
)

// SetConfigHook sets fn to be told, after Apply commits, of every config
// record a batch from another writer changed, so the owner of the
// in-memory config can load it again. It runs on the applier: it must be
// quick and must not wait for a replicated write.
func (l *Log) SetConfigHook(fn func(ConfigChange)) { l.configHook.Store(&fn) }

// configChanges appends the config records repr changes to dst.
func configChanges(repr []byte, dst *[]ConfigChange) error {
	var b pebble.Batch
	if err := b.SetRepr(repr); err != nil {
		return err
	}
	r := b.Reader()
	for {
		_, k, _, ok, err := r.Next()
		if err != nil {
			return err
		}
		if !ok {
			return nil
		}
		if len(k) == 0 {
			continue
		}
		switch ConfigKind(k[0]) {
		case ConfigTenant, ConfigEndpoint, ConfigSource, ConfigEventType, ConfigAPIKey, ConfigPortalSession:
			*dst = append(*dst, ConfigChange{Kind: ConfigKind(k[0]), Key: append([]byte(nil), k[1:]...)})
		}
	}
}

// ReplicaPosition is the position of the last batch Apply wrote (0 when
// none has been) and the state Apply was given with it.
func (l *Log) ReplicaPosition() (uint64, []byte, error) {
	if !l.enter() {
		return 0, nil, ErrClosed
	}
	defer l.exit()
	v, closer, err := l.db.Get(metaReplicaPos)
	if errors.Is(err, pebble.ErrNotFound) {
		return 0, nil, nil
	}
	if err != nil {
		return 0, nil, fmt.Errorf("cannot read the replica position: %w", err)
	}
	defer closer.Close()
	if len(v) < 8 {
		return 0, nil, fmt.Errorf("replica position is %d bytes, want at least 8", len(v))
	}
	return binary.BigEndian.Uint64(v), append([]byte(nil), v[8:]...), nil
}

// BatchScope reads a batch Replicate was given and reports whose delivery
// state it writes: the tenant of each event (from its feed and idempotency
// keys) and of each job record, and each endpoint whose queue, retries,
// attempts, dead letters, replay marks or corrections it touches. A
// replicated log uses it to check that the writer owns all of them. A
// tenant or endpoint may be reported more than once.
func BatchScope(repr []byte, tenant func(string), endpoint func(ID)) error {
	var b pebble.Batch
	if err := b.SetRepr(repr); err != nil {
		return fmt.Errorf("cannot decode batch: %w", err)
	}
	r := b.Reader()
	for {
		_, k, v, ok, err := r.Next()
		if err != nil {
			return fmt.Errorf("cannot read batch: %w", err)
		}
		if !ok {
			return nil
		}
		if len(k) == 0 {
			continue
		}
		switch k[0] {
		case kindFeed, kindIdempotency:
			if i := bytes.IndexByte(k[1:], 0); i >= 0 {
				tenant(string(k[1 : 1+i]))
			}
		case kindQueue, kindAttempt, kindDead, kindReplayed, kindCorrection:
			if len(k) >= 17 {
				endpoint(ID(k[1:17]))
			}
		case kindRetry:
			if len(k) >= 25 {
				endpoint(ID(k[9:25]))
			}
		case kindJob:
			// A job's record is its tenant's owner's to write; a deletion
			// carries no tenant (a prune, or the tenant's deletion).
			var rec struct {
				Tenant string `json:"tenant"`
			}
			if len(v) > 0 && json.Unmarshal(v, &rec) == nil && rec.Tenant != "" {
				tenant(rec.Tenant)
			}
		}
	}
}

// Dir is the directory the store was opened in.
func (l *Log) Dir() string { return l.dir }

// Checkpoint writes a consistent copy of the store into dir, which must
// not exist: the snapshot a node on a log trimmed past its position
// starts from (engine/cluster). The replica position is in it, written
// with the records it counts.
func (l *Log) Checkpoint(dir string) error {
	if !l.enter() {
		return ErrClosed
	}
	defer l.exit()
	if err := l.db.Checkpoint(dir, pebble.WithFlushedWAL()); err != nil {
		return fmt.Errorf("cannot checkpoint the store: %w", err)
	}
	return nil
}
