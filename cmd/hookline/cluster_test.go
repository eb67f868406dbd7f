package main

import (
	"bufio"
	"bytes"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"hookline/internal/testproxy"
)

// clusterNode is one `hookline serve --cluster` process of a test cluster.
type testNode struct {
	name, dir             string
	api, natsAddr, routes string
	allRoutes             []string
	extra                 []string
	key                   string // the shared master key file, once n0 made it
	proc                  *proc
}

// startTestCluster starts n nodes on loopback sharing the admin token and
// the master key (docs/cluster.md: every node seals with the same key).
func startTestCluster(t *testing.T, n int) []*testNode {
	t.Helper()
	nodes := newTestNodes(t, n)
	var routes []string
	for _, nd := range nodes {
		routes = append(routes, nd.routes)
	}
	for _, nd := range nodes {
		nd.allRoutes = routes
	}
	return startNodes(t, nodes)
}

// newTestNodes picks the nodes' addresses and directories.
func newTestNodes(t *testing.T, n int) []*testNode {
	addrs := testproxy.FreeAddrs(t, 3*n)
	nodes := make([]*testNode, n)
	for i := range nodes {
		nodes[i] = &testNode{name: fmt.Sprintf("n%d", i), dir: t.TempDir(), api: addrs[3*i], natsAddr: addrs[3*i+1], routes: addrs[3*i+2]}
	}
	return nodes
}

// startNodes starts nodes whose routes are set, n0 first for the key.
func startNodes(t *testing.T, nodes []*testNode) []*testNode {
	t.Helper()
	key := filepath.Join(t.TempDir(), "secret.key")
	for i, nd := range nodes {
		nd.key = key
		nd.start(t)
		if i == 0 {
			// The first node generates the key in its data directory.
			waitFor(t, 30*time.Second, "n0's secret key", func() bool {
				_, err := os.Stat(filepath.Join(nd.dir, "secret.key"))
				return err == nil
			})
			b, err := os.ReadFile(filepath.Join(nd.dir, "secret.key"))
			require_NoError(t, err)
			require_NoError(t, os.WriteFile(key, b, 0o600))
		}
	}
	for _, nd := range nodes {
		nd.waitReady(t)
	}
	return nodes
}

func (nd *testNode) start(t *testing.T) {
	t.Helper()
	key := nd.key
	args := []string{"serve", "--cluster", "--node-name", nd.name, "--data", nd.dir, "--listen", nd.api,
		"--nats-listen", nd.natsAddr, "--routes-listen", nd.routes, "--routes", strings.Join(nd.allRoutes, ","),
		"--admin-token", testAdminToken, "--allow-net", "127.0.0.0/8", "--log-format", "json"}
	args = append(args, nd.extra...)
	if _, err := os.Stat(key); err == nil {
		args = append(args, "--secret-key-file", key)
	}
	nd.proc = startProc(t, args, nil)
}

