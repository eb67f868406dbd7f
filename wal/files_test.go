package wal

import (
	"io/fs"
	"path/filepath"
	"syscall"
	"testing"
)

// TestFilesArePrivate: on the real disk, with a umask that would leave
// them readable by all, every file of the store is 0600 and its directory
// 0700, including sstables written by a flush and a compaction.
func TestFilesArePrivate(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	dir := filepath.Join(t.TempDir(), "db")
	l, err := Open(dir, nil)
	require_NoError(t, err)
	require_NoError(t, l.PutEndpoint(NewID(), []byte(`{"secret":"x"}`)))
	require_NoError(t, l.CompactConfig())
	require_NoError(t, l.Close())

	ssts, _ := filepath.Glob(filepath.Join(dir, "*.sst"))
	require_True(t, len(ssts) > 0, "no sstable after CompactConfig")
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		want := fs.FileMode(0o600)
		if d.IsDir() {
			want = 0o700
		}
		require_True(t, info.Mode().Perm() == want, "%s has mode %v; want %v", path, info.Mode().Perm(), want)
		return nil
	})
	require_NoError(t, err)
}
