package bench

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The cluster scenario (docs/cluster.md) runs three `hookline serve
// --cluster` nodes on this machine, so it measures correctness and cost,
// not scale: the three share its cores and disk. In one run it measures
//
//   - single: one node on its own store, clusterTenants tenants with one
//     endpoint each, batches of BatchSize from 2*BatchPublishers publishers
//     for Duration, with the backlog bound;
//   - 3-nodes: the same load on a cluster, spread over the three nodes;
//     its ratio to single is the cost of replication on one machine;
//   - failover: the same load on a fresh cluster; after a third of Duration
//     the node leading the log's stream (the worst to lose) is killed
//     with -9 and
//     publishing goes on to the other two. It reports every event
//     acknowledged and not delivered (lost: must be 0), duplicates, and the
//     failover time: for each tenant, the longest time no publish for it
//     was acknowledged around the kill, the worst over the tenants.
const clusterTenants = 12

// clusterNode is one spawned node.
type clusterNode struct {
	srv *server
	cl  *client
}

func (r *runner) cluster() ([]Result, error) {
	single, err := r.clusterPhase("single", 1, false)
	if err != nil {
		return nil, err
	}
	multi, err := r.clusterPhase("3-nodes", 3, false)
	if err != nil {
		return []Result{single}, err
	}
	if single.DeliveriesPerSec > 0 {
		multi.Notes = append(multi.Notes, fmt.Sprintf("delivered/s is %.2f of the single node's in the same run (%s/s): three nodes on one machine share its cores and disk",
			multi.DeliveriesPerSec/single.DeliveriesPerSec, humanRate(single.DeliveriesPerSec)))
	}
	fail, err := r.clusterPhase("failover", 3, true)
	if err != nil {
		return []Result{single, multi}, err
	}
	return []Result{single, multi, fail}, nil
}

// freeAddrs returns n loopback addresses whose ports were free a moment
// ago: a cluster's addresses are given to its nodes before they start.
func freeAddrs(n int) ([]string, error) {
	var out []string
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			_ = l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		out = append(out, l.Addr().String())
	}
	return out, nil
}

