package engine_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"hookline/engine"
	"hookline/wal"
)

// failFirstN scripts a receiver that answers the first n requests with a
// final failure (404: dead at once) and everything after with 200.
func failFirstN(n int) recvConfig {
	rs := make([]reply, n+1)
	for i := range n {
		rs[i] = reply{status: 404}
	}
	rs[n] = reply{status: 200}
	return recvConfig{replies: rs}
}

// deadLetters sets up tenant acme with an endpoint whose receiver rejects
// the first n deliveries for good, publishes n events and waits until all
// are dead letters.
func deadLetters(t *testing.T, n, maxInFlight int) (*harness, *receiver, engine.Endpoint, []wal.AppendResult) {
	t.Helper()
	h := newHarness(t, testOptions())
	h.tenant("acme")
	rc := newReceiver(t, failFirstN(n))
	ep := h.endpoint("acme", engine.EndpointInput{URL: ptr(rc.URL()), MaxInFlight: ptr(maxInFlight)})
	evs := make([]engine.PublishEvent, n)
	for i := range evs {
		evs[i] = engine.PublishEvent{Type: "a"}
	}
	res := h.publish("acme", evs...)
	waitFor(t, 5*time.Second, fmt.Sprintf("%d dead letters", n), func() bool { return len(h.dead(ep)) == n })
	return h, rc, ep, res
}

// waitSettled waits until every delivery reached a final state: a
// receiver answers before the outcome is recorded, so checking at once
// after it got a request races the record.
func waitSettled(t *testing.T, h *harness) {
	t.Helper()
	waitFor(t, 5*time.Second, "every delivery settled", func() bool {
		c := h.counts()
		return c.Queued == 0 && c.Retries == 0 && c.Dead == 0
	})
}

func waitJob(t *testing.T, h *harness, tenant, id string, d time.Duration) engine.Job {
	t.Helper()
	var j engine.Job
	waitFor(t, d, "job "+id+" to finish", func() bool {
		var err error
		j, err = h.e.GetJob(tenant, id)
		require_NoError(t, err)
		return j.State != engine.JobRunning
	})
	return j
}

