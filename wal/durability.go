package wal

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// Durability is when a write the store was asked to make durable (an
// append, a config record) is acknowledged.
type Durability uint8

const (
	// DurabilityFsync acknowledges after the write-ahead log was fsynced:
	// it survives a crash of the process and of the machine.
	DurabilityFsync Durability = iota
	// DurabilityOS acknowledges once the write is in the operating
	// system's page cache (written to the log file, not fsynced), and
	// fsyncs within OSSyncInterval: it survives a kill -9 of the process,
	// not a power loss or a kernel crash, which can lose what was
	// acknowledged in the last OSSyncInterval. Kafka's acks=1 with the
	// page cache, Redis's appendfsync everysec, Postgres's
	// synchronous_commit=off make the same trade.
	DurabilityOS
)

// OSSyncInterval is how long a write acknowledged under DurabilityOS may
// wait for its fsync (plus the time the fsync itself takes).
const OSSyncInterval = 10 * time.Millisecond

// ParseDurability parses "fsync" or "os"; "" is fsync.
func ParseDurability(s string) (Durability, error) {
	switch s {
	case "", "fsync":
		return DurabilityFsync, nil
	case "os":
		return DurabilityOS, nil
	}
	return 0, fmt.Errorf("durability %q is not fsync or os", s)
}

func (d Durability) String() string {
	if d == DurabilityOS {
		return "os"
	}
	return "fsync"
}

// lazySyncFS is the store's filesystem under DurabilityOS: Pebble's
// write-ahead log files (NNNNNN.log) are wrapped so that a sync Pebble
// asks for returns at once and a background syncer makes it within
// OSSyncInterval. Pebble writes a synced commit's log records to the file
// before it asks for the sync, so the data is in the OS when the commit
// returns; without a sync it would keep a partly filled block in the
// process (see outcomeSyncDelay). Every other file (sstables, the
// MANIFEST, OPTIONS) is synced as Pebble asks.
type lazySyncFS struct {
	vfs.FS
	s *walSyncer
}

func isWALFile(name string) bool { return strings.HasSuffix(name, ".log") }

func (fs lazySyncFS) wrap(f vfs.File, err error, name string) (vfs.File, error) {
	if err != nil || !isWALFile(name) {
		return f, err
	}
	return &lazySyncFile{File: f, s: fs.s}, nil
}

func (fs lazySyncFS) Create(name string, c vfs.DiskWriteCategory) (vfs.File, error) {
	f, err := fs.FS.Create(name, c)
	return fs.wrap(f, err, name)
}

func (fs lazySyncFS) OpenReadWrite(name string, c vfs.DiskWriteCategory, opts ...vfs.OpenOption) (vfs.File, error) {
	f, err := fs.FS.OpenReadWrite(name, c, opts...)
	return fs.wrap(f, err, name)
}

func (fs lazySyncFS) ReuseForWrite(oldname, newname string, c vfs.DiskWriteCategory) (vfs.File, error) {
	f, err := fs.FS.ReuseForWrite(oldname, newname, c)
	return fs.wrap(f, err, newname)
}

func (fs lazySyncFS) Unwrap() vfs.FS { return fs.FS }

// lazySyncFile is a log file whose syncs the walSyncer makes. mu orders a
// background sync before Close, so the syncer never syncs a closed file
// and a closed log file was synced whole.
type lazySyncFile struct {
	vfs.File
	s *walSyncer

	mu     sync.Mutex
	closed bool
}

func (f *lazySyncFile) Sync() error {
	return f.s.mark(f)
}

func (f *lazySyncFile) SyncData() error {
	return f.s.mark(f)
}

// SyncTo reports fullSync false: the prefix is queued for a sync, as the
// interface allows, not synced yet.
func (f *lazySyncFile) SyncTo(int64) (bool, error) {
	return false, f.s.mark(f)
}

func (f *lazySyncFile) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed = true
	err := f.s.forget(f)
	if serr := f.File.Sync(); err == nil {
		err = serr
	}
	if cerr := f.File.Close(); err == nil {
		err = cerr
	}
	return err
}

// walSyncer fsyncs the marked log files within OSSyncInterval of their
// first mark. A failed fsync is fatal, as Pebble makes a failed log sync
// under DurabilityFsync: the kernel may have dropped the pages it could
// not write, a later fsync succeeding would not bring them back, and
// writes were acknowledged that may not reach the disk; the process
// exits (Logger.Fatalf) and recovers from what the disk holds. The error
// is also sticky, so no sync Pebble asks for after it succeeds should
// the logger not exit.
type walSyncer struct {
	mu     sync.Mutex
	dirty  map[*lazySyncFile]struct{}
	err    error
	passes uint64 // background passes made, for tests

	interval time.Duration
	fatalf   func(format string, args ...any)
	wake     chan struct{}
	stop     chan struct{}
	done     chan struct{}
}

func newWALSyncer(interval time.Duration, fatalf func(format string, args ...any)) *walSyncer {
	s := &walSyncer{
		interval: interval,
		fatalf:   fatalf,
		dirty:    make(map[*lazySyncFile]struct{}),
		wake:     make(chan struct{}, 1),
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
	}
	go s.loop()
	return s
}

func (s *walSyncer) mark(f *lazySyncFile) error {
	s.mu.Lock()
	err := s.err
	if err == nil {
		s.dirty[f] = struct{}{}
	}
	s.mu.Unlock()
	if err != nil {
		return err
	}
	select {
	case s.wake <- struct{}{}:
	default:
	}
	return nil
}

// forget drops f from the dirty set (its Close syncs it) and returns the
// sticky error, if any.
func (s *walSyncer) forget(f *lazySyncFile) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.dirty, f)
	return s.err
}

func (s *walSyncer) loop() {
	defer close(s.done)
	var files []*lazySyncFile
	for {
		select {
		case <-s.wake:
		case <-s.stop:
			return
		}
		// Writes in the next OSSyncInterval share this pass's fsync.
		select {
		case <-time.After(s.interval):
		case <-s.stop:
			return
		}
		s.mu.Lock()
		files = files[:0]
		for f := range s.dirty {
			files = append(files, f)
		}
		clear(s.dirty)
		s.mu.Unlock()
		for _, f := range files {
			f.mu.Lock()
			var err error
			if !f.closed {
				err = f.File.Sync()
			}
			f.mu.Unlock()
			if err != nil {
				err = fmt.Errorf("cannot fsync the write-ahead log: %w", err)
				s.mu.Lock()
				if s.err == nil {
					s.err = err
				}
				s.mu.Unlock()
				s.fatalf("hookline: %v", err)
			}
		}
		s.mu.Lock()
		s.passes++
		s.mu.Unlock()
	}
}

// close stops the syncer. Pebble has closed its log files by then, and
// each Close synced its file.
func (s *walSyncer) close() {
	close(s.stop)
	<-s.done
}

// passCount is how many background passes were made.
func (s *walSyncer) passCount() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.passes
}
