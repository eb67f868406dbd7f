package engine_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"hookline/engine"
)

func tenantStats(t testing.TB, h *harness, tenant string, w engine.StatsWindow) engine.TenantStats {
	t.Helper()
	st, err := h.e.TenantStats(tenant, w)
	require_NoError(t, err)
	return st
}

// statsWant are the counts of a DeliveryStats, with its failures as
// "reason:count ..." in order.
type statsWant struct {
	sent, firstOk, retried, dead, attempts, failed uint64
	failures                                       string
}

func requireStats(t testing.TB, name string, got engine.DeliveryStats, want statsWant) {
	t.Helper()
	fails := ""
	for i, f := range got.TopFailures {
		if i > 0 {
			fails += " "
		}
		fails += fmt.Sprintf("%s:%d", f.Reason, f.Count)
	}
	have := statsWant{got.Sent, got.FirstAttemptSucceeded, got.Retried, got.Dead, got.Attempts, got.FailedAttempts, fails}
	if have != want {
		t.Fatalf("%s: %+v; want %+v", name, have, want)
	}
	if got.Sent == 0 {
		require_True(t, got.FirstAttemptSuccessRate == nil, "%s: success rate %v without deliveries", name, got.FirstAttemptSuccessRate)
	} else {
		rate := float64(int(float64(want.firstOk)/float64(want.sent)*1e4+0.5)) / 1e4
		require_True(t, got.FirstAttemptSuccessRate != nil && *got.FirstAttemptSuccessRate == rate, "%s: success rate %v; want %v", name, got.FirstAttemptSuccessRate, rate)
	}
	p50, p95 := got.LatencyMs.P50, got.LatencyMs.P95
	if got.Attempts == 0 {
		require_True(t, p50 == nil && p95 == nil, "%s: latency %v, %v without attempts", name, p50, p95)
		return
	}
	require_True(t, p50 != nil && p95 != nil && *p50 > 0 && *p50 <= *p95, "%s: p50 %v, p95 %v", name, p50, p95)
}

