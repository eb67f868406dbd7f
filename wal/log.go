package wal

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// ErrNotFound is returned when a record does not exist.
var ErrNotFound = errors.New("not found")

// ErrClosed is returned by calls made after Close.
var ErrClosed = errors.New("wal is closed")

// Options configure a Log. The zero value works: in every numeric field 0
// means the default, written next to the field, and EnsureDefaults is the one
// place those defaults live. A negative value means "none" where the field
// says so and is an error elsewhere; Open returns Validate's error rather than
// replacing a bad value.
type Options struct {
	// FS is the filesystem; nil means the real disk, where every file is
	// created 0600 and every directory 0700 (see privateFS). Tests use
	// vfs.NewMem or errorfs to crash the store at a chosen write.
	FS vfs.FS
	// CompressAbove is the delivery body size above which bodies are stored
	// zstd-compressed. 0 means 4096; negative: no compression.
	CompressAbove int
	// CacheBytes is Pebble's block cache size. 0 means 64 MiB.
	CacheBytes int64
	// MemTableBytes is Pebble's memtable size, below 4 GiB. 0 means 64 MiB:
	// deliveries churn through q and r quickly, and a larger memtable lets
	// most of those short-lived keys die before they reach an sstable. Tests
	// that watch disk use set it lower so flushes come sooner.
	MemTableBytes int64
	// MaxGroupRequests bounds how many Append calls share one batch and fsync.
	// 0 means 1024.
	MaxGroupRequests int
	// Logger receives Pebble's log lines; nil discards info lines and keeps
	// errors on stderr.
	Logger pebble.Logger
	// Durability is when a synced write (an append, a config record) is
	// acknowledged: the zero value, DurabilityFsync, after its fsync.
	Durability Durability
	// syncInterval replaces OSSyncInterval when set, for tests.
	syncInterval time.Duration
	// OnCommit, when set, is called after each group commit that wrote
	// something, with the events it wrote (duplicates excluded; 0 for a
	// group of fences only, see Fence) and how long the commit with fsync
	// took. It runs on the writer goroutine, after the group's callers are
	// released: it must be quick and must not call the Log.
	OnCommit func(events int, d time.Duration)
	// Replicator, when set, makes the Log a replica: writes of delivery
	// state go through it and come back through Apply (see Replicator).
	Replicator Replicator

	// idemSegmentKeys is the smallest plan of an idempotency filter
	// segment (see idemFilter); 0 means idemFilterMinKeys. Tests set it
	// lower to span several segments.
	idemSegmentKeys int
}

// EnsureDefaults fills zero fields with their defaults.
func (o *Options) EnsureDefaults() {
	if o.FS == nil {
		o.FS = privateFS{vfs.Default}
	}
	if o.CompressAbove == 0 {
		o.CompressAbove = 4096
	}
	if o.CacheBytes == 0 {
		o.CacheBytes = 64 << 20
	}
	if o.MemTableBytes == 0 {
		o.MemTableBytes = 64 << 20
	}
	if o.MaxGroupRequests == 0 {
		o.MaxGroupRequests = 1024
	}
	if o.Logger == nil {
		o.Logger = quietLogger{}
	}
	if o.idemSegmentKeys == 0 {
		o.idemSegmentKeys = idemFilterMinKeys
	}
}

// maxMemTableBytes is Pebble's bound on MemTableSize (it must be below 4 GiB
// on 64-bit platforms); checking it here names our option in the error.
const maxMemTableBytes = 4<<30 - 1

// Validate reports the first option out of its bounds, naming it and its
// value. It expects EnsureDefaults to have run: a 0 left in a field that has
// a default is reported too.
func (o *Options) Validate() error {
	switch {
	case o.CacheBytes <= 0:
		return fmt.Errorf("wal.Options.CacheBytes is %d; it must be positive", o.CacheBytes)
	case o.MemTableBytes <= 0 || o.MemTableBytes >= maxMemTableBytes:
		return fmt.Errorf("wal.Options.MemTableBytes is %d; it must be positive and below %d", o.MemTableBytes, int64(maxMemTableBytes))
	case o.MaxGroupRequests <= 0:
		return fmt.Errorf("wal.Options.MaxGroupRequests is %d; it must be positive", o.MaxGroupRequests)
	case o.Durability > DurabilityOS:
		return fmt.Errorf("wal.Options.Durability is %d; it must be DurabilityFsync or DurabilityOS", o.Durability)
	}
	return nil
}

