package engine_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"hookline/engine"
)

// logLines are h's log lines with message msg.
func logLines(h *harness, msg string) []string {
	var out []string
	for _, line := range strings.Split(h.logs.String(), "\n") {
		if strings.Contains(line, `msg="`+msg+`"`) {
			out = append(out, line)
		}
	}
	return out
}

// TestLogDeadLettersRateLimited: an endpoint's first dead letter is logged
// at once; those that follow within its window are logged in one line at
// the window's end with their count; a window without deaths closes, and
// the next death is logged at once again.
func TestLogDeadLettersRateLimited(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testOptions())
	h.tenant("acme")
	// 400 is final: each delivery dies at its first attempt.
	dead := newReceiver(t, recvConfig{replies: []reply{{status: 400}}})
	ep := h.endpoint("acme", engine.EndpointInput{URL: ptr(dead.URL() + "?token=hidden")})
	dies := func(n, total int) {
		t.Helper()
		h.publish("acme", events("invoice.paid", n)...)
		waitFor(t, 10*time.Second, "the dead letters", func() bool { return len(h.dead(ep)) == total })
	}
	lines := func(n int) []string {
		t.Helper()
		waitFor(t, 10*time.Second, "the dead-letter log lines", func() bool { return len(logLines(h, "deliveries dead-lettered")) >= n })
		time.Sleep(quiet)
		got := logLines(h, "deliveries dead-lettered")
		require_Equal(t, len(got), n)
		return got
	}
	dies(1, 1)
	first := lines(1)[0]
	for _, want := range []string{"level=WARN", "endpoint=" + ep.ID, "tenant=acme", "count=1", "status=400", "reason=not_retryable", "attempts=1"} {
		require_True(t, strings.Contains(first, want), "first line %q lacks %q", first, want)
	}
	require_True(t, !strings.Contains(first, "hidden"), "the line shows the URL's query: %q", first)

	dies(5, 6)
	lines(1) // counted, not logged, until the window ends
	engine.EndDeadLogWindows(h.e)
	summary := lines(2)[1]
	require_True(t, strings.Contains(summary, "count=5"), "window line %q; want count=5", summary)

	engine.EndDeadLogWindows(h.e) // a window without deaths: no line
	lines(2)
	dies(1, 7)
	require_True(t, strings.Contains(lines(3)[2], "count=1"), "after a quiet window: %q", lines(3)[2])
}

// TestLogJobs: a job's start and end are logged, with its kind, endpoint,
// final state and counts.
func TestLogJobs(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testOptions())
	h.tenant("acme")
	rcv := newReceiver(t, recvConfig{})
	ep := h.endpoint("acme", engine.EndpointInput{URL: ptr(rcv.URL())})
	res := h.publish("acme", events("invoice.paid", 3)...)
	waitFor(t, 10*time.Second, "the attempt records", func() bool {
		for _, r := range res {
			if len(h.attempts(ep, r.ID)) == 0 {
				return false
			}
		}
		return true
	})
	j, err := h.e.CreateJob(context.Background(), "acme", ep.ID, engine.JobInput{Kind: engine.JobReplay, Status: "all"})
	require_NoError(t, err)
	waitFor(t, 10*time.Second, "the job's end line", func() bool { return len(logLines(h, "job finished")) == 1 })
	started := logLines(h, "job started")
	require_Equal(t, len(started), 1)
	require_True(t, strings.Contains(started[0], "job="+j.ID) && strings.Contains(started[0], "kind=replay") && strings.Contains(started[0], "endpoint="+ep.ID), "start line %q", started[0])
	end := logLines(h, "job finished")[0]
	for _, want := range []string{"level=INFO", "job=" + j.ID, "state=completed", "done=3"} {
		require_True(t, strings.Contains(end, want), "end line %q lacks %q", end, want)
	}
}
