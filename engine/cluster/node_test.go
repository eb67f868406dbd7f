package cluster

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"hookline/internal/testproxy"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// eventually bounds waits for what must happen (a Raft election, a
// catch-up): a guard against a hang on a loaded machine, not a speed bound.
const eventually = 2 * time.Minute

type testCluster struct {
	t      *testing.T
	routes []string
	dirs   []string
	nodes  []*Node
}

// startCluster starts n nodes. Their route ports are picked free and then
// bound by the servers, so another process may take one in between: a
// failed start is retried on new ports a few times.
func startCluster(t *testing.T, n int) *testCluster {
	t.Helper()
	c := &testCluster{t: t, nodes: make([]*Node, n)}
	for range n {
		c.dirs = append(c.dirs, t.TempDir())
	}
	t.Cleanup(c.closeAll)
	var err error
	for try := 0; try < 5; try++ {
		c.routes = testproxy.FreeAddrs(t, n)
		for i := 0; i < n && err == nil; i++ {
			err = c.tryStart(i)
		}
		if err == nil {
			return c
		}
		c.closeAll()
	}
	t.Fatalf("cannot start %d nodes: %v", n, err)
	return nil
}

func (c *testCluster) closeAll() {
	for i, nd := range c.nodes {
		if nd != nil {
			nd.Close()
			c.nodes[i] = nil
		}
	}
}

func (c *testCluster) tryStart(i int) error {
	nd, err := StartNode(NodeOptions{
		Name: fmt.Sprintf("n%d", i), ClusterName: "hl-test", Dir: c.dirs[i],
		ClientAddr: "127.0.0.1:0", RouteAddr: c.routes[i], Routes: c.routes,
	})
	if err == nil {
		c.nodes[i] = nd
	}
	return err
}

func (c *testCluster) start(i int) {
	c.t.Helper()
	if err := c.tryStart(i); err != nil {
		c.t.Fatal(err)
	}
}

func (c *testCluster) stop(i int) {
	c.nodes[i].Close()
	c.nodes[i] = nil
}