// Log is hookline's write-ahead log and state store on top of Pebble.
// All methods are safe for concurrent use.
type Log struct {
	db    *pebble.DB
	cache *pebble.Cache
	codec *codec
	opts  Options

	// closeMu guards reqs against sends after close: Append holds it for
	// reading while it enqueues, Close takes it for writing before closing reqs.
	closeMu sync.RWMutex
	closed  bool
	reqs    chan *appendReq
	writer  sync.WaitGroup

	// shut and active guard the other Pebble calls; see enter.
	shut   atomic.Bool
	active atomic.Int64

	moves      moveWriter
	appendHook appendHookPtr
	configHook atomic.Pointer[func(ConfigChange)]
	// syncer makes the log's fsyncs under DurabilityOS; nil under fsync.
	syncer *walSyncer

	ids idGen // owned by the writer goroutine after Open
	// replica holds what Apply tells the writer (see Replicator).
	replica replicaState

	// idem is the filter in front of the idempotency keys' point reads.
	idem *idemFilter

	configIDsMu sync.Mutex
	configIDs   idGen

	// purgeMu orders a tenant deletion's u record against PurgeTenant's
	// check-and-delete of it.
	purgeMu sync.Mutex
}

// NewConfigID returns a new ID for a config record (an endpoint), strictly
// greater than the previous one, so listings in ID order are creation order.
func (l *Log) NewConfigID() ID {
	l.configIDsMu.Lock()
	defer l.configIDsMu.Unlock()
	return l.configIDs.next(time.Now())
}

// Fence returns an ID that lies between the events committed before the
// call and those committed after it: every event ID already assigned is
// below it, every one assigned later above it. It is an event ID that no
// event has, taken by the writer in commit order, and stored with fsync as
// the floor of later IDs (m id-floor), so they stay above it after a
// restart even if the clock went back. The engine takes one as a tenant's
// incarnation and another when it deletes the tenant: what a tenant wrote
// lies between the two.
func (l *Log) Fence() (ID, error) {
	var res [1]AppendResult
	req := appendReqPool.Get().(*appendReq)
	req.fence = true
	req.evs, req.res, req.err = nil, res[:], nil
	req.recs, req.ends = req.recs[:0], req.ends[:0]
	l.closeMu.RLock()
	if l.closed {
		l.closeMu.RUnlock()
		appendReqPool.Put(req)
		return ID{}, ErrClosed
	}
	l.reqs <- req
	l.closeMu.RUnlock()
	<-req.done
	err := req.err
	req.fence, req.res = false, nil
	appendReqPool.Put(req)
	if err != nil {
		return ID{}, err
	}
	return res[0].ID, nil
}

// Open opens (creating if needed) the log in dir.
func Open(dir string, opts *Options) (*Log, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	o.EnsureDefaults()
	if err := o.Validate(); err != nil {
		return nil, err
	}
	c, err := newCodec(o.CompressAbove)
	if err != nil {
		return nil, err
	}
	fs := o.FS
	var syncer *walSyncer
	if o.Durability == DurabilityOS {
		interval := o.syncInterval
		if interval == 0 {
			interval = OSSyncInterval
		}
		syncer = newWALSyncer(interval, o.Logger.Fatalf)
		fs = lazySyncFS{FS: fs, s: syncer}
	}
	cache := pebble.NewCache(o.CacheBytes)
	popts := &pebble.Options{
		FS:           fs,
		Cache:        cache,
		Logger:       o.Logger,
		MemTableSize: uint64(o.MemTableBytes),
	}
	db, err := pebble.Open(dir, popts)
	if err != nil {
		cache.Unref()
		c.close()
		if syncer != nil {
			syncer.close()
		}
		return nil, fmt.Errorf("cannot open pebble store in %q: %w", dir, err)
	}
	l := &Log{
		db:     db,
		cache:  cache,
		codec:  c,
		opts:   o,
		reqs:   make(chan *appendReq, o.MaxGroupRequests),
		syncer: syncer,
		idem:   newIdemFilter(o.idemSegmentKeys),
	}
	err = l.loadLastID()
	if err == nil {
		err = l.indexIdempotencyKeys()
	}
	if err == nil {
		err = l.fillIdemFilter()
	}
	if err != nil {
		_ = db.Close()
		cache.Unref()
		c.close()
		if syncer != nil {
			syncer.close()
		}
		return nil, err
	}
	l.writer.Add(1)
	go l.writeLoop()
	l.startMoveWriter()
	return l, nil
}

