package cluster

import (
	"archive/tar"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"

	"hookline/wal"
)

// TestNewNodeOnTrimmedLog: once retention removed the log's first
// records, a node with an empty store cannot catch up from the log
// (Start refuses); Restore puts a copy of a running node's store in its
// place, kept the old one beside it, and from there the node applies the
// log like the others and holds what they hold.
func TestNewNodeOnTrimmedLog(t *testing.T) {
	c := startCluster(t, 3)
	eps := &endpointTenants{m: map[wal.ID]string{}}
	const maxAge = 2 * time.Second
	o := LogOptions{EndpointTenant: eps.lookup, MaxAge: maxAge}
	rs := []*replica{startReplicaOpts(t, c, 0, o), startReplicaOpts(t, c, 1, o)}
	waitMembers(t, rs, "n0", "n1")
	ep := wal.NewID()
	eps.m[ep] = "acme"
	own := ownerOf(t, rs, "acme")
	for i := range 20 {
		if _, err := appendEvent(own, "acme", ep, "k"+string(rune('a'+i))); err != nil {
			t.Fatal(err)
		}
	}
	waitSame(t, rs)
	want := rs[0].dump()

	// Nothing new is written (heartbeats are not in the log): every
	// record expires.
	retry(t, "the log to be trimmed", func(ctx context.Context) error {
		info, err := rs[0].log.js.Stream(ctx, logStream)
		if err == nil && info.CachedInfo().State.FirstSeq <= 1 {
			time.Sleep(200 * time.Millisecond)
			return context.DeadlineExceeded
		}
		return err
	})

	// An empty store cannot catch up from what is left.
	dir := filepath.Join(c.dirs[2], "store")
	nc, err := c.nodes[2].Connect()
	if err != nil {
		t.Fatal(err)
	}
	var lg *Log
	retry(t, "create the log", func(ctx context.Context) error {
		lg, err = NewLog(ctx, LogOptions{Name: "n2", Conn: nc, EndpointTenant: eps.lookup, MaxAge: maxAge, Logf: t.Logf})
		return err
	})
	empty, err := wal.Open(dir, &wal.Options{Replicator: lg})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), eventually)
	err = lg.Start(ctx, empty)
	cancel()
	if err == nil || !strings.Contains(err.Error(), "retention removed") {
		t.Fatalf("Start on an empty store after the log was trimmed: %v", err)
	}
	_ = empty.Close()
	nc.Close()

	// Restore makes it a copy of n0's or n1's, and it follows the log.
	n2 := startReplicaOpts(t, c, 2, o)
	if got := n2.dump(); got != want {
		t.Fatalf("n2 restored holds %s, n0 %s", got, want)
	}
	kept, _ := filepath.Glob(dir + ".replaced-*")
	if len(kept) != 1 {
		t.Fatalf("the old store is not kept beside the new one: %v", kept)
	}
	rs = append(rs, n2)
	waitMembers(t, rs, "n0", "n1", "n2")
	own = ownerOf(t, rs, "acme")
	if _, err := appendEvent(own, "acme", ep, "after"); err != nil {
		t.Fatal(err)
	}
	waitSame(t, rs)
	for _, r := range rs[1:] {
		if got, want := r.dump(), rs[0].dump(); got != want {
			t.Fatalf("%s holds %s, n0 %s", r.name, got, want)
		}
	}
}

// TestReadArchiveRefuses: a copy holding anything but files under its
// directory, or cut short, is refused.
func TestReadArchiveRefuses(t *testing.T) {
	archive := func(hs ...*tar.Header) []byte {
		var buf bytes.Buffer
		zw, _ := zstd.NewWriter(&buf)
		tw := tar.NewWriter(zw)
		for _, h := range hs {
			if err := tw.WriteHeader(h); err != nil {
				t.Fatal(err)
			}
			if h.Typeflag == tar.TypeReg {
				_, _ = tw.Write(bytes.Repeat([]byte("x"), int(h.Size)))
			}
		}
		_ = tw.Close()
		_ = zw.Close()
		return buf.Bytes()
	}
	reg := func(name string) *tar.Header {
		return &tar.Header{Name: name, Typeflag: tar.TypeReg, Size: 3, Mode: 0o600}
	}
	good := archive(reg("MANIFEST-000001"), reg("sub/000002.sst"))
	for name, b := range map[string][]byte{
		"parent":    archive(reg("../escape")),
		"deep":      archive(reg("a/../../escape")),
		"absolute":  archive(reg("/etc/escape")),
		"symlink":   archive(&tar.Header{Name: "link", Typeflag: tar.TypeSymlink, Linkname: "/etc/passwd"}),
		"dot":       archive(reg(".")),
		"truncated": good[:len(good)/2],
		"not zstd":  []byte("not an archive"),
	} {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "store")
			if err := readArchive(bytes.NewReader(b), dir); err == nil {
				t.Fatalf("%s: accepted", name)
			}
			if _, err := os.Stat(filepath.Join(filepath.Dir(dir), "escape")); err == nil {
				t.Fatalf("%s: wrote outside the directory", name)
			}
		})
	}
	dir := filepath.Join(t.TempDir(), "store")
	if err := readArchive(bytes.NewReader(good), dir); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "sub", "000002.sst")); err != nil || string(b) != "xxx" {
		t.Fatalf("read %q %v", b, err)
	}
}

// TestArchiveRoundTrip: a checkpoint written and read back holds the same
// files.
func TestArchiveRoundTrip(t *testing.T) {
	src := t.TempDir()
	store, err := wal.Open(filepath.Join(src, "db"), &wal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var res [1]wal.AppendResult
	if err := store.Append([]wal.AppendEvent{{Tenant: "acme", Type: "t", TimeMs: 1, Body: []byte(`{}`), Endpoints: []wal.ID{wal.NewID()}}}, res[:]); err != nil {
		t.Fatal(err)
	}
	cp := filepath.Join(src, "cp")
	if err := store.Checkpoint(cp); err != nil {
		t.Fatal(err)
	}
	_ = store.Close()
	var buf bytes.Buffer
	if err := writeArchive(&buf, cp); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(t.TempDir(), "store")
	if err := readArchive(&buf, dst); err != nil {
		t.Fatal(err)
	}
	back, err := wal.Open(dst, &wal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer back.Close()
	n, err := back.Count()
	if err != nil || n.Queued != 1 {
		t.Fatalf("the copy counts %+v, %v", n, err)
	}
}

// FuzzReadArchive: any bytes are read or refused, never written outside
// the directory.
func FuzzReadArchive(f *testing.F) {
	var buf bytes.Buffer
	zw, _ := zstd.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	_ = tw.WriteHeader(&tar.Header{Name: "MANIFEST-000001", Typeflag: tar.TypeReg, Size: 2, Mode: 0o600})
	_, _ = tw.Write([]byte("ab"))
	_ = tw.Close()
	_ = zw.Close()
	f.Add(buf.Bytes())
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		root := t.TempDir()
		dir := filepath.Join(root, "in", "store")
		_ = readArchive(bytes.NewReader(b), dir)
		entries, err := os.ReadDir(root)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if e.Name() != "in" {
				t.Fatalf("wrote %s outside the directory", e.Name())
			}
		}
	})
}
