package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/nats-io/nats.go"

	"hookline/engine"
	"hookline/engine/access"
	"hookline/engine/cluster"
	"hookline/engine/inbound"
	"hookline/internal/config"
	"hookline/wal"
)

// clusterNode is what cluster mode (docs/cluster.md) runs beside the
// engine: the embedded NATS server (or a connection to an existing NATS
// cluster), the replicated log the store is a replica of, the heartbeats,
// and the follower that loads config changes made on other nodes.
type clusterNode struct {
	cfg    config.Cluster
	name   string
	base   string // this node's API, as the others reach it
	logger *slog.Logger

	nats *cluster.Node // nil with nats_url
	nc   *nats.Conn
	log  *cluster.Log
	live atomic.Pointer[cluster.Liveness]

	eng     atomic.Pointer[engine.Engine]
	changes chan wal.ConfigChange
	missed  atomic.Bool // a change did not fit in changes: reload everything
	stop    chan struct{}
	done    chan struct{}
	closed  sync.Once
}

// startClusterNode starts the NATS side and waits until the cluster's log
// exists, which needs a quorum of the nodes up.
func startClusterNode(cfg *config.Config, logger *slog.Logger, durability wal.Durability) (*clusterNode, error) {
	c := &clusterNode{cfg: cfg.Cluster, logger: logger, name: cfg.Cluster.NodeName, base: cfg.Cluster.Advertise,
		changes: make(chan wal.ConfigChange, 4096), stop: make(chan struct{}), done: make(chan struct{})}
	if c.name == "" {
		h, err := os.Hostname()
		if err != nil {
			return nil, fmt.Errorf("cluster.node_name is empty and the host name is unknown: %w", err)
		}
		c.name = h
	}
	if c.base == "" {
		c.base = "http://" + cfg.Listen
	}
	var err error
	if cfg.Cluster.NATSURL != "" {
		c.nc, err = nats.Connect(cfg.Cluster.NATSURL, nats.Name("hookline "+c.name), nats.MaxReconnects(-1))
		if err != nil {
			return nil, fmt.Errorf("cannot connect to NATS at cluster.nats_url: %w", err)
		}
	} else {
		var sync time.Duration
		if durability == wal.DurabilityOS {
			sync = wal.OSSyncInterval
		}
		c.nats, err = cluster.StartNode(cluster.NodeOptions{
			Name: c.name, ClusterName: "hookline", Dir: filepath.Join(cfg.Data, "nats"),
			ClientAddr: cfg.Cluster.NATSListen, RouteAddr: cfg.Cluster.RoutesListen, Routes: cfg.Cluster.Routes,
			RouteAdvertise: cfg.Cluster.RoutesAdvertise,
			SyncInterval:   sync,
		})
		if err != nil {
			return nil, err
		}
		c.nc, err = c.nats.Connect(nats.Name("hookline "+c.name), nats.MaxReconnects(-1))
		if err != nil {
			c.nats.Close()
			return nil, fmt.Errorf("cannot connect to the embedded NATS server: %w", err)
		}
	}
	opts := cluster.LogOptions{
		Name: c.name, Addr: c.base, Conn: c.nc, Replicas: cfg.Cluster.Replicas, MaxAge: cfg.Retention.MaxAge,
		EndpointTenant: func(id wal.ID) (string, bool) {
			if e := c.eng.Load(); e != nil {
				return e.EndpointTenant(id)
			}
			return "", false
		},
		Logf: func(format string, args ...any) { logger.Info(fmt.Sprintf(format, args...)) },
	}
	for start := time.Now(); ; {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		c.log, err = cluster.NewLog(ctx, opts)
		cancel()
		if err == nil {
			return c, nil
		}
		logger.Info("waiting for a quorum of the cluster's nodes", "node", c.name, "waited", time.Since(start).Round(time.Second).String(), "err", err)
		time.Sleep(time.Second)
	}
}

// attach makes store (at dir) a replica of the log, caught up with it,
// and returns it; when the log can no longer bring it up to date, it
// returns a copy of another node's store put in its place (opened with
// open).
func (c *clusterNode) attach(store *wal.Log, dir string, open func(dir string) (*wal.Log, error)) (*wal.Log, error) {
	// Copying a large store may take a while.
	rctx, rcancel := context.WithTimeout(context.Background(), time.Hour)
	store, err := c.log.Restore(rctx, store, dir, open)
	rcancel()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	store.SetConfigHook(func(ch wal.ConfigChange) {
		select {
		case c.changes <- ch:
		default:
			c.missed.Store(true)
		}
	})
	if err := c.log.Start(ctx, store); err != nil {
		_ = store.Close()
		return nil, err
	}
	return store, nil
}