// loadLastID seeds the ID generator with the newest event ID on disk, or
// the last fence (see Fence) if that is newer, so IDs keep increasing
// across restarts even if the clock went back.
// The same holds for config IDs, seeded from the newest endpoint.
func (l *Log) loadLastID() error {
	for _, seed := range []struct {
		kind byte
		last *ID
	}{{kindEvent, &l.ids.last}, {kindEndpoint, &l.configIDs.last}} {
		it, err := l.db.NewIter(&pebble.IterOptions{LowerBound: []byte{seed.kind}, UpperBound: []byte{seed.kind + 1}})
		if err != nil {
			return fmt.Errorf("cannot scan keys of kind %q: %w", seed.kind, err)
		}
		if it.Last() && len(it.Key()) == 17 {
			copy(seed.last[:], it.Key()[1:])
		}
		err = it.Error()
		if cerr := it.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("cannot read the newest key of kind %q: %w", seed.kind, err)
		}
	}
	v, closer, err := l.db.Get(metaIDFloor)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("cannot read the event ID floor: %w", err)
	}
	var floor ID
	ok := len(v) == len(floor)
	copy(floor[:], v)
	_ = closer.Close()
	if ok && l.ids.last.Less(floor) {
		l.ids.last = floor
	}
	return nil
}

// Close stops the writer after the queued appends commit, then closes Pebble.
func (l *Log) Close() error {
	l.closeMu.Lock()
	if l.closed {
		l.closeMu.Unlock()
		return ErrClosed
	}
	l.closed = true
	l.shut.Store(true)
	close(l.reqs)
	l.closeMu.Unlock()
	l.writer.Wait()
	for l.active.Load() > 0 {
		time.Sleep(time.Millisecond)
	}
	// No RecordAttempt is inside any more, so none can send to moves.
	close(l.moves.reqs)
	l.moves.wg.Wait()
	err := l.db.Close()
	if l.syncer != nil {
		l.syncer.close()
	}
	l.cache.Unref()
	l.codec.close()
	if err != nil {
		return fmt.Errorf("cannot close pebble store: %w", err)
	}
	return nil
}

// DiskUsage returns the bytes Pebble uses on disk, 0 after Close.
func (l *Log) DiskUsage() uint64 {
	if !l.enter() {
		return 0
	}
	defer l.exit()
	return l.db.Metrics().DiskSpaceUsage()
}

// enter guards a call that touches Pebble against a concurrent Close: Pebble
// panics when used after closing, and delivery goroutines may outlive a
// shutdown deadline. A counter rather than a read lock, because scan
// callbacks may call back into the Log, and a reentrant read lock deadlocks
// once Close is waiting for the write lock.
func (l *Log) enter() bool {
	if l.shut.Load() {
		return false
	}
	l.active.Add(1)
	if l.shut.Load() {
		l.active.Add(-1)
		return false
	}
	return true
}

func (l *Log) exit() { l.active.Add(-1) }

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

// quietLogger drops Pebble's informational chatter but keeps what matters.
type quietLogger struct{}

func (quietLogger) Infof(string, ...any) {}
func (quietLogger) Errorf(format string, args ...any) {
	pebble.DefaultLogger.Errorf(format, args...)
}
func (quietLogger) Fatalf(format string, args ...any) {
	pebble.DefaultLogger.Fatalf(format, args...)
}
