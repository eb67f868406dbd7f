// Package replicatest runs a test suite on a replicated store, as a cluster
// node's is (docs/cluster.md), when HOOKLINE_TEST_STORE=replica: every
// write of the store goes through wal's Replicator and Apply, and the
// engine runs in cluster mode as the one member, owning every tenant. make
// test runs the engine's and the API's suites that way too. Tests import
// it; the product does not.
package replicatest

import (
	"os"
	"sync"

	"hookline/wal"
)

// Enabled reports whether the suite runs on a replicated store.
func Enabled() bool { return os.Getenv("HOOKLINE_TEST_STORE") == "replica" }

// Open opens the store in dir, replicated when Enabled.
func Open(dir string, opts *wal.Options) (*wal.Log, error) {
	if !Enabled() {
		return wal.Open(dir, opts)
	}
	var o wal.Options
	if opts != nil {
		o = *opts
	}
	rep := &loopback{}
	o.Replicator = rep
	l, err := wal.Open(dir, &o)
	if err != nil {
		return nil, err
	}
	rep.l = l
	if rep.pos, _, err = l.ReplicaPosition(); err != nil {
		_ = l.Close()
		return nil, err
	}
	return l, nil
}

// loopback is a replicated log of one member: each batch is applied at
// once, in the order Replicate was called.
type loopback struct {
	mu  sync.Mutex
	l   *wal.Log
	pos uint64
}

func (r *loopback) Replicate(repr []byte) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.pos++
	return r.l.Apply([]wal.ReplicaBatch{{Repr: repr, Own: true}}, r.pos, nil)
}

// SoleOwner is the cluster of one member, for engine.Options.Cluster.
type SoleOwner struct{}

// Owns is engine.Cluster's: every tenant.
func (SoleOwner) Owns(string) bool { return true }

// Healthy is engine.Cluster's: always.
func (SoleOwner) Healthy() bool { return true }
