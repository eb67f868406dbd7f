package main

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"hookline/internal/testproxy"
)

// slowReceiver answers every delivery after delay and counts them by
// webhook-id.
type slowReceiver struct {
	srv   *httptest.Server
	mu    sync.Mutex
	got   map[string]int
	delay time.Duration
}

func newSlowReceiver(t *testing.T, delay time.Duration) *slowReceiver {
	r := &slowReceiver{got: map[string]int{}, delay: delay}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		_, _ = io.Copy(io.Discard, req.Body)
		time.Sleep(r.delay)
		r.mu.Lock()
		r.got[req.Header.Get("webhook-id")]++
		r.mu.Unlock()
	}))
	t.Cleanup(r.srv.Close)
	return r
}

// tenantAttempts is the node's attempts per tenant, from its /metrics.
func (nd *testNode) tenantAttempts() map[string]int {
	out := map[string]int{}
	resp, err := http.Get("http://" + nd.api + "/metrics")
	if err != nil {
		return out
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		const prefix = `hookline_tenant_delivery_attempts_total{tenant="`
		if !strings.HasPrefix(line, prefix) {
			continue
		}
		rest := line[len(prefix):]
		tenant := rest[:strings.IndexByte(rest, '"')]
		f := strings.Fields(line)
		v, _ := strconv.ParseFloat(f[len(f)-1], 64)
		out[tenant] += int(v)
	}
	return out
}

