package wal

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"
)

// Tiny assertion helpers in the style of nats-server: no assertion library.

func require_NoError(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
}

func require_Error(t testing.TB, err error, want ...error) {
	t.Helper()
	if err == nil {
		t.Fatalf("expected an error, got nil")
	}
	for _, w := range want {
		if !errors.Is(err, w) {
			t.Fatalf("expected error %v, got %v", w, err)
		}
	}
}

func require_Equal[T comparable](t testing.TB, got, want T) {
	t.Helper()
	if got != want {
		t.Fatalf("got %v, want %v", got, want)
	}
}

func require_DeepEqual(t testing.TB, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
}

func require_Bytes(t testing.TB, got, want []byte) {
	t.Helper()
	if !bytes.Equal(got, want) {
		t.Fatalf("bytes differ: got %d bytes %q, want %d bytes %q", len(got), trunc(got), len(want), trunc(want))
	}
}

func require_True(t testing.TB, ok bool, msg string, args ...any) {
	t.Helper()
	if !ok {
		t.Fatalf(msg, args...)
	}
}

// eventually is how long a test waits for something that must happen
// before it fails: a guard against a hang, not a bound on speed, as a
// loaded machine (two cores, -race, another suite) is many times slower
// than a quiet one.
const eventually = time.Minute

// waitFor polls cond every millisecond until it holds, failing the test
// after eventually.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(eventually)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", eventually, what)
		}
		time.Sleep(time.Millisecond)
	}
}

func trunc(b []byte) []byte {
	if len(b) > 64 {
		return b[:64]
	}
	return b
}

// openLog opens a Log in a fresh temp dir and closes it when the test ends.
func openLog(t testing.TB, opts *Options) (*Log, string) {
	t.Helper()
	dir := t.TempDir()
	return reopenLog(t, dir, opts), dir
}

// reopenLog opens the Log in dir and closes it when the test ends (a Log the
// test closed itself is fine: the second Close returns ErrClosed).
func reopenLog(t testing.TB, dir string, opts *Options) *Log {
	t.Helper()
	l, err := Open(dir, opts)
	require_NoError(t, err)
	t.Cleanup(func() { _ = l.Close() })
	return l
}

// appendOne appends one event and returns its result.
func appendOne(t testing.TB, l *Log, ev AppendEvent) AppendResult {
	t.Helper()
	var res [1]AppendResult
	require_NoError(t, l.Append([]AppendEvent{ev}, res[:]))
	return res[0]
}

func mkEvent(tenant string, body []byte, eps ...ID) AppendEvent {
	return AppendEvent{Tenant: tenant, Type: "order.created", TimeMs: 1_700_000_000_123, Body: body, Endpoints: eps}
}

// readEvent reads id and returns a copy of its record that outlives the buffers.
func readEvent(t testing.TB, l *Log, id ID) EventRecord {
	t.Helper()
	var r EventRecord
	var buf EventBuf
	require_NoError(t, l.ReadEvent(id, &r, &buf))
	return EventRecord{
		ID:     r.ID,
		TimeMs: r.TimeMs,
		Tenant: bytes.Clone(r.Tenant),
		Type:   bytes.Clone(r.Type),
		Body:   bytes.Clone(r.Body),
	}
}

// queued returns every event queued for ep, in scan order.
func queued(t testing.TB, l *Log, ep ID) []ID {
	t.Helper()
	var ids []ID
	_, err := l.ScanQueue(ep, ID{}, 1<<30, func(ev ID) { ids = append(ids, ev) })
	require_NoError(t, err)
	return ids
}

// retries returns every retry entry, in due order.
func retries(t testing.TB, l *Log) []Retry {
	t.Helper()
	var rs []Retry
	require_NoError(t, l.ScanRetries(0, 1<<62, func(r Retry) bool { rs = append(rs, r); return true }))
	return rs
}

// dead returns the dead letters of ep.
func dead(t testing.TB, l *Log, ep ID) []DeadLetter {
	t.Helper()
	var ds []DeadLetter
	require_NoError(t, l.ScanDead(ep, func(d DeadLetter) { ds = append(ds, d) }))
	return ds
}

func counts(t testing.TB, l *Log) Counts {
	t.Helper()
	c, err := l.Count()
	require_NoError(t, err)
	return c
}

// requireSorted fails unless ids is strictly increasing.
func requireSorted(t testing.TB, ids []ID) {
	t.Helper()
	for i := 1; i < len(ids); i++ {
		if bytes.Compare(ids[i-1][:], ids[i][:]) >= 0 {
			t.Fatalf("ids not strictly increasing at %d: %s then %s", i, ids[i-1], ids[i])
		}
	}
}

// testEndpoint returns a deterministic endpoint ID, distinct per n.
func testEndpoint(n byte) ID {
	var id ID
	id[0] = 0x01
	id[15] = n
	return id
}

// compressible returns n bytes of JSON-like text that zstd shrinks a lot.
func compressible(n int) []byte {
	var b bytes.Buffer
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, `{"id":%d,"kind":"order.created","amount":%d},`, i, i%97)
	}
	return b.Bytes()[:n]
}
