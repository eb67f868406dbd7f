package wal

import (
	"context"
	"io"
	"os"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// privateFS is the real disk with every file Pebble creates made 0600 and
// every directory 0700, whatever the umask: the store holds tenants' data
// (and sealed secrets) that no other user of the machine should read.
// Pebble's own disk FS creates files 0666 minus the umask.
type privateFS struct {
	vfs.FS
}

var _ vfs.FS = privateFS{}

func (fs privateFS) Create(name string, c vfs.DiskWriteCategory) (vfs.File, error) {
	return private(fs.FS.Create(name, c))(name)
}

func (fs privateFS) OpenReadWrite(name string, c vfs.DiskWriteCategory, opts ...vfs.OpenOption) (vfs.File, error) {
	return private(fs.FS.OpenReadWrite(name, c, opts...))(name)
}

func (fs privateFS) ReuseForWrite(oldname, newname string, c vfs.DiskWriteCategory) (vfs.File, error) {
	return private(fs.FS.ReuseForWrite(oldname, newname, c))(newname)
}

func (fs privateFS) Lock(name string) (io.Closer, error) {
	cl, err := fs.FS.Lock(name)
	if err == nil {
		err = os.Chmod(name, 0o600)
	}
	return cl, err
}

func (fs privateFS) MkdirAll(dir string, _ os.FileMode) error {
	return fs.FS.MkdirAll(dir, 0o700)
}

func (fs privateFS) Unwrap() vfs.FS { return fs.FS }

// private chmods the file just opened at name to 0600.
func private(f vfs.File, err error) func(name string) (vfs.File, error) {
	return func(name string) (vfs.File, error) {
		if err != nil {
			return f, err
		}
		if cerr := os.Chmod(name, 0o600); cerr != nil {
			_ = f.Close()
			return nil, cerr
		}
		return f, nil
	}
}

// CompactConfig writes the memtable out and compacts the endpoint and
// source records, so versions of them that were overwritten (a secret
// stored before it was sealed, or sealed under a rotated-out key) leave
// the sstables. It is for maintenance (`hookline keys rotate-master`), not
// for a serving store's hot path.
func (l *Log) CompactConfig() error {
	if !l.enter() {
		return ErrClosed
	}
	defer l.exit()
	if err := l.db.Flush(); err != nil {
		return err
	}
	for _, kind := range []byte{kindEndpoint, kindSource} {
		if err := l.db.Compact(context.Background(), []byte{kind}, []byte{kind + 1}, true); err != nil {
			return err
		}
	}
	return nil
}