// TestBulkReplay: a replay job sends again exactly the dead deliveries its
// type filter selects, each once, at no more than its rate.
func TestBulkReplay(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testOptions())
	h.tenant("acme")
	rc := newReceiver(t, failFirstN(21))
	ep := h.endpoint("acme", engine.EndpointInput{URL: ptr(rc.URL()), MaxInFlight: ptr(1)})
	var evs []engine.PublishEvent
	for i := range 20 {
		evs = append(evs, engine.PublishEvent{Type: fmt.Sprintf("%s.x", []string{"a", "b"}[i%2])})
	}
	res := h.publish("acme", evs...)
	waitFor(t, 5*time.Second, "20 dead letters", func() bool { return len(h.dead(ep)) == 20 })
	// A failed test event is a dead letter too, which a bulk replay leaves
	// alone unless it names hookline.test.
	tr, err := h.e.TestEndpoint(context.Background(), "acme", ep.ID, nil)
	require_NoError(t, err)
	require_True(t, !tr.Success, "the test event failed")

	const rate = 20
	jobStart := time.Now()
	j, err := h.e.CreateJob(context.Background(), "acme", ep.ID, engine.JobInput{Kind: engine.JobReplay, Type: "a.*", RatePerSecond: rate})
	require_NoError(t, err)
	require_Equal(t, j.State, engine.JobRunning)
	require_Equal(t, j.Status, "dead")
	j = waitJob(t, h, "acme", j.ID, 10*time.Second)
	require_Equal(t, j.State, engine.JobCompleted)
	require_Equal(t, j.Progress.Matched, int64(10))
	require_Equal(t, j.Progress.Done, int64(10))
	require_Equal(t, j.Progress.Skipped, int64(0))
	require_Equal(t, j.Progress.Scanned, int64(21))
	require_True(t, j.FinishedAt != nil, "a finished job has finished_at")

	waitFor(t, 5*time.Second, "the 10 replays", func() bool { return rc.count() == 31 })
	ids := rc.ids()
	for i, r := range res {
		want := 1
		if i%2 == 0 {
			want = 2
		}
		require_Equal(t, ids[engine.FormatEventID(r.ID)], want)
	}
	// The rate holds: 10 replays at 20/s with a burst of one are sent over
	// at least 9/20 s, so the last arrives at least that long after the job
	// started. (Not measured from the first arrival: a loaded machine may
	// deliver the first late and the rest on time, 410 ms apart once.)
	ds := rc.deliveries()[21:]
	span := ds[len(ds)-1].at.Sub(jobStart)
	require_True(t, span >= 9*time.Second/rate-20*time.Millisecond, "10 replays at %d/s: the last arrived %s after the job started", rate, span)
	waitFor(t, 5*time.Second, "11 dead letters left", func() bool { return len(h.dead(ep)) == 11 })
	// A replay leaves the dead letters when it is queued, before its
	// attempt is recorded: wait for the records too, or a loaded machine
	// still has one pending when the next job runs, which skips it.
	waitFor(t, 5*time.Second, "the replays recorded", func() bool { c := h.counts(); return c.Queued == 0 && c.Retries == 0 })

	// The same job again finds nothing left to do for the a.* events.
	j, err = h.e.CreateJob(context.Background(), "acme", ep.ID, engine.JobInput{Kind: engine.JobReplay, Type: "a.*"})
	require_NoError(t, err)
	j = waitJob(t, h, "acme", j.ID, 5*time.Second)
	require_Equal(t, j.Progress.Matched, int64(0))
	require_Equal(t, j.RatePerSecond, engine.DefaultJobRate)
	j, err = h.e.CreateJob(context.Background(), "acme", ep.ID, engine.JobInput{Kind: engine.JobReplay, Status: "all"})
	require_NoError(t, err)
	j = waitJob(t, h, "acme", j.ID, 5*time.Second)
	require_Equal(t, j.Progress.Done, int64(20))
	j, err = h.e.CreateJob(context.Background(), "acme", ep.ID, engine.JobInput{Kind: engine.JobReplay, Type: engine.EventTest})
	require_NoError(t, err)
	j = waitJob(t, h, "acme", j.ID, 5*time.Second)
	require_Equal(t, j.Progress.Done, int64(1))
	waitFor(t, 5*time.Second, "the 21 more deliveries", func() bool { return rc.count() == 52 })

	js, err := h.e.ListJobs("acme")
	require_NoError(t, err)
	require_Equal(t, len(js), 4)
	require_Equal(t, js[0].ID, j.ID) // newest first
}

// TestBulkReplayStatusAndRange: status all takes succeeded and dead
// deliveries; since/until bound the events by time.
func TestBulkReplayStatusAndRange(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testOptions())
	h.tenant("acme")
	rc := newReceiver(t, failFirstN(2))
	ep := h.endpoint("acme", engine.EndpointInput{URL: ptr(rc.URL()), MaxInFlight: ptr(1)})
	early := h.publish("acme", engine.PublishEvent{Type: "a"}, engine.PublishEvent{Type: "a"}, engine.PublishEvent{Type: "a"})
	waitFor(t, 5*time.Second, "three outcomes", func() bool { return rc.count() == 3 && h.counts().Queued == 0 })
	time.Sleep(5 * time.Millisecond)
	mid := time.Now()
	late := h.publish("acme", engine.PublishEvent{Type: "a"})
	waitFor(t, 5*time.Second, "the fourth outcome", func() bool { return rc.count() == 4 && h.counts().Queued == 0 })

	j, err := h.e.CreateJob(context.Background(), "acme", ep.ID, engine.JobInput{Kind: engine.JobReplay, Status: "all", Until: mid, RatePerSecond: 1000})
	require_NoError(t, err)
	j = waitJob(t, h, "acme", j.ID, 5*time.Second)
	require_Equal(t, j.Progress.Done, int64(3))
	waitFor(t, 5*time.Second, "three replays", func() bool { return rc.count() == 7 })
	ids := rc.ids()
	for _, r := range early {
		require_Equal(t, ids[engine.FormatEventID(r.ID)], 2)
	}
	require_Equal(t, ids[engine.FormatEventID(late[0].ID)], 1)

	j, err = h.e.CreateJob(context.Background(), "acme", ep.ID, engine.JobInput{Kind: engine.JobReplay, Status: "succeeded", Since: mid, RatePerSecond: 1000})
	require_NoError(t, err)
	j = waitJob(t, h, "acme", j.ID, 5*time.Second)
	require_Equal(t, j.Progress.Done, int64(1))
	waitFor(t, 5*time.Second, "the late replay", func() bool { return rc.ids()[engine.FormatEventID(late[0].ID)] == 2 })
	waitSettled(t, h)
}