// TestTenantStats: endpoints that succeed, fail once, die after their one
// retry and fail for good at once show every number of the tenant's stats,
// and the total is their sum, with the quantiles of all their responses;
// another tenant's deliveries are not in them; the numbers are on disk
// after a restart.
func TestTenantStats(t *testing.T) {
	h := newHarness(t, testOptions())
	h.tenant("acme")
	h.tenant("other")
	okRc := newReceiver(t, recvConfig{sleep: 20 * time.Millisecond})
	flakyRc := newReceiver(t, recvConfig{failFirst: true})
	deadRc := newReceiver(t, recvConfig{replies: []reply{{status: 500}}})
	finalRc := newReceiver(t, recvConfig{replies: []reply{{status: 400}}})
	otherRc := newReceiver(t, recvConfig{replies: []reply{{status: 404}}})
	sub := func(typ string) *[]string { return &[]string{typ} }
	okEp := h.endpoint("acme", engine.EndpointInput{URL: ptr(okRc.URL()), EventTypes: sub("ok")})
	flakyEp := h.endpoint("acme", engine.EndpointInput{URL: ptr(flakyRc.URL()), EventTypes: sub("flaky")})
	deadEp := h.endpoint("acme", engine.EndpointInput{URL: ptr(deadRc.URL()), EventTypes: sub("dead"), RetrySchedule: &[]string{"100ms"}})
	finalEp := h.endpoint("acme", engine.EndpointInput{URL: ptr(finalRc.URL()), EventTypes: sub("final")})
	idleEp := h.endpoint("acme", engine.EndpointInput{URL: ptr(okRc.URL()), EventTypes: sub("idle")})
	h.endpoint("other", engine.EndpointInput{URL: ptr(otherRc.URL())})

	empty := tenantStats(t, h, "acme", engine.StatsDay)
	requireStats(t, "before any event", empty.Total.DeliveryStats, statsWant{})
	require_Equal(t, len(empty.Endpoints), 5)

	publish := func(tenant, typ string, n int) {
		for i := range n {
			h.publish(tenant, engine.PublishEvent{Type: typ, Payload: []byte(fmt.Sprint(i))})
		}
	}
	publish("acme", "ok", 4)
	publish("acme", "flaky", 3)
	publish("acme", "dead", 2)
	publish("acme", "final", 1)
	publish("other", "ok", 6)

	// 4 + 6 + 4 + 1 attempts, the last of them the dead endpoint's.
	var st engine.TenantStats
	waitFor(t, 20*time.Second, "15 attempts and 3 dead letters in acme's stats", func() bool {
		st = tenantStats(t, h, "acme", engine.StatsDay)
		return st.Total.Attempts >= 15 && st.Total.Dead >= 3
	})
	require_Equal(t, st.Tenant, "acme")
	require_Equal(t, st.Window, engine.StatsDay)
	want := map[string]statsWant{
		okEp.ID:    {sent: 4, firstOk: 4, attempts: 4},
		flakyEp.ID: {sent: 3, retried: 3, attempts: 6, failed: 3, failures: "503:3"},
		deadEp.ID:  {sent: 2, retried: 2, dead: 2, attempts: 4, failed: 4, failures: "500:4"},
		finalEp.ID: {sent: 1, dead: 1, attempts: 1, failed: 1, failures: "400:1"},
		idleEp.ID:  {},
	}
	total := statsWant{sent: 10, firstOk: 4, retried: 5, dead: 3, attempts: 15, failed: 8, failures: "500:4 503:3 400:1"}
	check := func(name string, st engine.TenantStats) {
		t.Helper()
		require_Equal(t, len(st.Endpoints), len(want))
		var sum statsWant
		for i, ep := range st.Endpoints {
			w, ok := want[ep.EndpointID]
			require_True(t, ok, "%s: endpoint %s is not acme's", name, ep.EndpointID)
			if i > 0 {
				require_True(t, st.Endpoints[i-1].EndpointID < ep.EndpointID, "%s: endpoints out of order", name)
			}
			requireStats(t, name+" "+ep.EndpointID, ep.DeliveryStats, w)
			sum.sent += ep.Sent
			sum.firstOk += ep.FirstAttemptSucceeded
			sum.retried += ep.Retried
			sum.dead += ep.Dead
			sum.attempts += ep.Attempts
			sum.failed += ep.FailedAttempts
		}
		requireStats(t, name+" total", st.Total.DeliveryStats, total)
		sum.failures = total.failures
		require_Equal(t, sum, total)
		requireSeries(t, name, st)
		// The total's median is of all the responses: between the
		// endpoints' own.
		lo, hi := 1e18, 0.0
		for _, ep := range st.Endpoints {
			if p := ep.LatencyMs.P50; p != nil {
				lo, hi = min(lo, *p), max(hi, *p)
			}
		}
		p50 := *st.Total.LatencyMs.P50
		require_True(t, lo <= p50 && p50 <= hi, "%s: total p50 %v ms outside the endpoints' %v..%v", name, p50, lo, hi)
	}
	check("24h", st)
	require_Equal(t, st.Endpoints[0].URL != "", true)
	requireAtLeast(t, "ok endpoint's p50", statsOf(t, st, okEp.ID).LatencyMs.P50, 20)
	check("1h", tenantStats(t, h, "acme", engine.StatsHour))
	check("7d", tenantStats(t, h, "acme", engine.StatsWeek))
	t0 := time.Now()
	since := tenantStats(t, h, "acme", engine.StatsHour).Since
	t1 := time.Now()
	require_True(t, !since.Before(t0.Add(-time.Hour)) && !since.After(t1.Add(-50*time.Minute)), "1h window since %v at %v", since, t0)

	// The other tenant sees its own six deliveries only, all dead at once
	// (404 is final).
	waitFor(t, 20*time.Second, "6 dead letters in other's stats", func() bool {
		return tenantStats(t, h, "other", engine.StatsDay).Total.Dead >= 6
	})
	o := tenantStats(t, h, "other", engine.StatsDay)
	require_Equal(t, len(o.Endpoints), 1)
	requireStats(t, "other", o.Total.DeliveryStats, statsWant{sent: 6, dead: 6, attempts: 6, failed: 6, failures: "404:6"})

	// Hours are on disk: after a restart 24h and 7d are as they were; 1h
	// starts again, as endpoint health's does.
	before := tenantStats(t, h, "acme", engine.StatsWeek)
	h.stop(5 * time.Second)
	h.start()
	check("24h after restart", tenantStats(t, h, "acme", engine.StatsDay))
	after := tenantStats(t, h, "acme", engine.StatsWeek)
	check("7d after restart", after)
	require_Equal(t, *after.Total.LatencyMs.P50, *before.Total.LatencyMs.P50)
	require_Equal(t, *after.Total.LatencyMs.P95, *before.Total.LatencyMs.P95)
	hour := tenantStats(t, h, "acme", engine.StatsHour)
	requireStats(t, "1h after restart", hour.Total.DeliveryStats, statsWant{})

	_, err := h.e.TenantStats("nobody", engine.StatsDay)
	require_ErrorCode(t, err, engine.KindNotFound, "tenant_not_found")
}

