package httpin_test

import (
	"bytes"
	"fmt"
	"io/fs"
	"math"
	"net/http"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"hookline/engine/inbound"
)

// dirSize is the bytes of the files under dir.
func dirSize(tb testing.TB, dir string) int64 {
	tb.Helper()
	var n int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		n += fi.Size()
		return nil
	})
	require_NoError(tb, err)
	return n
}

// TestInboundRejectedFlood: 1,000 unsigned 64 KiB posts to a GitHub
// source's URL (issue 12, item 3). Every request used to be logged with
// its whole body for 30 days: the flood added 63 MiB to the data
// directory. A request that fails verification now keeps at most 1 KiB
// of its body, and past the source's failure rate the receiver answers
// 429 too_many_failures with Retry-After and logs nothing: the flood
// adds a few hundred KiB, and at most 1,000 such records (4 MiB) however
// slowly it comes.
func TestInboundRejectedFlood(t *testing.T) {
	s := newTestServer(t)
	s.mustCreateTenant(t, "acme")
	src := s.createSource(t, "acme", `{"provider":"github","secret":"gh-secret-0123456789"}`)
	url := str(t, src, "url")
	body := []byte(`{"pad":"` + string(bytes.Repeat([]byte("x"), 64<<10-10)) + `"}`)
	require_Equal(t, len(body), 64<<10)

	before := dirSize(t, s.dir)
	const n = 1000
	start := time.Now()
	statuses := map[int]int{}
	for i := range n {
		status, raw, h := s.send(t, url, body, "X-GitHub-Event", "push", "X-GitHub-Delivery", fmt.Sprint("d-", i))
		statuses[status]++
		switch status {
		case http.StatusUnauthorized:
			requireErrorBody(t, raw, "missing_signature")
			require_True(t, h.Get("Hookline-Request-Id") != "", "a logged rejection has no request id")
		case http.StatusTooManyRequests:
			requireErrorBody(t, raw, "too_many_failures")
			ra, err := strconv.Atoi(h.Get("Retry-After"))
			require_True(t, err == nil && ra >= 1, "Retry-After %q", h.Get("Retry-After"))
			require_Equal(t, h.Get("Hookline-Request-Id"), "")
		default:
			t.Fatalf("request %d: status %d (%s)", i, status, short(raw))
		}
		if i == 0 {
			require_Equal(t, status, http.StatusUnauthorized)
		}
	}
	elapsed := time.Since(start)
	// The limiter lets through its burst and then its rate: whatever the
	// flood's pace, at least the rest are throttled.
	allowed := inbound.DefaultFailureBurst + int(math.Ceil(inbound.DefaultFailureRate*elapsed.Seconds()))
	require_True(t, statuses[http.StatusTooManyRequests] >= n-allowed,
		"%d of %d throttled in %s; the limiter allows %d", statuses[http.StatusTooManyRequests], n, elapsed, allowed)
	require_Equal(t, s.metric(t, `hookline_inbound_verification_throttled_total`), float64(statuses[http.StatusTooManyRequests]))

	logged := s.snapshot(t).inbound[str(t, src, "id")]
	require_Equal(t, logged, statuses[http.StatusUnauthorized])

	// Closing the log writes out what Pebble buffers, so the sizes are
	// what the flood put on disk.
	s.shutdownServer(t)
	s.stopEngine()
	s.closeLog()
	grown := dirSize(t, s.dir) - before
	t.Logf("%d unsigned 64 KiB posts in %s: %d answered 401 (logged), %d answered 429; the data directory grew by %d bytes (%.1f KiB)",
		n, elapsed.Round(time.Millisecond), statuses[http.StatusUnauthorized], statuses[http.StatusTooManyRequests], grown, float64(grown)/1024)
	require_True(t, grown < 4<<20, "the data directory grew by %d bytes", grown)
}
