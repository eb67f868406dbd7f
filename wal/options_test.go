package wal

import (
	"strings"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// TestOptionsValidate: zero fields take their defaults; a value out of
// bounds makes Open fail with an error naming the option and the value,
// never a silent replacement.
func TestOptionsValidate(t *testing.T) {
	f := func(o Options, wantErr string) {
		t.Helper()
		o.FS = vfs.NewMem()
		l, err := Open("db", &o)
		if wantErr == "" {
			require_NoError(t, err)
			require_NoError(t, l.Close())
			return
		}
		require_True(t, err != nil && strings.Contains(err.Error(), wantErr), "options %+v: error %v; want one containing %q", o, err, wantErr)
	}
	f(Options{}, "")
	f(Options{CompressAbove: -1}, "") // negative: no compression
	f(Options{CacheBytes: 1, MemTableBytes: 1 << 20, MaxGroupRequests: 1}, "")
	f(Options{CacheBytes: -1}, "wal.Options.CacheBytes is -1; it must be positive")
	f(Options{MemTableBytes: -1}, "wal.Options.MemTableBytes is -1")
	f(Options{MemTableBytes: 4 << 30}, "wal.Options.MemTableBytes is 4294967296; it must be positive and below 4294967295")
	f(Options{MaxGroupRequests: -5}, "wal.Options.MaxGroupRequests is -5")
}

// TestOptionsEnsureDefaults: the defaults the field comments promise.
func TestOptionsEnsureDefaults(t *testing.T) {
	var o Options
	o.EnsureDefaults()
	require_NoError(t, o.Validate())
	require_Equal(t, o.CompressAbove, 4096)
	require_Equal(t, o.CacheBytes, int64(64<<20))
	require_Equal(t, o.MemTableBytes, int64(64<<20))
	require_Equal(t, o.MaxGroupRequests, 1024)
	require_True(t, o.FS != nil && o.Logger != nil, "FS and Logger must be set")
}