// waitReady waits for the node's start-up line and /readyz: it has caught
// up with the cluster's log and joined.
func (nd *testNode) waitReady(t *testing.T) {
	t.Helper()
	waitFor(t, 2*time.Minute, nd.name+" start-up", func() bool {
		select {
		case <-nd.proc.exited:
			t.Fatalf("%s exited during start-up: %v\n%s", nd.name, nd.proc.err, nd.proc.output.String())
		default:
		}
		if !strings.Contains(nd.proc.output.String(), `"msg":"hookline started"`) {
			return false
		}
		resp, err := http.Get("http://" + nd.api + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
}

// attempts is the node's count of delivery attempts, from its /metrics.
func (nd *testNode) attempts() int {
	return int(nd.metric("hookline_delivery_attempts_total{"))
}

// metric sums the node's /metrics series whose names start with prefix;
// -1 when it does not answer.
func (nd *testNode) metric(prefix string) float64 {
	resp, err := http.Get("http://" + nd.api + "/metrics")
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	total := 0.0
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) == 2 && strings.HasPrefix(f[0], prefix) {
			v, _ := strconv.ParseFloat(f[1], 64)
			total += v
		}
	}
	return total
}

// TestClusterFailover: three nodes; events published to all of them under
// load reach every endpoint; the node delivering most is killed with -9
// while publishing goes on to the other two; no acknowledged event is
// lost, the dead node's deliveries resume on the others, and the node
// restarts on its directory, catches up and delivers its share again.
// Config written through one node is used by the others.
func TestClusterFailover(t *testing.T) {
	nodes := startTestCluster(t, 3)
	apis := make([]*api, len(nodes))
	for i, nd := range nodes {
		apis[i] = newAPI(nd.api, testAdminToken)
	}
	const tenants = 6
	recvs := make([]*receiver, tenants)
	for i := range tenants {
		tenant := fmt.Sprintf("t%d", i)
		apis[i%3].mustDo(t, "POST", "/v1/tenants", map[string]any{"id": tenant}, 201, nil)
		recvs[i] = newReceiver(t)
		// Written through another node than the tenant's: forwarded to
		// its owner, followed by the rest.
		ep := apis[(i+1)%3].createEndpoint(t, tenant, recvs[i].srv.URL+"/hook", []string{"*"})
		recvs[i].setSecret(ep.Secret)
	}

	// An API key made through n0 authenticates on every node: each has
	// loaded it from the log.
	var key struct{ Key string }
	made := time.Now()
	apis[0].mustDo(t, "POST", "/v1/tenants/t0/api-keys", map[string]any{"name": "ci"}, 201, &key)
	for _, nd := range nodes {
		k := newAPI(nd.api, key.Key)
		waitFor(t, time.Minute, nd.name+" knows the new key", func() bool {
			status, err := k.do("GET", "/v1/tenants/t0/endpoints", "", nil, nil)
			return err == nil && status == 200
		})
	}
	t.Logf("a key made on n0 worked on every node %s later", time.Since(made).Round(time.Millisecond))

	var (
		mu      sync.Mutex
		acked   = map[string]int{} // event id -> tenant
		ackedAt = map[string]time.Time{}
		stop    atomic.Bool
		dead    atomic.Int32
		wg      sync.WaitGroup
	)
	dead.Store(-1)
	for w := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; !stop.Load() && i < 1_000_000; i++ {
				n := (w + i) % 3
				if int(dead.Load()) == n {
					continue
				}
				tenant := (w + i/3) % tenants // every tenant through every node
				var res struct{ ID string }
				body := fmt.Appendf(nil, `{"type":"order.paid","payload":{"w":%d,"i":%d}}`, w, i)
				status, err := apis[n].do("POST", fmt.Sprintf("/v1/tenants/t%d/events", tenant), "application/json", body, &res)
				if err == nil && status == 202 {
					mu.Lock()
					acked[res.ID], ackedAt[res.ID] = tenant, time.Now()
					mu.Unlock()
				}
			}
		}()
	}
	count := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(acked)
	}
	waitFor(t, 2*time.Minute, "load to build up", func() bool { return count() >= 600 })

	// The worst case: the node that leads the log's stream dies, so
	// writes wait for JetStream to elect another before the survivors can
	// even record that it is gone.
	victim := logLeader(t, nodes)
	job := startJobOn(t, nodes, apis, victim)
	attempts := nodes[victim].attempts()
	dead.Store(int32(victim))
	killed := time.Now()
	nodes[victim].proc.kill9()
	before := count()
	t.Logf("killed %s (the log's leader, with %d attempts) after %d acknowledged events", nodes[victim].name, attempts, before)
	waitFor(t, 2*time.Minute, "publishing to go on after the kill", func() bool { return count() >= before+600 })
	stop.Store(true)
	wg.Wait()

	delivered := func(id string, tenant int) bool {
		r := recvs[tenant]
		r.mu.Lock()
		defer r.mu.Unlock()
		return r.got[id] > 0
	}
	mu.Lock()
	total := len(acked)
	mu.Unlock()
	waitFor(t, 3*time.Minute, "every acknowledged event delivered", func() bool {
		mu.Lock()
		defer mu.Unlock()
		for id, tenant := range acked {
			if !delivered(id, tenant) {
				return false
			}
		}
		return true
	})
	// A request for a tenant of the dead node waits (in the node that took
	// it) until another node owns the tenant: the first acknowledgement
	// after the kill, per tenant, is when its share resumed.
	resumed := time.Duration(0)
	mu.Lock()
	for tenant := range tenants {
		var first time.Time
		for id, tn := range acked {
			if at := ackedAt[id]; tn == tenant && at.After(killed) && (first.IsZero() || at.Before(first)) {
				first = at
			}
		}
		if first.IsZero() {
			t.Fatalf("tenant t%d took no event after the kill", tenant)
		}
		resumed = max(resumed, first.Sub(killed))
	}
	mu.Unlock()
	t.Logf("every tenant took events again at most %s after the kill", resumed.Round(time.Millisecond))
	dups, bad := 0, 0
	for _, r := range recvs {
		r.mu.Lock()
		for _, c := range r.got {
			dups += c - 1
		}
		bad += len(r.bad)
		r.mu.Unlock()
	}
	require_Equal(t, bad, 0)
	t.Logf("all %d acknowledged events delivered (%d after the kill), %d duplicate deliveries", total, total-before, dups)

	job.waitDone(t, apis[(victim+1)%3])

	// The killed node comes back on its directory and delivers again.
	nd := nodes[victim]
	nd.start(t)
	nd.waitReady(t)
	t.Logf("%s rejoined %s after it was killed", nd.name, time.Since(killed).Round(time.Millisecond))
	// Its partitions move back to it as it joins: a publish may meet the
	// move, and is tried again as the 503 says.
	var after []string
	for i := range tenants {
		after = append(after, publishMoving(t, apis[victim], fmt.Sprintf("t%d", i), fmt.Sprintf("after-%d", i)))
	}
	waitFor(t, 2*time.Minute, "events published through the restarted node delivered", func() bool {
		for i, id := range after {
			if !delivered(id, i) {
				return false
			}
		}
		return true
	})
	// Its share: the job's tenant is one of its own (startJobOn picked it),
	// and back in the same membership it owns the same partitions.
	id := publishMoving(t, apis[(victim+1)%3], job.tenant, "after-job")
	waitFor(t, time.Minute, nd.name+" delivering its share again", func() bool {
		job.recv.mu.Lock()
		defer job.recv.mu.Unlock()
		return job.recv.got[id] > 0 && nd.attempts() > 0
	})
	require_Equal(t, ownerOf(t, nodes[0], job.tenant), nd.name)
}