// TestClusterCutOff: n2's NATS routes run through proxies; with deliveries
// under way they are cut. n2 stops delivering once it no longer hears a
// majority, before the others take its tenants over, and makes no attempt
// while cut off; every event is delivered, with no more duplicates than the
// bound docs/cluster.md states; healed, n2 joins again and delivers its
// share.
func TestClusterCutOff(t *testing.T) {
	nodes := newTestNodes(t, 3)
	p2 := testproxy.New(t, nodes[2].routes)
	q0 := testproxy.New(t, nodes[0].routes)
	q1 := testproxy.New(t, nodes[1].routes)
	nodes[0].allRoutes = []string{nodes[0].routes, nodes[1].routes, p2.Addr()}
	nodes[1].allRoutes = []string{nodes[0].routes, nodes[1].routes, p2.Addr()}
	nodes[2].allRoutes = []string{q0.Addr(), q1.Addr(), nodes[2].routes}
	for _, nd := range nodes {
		// Nothing listens there: servers connect only where --routes say.
		nd.extra = []string{"--routes-advertise", "127.0.0.1:1"}
	}
	startNodes(t, nodes)
	a := newAPI(nodes[0].api, testAdminToken)

	rc := newSlowReceiver(t, 200*time.Millisecond)
	const tenants, perTenant, inFlight = 24, 40, 4
	for i := range tenants {
		tenant := fmt.Sprintf("t%d", i)
		a.mustDo(t, "POST", "/v1/tenants", map[string]any{"id": tenant}, 201, nil)
		a.mustDo(t, "POST", "/v1/tenants/"+tenant+"/endpoints", map[string]any{"url": rc.srv.URL + "/" + tenant, "max_in_flight": inFlight}, 201, nil)
	}
	var ids []string
	for i := range tenants {
		var sb strings.Builder
		for j := range perTenant {
			fmt.Fprintf(&sb, "{\"type\":\"order.paid\",\"payload\":{\"j\":%d}}\n", j)
		}
		var res struct{ IDs []string }
		status, err := a.do("POST", fmt.Sprintf("/v1/tenants/t%d/events/batch", i), "application/x-ndjson", []byte(sb.String()), &res)
		require_NoError(t, err)
		require_Equal(t, status, 202)
		ids = append(ids, res.IDs...)
	}
	// n2's share: the tenants it has made attempts for.
	var share map[string]int
	waitFor(t, time.Minute, "n2 delivering its share", func() bool {
		share = nodes[2].tenantAttempts()
		delete(share, "_other") // past metrics_tenant_series
		return len(share) > 0
	})

	// n2's tenants: an answer names the node that made it, and a
	// tenant's requests are answered by its owner.
	owned := 0
	for i := range tenants {
		if ownerOf(t, nodes[0], fmt.Sprintf("t%d", i)) == "n2" {
			owned++
		}
	}
	require_True(t, owned > 0, "n2 owns none of the %d tenants", tenants)
	before := 0
	for _, n := range nodes[2].tenantAttempts() {
		before += n
	}
	cut := time.Now()
	for _, p := range []*testproxy.Proxy{p2, q0, q1} {
		p.Cut()
	}
	const stopLine = `not a majority: it stops delivering`
	waitFor(t, time.Minute, "n2 to stop delivering", func() bool { return strings.Contains(nodes[2].proc.output.String(), stopLine) })
	stopped := time.Now()
	// A load balancer sees it: /readyz answers 503 while it is cut off.
	waitFor(t, time.Minute, "n2's /readyz to answer 503", func() bool {
		resp, err := http.Get("http://" + nodes[2].api + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 503
	})
	// Attempts in flight when it stopped finish within the receiver's delay.
	time.Sleep(time.Second)
	atStop := 0
	for _, n := range nodes[2].tenantAttempts() {
		atStop += n
	}
	const fencedLine = `no heartbeat from node n2`
	waitFor(t, time.Minute, "the others to take n2's tenants over", func() bool {
		return strings.Contains(nodes[0].proc.output.String(), fencedLine) || strings.Contains(nodes[1].proc.output.String(), fencedLine)
	})
	fenced := time.Now()
	require_True(t, stopped.Before(fenced), "n2 stopped %s after the cut, after the others took over (%s)", stopped.Sub(cut), fenced.Sub(cut))
	t.Logf("n2 stopped delivering %s after the cut; the others took its tenants over %s after it", stopped.Sub(cut).Round(time.Millisecond), fenced.Sub(cut).Round(time.Millisecond))

	delivered := func() bool {
		rc.mu.Lock()
		defer rc.mu.Unlock()
		for _, id := range ids {
			if rc.got[id] == 0 {
				return false
			}
		}
		return true
	}
	waitFor(t, 2*time.Minute, "every event delivered while n2 is cut off", delivered)
	// The other two own every partition between them.
	waitFor(t, time.Minute, "n0 and n1 owning the 64 partitions", func() bool {
		return nodes[0].gauge("hookline_cluster_partitions_owned")+nodes[1].gauge("hookline_cluster_partitions_owned") == 64
	})
	after := 0
	for _, n := range nodes[2].tenantAttempts() {
		after += n
	}
	require_Equal(t, after, atStop)

	dups := 0
	rc.mu.Lock()
	for _, c := range rc.got {
		dups += c - 1
	}
	rc.mu.Unlock()
	// A delivery is made twice when n2's attempt of it did not get its
	// outcome into the log: those in flight at the cut (max_in_flight per
	// endpoint of n2's) and those it started before it stopped, at most.
	bound := owned*inFlight + (atStop - before)
	t.Logf("n2 owned %d tenants and finished %d attempts between the cut and its stop; %d duplicate deliveries (bound %d)", owned, atStop-before, dups, bound)
	require_True(t, dups <= bound, "%d duplicates, more than the bound %d", dups, bound)

	for _, p := range []*testproxy.Proxy{p2, q0, q1} {
		p.Heal()
	}
	waitFor(t, 2*time.Minute, "n2 back and delivering its share", func() bool {
		var res struct{ IDs []string }
		for tenant := range share {
			if status, err := a.do("POST", "/v1/tenants/"+tenant+"/events/batch", "application/x-ndjson", []byte(`{"type":"order.paid","payload":{}}`+"\n"), &res); err != nil || status != 202 {
				return false
			}
		}
		total := 0
		for _, n := range nodes[2].tenantAttempts() {
			total += n
		}
		return total > atStop
	})
}

// gauge is the value of an unlabelled metric on the node's /metrics; -1
// when it cannot be read.
func (nd *testNode) gauge(name string) int {
	resp, err := http.Get("http://" + nd.api + "/metrics")
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) == 2 && f[0] == name {
			v, _ := strconv.ParseFloat(f[1], 64)
			return int(v)
		}
	}
	return -1
}
