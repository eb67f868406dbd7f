package cluster

import (
	"archive/tar"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"hookline/wal"
)

// A store the log can no longer bring up to date (retention removed
// records it never applied: a new node on a cluster older than
// retention.max_age, or one down longer than that) starts from a copy of
// another node's store. The node asks on snapSubject; one running node
// (a queue group) makes a Pebble checkpoint of its store, which holds its
// log position with the records it counts, and puts it, a zstd tar, in
// the object store snapBucket; the asker reads it into a new directory,
// checks every file against the object's digest, swaps it in for its
// store (kept beside it) and applies the log from the copy's position.
const (
	snapSubject = "hl.snapshot"
	snapBucket  = "HL_SNAP"
	// snapKeep bounds how long a copy stays in the bucket if its reader
	// died before deleting it.
	snapKeep = time.Hour
	// snapTry bounds one ask for a copy and its reading.
	snapTry = 15 * time.Minute
)

// snapReply answers a snapshot request: the object holding the copy, or
// why there is none.
type snapReply struct {
	Object string `json:"object,omitempty"`
	Error  string `json:"error,omitempty"`
}

// serveSnapshots answers the others' snapshot requests with copies of
// store, until the log closes.
func (l *Log) serveSnapshots(ctx context.Context, store *wal.Log) error {
	sub, err := l.o.Conn.QueueSubscribe(snapSubject, "hookline", func(m *nats.Msg) {
		go func() {
			var rep snapReply
			name, err := l.putSnapshot(ctx, store, string(m.Data))
			if err != nil {
				l.o.Logf("cluster: cannot copy this node's store for node %s: %v", m.Data, err)
				rep.Error = err.Error()
			}
			rep.Object = name
			b, _ := json.Marshal(rep)
			_ = m.Respond(b)
		}()
	})
	if err != nil {
		return fmt.Errorf("cluster: cannot serve snapshots: %w", err)
	}
	go func() {
		<-ctx.Done()
		_ = sub.Unsubscribe()
	}()
	return nil
}

func (l *Log) snapStore(ctx context.Context) (jetstream.ObjectStore, error) {
	// One replica: a copy lost with its server is asked for again.
	obs, err := l.js.CreateOrUpdateObjectStore(ctx, jetstream.ObjectStoreConfig{
		Bucket: snapBucket, Storage: jetstream.FileStorage, Replicas: 1, TTL: snapKeep,
		Description: "copies of a node's store for nodes the log cannot bring up to date",
	})
	if err != nil {
		return nil, fmt.Errorf("cannot open object store %s: %w", snapBucket, err)
	}
	return obs, nil
}

// putSnapshot checkpoints store and puts it in the bucket for node asker.
func (l *Log) putSnapshot(ctx context.Context, store *wal.Log, asker string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, snapKeep)
	defer cancel()
	obs, err := l.snapStore(ctx)
	if err != nil {
		return "", err
	}
	// Beside the store: on its file system the checkpoint hard-links the
	// store's tables instead of copying them.
	tmp, err := os.MkdirTemp(filepath.Dir(store.Dir()), filepath.Base(store.Dir())+".snapshot-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	dir := filepath.Join(tmp, "store")
	if err := store.Checkpoint(dir); err != nil {
		return "", err
	}
	name := fmt.Sprintf("%s-for-%s-%d", l.o.Name, asker, time.Now().UnixNano())
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(writeArchive(pw, dir)) }()
	_, err = obs.Put(ctx, jetstream.ObjectMeta{Name: name}, pr)
	pr.CloseWithError(err)
	if err != nil {
		return "", fmt.Errorf("cannot put the copy in %s: %w", snapBucket, err)
	}
	l.o.Logf("cluster: copied this node's store for node %s (%s)", asker, name)
	return name, nil
}

// writeArchive writes dir's files as a zstd-compressed tar.
func writeArchive(w io.Writer, dir string) error {
	zw, err := zstd.NewWriter(w, zstd.WithEncoderLevel(zstd.SpeedFastest))
	if err != nil {
		return err
	}
	tw := tar.NewWriter(zw)
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if err := tw.WriteHeader(&tar.Header{Name: filepath.ToSlash(rel), Mode: 0o600, Size: info.Size(), Typeflag: tar.TypeReg}); err != nil {
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = io.Copy(tw, io.LimitReader(f, info.Size()))
		return err
	})
	if err == nil {
		err = tw.Close()
	}
	if cerr := zw.Close(); err == nil {
		err = cerr
	}
	return err
}

