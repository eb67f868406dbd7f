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
	dir   string
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
		dir:    dir,
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

// quietLogger drops Pebble's informational chatter but keeps what matters.
type quietLogger struct{}

func (quietLogger) Infof(string, ...any) {}
func (quietLogger) Errorf(format string, args ...any) {
	pebble.DefaultLogger.Errorf(format, args...)
}
func (quietLogger) Fatalf(format string, args ...any) {
	pebble.DefaultLogger.Fatalf(format, args...)
}