// TestJobResumesAfterRestart: a job stopped by a shutdown goes on from its
// stored position after the restart, and no delivery is replayed twice.
func TestJobResumesAfterRestart(t *testing.T) {
	t.Parallel()
	h, rc, ep, res := deadLetters(t, 30, 4)
	j, err := h.e.CreateJob(context.Background(), "acme", ep.ID, engine.JobInput{Kind: engine.JobReplay, RatePerSecond: 20})
	require_NoError(t, err)
	waitFor(t, 5*time.Second, "some replays", func() bool { return rc.count() >= 35 })
	h.stop(5 * time.Second)
	h.start()
	got := waitJob(t, h, "acme", j.ID, 10*time.Second)
	require_Equal(t, got.State, engine.JobCompleted)
	require_True(t, got.Progress.Done+got.Progress.Skipped >= 30, "progress %+v", got.Progress)
	waitFor(t, 5*time.Second, "every replay", func() bool { return rc.count() == 60 })
	time.Sleep(quiet)
	for _, r := range res {
		require_Equal(t, rc.ids()[engine.FormatEventID(r.ID)], 2)
	}
	waitSettled(t, h)
}

// TestBackfill: a new endpoint gets the tenant's matching past events once:
// not other tenants', not other types', not those it already got.
func TestBackfill(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testOptions())
	h.tenant("acme")
	h.tenant("other")
	old := newReceiver(t, recvConfig{})
	h.endpoint("acme", engine.EndpointInput{URL: ptr(old.URL())})
	since := time.Now()
	past := h.publish("acme", engine.PublishEvent{Type: "invoice.paid"}, engine.PublishEvent{Type: "lead.won"}, engine.PublishEvent{Type: "invoice.sent"})
	h.publish("other", engine.PublishEvent{Type: "invoice.paid"})

	rc := newReceiver(t, recvConfig{})
	ep := h.endpoint("acme", engine.EndpointInput{URL: ptr(rc.URL()), EventTypes: ptr([]string{"invoice.*"})})
	after := h.publish("acme", engine.PublishEvent{Type: "invoice.paid"})
	waitFor(t, 5*time.Second, "the live delivery", func() bool { return rc.count() == 1 })

	j, err := h.e.CreateJob(context.Background(), "acme", ep.ID, engine.JobInput{Kind: engine.JobBackfill, Since: since})
	require_NoError(t, err)
	j = waitJob(t, h, "acme", j.ID, 5*time.Second)
	require_Equal(t, j.State, engine.JobCompleted)
	require_Equal(t, j.Progress.Done, int64(2))
	require_Equal(t, j.Progress.Skipped, int64(1)) // the live one
	waitFor(t, 5*time.Second, "two backfilled deliveries", func() bool { return rc.count() == 3 })
	time.Sleep(quiet)
	ids := rc.ids()
	require_Equal(t, len(ids), 3)
	for _, r := range []int{0, 2} {
		require_Equal(t, ids[engine.FormatEventID(past[r].ID)], 1)
	}
	require_Equal(t, ids[engine.FormatEventID(after[0].ID)], 1)
	d, err := h.e.GetDelivery("acme", ep.ID, engine.FormatEventID(past[0].ID))
	require_NoError(t, err)
	require_Equal(t, d.Status, "succeeded")
	require_Equal(t, d.Attempts, 1)
	waitSettled(t, h)
}