func connect(t *testing.T, url string) jetstream.JetStream {
	t.Helper()
	nc, err := nats.Connect(url, nats.MaxReconnects(-1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return js
}

// retry runs f until it succeeds or eventually passes: JetStream answers
// errors, or nothing, while its cluster forms or elects a stream leader, so
// each try gets its own context that ends.
func retry(t *testing.T, what string, f func(ctx context.Context) error) {
	t.Helper()
	deadline := time.Now().Add(eventually)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := f(ctx)
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still failing after %s: %v", what, eventually, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestClusterKeepsAcknowledgedMessages: three embedded servers form a
// JetStream cluster over loopback routes; a stream replicated to all three
// acknowledges publishes; with one node stopped (the stream's leader, the
// worst case) publishing goes on through another node; every acknowledged
// message is there; the node comes back on its directory and catches up.
func TestClusterKeepsAcknowledgedMessages(t *testing.T) {
	c := startCluster(t, 3)
	ctx := context.Background()
	js0 := connect(t, c.nodes[0].ClientURL())
	var stream jetstream.Stream
	retry(t, "creating the R3 stream", func(ctx context.Context) (err error) {
		stream, err = js0.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
			Name: "HL_EVENTS", Subjects: []string{"hl.ev.>"}, Replicas: 3, Storage: jetstream.FileStorage,
			Duplicates: 10 * time.Minute,
		})
		return err
	})

	acked := map[uint64]string{}
	publish := func(js jetstream.JetStream, from, to int) {
		t.Helper()
		for i := from; i < to; i++ {
			body := fmt.Sprintf(`{"n":%d}`, i)
			var ack *jetstream.PubAck
			retry(t, "publishing", func(ctx context.Context) (err error) {
				ack, err = js.Publish(ctx, fmt.Sprintf("hl.ev.%d", i%8), []byte(body), jetstream.WithMsgID(fmt.Sprintf("evt-%d", i)))
				return err
			})
			if ack.Duplicate {
				continue // a retry of a publish whose ack was lost
			}
			acked[ack.Sequence] = body
		}
	}
	publish(js0, 0, 200)

	// Stop the stream's leader; publish the rest through a survivor.
	var info *jetstream.StreamInfo
	retry(t, "the stream's info", func(ctx context.Context) (err error) { info, err = stream.Info(ctx); return err })
	leader := -1
	for i := range c.nodes {
		if info.Cluster != nil && info.Cluster.Leader == fmt.Sprintf("n%d", i) {
			leader = i
		}
	}
	if leader < 0 {
		t.Fatalf("no leader among the nodes: %+v", info.Cluster)
	}
	c.stop(leader)
	other := (leader + 1) % 3
	js1 := connect(t, c.nodes[other].ClientURL())
	publish(js1, 200, 400)
	if len(acked) != 400 {
		t.Fatalf("%d messages acknowledged once; want 400", len(acked))
	}
	// Every acknowledged message reads back, whole, from the survivors.
	s1, err := js1.Stream(ctx, "HL_EVENTS")
	if err != nil {
		t.Fatal(err)
	}
	for seq, body := range acked {
		var m *jetstream.RawStreamMsg
		retry(t, "reading back", func(ctx context.Context) (err error) { m, err = s1.GetMsg(ctx, seq); return err })
		if string(m.Data) != body {
			t.Fatalf("message %d is %q; want %q", seq, m.Data, body)
		}
	}
	// A publish repeated with the same id is recognised, not stored twice.
	ack, err := js1.Publish(ctx, "hl.ev.3", []byte(`{"n":3}`), jetstream.WithMsgID("evt-3"))
	if err != nil || !ack.Duplicate {
		t.Fatalf("a repeated publish id: ack %+v, err %v; want a duplicate", ack, err)
	}

	// The stopped node restarts on its directory and catches up: its own
	// replica reports every message.
	c.start(leader)
	retry(t, "the restarted node catching up", func(ctx context.Context) error {
		info, err := s1.Info(ctx)
		if err != nil {
			return err
		}
		if info.State.Msgs != 400 {
			return fmt.Errorf("stream holds %d messages", info.State.Msgs)
		}
		for _, r := range info.Cluster.Replicas {
			if r.Name == fmt.Sprintf("n%d", leader) && (!r.Current || r.Offline) {
				return fmt.Errorf("replica %s: current %v, offline %v, lag %d", r.Name, r.Current, r.Offline, r.Lag)
			}
		}
		if info.Cluster.Leader == fmt.Sprintf("n%d", leader) {
			return nil
		}
		for _, r := range info.Cluster.Replicas {
			if r.Name == fmt.Sprintf("n%d", leader) {
				return nil
			}
		}
		return fmt.Errorf("node n%d is not among the replicas: %+v", leader, info.Cluster)
	})
}

func TestStartNodeRejects(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		o    NodeOptions
		want string
	}{
		{NodeOptions{ClusterName: "c", Dir: dir, ClientAddr: "127.0.0.1:0", RouteAddr: "127.0.0.1:1"}, "needs a name"},
		{NodeOptions{Name: "a", ClusterName: "c", Dir: dir, ClientAddr: "nope", RouteAddr: "127.0.0.1:1"}, "client address"},
		{NodeOptions{Name: "a", ClusterName: "c", Dir: dir, ClientAddr: "127.0.0.1:0", RouteAddr: "127.0.0.1:0"}, "needs a fixed port"},
		{NodeOptions{Name: "a", ClusterName: "c", Dir: dir, ClientAddr: "127.0.0.1:0", RouteAddr: "127.0.0.1:x"}, "not a number"},
		{NodeOptions{Name: "a", ClusterName: "c", Dir: dir, ClientAddr: "127.0.0.1:0", RouteAddr: "127.0.0.1:1", Routes: []string{"host-without-port"}}, "route"},
	} {
		_, err := StartNode(tc.o)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("StartNode(%+v): %v; want an error containing %q", tc.o, err, tc.want)
		}
	}
}
