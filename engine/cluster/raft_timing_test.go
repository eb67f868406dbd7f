package cluster

import (
	"fmt"
	"os"
	"testing"
	"time"
)

// TestMain checks, before any test starts a server, that the timings
// setRaftTiming writes are nats-server's own variables: a local variable
// of the same name would still hold zero here, and the servers would
// keep their 4-9 s elections while the tests passed.
func TestMain(m *testing.M) {
	if natsHeartbeat != time.Second || natsMinElection != 4*time.Second || natsMaxElection != 9*time.Second {
		fmt.Fprintf(os.Stderr, "nats-server's Raft timings are not linked: heartbeat %s, election %s-%s\n", natsHeartbeat, natsMinElection, natsMaxElection)
		os.Exit(1)
	}
	os.Exit(m.Run())
}
