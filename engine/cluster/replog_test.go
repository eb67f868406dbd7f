package cluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"hookline/wal"
)

// replica is one node's store, kept a replica of the cluster's log.
type replica struct {
	t     *testing.T
	name  string
	dir   string
	nc    *nats.Conn
	log   *Log
	live  *Liveness
	store *wal.Log
}

// endpointTenants stands in for the engine's endpoint records.
type endpointTenants struct {
	mu sync.Mutex
	m  map[wal.ID]string
}

func (e *endpointTenants) lookup(ep wal.ID) (string, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	t, ok := e.m[ep]
	return t, ok
}

func startReplica(t *testing.T, c *testCluster, i int, eps *endpointTenants) *replica {
	t.Helper()
	return startReplicaWith(t, c, i, eps, 20*time.Second)
}

// startReplicaWith gives up on writes after writeTimeout.
func startReplicaWith(t *testing.T, c *testCluster, i int, eps *endpointTenants, writeTimeout time.Duration) *replica {
	t.Helper()
	return startReplicaOpts(t, c, i, LogOptions{EndpointTenant: eps.lookup, WriteTimeout: writeTimeout})
}

// startReplicaOpts starts replica i with o (its name, address, connection
// and logger filled in), its store through Restore, as a node starts.
func startReplicaOpts(t *testing.T, c *testCluster, i int, o LogOptions) *replica {
	t.Helper()
	r := &replica{t: t, name: fmt.Sprintf("n%d", i), dir: filepath.Join(c.dirs[i], "store")}
	var err error
	r.nc, err = nats.Connect(c.nodes[i].ClientURL(), nats.MaxReconnects(-1))
	if err != nil {
		t.Fatal(err)
	}
	o.Name, o.Addr, o.Conn, o.Logf = r.name, "127.0.0.1:1", r.nc, t.Logf
	retry(t, "create the log", func(ctx context.Context) error {
		r.log, err = NewLog(ctx, o)
		return err
	})
	open := func(dir string) (*wal.Log, error) { return wal.Open(dir, &wal.Options{Replicator: r.log}) }
	r.store, err = open(r.dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), eventually)
	r.store, err = r.log.Restore(ctx, r.store, r.dir, open)
	cancel()
	if err != nil {
		t.Fatal(err)
	}
	retry(t, "catch up with the log", func(ctx context.Context) error { return r.log.Start(ctx, r.store) })
	r.live, err = StartLiveness(r.log)
	if err != nil {
		t.Fatal(err)
	}
	retry(t, "join", func(ctx context.Context) error { return r.log.Join(ctx) })
	t.Cleanup(r.close)
	return r
}

// close stops the node's part in the cluster without leaving it: what a
// crash looks like to the others.
func (r *replica) close() {
	if r.live != nil {
		r.live.Close()
		r.live = nil
	}
	if r.log != nil {
		r.log.Close()
		_ = r.store.Close()
		r.nc.Close()
		r.log = nil
	}
}

func (r *replica) dump() string {
	r.t.Helper()
	var buf bytes.Buffer
	c, err := r.store.Count()
	if err != nil {
		r.t.Fatal(err)
	}
	fmt.Fprintf(&buf, "%+v", c)
	err = r.store.ScanRetries(0, 1<<62, func(rt wal.Retry) bool {
		fmt.Fprintf(&buf, " retry %+v", rt)
		return true
	})
	if err != nil {
		r.t.Fatal(err)
	}
	return buf.String()
}