// registerMetrics adds the cluster's gauges to set (docs/metrics.md).
func (c *clusterNode) registerMetrics(set *metrics.Set) {
	set.NewGauge(`hookline_cluster_healthy`, func() float64 {
		if c.Healthy() {
			return 1
		}
		return 0
	})
	set.NewGauge(`hookline_cluster_members`, func() float64 { return float64(c.log.MemberCount()) })
	set.NewGauge(`hookline_cluster_partitions_owned`, func() float64 {
		n := 0
		for p := range cluster.Partitions {
			if c.log.Owns(p) {
				n++
			}
		}
		return float64(n)
	})
	set.NewGauge(`hookline_cluster_log_applied`, func() float64 { return float64(c.log.Applied()) })
	if c.nats != nil {
		set.NewGauge(`hookline_cluster_log_leader`, func() float64 {
			if c.nats.LeadsLog() {
				return 1
			}
			return 0
		})
	}
}

// run starts the heartbeats, joins the cluster and follows config changes.
func (c *clusterNode) run(eng *engine.Engine, acc *access.Access, rc *inbound.Receiver) error {
	c.eng.Store(eng)
	live, err := cluster.StartLiveness(c.log)
	if err != nil {
		return err
	}
	c.live.Store(live)
	go c.follow(eng, acc, rc)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := c.log.Join(ctx); err != nil {
		return fmt.Errorf("cannot join the cluster: %w", err)
	}
	c.logger.Info("joined the cluster", "node", c.name, "advertise", c.base)
	return nil
}

// follow loads what other nodes changed in the config into this node's
// memory: the tenants first, as sources and keys of unknown tenants are
// left out.
func (c *clusterNode) follow(eng *engine.Engine, acc *access.Access, rc *inbound.Receiver) {
	defer close(c.done)
	for {
		var first wal.ConfigChange
		select {
		case <-c.stop:
			return
		case first = <-c.changes:
		}
		batch := []wal.ConfigChange{first}
		// Changes come in bursts (a tenant's deletion): load once for all.
		timer := time.NewTimer(10 * time.Millisecond)
	gather:
		for {
			select {
			case ch := <-c.changes:
				batch = append(batch, ch)
			case <-timer.C:
				break gather
			}
		}
		tenants := map[string]bool{}
		var sources, creds bool
		if c.missed.Swap(false) {
			for _, id := range eng.TenantIDs() {
				tenants[id] = true
			}
			if ids, err := eng.StoredTenantIDs(); err == nil {
				for _, id := range ids {
					tenants[id] = true
				}
			}
			sources, creds = true, true
		}
		for _, ch := range batch {
			switch ch.Kind {
			case wal.ConfigTenant:
				tenants[string(ch.Key)] = true
			case wal.ConfigEndpoint:
				if len(ch.Key) == len(wal.ID{}) {
					if t, ok := eng.EndpointRecordTenant(wal.ID(ch.Key)); ok {
						tenants[t] = true
					}
				}
			case wal.ConfigEventType:
				if i := bytes.IndexByte(ch.Key, 0); i > 0 {
					tenants[string(ch.Key[:i])] = true
				}
			case wal.ConfigSource:
				sources = true
			case wal.ConfigAPIKey, wal.ConfigPortalSession:
				creds = true
			}
		}
		for t := range tenants {
			if err := eng.ReloadTenant(t); err != nil && !errors.Is(err, wal.ErrClosed) {
				c.logger.Error("cannot load a tenant changed on another node", "tenant", t, "err", err)
			}
		}
		if sources || len(tenants) > 0 {
			if err := rc.Reload(); err != nil && !errors.Is(err, wal.ErrClosed) {
				c.logger.Error("cannot load sources changed on another node", "err", err)
			}
		}
		if creds || len(tenants) > 0 {
			if err := acc.Reload(); err != nil && !errors.Is(err, wal.ErrClosed) {
				c.logger.Error("cannot load credentials changed on another node", "err", err)
			}
		}
	}
}

// leave hands this node's partitions to the others at once, rather than
// when they notice its heartbeats stopped.
func (c *clusterNode) leave() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.log.Leave(ctx); err != nil {
		c.logger.Warn("cannot leave the cluster; the others take over when its heartbeats stop", "err", err)
	}
}

// close stops what start and run started; the store is closed after it.
func (c *clusterNode) close() {
	c.closed.Do(func() {
		if l := c.live.Load(); l != nil {
			l.Close()
			close(c.stop)
			<-c.done
		}
		c.log.Close()
		c.nc.Close()
		if c.nats != nil {
			c.nats.Close()
		}
	})
}

// Owns and Healthy are engine.Cluster's.
func (c *clusterNode) Owns(tenant string) bool { return c.log.Owns(cluster.PartitionOf(tenant)) }

func (c *clusterNode) Healthy() bool {
	l := c.live.Load()
	return l != nil && l.Healthy()
}

// Node is httpin.ClusterRouter's.
func (c *clusterNode) Node() string { return c.name }

// Owner is httpin.ClusterRouter's.
func (c *clusterNode) Owner(tenant string) (base string, incarnation uint64, self, ok bool) {
	if c.Owns(tenant) {
		return c.base, 0, true, true
	}
	_, base, incarnation, ok = c.log.Owner(tenant)
	return base, incarnation, false, ok
}