// requireSeries: the series has the window's buckets, back to back from
// since, none in the future, and they add up to the total.
func requireSeries(t testing.TB, name string, st engine.TenantStats) {
	t.Helper()
	n, unit := map[engine.StatsWindow]int{engine.StatsHour: 6, engine.StatsDay: 24, engine.StatsWeek: 168}[st.Window], time.Hour
	if st.Window == engine.StatsHour {
		unit = 10 * time.Minute
	}
	require_Equal(t, len(st.Series), n)
	var sum statsWant
	for i, b := range st.Series {
		require_True(t, b.Start.Equal(st.Since.Add(time.Duration(i)*unit)), "%s: bucket %d starts %v, since %v", name, i, b.Start, st.Since)
		sum.sent += b.Sent
		sum.firstOk += b.FirstAttemptSucceeded
		sum.retried += b.Retried
		sum.dead += b.Dead
		sum.attempts += b.Attempts
		sum.failed += b.FailedAttempts
	}
	last := st.Series[n-1].Start
	require_True(t, !last.After(time.Now()), "%s: last bucket starts %v, after now", name, last)
	tot := st.Total
	require_Equal(t, sum, statsWant{tot.Sent, tot.FirstAttemptSucceeded, tot.Retried, tot.Dead, tot.Attempts, tot.FailedAttempts, ""})
}

func statsOf(t testing.TB, st engine.TenantStats, id string) engine.EndpointStats {
	t.Helper()
	for _, ep := range st.Endpoints {
		if ep.EndpointID == id {
			return ep
		}
	}
	t.Fatalf("no endpoint %s in the stats", id)
	return engine.EndpointStats{}
}

// TestParseStatsWindow: 1h, 24h and 7d, and nothing else.
func TestParseStatsWindow(t *testing.T) {
	f := func(s string, want engine.StatsWindow) {
		t.Helper()
		got, err := engine.ParseStatsWindow(s)
		if want == "" {
			require_ErrorCode(t, err, engine.KindInvalid, "invalid_window")
			return
		}
		require_NoError(t, err)
		require_Equal(t, got, want)
	}
	f("1h", engine.StatsHour)
	f("24h", engine.StatsDay)
	f("7d", engine.StatsWeek)
	for _, bad := range []string{"", "1H", "2h", "1d", "24h ", " 7d", "60m", "168h", "7d\x00", "-1h", "1h,24h", string(make([]byte, 10000))} {
		f(bad, "")
	}
}

// FuzzParseStatsWindow: a window parses to one of the three and back to
// its own text, or is invalid_window; never a panic.
func FuzzParseStatsWindow(f *testing.F) {
	for _, s := range []string{"1h", "24h", "7d", "", "2h", "7D"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		w, err := engine.ParseStatsWindow(s)
		if err != nil {
			require_ErrorCode(t, err, engine.KindInvalid, "invalid_window")
			return
		}
		if string(w) != s || w != engine.StatsHour && w != engine.StatsDay && w != engine.StatsWeek {
			t.Fatalf("%q parsed as %q", s, w)
		}
	})
}

// TestTenantStatsReplayAndUnsent: a replayed delivery's attempts are not
// first ones, so it is not sent again, but it dies again; a delivery whose
// request cannot be rendered dies with no attempt.
func TestTenantStatsReplayAndUnsent(t *testing.T) {
	h := newHarness(t, testOptions())
	h.tenant("acme")
	rc := newReceiver(t, recvConfig{replies: []reply{{status: 500}}})
	ep := h.endpoint("acme", engine.EndpointInput{URL: ptr(rc.URL()), EventTypes: &[]string{"a"}, RetrySchedule: &[]string{"100ms"}})
	// A URL placeholder without a value: render_failed, nothing sent.
	unsent := h.endpoint("acme", engine.EndpointInput{URL: ptr(rc.base() + "/x/{$.data.email}"), EventTypes: &[]string{"b"}})
	res := h.publish("acme", engine.PublishEvent{Type: "a", Payload: []byte(`{}`)}, engine.PublishEvent{Type: "b", Payload: []byte(`{}`)})
	waitFor(t, 20*time.Second, "two dead letters", func() bool { return len(h.dead(ep)) == 1 && len(h.dead(unsent)) == 1 })
	st := tenantStats(t, h, "acme", engine.StatsDay)
	requireStats(t, "sent", statsOf(t, st, ep.ID).DeliveryStats, statsWant{sent: 1, retried: 1, dead: 1, attempts: 2, failed: 2, failures: "500:2"})
	requireStats(t, "unsent", statsOf(t, st, unsent.ID).DeliveryStats, statsWant{dead: 1})

	_, err := h.e.ReplayDelivery(context.Background(), "acme", ep.ID, engine.FormatEventID(res[0].ID), nil)
	require_NoError(t, err)
	waitFor(t, 20*time.Second, "the replay's attempt", func() bool { return len(h.attempts(ep, res[0].ID)) == 3 && len(h.dead(ep)) == 1 })
	waitFor(t, 20*time.Second, "the replay in the stats", func() bool {
		st = tenantStats(t, h, "acme", engine.StatsDay)
		return st.Total.Attempts == 3
	})
	requireStats(t, "after the replay", statsOf(t, st, ep.ID).DeliveryStats, statsWant{sent: 1, retried: 1, dead: 2, attempts: 3, failed: 3, failures: "500:3"})
	requireStats(t, "total", st.Total.DeliveryStats, statsWant{sent: 1, retried: 1, dead: 3, attempts: 3, failed: 3, failures: "500:3"})
}