// waitMembers waits until every replica has applied exactly names as the
// members.
func waitMembers(t *testing.T, rs []*replica, names ...string) {
	t.Helper()
	want := fmt.Sprint(names)
	deadline := time.Now().Add(eventually)
	for _, r := range rs {
		for {
			var got []string
			for _, m := range r.log.members().members {
				got = append(got, m.name)
			}
			if fmt.Sprint(got) == want {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: members %v, want %v", r.name, got, want)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// ownerOf is the replica that owns tenant, as rs[0] sees it.
func ownerOf(t *testing.T, rs []*replica, tenant string) *replica {
	t.Helper()
	name, _, _, ok := rs[0].log.Owner(tenant)
	if !ok {
		t.Fatalf("no owner for %s", tenant)
	}
	for _, r := range rs {
		if r.name == name {
			return r
		}
	}
	t.Fatalf("owner %s of %s is not running", name, tenant)
	return nil
}

func appendEvent(r *replica, tenant string, ep wal.ID, key string) (wal.AppendResult, error) {
	var res [1]wal.AppendResult
	err := r.store.Append([]wal.AppendEvent{{Tenant: tenant, Type: "t", TimeMs: time.Now().UnixMilli(), Body: []byte(`{"k":"` + key + `"}`), IdempotencyKey: key, Endpoints: []wal.ID{ep}}}, res[:])
	return res[0], err
}

// waitApplied waits until every replica has applied what the stream holds.
func waitSame(t *testing.T, rs []*replica) {
	t.Helper()
	var last uint64
	retry(t, "read the stream", func(ctx context.Context) error {
		info, err := rs[0].log.js.Stream(ctx, logStream)
		if err == nil {
			last = info.CachedInfo().State.LastSeq
		}
		return err
	})
	for _, r := range rs {
		ctx, cancel := context.WithTimeout(context.Background(), eventually)
		err := r.log.waitApplied(ctx, last)
		cancel()
		if err != nil {
			t.Fatalf("%s: %v", r.name, err)
		}
	}
}

// TestReplicatedLog: three nodes, each store a replica of the log; only a
// tenant's owner may write its events and outcomes, and every replica
// holds them; a node that stops is fenced and its partitions move; it
// comes back, catches up from its position and owns a share again.
func TestReplicatedLog(t *testing.T) {
	c := startCluster(t, 3)
	eps := &endpointTenants{m: map[wal.ID]string{}}
	rs := make([]*replica, 3)
	for i := range rs {
		rs[i] = startReplica(t, c, i, eps)
	}
	waitMembers(t, rs, "n0", "n1", "n2")

	tenants := make([]string, 12)
	endpoints := make([]wal.ID, len(tenants))
	owned := map[string]int{}
	for i := range tenants {
		tenants[i] = fmt.Sprintf("tenant-%d", i)
		endpoints[i] = wal.NewID()
		eps.m[endpoints[i]] = tenants[i]
		owned[ownerOf(t, rs, tenants[i]).name]++
	}
	t.Logf("tenants per owner: %v", owned)
	ids := map[string]wal.ID{}
	for i, tenant := range tenants {
		own := ownerOf(t, rs, tenant)
		res, err := appendEvent(own, tenant, endpoints[i], "k-"+tenant)
		if err != nil || res.Duplicate {
			t.Fatalf("owner %s appending for %s: %+v %v", own.name, tenant, res, err)
		}
		ids[tenant] = res.ID
		for _, r := range rs {
			if r == own {
				continue
			}
			_, err := appendEvent(r, tenant, endpoints[i], "other-"+tenant)
			if !errors.Is(err, wal.ErrReplicaRefused) {
				t.Fatalf("%s is not %s's owner and appended: %v", r.name, tenant, err)
			}
			err = r.store.RecordAttempt(&wal.Move{Endpoint: endpoints[i], Event: res.ID, Attempt: wal.Attempt{Attempt: 1, Outcome: wal.OutcomeSuccess, TimeMs: 1, Status: 200}})
			if !errors.Is(err, wal.ErrReplicaRefused) {
				t.Fatalf("%s is not %s's owner and recorded an outcome: %v", r.name, tenant, err)
			}
		}
		err = own.store.RecordAttempt(&wal.Move{Endpoint: endpoints[i], Event: res.ID, Attempt: wal.Attempt{Attempt: 1, Outcome: wal.OutcomeRetry, TimeMs: 1, NextMs: 99, Status: 500}})
		if err != nil {
			t.Fatalf("owner %s recording: %v", own.name, err)
		}
	}
	waitSame(t, rs)
	for _, r := range rs[1:] {
		if got, want := r.dump(), rs[0].dump(); got != want {
			t.Fatalf("%s holds %s, n0 %s", r.name, got, want)
		}
	}

	// n2 stops without leaving; the others fence it and take its share.
	retry(t, "read the stream", func(ctx context.Context) error {
		info, err := rs[0].log.js.Stream(ctx, logStream)
		if err == nil {
			t.Logf("log stream leader: %s", info.CachedInfo().Cluster.Leader)
		}
		return err
	})
	stopped := time.Now()
	rs[2].close()
	t.Logf("n2's replica closed in %s", time.Since(stopped).Round(time.Millisecond))
	c.stop(2)
	t.Logf("n2's server stopped in %s", time.Since(stopped).Round(time.Millisecond))
	waitMembers(t, rs[:2], "n0", "n1")
	t.Logf("n2 fenced %s after it stopped", time.Since(stopped).Round(time.Millisecond))
	for i, tenant := range tenants {
		own := ownerOf(t, rs[:2], tenant)
		dup, err := appendEvent(own, tenant, endpoints[i], "k-"+tenant)
		if err != nil || !dup.Duplicate || dup.ID != ids[tenant] {
			t.Fatalf("%s after the failover: %+v %v, want the first event %s", tenant, dup, err, ids[tenant])
		}
		res, err := appendEvent(own, tenant, endpoints[i], "after-"+tenant)
		if err != nil || !ids[tenant].Less(res.ID) {
			t.Fatalf("%s after the failover on %s: %+v %v", tenant, own.name, res, err)
		}
	}

	// n2 comes back on its directory: it catches up, joins, and the
	// three hold the same again.
	c.start(2)
	rs[2] = startReplica(t, c, 2, eps)
	waitMembers(t, rs, "n0", "n1", "n2")
	waitSame(t, rs)
	for _, r := range rs[1:] {
		if got, want := r.dump(), rs[0].dump(); got != want {
			t.Fatalf("%s holds %s, n0 %s", r.name, got, want)
		}
	}
	for i, tenant := range tenants {
		own := ownerOf(t, rs, tenant)
		if _, err := appendEvent(own, tenant, endpoints[i], "back-"+tenant); err != nil {
			t.Fatalf("%s on %s after n2 rejoined: %v", tenant, own.name, err)
		}
	}
}
