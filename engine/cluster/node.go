// Package cluster is hookline's cluster mode on NATS JetStream
// (docs/cluster.md): the embedded NATS server a node runs (node.go); the
// replicated log every node's store is a replica of, with its records,
// membership and the verdict that fences a writer who lost a partition
// (replog.go, record.go, members.go); and the heartbeats that decide when
// a silent node is taken out and when a node cut off stops delivering
// (liveness.go). It knows the store (wal), not the engine:
// cmd/hookline wires the two.
package cluster

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// NodeOptions configure one node's embedded NATS server.
type NodeOptions struct {
	// Name is the node's name in the cluster, unique among its nodes; it
	// names the server in JetStream's Raft groups.
	Name string
	// ClusterName is the same on every node of one cluster.
	ClusterName string
	// Dir holds JetStream's files (streams, consumers, key-value buckets).
	Dir string
	// ClientAddr is where NATS clients (this node's engine, and the
	// other tools) connect, host:port; port 0 picks a free one.
	ClientAddr string
	// RouteAddr is where the other nodes' servers connect, host:port; it
	// must be a fixed port the others are told (Routes).
	RouteAddr string
	// Routes are the other nodes' RouteAddr, host:port; a node may list
	// itself, as every node can be given the same list.
	Routes []string
	// SyncInterval is how often JetStream fsyncs what it stored; 0 means
	// every write before its acknowledgement (ingest.durability fsync).
	SyncInterval time.Duration
	// ReadyTimeout bounds the wait for the server to accept clients; 0
	// means 10 s.
	ReadyTimeout time.Duration

	// RouteAdvertise is the route address the server tells the others,
	// which they connect to when they learn of it from a third server; ""
	// means RouteAddr. Behind NAT or a proxy it is the address the others
	// reach; tests give one where nothing listens, so servers connect only
	// where Routes say: through proxies the tests can cut.
	RouteAdvertise string
}

// Node is one running embedded NATS server.
type Node struct {
	srv *server.Server
}

// StartNode starts the node's NATS server and waits until it accepts
// clients. JetStream's cluster forms once a quorum of the nodes named in
// Routes are up; until then stream operations answer errors.
func StartNode(o NodeOptions) (*Node, error) {
	if o.Name == "" || o.ClusterName == "" || o.Dir == "" {
		return nil, errors.New("cluster: a node needs a name, a cluster name and a directory")
	}
	chost, cport, err := splitAddr(o.ClientAddr)
	if err != nil {
		return nil, fmt.Errorf("cluster: client address %q: %w", o.ClientAddr, err)
	}
	rhost, rport, err := splitAddr(o.RouteAddr)
	if err != nil {
		return nil, fmt.Errorf("cluster: route address %q: %w", o.RouteAddr, err)
	}
	if rport == 0 {
		return nil, fmt.Errorf("cluster: route address %q needs a fixed port the other nodes are given", o.RouteAddr)
	}
	routes := make([]*url.URL, 0, len(o.Routes))
	for _, r := range o.Routes {
		if _, _, err := splitAddr(r); err != nil {
			return nil, fmt.Errorf("cluster: route %q: %w", r, err)
		}
		routes = append(routes, &url.URL{Scheme: "nats", Host: r})
	}
	opts := &server.Options{
		ServerName: o.Name,
		Host:       chost,
		Port:       cport,
		JetStream:  true,
		StoreDir:   o.Dir,
		Cluster: server.ClusterOpts{
			Name:      o.ClusterName,
			Host:      rhost,
			Port:      rport,
			Advertise: o.RouteAdvertise,
		},
		Routes: routes,
		NoSigs: true, // the process's signals are hookline's
		NoLog:  true,
	}
	if o.SyncInterval == 0 {
		opts.SyncAlways = true
	} else {
		opts.SyncInterval = o.SyncInterval
	}
	if cport == 0 {
		opts.Port = server.RANDOM_PORT
	}
	setRaftTiming()
	srv, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("cluster: cannot configure the NATS server: %w", err)
	}
	go srv.Start()
	ready := o.ReadyTimeout
	if ready == 0 {
		ready = 10 * time.Second
	}
	if !srv.ReadyForConnections(ready) {
		srv.Shutdown()
		return nil, fmt.Errorf("cluster: the NATS server of node %q did not accept clients within %s", o.Name, ready)
	}
	return &Node{srv: srv}, nil
}

// ClientURL is the URL NATS clients connect to.
func (n *Node) ClientURL() string { return n.srv.ClientURL() }

// LeadsLog reports whether this server leads the log's stream: the one
// every write of the cluster goes through, so the one whose death stalls
// writes for an election.
func (n *Node) LeadsLog() bool {
	return n.srv.JetStreamIsStreamLeader(n.srv.GlobalAccount().GetName(), logStream)
}

// Close shuts the server down and waits until it has.
func (n *Node) Close() {
	n.srv.Shutdown()
	n.srv.WaitForShutdown()
}

func splitAddr(addr string) (string, int, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	p, err := strconv.Atoi(port)
	if err != nil || p < 0 || p > 65535 {
		return "", 0, fmt.Errorf("port %q is not a number from 0 to 65535", port)
	}
	return host, p, nil
}

// Connect opens a NATS connection to this node's server inside the
// process, with no socket between them.
func (n *Node) Connect(opts ...nats.Option) (*nats.Conn, error) {
	return nats.Connect("", append([]nats.Option{nats.InProcessServer(n.srv)}, opts...)...)
}