// readArchive writes the files of a writeArchive stream under dir, which
// it creates; a name that would land outside dir is refused.
func readArchive(r io.Reader, dir string) error {
	zr, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1))
	if err != nil {
		return err
	}
	defer zr.Close()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			// Read on to the end of r, where a reader that checks a
			// digest checks it.
			if _, err := io.Copy(io.Discard, zr); err != nil {
				return fmt.Errorf("cannot read the copy: %w", err)
			}
			return syncDir(dir)
		}
		if err != nil {
			return fmt.Errorf("cannot read the copy: %w", err)
		}
		name := path.Clean(h.Name)
		if h.Typeflag != tar.TypeReg || name == "." || path.IsAbs(name) || name == ".." || strings.HasPrefix(name, "../") {
			return fmt.Errorf("the copy holds %q, not a file of a store", h.Name)
		}
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			return err
		}
		f, err := os.OpenFile(p, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if err != nil {
			return err
		}
		_, err = io.Copy(f, tr)
		if err == nil {
			err = f.Sync()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("cannot write %s: %w", p, err)
		}
	}
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// Restore gives back the store to make a replica of: store itself, or,
// when the log can no longer bring it up to date, a copy of another
// node's store put at dir in its place (opened with open; its directory
// is kept beside as dir.replaced-<time>). store is closed unless it is
// what Restore returns.
func (l *Log) Restore(ctx context.Context, store *wal.Log, dir string, open func(dir string) (*wal.Log, error)) (*wal.Log, error) {
	pos, _, err := store.ReplicaPosition()
	var st jetstream.StreamState
	if err == nil {
		st, err = l.streamState(ctx)
	}
	if err != nil {
		_ = store.Close()
		return nil, err
	}
	if !trimmed(st, pos) {
		return store, nil
	}
	l.o.Logf("cluster: this node's store is at record %d but the log now starts at %d (retention removed the records between): copying another node's store", pos, st.FirstSeq)
	incoming := dir + ".incoming"
	for try := 0; ; try++ {
		if err = os.RemoveAll(incoming); err == nil {
			err = l.fetchSnapshot(ctx, incoming)
		}
		if err == nil {
			err = l.checkCopy(ctx, incoming, open)
		}
		if err == nil || ctx.Err() != nil {
			break
		}
		l.o.Logf("cluster: copying another node's store: %v; trying again", err)
		select {
		case <-ctx.Done():
		case <-time.After(time.Duration(min(1<<try, 30)) * time.Second):
		}
	}
	if err != nil {
		_ = os.RemoveAll(incoming)
		_ = store.Close()
		return nil, fmt.Errorf("cluster: this node's store is behind the log's start and no copy of another node's could be had: %w", err)
	}
	if err := store.Close(); err != nil {
		return nil, err
	}
	old := dir + ".replaced-" + time.Now().UTC().Format("20060102T150405Z")
	if err := os.Rename(dir, old); err != nil {
		return nil, err
	}
	if err := os.Rename(incoming, dir); err != nil {
		return nil, err
	}
	if err := syncDir(filepath.Dir(dir)); err != nil {
		return nil, err
	}
	l.o.Logf("cluster: the store is now a copy of another node's; the old one is kept in %s", old)
	return open(dir)
}

// checkCopy opens the copy at dir and checks the log can bring it up to
// date: the node that made it had not fallen behind itself.
func (l *Log) checkCopy(ctx context.Context, dir string, open func(dir string) (*wal.Log, error)) error {
	cp, err := open(dir)
	if err != nil {
		return fmt.Errorf("the copy does not open: %w", err)
	}
	pos, _, err := cp.ReplicaPosition()
	if cerr := cp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	st, err := l.streamState(ctx)
	if err == nil && trimmed(st, pos) {
		err = fmt.Errorf("the copy is at record %d, behind the log's start at %d too", pos, st.FirstSeq)
	}
	return err
}

// fetchSnapshot asks a running node for a copy of its store and writes it
// into dir.
func (l *Log) fetchSnapshot(ctx context.Context, dir string) error {
	// A large store takes a while to copy: the ask waits for it, up to
	// snapTry, then asks again (the node asked may have died).
	rctx, cancel := context.WithTimeout(ctx, snapTry)
	defer cancel()
	m, err := l.o.Conn.RequestWithContext(rctx, snapSubject, []byte(l.o.Name))
	if err != nil {
		return fmt.Errorf("no node answered for a copy of its store: %w", err)
	}
	var rep snapReply
	if err := json.Unmarshal(m.Data, &rep); err != nil {
		return fmt.Errorf("the answer for a copy does not decode: %w", err)
	}
	if rep.Error != "" {
		return fmt.Errorf("the node asked could not copy its store: %s", rep.Error)
	}
	obs, err := l.snapStore(ctx)
	if err != nil {
		return err
	}
	res, err := obs.Get(rctx, rep.Object)
	if err != nil {
		return fmt.Errorf("cannot read the copy %s: %w", rep.Object, err)
	}
	// The object's reader checks its digest at the end: a copy read whole
	// is the copy put.
	err = readArchive(res, dir)
	if cerr := res.Close(); err == nil {
		err = cerr
	}
	dctx, dcancel := context.WithTimeout(context.Background(), 5*time.Second)
	_ = obs.Delete(dctx, rep.Object)
	dcancel()
	return err
}