// logLeader is the index of the node whose NATS server leads the log's
// stream, as its /metrics says.
func logLeader(t *testing.T, nodes []*testNode) int {
	t.Helper()
	leader := -1
	waitFor(t, time.Minute, "the log's leader", func() bool {
		for i, nd := range nodes {
			if nd.metric("hookline_cluster_log_leader") == 1 {
				leader = i
				return true
			}
		}
		return false
	})
	return leader
}

// clusterJob is a backfill running on the node about to be killed.
type clusterJob struct {
	tenant, id string
	events     []string
	recv       *receiver
}

// startJobOn makes a tenant that node victim owns, publishes jobEvents
// events to it, and starts a backfill of them to a new endpoint, paced to
// last several seconds; it returns once the job is under way on victim.
func startJobOn(t *testing.T, nodes []*testNode, apis []*api, victim int) *clusterJob {
	t.Helper()
	const jobEvents = 150
	j := &clusterJob{}
	for k := 0; j.tenant == "" && k < 40; k++ {
		tenant := fmt.Sprintf("job%d", k)
		apis[0].mustDo(t, "POST", "/v1/tenants", map[string]any{"id": tenant}, 201, nil)
		if ownerOf(t, nodes[0], tenant) == nodes[victim].name {
			j.tenant = tenant
		}
	}
	require_True(t, j.tenant != "", "%s owns none of 40 tenants", nodes[victim].name)
	since := time.Now().UTC().Add(-time.Second)
	var batch bytes.Buffer
	for i := range jobEvents {
		fmt.Fprintf(&batch, `{"type":"order.paid","payload":{"job":%d}}`+"\n", i)
	}
	var res struct{ IDs []string }
	status, err := apis[0].do("POST", "/v1/tenants/"+j.tenant+"/events/batch", "application/x-ndjson", batch.Bytes(), &res)
	require_NoError(t, err)
	require_Equal(t, status, 202)
	j.events = res.IDs
	j.recv = newReceiver(t)
	ep := apis[victim].createEndpoint(t, j.tenant, j.recv.srv.URL+"/hook", []string{"*"})
	j.recv.setSecret(ep.Secret)
	var created struct{ ID string }
	apis[victim].mustDo(t, "POST", "/v1/tenants/"+j.tenant+"/endpoints/"+ep.ID+"/backfill",
		map[string]any{"since": since.Format(time.RFC3339Nano), "rate_per_second": 25}, 202, &created)
	j.id = created.ID
	waitFor(t, time.Minute, "the backfill under way", func() bool {
		j.recv.mu.Lock()
		defer j.recv.mu.Unlock()
		return len(j.recv.got) >= 10
	})
	return j
}