// startCluster spawns n nodes sharing a token and a master key; a single
// node (n == 1) runs without --cluster. The nodes start together: each
// reports its address once a quorum has formed.
func (r *runner) startCluster(dir string, n int) ([]clusterNode, error) {
	token := randomToken()
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	keyFile := filepath.Join(dir, "secret.key")
	if err := os.WriteFile(keyFile, []byte(base64.StdEncoding.EncodeToString(key)+"\n"), 0o600); err != nil {
		return nil, err
	}
	addrs, err := freeAddrs(3 * n)
	if err != nil {
		return nil, err
	}
	var routes []string
	for i := range n {
		routes = append(routes, addrs[3*i+2])
	}
	nodes := make([]clusterNode, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		extra := []string{"--secret-key-file", keyFile}
		if n > 1 {
			extra = append(extra, "--listen", addrs[3*i], "--cluster", "--node-name", "n"+strconv.Itoa(i),
				"--advertise", "http://"+addrs[3*i], "--nats-listen", addrs[3*i+1],
				"--routes-listen", addrs[3*i+2], "--routes", strings.Join(routes, ","))
		}
		if r.opts.Durability != "" {
			extra = append(extra, "--durability", r.opts.Durability)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			ndir := filepath.Join(dir, "n"+strconv.Itoa(i))
			if err := os.MkdirAll(ndir, 0o700); err != nil {
				errs[i] = err
				return
			}
			srv, err := startServerWithin(r.opts.ServerBinary, ndir, token, extra, 2*time.Minute)
			if err != nil {
				errs[i] = err
				return
			}
			nodes[i] = clusterNode{srv: srv, cl: newClient(srv.addr, token)}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		stopCluster(nodes)
		return nil, err
	}
	return nodes, nil
}

func stopCluster(nodes []clusterNode) {
	for _, nd := range nodes {
		if nd.srv != nil {
			nd.srv.kill()
		}
	}
}

// clusterLoad is a phase's live state.
type clusterLoad struct {
	nodes   []clusterNode
	tenants []string
	dead    atomic.Int32 // index of the killed node, -1 while none

	mu        sync.Mutex
	acked     map[string]int      // event id -> tenant index
	lastAck   []time.Time         // per tenant
	longest   []time.Duration     // per tenant: the longest gap between acks
	delivered map[string]struct{} // event ids the sink answered 2xx
	latency   Histogram
}

func (r *runner) clusterPhase(variant string, n int, kill bool) (Result, error) {
	o := r.opts
	dir, err := os.MkdirTemp("", "hookline-bench-cluster-")
	if err != nil {
		return Result{}, err
	}
	defer os.RemoveAll(dir)
	cl := &clusterLoad{acked: map[string]int{}, delivered: map[string]struct{}{},
		lastAck: make([]time.Time, clusterTenants), longest: make([]time.Duration, clusterTenants)}
	cl.dead.Store(-1)
	secret := randomSecret()
	sink, err := NewSink(SinkOptions{PerPath: true, Secret: secret, VerifyEvery: 100, OnDelivery: func(d *Delivery) {
		if d.Status < 200 || d.Status >= 300 {
			return
		}
		cl.mu.Lock()
		cl.delivered[d.ID] = struct{}{}
		if t, ok := sentAt(d.Body); ok {
			cl.latency.Record(d.Received.Sub(t))
		}
		cl.mu.Unlock()
	}})
	if err == nil {
		err = sink.Start()
	}
	if err != nil {
		return Result{}, fmt.Errorf("cannot start sink: %w", err)
	}
	defer sink.Close()
	cl.nodes, err = r.startCluster(dir, n)
	if err != nil {
		return Result{}, err
	}
	defer stopCluster(cl.nodes)
	for i := range clusterTenants {
		t := fmt.Sprintf("bench-cluster-%d-%d", os.Getpid(), r.seq.Add(1))
		cl.tenants = append(cl.tenants, t)
		nd := cl.nodes[i%n].cl
		if err := nd.createTenant(t); err != nil {
			return Result{}, err
		}
		spec := endpointSpec{URL: sink.URL() + "e" + strconv.Itoa(i), EventTypes: []string{"*"}, MaxInFlight: 64, Secret: secret}
		if err := cl.nodes[(i+1)%n].cl.createEndpoints(t, []endpointSpec{spec}); err != nil {
			return Result{}, err
		}
	}

	name := "cluster/" + variant
	start := time.Now()
	deadline := start.Add(o.Duration)
	var killedAt time.Time
	var victim int
	var victimNote string
	stopProgress := make(chan struct{})
	var accepted atomic.Int64
	go r.progress(name, start, accepted.Load, func() int64 { return int64(sink.Stats().Unique) }, stopProgress)
	var wg sync.WaitGroup
	b := newEventBuilder(o.PayloadBytes)
	publishers := 2 * o.BatchPublishers
	for w := range publishers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var body []byte
			var ans publishAnswer
			for i := w; time.Now().Before(deadline) && r.ctx.Err() == nil; i += publishers {
				if accepted.Load()-int64(sink.Stats().Unique) > o.MaxBacklog {
					time.Sleep(time.Millisecond)
					continue
				}
				node := i % n
				if int(cl.dead.Load()) == node {
					node = (node + 1) % n
				}
				tenant := i % clusterTenants
				body = body[:0]
				for j := range o.BatchSize {
					body = b.append(body, "bench.event", int64(i*o.BatchSize+j), time.Now())
					body = append(body, '\n')
				}
				ans.IDs = ans.IDs[:0]
				if err := cl.nodes[node].cl.publish(cl.tenants[tenant], body, o.BatchSize, &ans); err != nil {
					continue // a node died or a tenant moves: the batch is not acknowledged
				}
				accepted.Add(int64(len(ans.IDs)))
				now := time.Now()
				cl.mu.Lock()
				for _, id := range ans.IDs {
					cl.acked[id] = tenant
				}
				if last := cl.lastAck[tenant]; !last.IsZero() {
					cl.longest[tenant] = max(cl.longest[tenant], now.Sub(last))
				}
				cl.lastAck[tenant] = now
				cl.mu.Unlock()
			}
		}()
	}
	if kill {
		time.Sleep(o.Duration / 3)
		victim = logLeader(cl.nodes)
		victimNote = fmt.Sprintf("node n%d (the log's leader)", victim)
		if victim < 0 {
			victim = 0
			victimNote = "node n0 (no node said it led the log)"
		}
		cl.dead.Store(int32(victim))
		killedAt = time.Now()
		cl.nodes[victim].srv.kill()
	}
	wg.Wait()
	pubElapsed := time.Since(start)
	// Drain: every acknowledged event delivered, or DrainTimeout.
	drainEnd := time.Now().Add(o.DrainTimeout)
	missing := func() int64 {
		cl.mu.Lock()
		defer cl.mu.Unlock()
		var m int64
		for id := range cl.acked {
			if _, ok := cl.delivered[id]; !ok {
				m++
			}
		}
		return m
	}
	for missing() > 0 && time.Now().Before(drainEnd) && r.ctx.Err() == nil {
		time.Sleep(100 * time.Millisecond)
	}
	close(stopProgress)
	st := sink.Stats()
	cl.mu.Lock()
	acked := int64(len(cl.acked))
	worst := time.Duration(0)
	for _, d := range cl.longest {
		worst = max(worst, d)
	}
	res := Result{
		Scenario:         "cluster",
		Variant:          variant,
		DurationSec:      pubElapsed.Seconds(),
		Published:        acked,
		Expected:         acked,
		Deliveries:       int64(st.Unique),
		Attempts:         int64(st.Requests),
		AcceptedPerSec:   Rate(acked, pubElapsed),
		DeliveriesPerSec: Rate(int64(st.Unique), st.Last.Sub(start)),
		LatencyMs:        LatencyOf(&cl.latency),
		Duplicates:       int64(st.Duplicates),
	}
	cl.mu.Unlock()
	res.Missing = missing()
	nodesWord := "one node on its own store"
	if n > 1 {
		nodesWord = fmt.Sprintf("%d nodes with --cluster on this machine, publishers spread over them", n)
	}
	res.Notes = append(res.Notes, fmt.Sprintf("%s: %d tenants with one endpoint each, batches of %d from %d publishers; delivered/s from the first publish to the last delivery",
		nodesWord, clusterTenants, o.BatchSize, publishers))
	if kill {
		res.Notes = append(res.Notes, fmt.Sprintf("%s killed with -9 %.1f s in; publishing went on to the others. Lost (acknowledged, not delivered within the drain): %d (must be 0); duplicates %d; longest time a tenant had no publish acknowledged: %s",
			victimNote, killedAt.Sub(start).Seconds(), res.Missing, res.Duplicates, worst.Round(10*time.Millisecond)))
	}
	if res.Missing > 0 {
		return res, fmt.Errorf("%s: %d acknowledged events not delivered within %s", name, res.Missing, o.DrainTimeout)
	}
	return res, nil
}

// logLeader is the node whose embedded NATS server leads the log's
// stream, as its /metrics say: the worst node to lose, as every write
// then waits for an election. -1 when none says so.
func logLeader(nodes []clusterNode) int {
	for i, nd := range nodes {
		page, err := nd.cl.get("/metrics")
		if err != nil {
			continue
		}
		m, err := parsePromText(page)
		if err != nil {
			continue
		}
		if m["hookline_cluster_log_leader"] == 1 {
			return i
		}
	}
	return -1
}
