package engine_test

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"testing"

	"hookline/engine"
)

func tenantMetric(tenant, outcome string) string {
	return fmt.Sprintf(`hookline_tenant_delivery_attempts_total{tenant=%q,outcome=%q}`, tenant, outcome)
}

var tenantSeriesLine = regexp.MustCompile(`(?m)^hookline_tenant_delivery_attempts_total\{tenant="([^"]+)",outcome="([a-z]+)"\} (\d+)$`)

// tenantSeries scrapes once and returns the success counts per tenant label.
func (h *harness) tenantSeries() map[string]float64 {
	got := map[string]float64{}
	for _, m := range tenantSeriesLine.FindAllStringSubmatch(h.scrape(), -1) {
		if m[2] == "success" {
			v, _ := strconv.ParseFloat(m[3], 64)
			got[m[1]] = v
		}
	}
	return got
}

// tenantsHarness starts an engine with room for series tenant series and
// makes each of ids a tenant with one endpoint on a receiver answering 200.
func tenantsHarness(t *testing.T, series int, ids ...string) (*harness, *receiver) {
	opts := testOptions()
	opts.TenantSeries = series
	h := newHarness(t, opts)
	rc := newReceiver(t, recvConfig{})
	for _, id := range ids {
		h.tenant(id)
		h.endpoint(id, engine.EndpointInput{URL: ptr(rc.URL())})
	}
	return h, rc
}

var paid = engine.PublishEvent{Type: "invoice.paid", Payload: []byte(`{}`)}

// TestMetricsTenantRoom: with room for every tenant each has its own
// series from its first attempt, and _other stays at 0.
func TestMetricsTenantRoom(t *testing.T) {
	t.Parallel()
	h, rc := tenantsHarness(t, 3, "alpha", "bravo", "charlie")
	want := map[string]float64{}
	for i, id := range []string{"alpha", "bravo", "charlie"} {
		for range i + 1 {
			h.publish(id, paid)
		}
		want[tenantMetric(id, "success")] = float64(i + 1)
		want[tenantMetric(id, "retry")] = 0
	}
	for _, o := range []string{"success", "retry", "dead", "final"} {
		want[tenantMetric("_other", o)] = 0
	}
	want[attemptsMetric("success", "2xx")] = 6
	h.requireMetrics(want)

	// A deleted tenant's series go with it, and its place is free again.
	require_NoError(t, h.e.DeleteTenant(context.Background(), "charlie"))
	require_DeepEqual(t, h.tenantSeries(), map[string]float64{"alpha": 1, "bravo": 2, "_other": 0})
	h.tenant("delta")
	h.endpoint("delta", engine.EndpointInput{URL: ptr(rc.URL())})
	h.publish("delta", paid)
	h.requireMetrics(map[string]float64{tenantMetric("delta", "success"): 1, tenantMetric("_other", "success"): 0})
}

// TestMetricsTenantBounded: past TenantSeries tenants the rest share
// _other; the busiest tenant takes an idle one's series at a scrape, the
// attempts it made before stay in _other, no series ever goes down, and
// the series add up to the attempts counted without tenants.
func TestMetricsTenantBounded(t *testing.T) {
	t.Parallel()
	h, _ := tenantsHarness(t, 2, "alpha", "bravo", "charlie")
	h.publish("alpha", paid)
	h.requireMetrics(map[string]float64{attemptsMetric("success", "2xx"): 1})
	h.publish("bravo", paid)
	h.requireMetrics(map[string]float64{attemptsMetric("success", "2xx"): 2})
	// Both had room at their first attempt.
	got := h.tenantSeries()
	require_DeepEqual(t, got, map[string]float64{"alpha": 1, "bravo": 1, "_other": 0})

	// charlie comes when there is no room: its first attempts go to _other
	// until a scrape sees it busier than an idle tenant.
	const burst = 10
	for range burst {
		h.publish("charlie", paid)
	}
	last := got
	waitFor(t, eventually, "charlie to get a series with all its attempts counted", func() bool {
		now := h.tenantSeries()
		require_True(t, len(now) <= 3, "more than 2 tenants have series: %v", now)
		for id, v := range now {
			if prev, ok := last[id]; ok {
				require_True(t, v >= prev, "%s went down from %v to %v", id, prev, v)
			}
		}
		last = now
		sum := 0.0
		for _, v := range now {
			sum += v
		}
		_, labelled := now["charlie"]
		return labelled && sum == 2+burst-1 // alpha or bravo lost its series and its 1
	})
	require_True(t, last["_other"] >= 1, "charlie's first attempt was not counted under _other: %v", last)

	// Now charlie's attempts are its own; _other does not move.
	h.publish("charlie", paid)
	waitFor(t, eventually, "charlie's next attempt in its own series", func() bool {
		now := h.tenantSeries()
		require_Equal(t, now["_other"], last["_other"])
		return now["charlie"] == last["charlie"]+1
	})
	h.requireMetrics(map[string]float64{attemptsMetric("success", "2xx"): 2 + burst + 1})
}
