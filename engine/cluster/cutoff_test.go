package cluster

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"hookline/internal/testproxy"
	"hookline/wal"
)

// startCutCluster starts three nodes whose routes to and from n2 go
// through proxies.
func startCutCluster(t *testing.T) (*testCluster, []*testproxy.Proxy) {
	t.Helper()
	c := &testCluster{t: t, nodes: make([]*Node, 3)}
	for range 3 {
		c.dirs = append(c.dirs, t.TempDir())
	}
	t.Cleanup(c.closeAll)
	var err error
	for try := 0; try < 5; try++ {
		c.routes = testproxy.FreeAddrs(t, 3)
		// n0 and n1 reach n2 through p2; n2 reaches them through q0, q1.
		p2, q0, q1 := testproxy.New(t, c.routes[2]), testproxy.New(t, c.routes[0]), testproxy.New(t, c.routes[1])
		lists := [][]string{
			{c.routes[1], p2.Addr()},
			{c.routes[0], p2.Addr()},
			{q0.Addr(), q1.Addr()},
		}
		for i := 0; i < 3 && err == nil; i++ {
			var nd *Node
			nd, err = StartNode(NodeOptions{
				Name: fmt.Sprintf("n%d", i), ClusterName: "hl-test", Dir: c.dirs[i],
				ClientAddr: "127.0.0.1:0", RouteAddr: c.routes[i], Routes: lists[i], RouteAdvertise: "127.0.0.1:1",
			})
			c.nodes[i] = nd
		}
		if err == nil {
			return c, []*testproxy.Proxy{p2, q0, q1}
		}
		c.closeAll()
	}
	t.Fatalf("cannot start the nodes: %v", err)
	return nil, nil
}

// TestCutOffNodeStopsWriting: a node whose routes are cut stops being
// Healthy before the others fence it; its writes are refused or fail,
// none lands; the others take its tenants over; once the routes heal it
// catches up, joins again and its store equals theirs.
func TestCutOffNodeStopsWriting(t *testing.T) {
	c, proxies := startCutCluster(t)
	eps := &endpointTenants{m: map[wal.ID]string{}}
	rs := make([]*replica, 3)
	for i := range rs[:2] {
		rs[i] = startReplica(t, c, i, eps)
	}
	// n2's writes while cut off give up sooner.
	rs[2] = startReplicaWith(t, c, 2, eps, 4*time.Second)
	waitMembers(t, rs, "n0", "n1", "n2")
	// A tenant n2 owns.
	var tenant string
	for i := 0; tenant == ""; i++ {
		if name := fmt.Sprintf("tenant-%d", i); ownerOf(t, rs, name) == rs[2] {
			tenant = name
		}
	}
	ep := wal.NewID()
	eps.mu.Lock()
	eps.m[ep] = tenant
	eps.mu.Unlock()
	before, err := appendEvent(rs[2], tenant, ep, "before")
	if err != nil {
		t.Fatal(err)
	}
	retry(t, "n2 healthy", func(context.Context) error {
		if !rs[2].live.Healthy() {
			return errors.New("not yet")
		}
		return nil
	})

	cut := time.Now()
	for _, p := range proxies {
		p.Cut()
	}
	// The order that bounds duplicates: n2 stops first, then the others
	// take over.
	var unhealthyAt, fencedAt time.Time
	deadline := time.Now().Add(eventually)
	for (unhealthyAt.IsZero() || fencedAt.IsZero()) && time.Now().Before(deadline) {
		if unhealthyAt.IsZero() && !rs[2].live.Healthy() {
			unhealthyAt = time.Now()
		}
		if fencedAt.IsZero() && len(rs[0].log.members().members) == 2 {
			fencedAt = time.Now()
		}
		time.Sleep(10 * time.Millisecond)
	}
	if unhealthyAt.IsZero() || fencedAt.IsZero() || !unhealthyAt.Before(fencedAt) {
		t.Fatalf("n2 unhealthy at %v, fenced at %v: it must stop before the others take over", unhealthyAt.Sub(cut), fencedAt.Sub(cut))
	}
	t.Logf("n2 stopped %s after the cut, was fenced %s after it", unhealthyAt.Sub(cut).Round(time.Millisecond), fencedAt.Sub(cut).Round(time.Millisecond))
	waitMembers(t, rs[:2], "n0", "n1")

	// n2 still thinks it owns the tenant; its write does not land.
	lost, err := appendEvent(rs[2], tenant, ep, "during")
	if err == nil {
		t.Fatalf("n2 appended %s while cut off", lost.ID)
	}
	t.Logf("n2's write while cut off: %v", err)
	own := ownerOf(t, rs[:2], tenant)
	dup, err := appendEvent(own, tenant, ep, "before")
	if err != nil || !dup.Duplicate || dup.ID != before.ID {
		t.Fatalf("new owner %s: %+v %v, want the duplicate of %s", own.name, dup, err, before.ID)
	}
	if _, err := appendEvent(own, tenant, ep, "during"); err != nil {
		t.Fatal(err)
	}

	for _, p := range proxies {
		p.Heal()
	}
	waitMembers(t, rs, "n0", "n1", "n2")
	waitSame(t, rs)
	for _, r := range rs[1:] {
		if got, want := r.dump(), rs[0].dump(); got != want {
			t.Fatalf("%s holds %s, n0 %s", r.name, got, want)
		}
	}
	var evr wal.EventRecord
	var buf wal.EventBuf
	for _, r := range rs {
		if !lost.ID.IsZero() {
			if err := r.store.ReadEvent(lost.ID, &evr, &buf); !errors.Is(err, wal.ErrNotFound) {
				t.Fatalf("%s holds n2's write from while it was cut off: %v", r.name, err)
			}
		}
	}
}
