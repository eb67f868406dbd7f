package engine_test

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"hookline/engine"
	"hookline/wal"
)

func (h *harness) tryPublish(tenant string, evs ...engine.PublishEvent) error {
	res := make([]wal.AppendResult, len(evs))
	return h.e.Publish(tenant, evs, res)
}

// TestBacklogBackPressure: over max_backlog, publishing is refused with
// backlog_full and writes nothing; once deliveries drain, it is accepted
// again without anyone stepping in.
func TestBacklogBackPressure(t *testing.T) {
	t.Parallel()
	opts := testOptions()
	opts.MaxBacklog = 5
	h := newHarness(t, opts)
	h.tenant("acme")
	rc := newReceiver(t, recvConfig{})
	ep := h.endpoint("acme", engine.EndpointInput{URL: ptr(rc.URL()), Paused: ptr(true)})
	h.publish("acme", events("a", 6)...)

	var err error
	accepted := 6 // until the monitor's next sample sees the backlog
	waitFor(t, 5*time.Second, "publishing to be refused", func() bool {
		err = h.tryPublish("acme", engine.PublishEvent{Type: "a"})
		if err == nil {
			accepted++
		}
		return err != nil
	})
	require_ErrorCode(t, err, engine.KindUnavailable, "backlog_full")
	require_Equal(t, err.(*engine.Error).RetryAfter, 5*time.Second)
	before := h.counts()
	for range 3 {
		require_ErrorCode(t, h.tryPublish("acme", events("a", 3)...), engine.KindUnavailable, "backlog_full")
	}
	require_Equal(t, h.counts(), before)
	require_Equal(t, h.metric("hookline_ingest_backpressure"), 1.0)
	require_True(t, h.metric(`hookline_ingest_refused_requests_total{reason="backlog_full"}`) >= 3, "refusals not counted")
	require_Equal(t, len(logLines(h, "ingest refused: delivery backlog over its bound")), 1)

	_, err = h.e.UpdateEndpoint(context.Background(), "acme", ep.ID, engine.EndpointInput{Paused: ptr(false)})
	require_NoError(t, err)
	waitFor(t, 5*time.Second, "publishing to be accepted again", func() bool {
		return h.tryPublish("acme", engine.PublishEvent{Type: "a"}) == nil
	})
	require_Equal(t, h.metric("hookline_ingest_backpressure"), 0.0)
	require_Equal(t, len(logLines(h, "ingest accepting again")), 1)
	// What was accepted is delivered, the refused never.
	waitFor(t, 5*time.Second, "every accepted event delivered", func() bool { return len(rc.ids()) == accepted+1 })
	time.Sleep(quiet)
	require_Equal(t, len(rc.ids()), accepted+1)
}

func freeBytes(t *testing.T, dir string) int64 {
	t.Helper()
	var st syscall.Statfs_t
	require_NoError(t, syscall.Statfs(dir, &st))
	return int64(st.Bavail) * int64(st.Bsize)
}

// TestDiskBackPressure takes real disk space: a 1 GiB file puts the free
// space 512 MiB under the threshold, so ingest answers disk_full; removing
// the file frees the space and ingest recovers by itself. The margins leave
// room for other tests writing and deleting files meanwhile.
func TestDiskBackPressure(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	filler := filepath.Join(dir, "filler")
	f, err := os.Create(filler)
	require_NoError(t, err)
	const size = 1 << 30
	if err := syscall.Fallocate(int(f.Fd()), 0, 0, size); err != nil {
		// No fallocate on this filesystem: write the bytes.
		buf := make([]byte, 1<<20)
		for range size / len(buf) {
			_, err := f.Write(buf)
			require_NoError(t, err)
		}
	}
	require_NoError(t, f.Sync())
	require_NoError(t, f.Close())

	opts := testOptions()
	opts.DataDir = dir
	opts.MinFreeDisk = freeBytes(t, dir) + 512<<20 // 512 MiB short
	h := newHarness(t, opts)
	h.tenant("acme")
	err = h.tryPublish("acme", engine.PublishEvent{Type: "a"})
	require_ErrorCode(t, err, engine.KindUnavailable, "disk_full")
	require_Equal(t, h.counts().Events, 0)
	require_True(t, h.metric("hookline_wal_disk_free_bytes") > 0, "free disk not in metrics")

	require_NoError(t, os.Remove(filler))
	waitFor(t, 5*time.Second, "publishing to be accepted again", func() bool {
		return h.tryPublish("acme", engine.PublishEvent{Type: "a"}) == nil
	})
	require_Equal(t, h.counts().Events, 1)
}
