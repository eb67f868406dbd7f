package cluster

import (
	"sync"
	"time"
	_ "unsafe" // go:linkname
)

// JetStream's Raft groups elect a new leader when a follower has heard
// nothing from the old one for a random 4-9 s, and nats-server has no
// option for it: tuned for clusters across regions. A hookline cluster
// sits on one network, and every write waits for the log's leader, so
// after its leader dies nothing is written (not even the record that
// takes its partitions over) until the election ends. With heartbeats
// every 500 ms and elections after 2-4 s of silence, a dead leader is
// replaced while the others' heartbeats (FenceAfter, 3 s) are still
// deciding the node is gone. These only bind embedded servers; a NATS
// cluster of its own (--nats-url) keeps its defaults, which
// docs/cluster.md says.
//
// The names are nats-server's, pinned by the version in go.mod. A
// version that renamed them would not fail to build: these would become
// variables of our own that no server reads. TestMain in this package
// checks, before any server starts, that they hold nats-server's
// defaults, so such a version fails the tests.

//go:linkname natsHeartbeat github.com/nats-io/nats-server/v2/server.hbInterval
var natsHeartbeat time.Duration

//go:linkname natsMinElection github.com/nats-io/nats-server/v2/server.minElectionTimeout
var natsMinElection time.Duration

//go:linkname natsMaxElection github.com/nats-io/nats-server/v2/server.maxElectionTimeout
var natsMaxElection time.Duration

// Raft timings of the embedded servers (see above).
const (
	RaftHeartbeat   = 500 * time.Millisecond
	RaftMinElection = 2 * time.Second
	RaftMaxElection = 4 * time.Second
)

var raftTimingOnce sync.Once

// setRaftTiming sets the timings once, before the first server starts:
// they are read without locks by every Raft group.
func setRaftTiming() {
	raftTimingOnce.Do(func() {
		natsHeartbeat, natsMinElection, natsMaxElection = RaftHeartbeat, RaftMinElection, RaftMaxElection
	})
}