// TestBulkCancel: a cancel job removes the pending retries it selects and
// leaves the others.
func TestBulkCancel(t *testing.T) {
	t.Parallel()
	opts := testOptions()
	opts.RetrySchedule = []time.Duration{time.Hour}
	h := newHarness(t, opts)
	h.tenant("acme")
	rc := newReceiver(t, recvConfig{replies: []reply{{status: 503}}})
	ep := h.endpoint("acme", engine.EndpointInput{URL: ptr(rc.URL())})
	evs := make([]engine.PublishEvent, 12)
	for i := range evs {
		evs[i] = engine.PublishEvent{Type: []string{"a", "b", "c"}[i%3]}
	}
	h.publish("acme", evs...)
	waitFor(t, 5*time.Second, "12 retries pending", func() bool { return h.counts().Retries == 12 })
	j, err := h.e.CreateJob(context.Background(), "acme", ep.ID, engine.JobInput{Kind: engine.JobCancel, Type: "a"})
	require_NoError(t, err)
	require_Equal(t, j.RatePerSecond, 0)
	j = waitJob(t, h, "acme", j.ID, 5*time.Second)
	require_Equal(t, j.Progress.Done, int64(4))
	require_Equal(t, h.counts().Retries, 8)
	ds, _, err := h.e.ListDeliveries("acme", ep.ID, engine.DeliveryFilter{Status: "cancelled", Limit: 100})
	require_NoError(t, err)
	require_Equal(t, len(ds), 4)
	for _, d := range ds {
		require_Equal(t, d.EventType, "a")
	}
	require_Equal(t, h.metric("hookline_retry_backlog_deliveries"), 8.0)
}

// TestStopJob: a stopped job stays where it stopped; stopping it again or
// stopping a finished job changes nothing.
func TestStopJob(t *testing.T) {
	t.Parallel()
	h, rc, ep, _ := deadLetters(t, 10, 16)
	j, err := h.e.CreateJob(context.Background(), "acme", ep.ID, engine.JobInput{Kind: engine.JobReplay, RatePerSecond: 2})
	require_NoError(t, err)
	waitFor(t, 5*time.Second, "a first replay", func() bool { return rc.count() >= 11 })
	j, err = h.e.StopJob(context.Background(), "acme", j.ID)
	require_NoError(t, err)
	require_Equal(t, j.State, engine.JobStopped)
	require_True(t, j.Progress.Done >= 1 && j.Progress.Done < 10, "stopped job did %d of 10", j.Progress.Done)
	again, err := h.e.StopJob(context.Background(), "acme", j.ID)
	require_NoError(t, err)
	require_DeepEqual(t, again, j)

	// Stopped stays stopped across a restart.
	h.stop(5 * time.Second)
	h.start()
	got, err := h.e.GetJob("acme", j.ID)
	require_NoError(t, err)
	require_Equal(t, got.State, engine.JobStopped)
	time.Sleep(quiet)
	require_Equal(t, len(h.dead(ep)), 10-int(j.Progress.Done))
}

