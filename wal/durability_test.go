package wal

import (
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/cockroachdb/pebble/v2/vfs/errorfs"
)

func TestParseDurability(t *testing.T) {
	for in, want := range map[string]Durability{"": DurabilityFsync, "fsync": DurabilityFsync, "os": DurabilityOS} {
		d, err := ParseDurability(in)
		require_NoError(t, err)
		require_Equal(t, d, want)
	}
	for _, in := range []string{"OS", "sync", "none", " os"} {
		_, err := ParseDurability(in)
		require_True(t, err != nil && strings.Contains(err.Error(), "fsync or os"), "ParseDurability(%q): %v", in, err)
	}
	require_Equal(t, DurabilityOS.String(), "os")
	require_Equal(t, DurabilityFsync.String(), "fsync")
	_, err := Open(t.TempDir(), &Options{Durability: 7})
	require_True(t, err != nil && strings.Contains(err.Error(), "Durability"), "Open with durability 7: %v", err)
}

// TestDurabilityOSAcknowledgesBeforeFsync: under DurabilityOS an append
// returns once its log records are written to the file, before any fsync
// (the syncer's interval is an hour here): a kill -9 (the OS keeps
// unsynced writes) keeps it, a power loss may not. Under fsync a power
// loss keeps it too. A graceful Close syncs what is pending.
func TestDurabilityOSAcknowledgesBeforeFsync(t *testing.T) {
	ep := testEndpoint(1)
	f := func(d Durability, powerLossKeeps bool) {
		t.Helper()
		fs := vfs.NewCrashableMem()
		l, err := Open("db", &Options{FS: fs, Durability: d, syncInterval: time.Hour})
		require_NoError(t, err)
		id := appendOne(t, l, mkEvent("t", []byte("acked"), ep)).ID
		has := func(clone *vfs.MemFS) bool {
			cl, err := Open("db", &Options{FS: clone})
			require_NoError(t, err)
			defer cl.Close()
			var r EventRecord
			var buf EventBuf
			err = cl.ReadEvent(id, &r, &buf)
			require_True(t, err == nil || errors.Is(err, ErrNotFound), "read after crash: %v", err)
			return err == nil
		}
		require_True(t, has(crashClone(fs, 100, 1)), "%s: a kill -9 lost an acknowledged append", d)
		require_Equal(t, has(crashClone(fs, 0, 0)), powerLossKeeps)
		require_NoError(t, l.Close())
		require_True(t, has(crashClone(fs, 0, 0)), "%s: a power loss after Close lost an append", d)
	}
	f(DurabilityFsync, true)
	f(DurabilityOS, false)
}

// TestDurabilityOSSyncsInBackground: the syncer fsyncs the log after an
// acknowledged append without another write asking for it, so a power
// loss after its pass keeps the append.
func TestDurabilityOSSyncsInBackground(t *testing.T) {
	fs := vfs.NewCrashableMem()
	l, err := Open("db", &Options{FS: fs, Durability: DurabilityOS})
	require_NoError(t, err)
	defer l.Close()
	p := l.syncer.passCount()
	id := appendOne(t, l, mkEvent("t", []byte("acked"), testEndpoint(1))).ID
	waitFor(t, "the syncer's pass", func() bool { return l.syncer.passCount() > p })
	cl, err := Open("db", &Options{FS: crashClone(fs, 0, 0)})
	require_NoError(t, err)
	defer cl.Close()
	var r EventRecord
	var buf EventBuf
	require_NoError(t, cl.ReadEvent(id, &r, &buf))
}

// fatalLogger records Fatalf instead of exiting.
type fatalLogger struct {
	quietLogger
	fatal atomic.Pointer[string]
}

func (l *fatalLogger) Fatalf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	l.fatal.CompareAndSwap(nil, &msg)
}

// TestDurabilityOSFsyncErrorIsFatal: a failed background fsync of the log
// is fatal, as Pebble makes a failed log sync under fsync: writes were
// acknowledged that may never reach the disk, and the process must
// restart from what the disk holds.
func TestDurabilityOSFsyncErrorIsFatal(t *testing.T) {
	var fail atomic.Bool
	inj := errorfs.InjectorFunc(func(op errorfs.Op) error {
		switch op.Kind {
		case errorfs.OpFileSync, errorfs.OpFileSyncData, errorfs.OpFileSyncTo:
			if fail.Load() && strings.HasSuffix(op.Path, ".log") {
				return errors.New("injected: EIO")
			}
		}
		return nil
	})
	logger := &fatalLogger{}
	l, err := Open("db", &Options{FS: errorfs.Wrap(vfs.NewMem(), inj), Durability: DurabilityOS, Logger: logger})
	require_NoError(t, err)
	appendOne(t, l, mkEvent("t", []byte("before"), testEndpoint(1)))
	require_True(t, logger.fatal.Load() == nil, "fatal before any failure: %v", logger.fatal.Load())
	fail.Store(true)
	appendOne(t, l, mkEvent("t", []byte("acked, then its fsync fails"), testEndpoint(1)))
	waitFor(t, "the fatal error", func() bool { return logger.fatal.Load() != nil })
	msg := *logger.fatal.Load()
	require_True(t, strings.Contains(msg, "cannot fsync the write-ahead log") && strings.Contains(msg, "injected: EIO"), "fatal: %s", msg)
	_ = l.Close()
}