// waitDone waits for the job to complete on the node that took the tenant
// over, with every event delivered.
func (j *clusterJob) waitDone(t *testing.T, a *api) {
	t.Helper()
	var v struct {
		State    string
		Progress struct{ Matched, Done, Skipped int }
	}
	waitFor(t, 2*time.Minute, "the backfill completed after the kill", func() bool {
		status, err := a.do("GET", "/v1/tenants/"+j.tenant+"/jobs/"+j.id, "", nil, &v)
		return err == nil && status == 200 && v.State != "running"
	})
	require_Equal(t, v.State, "completed")
	// The job queues the deliveries; the lanes make them after.
	waitFor(t, time.Minute, "every backfilled event delivered", func() bool {
		j.recv.mu.Lock()
		defer j.recv.mu.Unlock()
		for _, id := range j.events {
			if j.recv.got[id] == 0 {
				return false
			}
		}
		return true
	})
	t.Logf("the backfill taken over completed: %d events, %d sent and %d skipped (sent before the last position its first node stored)", len(j.events), v.Progress.Done, v.Progress.Skipped)
}

// ownerOf is the node that answers for tenant: every answer names its
// maker, and a tenant's requests are answered by its owner.
func ownerOf(t *testing.T, nd *testNode, tenant string) string {
	t.Helper()
	req, err := http.NewRequest("GET", "http://"+nd.api+"/v1/tenants/"+tenant+"/endpoints", nil)
	require_NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+testAdminToken)
	resp, err := http.DefaultClient.Do(req)
	require_NoError(t, err)
	resp.Body.Close()
	return resp.Header.Get("X-Hookline-Node")
}

// publishMoving publishes one event for tenant through a, as a client of
// a cluster does: a 503 while the tenant moves between nodes (not_owner,
// cluster_unavailable, with Retry-After) is tried again, with the same
// idempotency key, until the event is accepted.
func publishMoving(t *testing.T, a *api, tenant, key string) string {
	t.Helper()
	body := fmt.Appendf(nil, `{"type":"order.paid","payload":{"key":%q},"idempotency_key":%q}`, key, key)
	var res struct {
		ID    string
		Error struct{ Code string }
	}
	waitFor(t, time.Minute, "a publish for "+tenant+" accepted", func() bool {
		status, err := a.do("POST", "/v1/tenants/"+tenant+"/events", "application/json", body, &res)
		require_NoError(t, err)
		if status == 503 {
			t.Logf("%s: 503 %s while it moves; trying again", tenant, res.Error.Code)
			time.Sleep(time.Second) // its Retry-After
			return false
		}
		require_Equal(t, status, 202)
		return true
	})
	return res.ID
}