// TestJobBadInput: every bad request gets its own code and starts nothing.
func TestJobBadInput(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testOptions())
	h.tenant("acme")
	rc := newReceiver(t, recvConfig{})
	ep := h.endpoint("acme", engine.EndpointInput{URL: ptr(rc.URL())})
	now := time.Now()
	for _, c := range []struct {
		name string
		in   engine.JobInput
		code string
	}{
		{"kind", engine.JobInput{Kind: "delete"}, "invalid_kind"},
		{"replay status", engine.JobInput{Kind: engine.JobReplay, Status: "pending"}, "invalid_status"},
		{"cancel status", engine.JobInput{Kind: engine.JobCancel, Status: "dead"}, "invalid_status"},
		{"backfill status", engine.JobInput{Kind: engine.JobBackfill, Since: now.Add(-time.Hour), Status: "dead"}, "invalid_status"},
		{"backfill without since", engine.JobInput{Kind: engine.JobBackfill}, "missing_since"},
		{"type", engine.JobInput{Kind: engine.JobReplay, Type: "a.*.b"}, "invalid_type"},
		{"range", engine.JobInput{Kind: engine.JobReplay, Since: now.Add(-time.Minute), Until: now.Add(-time.Hour)}, "invalid_range"},
		{"future since", engine.JobInput{Kind: engine.JobReplay, Since: now.Add(time.Hour)}, "invalid_range"},
		{"negative rate", engine.JobInput{Kind: engine.JobReplay, RatePerSecond: -1}, "invalid_rate"},
		{"huge rate", engine.JobInput{Kind: engine.JobReplay, RatePerSecond: engine.MaxJobRate + 1}, "invalid_rate"},
	} {
		_, err := h.e.CreateJob(context.Background(), "acme", ep.ID, c.in)
		if err == nil {
			t.Fatalf("%s: accepted", c.name)
		}
		require_ErrorCode(t, err, engine.KindInvalid, c.code)
	}
	_, err := h.e.CreateJob(context.Background(), "acme", "ep_nope", engine.JobInput{Kind: engine.JobReplay})
	require_ErrorCode(t, err, engine.KindNotFound, "endpoint_not_found")
	_, err = h.e.GetJob("acme", "job_nope")
	require_ErrorCode(t, err, engine.KindNotFound, "job_not_found")
	js, err := h.e.ListJobs("acme")
	require_NoError(t, err)
	require_Equal(t, len(js), 0)

	// Too many at once: the eleventh running job is refused.
	h.tenant("busy")
	slow := h.endpoint("busy", engine.EndpointInput{URL: ptr(rc.URL())})
	_, err = h.e.UpdateEndpoint(context.Background(), "busy", slow.ID, engine.EndpointInput{Paused: ptr(true)})
	require_NoError(t, err)
	h.publish("busy", engine.PublishEvent{Type: "a"}, engine.PublishEvent{Type: "a"}, engine.PublishEvent{Type: "a"})
	var first engine.Job
	for i := range 10 {
		// Backfills at 1/s over three events: running for two seconds.
		j, err := h.e.CreateJob(context.Background(), "busy", slow.ID, engine.JobInput{Kind: engine.JobBackfill, Since: now.Add(-time.Hour), RatePerSecond: 1})
		require_NoError(t, err)
		if i == 0 {
			first = j
		}
	}
	_, err = h.e.CreateJob(context.Background(), "busy", slow.ID, engine.JobInput{Kind: engine.JobBackfill, Since: now.Add(-time.Hour)})
	require_ErrorCode(t, err, engine.KindConflict, "too_many_jobs")
	// Another tenant's job is not found, and a deleted tenant's jobs go.
	_, err = h.e.GetJob("acme", first.ID)
	require_ErrorCode(t, err, engine.KindNotFound, "job_not_found")
	require_NoError(t, h.e.DeleteTenant(context.Background(), "busy"))
	_, err = h.e.ListJobs("busy")
	require_ErrorCode(t, err, engine.KindNotFound, "tenant_not_found")
}

// TestJobEndpointDeleted: a job whose endpoint goes away fails with a
// code saying so, and stays listed.
func TestJobEndpointDeleted(t *testing.T) {
	t.Parallel()
	h, _, ep, _ := deadLetters(t, 5, 16)
	j, err := h.e.CreateJob(context.Background(), "acme", ep.ID, engine.JobInput{Kind: engine.JobReplay, RatePerSecond: 1})
	require_NoError(t, err)
	require_NoError(t, h.e.DeleteEndpoint(context.Background(), "acme", ep.ID))
	j = waitJob(t, h, "acme", j.ID, 5*time.Second)
	require_Equal(t, j.State, engine.JobFailed)
	require_True(t, j.Error != nil && j.Error.Code == "endpoint_not_found", "job error %+v", j.Error)
	js, err := h.e.ListJobs("acme")
	require_NoError(t, err)
	require_Equal(t, len(js), 1)
}

// TestJobEndpointDeletedMidRun: a job whose endpoint goes away after it
// scanned its deliveries (here after its first replay, while the rate
// holds back the second) fails too, rather than skipping the rest and
// completing. A loaded machine ran TestJobEndpointDeleted this way.
func TestJobEndpointDeletedMidRun(t *testing.T) {
	t.Parallel()
	h, _, ep, _ := deadLetters(t, 5, 16)
	j, err := h.e.CreateJob(context.Background(), "acme", ep.ID, engine.JobInput{Kind: engine.JobReplay, RatePerSecond: 1})
	require_NoError(t, err)
	waitFor(t, 5*time.Second, "the job's first replay", func() bool {
		j, err := h.e.GetJob("acme", j.ID)
		require_NoError(t, err)
		return j.Progress.Done >= 1
	})
	require_NoError(t, h.e.DeleteEndpoint(context.Background(), "acme", ep.ID))
	j = waitJob(t, h, "acme", j.ID, 10*time.Second)
	require_Equal(t, j.State, engine.JobFailed)
	require_True(t, j.Error != nil && j.Error.Code == "endpoint_not_found", "job error %+v", j.Error)
	require_True(t, j.Progress.Done < 5, "the job replayed %d deliveries of a deleted endpoint", j.Progress.Done)
}
