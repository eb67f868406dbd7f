package engine

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"hookline/wal"
)

// Cluster is what the engine asks of cluster mode (engine/cluster,
// docs/cluster.md); nil on a single node. The store is then a replica of
// the cluster's log: every node holds every tenant, and one node at a
// time, the owner of the tenant's partition, publishes its events and
// delivers them.
type Cluster interface {
	// Owns reports whether this node owns tenant's partition now.
	Owns(tenant string) bool
	// Healthy reports whether this node hears a majority of the cluster:
	// a node that does not must stop delivering before the others take
	// its partitions over.
	Healthy() bool
}

// ErrNotOwner is returned by a write for a tenant another node owns: the
// API forwards such requests to the owner.
var ErrNotOwner = errors.New("engine: another node owns this tenant")

// clusterWatchEvery is how often the engine compares what it owns with
// what its lanes run: well under the time the others wait before taking a
// silent node's partitions over (cluster.FenceAfter).
const clusterWatchEvery = 50 * time.Millisecond

// gates hold, per tenant, whether this node delivers its endpoints now.
// A lane keeps its tenant's gate for life; the map only grows (one bool
// per tenant name ever seen).
type gates struct {
	mu sync.Mutex
	m  map[string]*atomic.Bool
}

func (g *gates) get(tenant string) *atomic.Bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.m == nil {
		g.m = map[string]*atomic.Bool{}
	}
	b := g.m[tenant]
	if b == nil {
		b = new(atomic.Bool)
		g.m[tenant] = b
	}
	return b
}

// gateFor is the gate of tenant's lanes: nil on a single node, where
// every lane always delivers.
func (e *Engine) gateFor(tenant string) *atomic.Bool {
	if e.opts.Cluster == nil {
		return nil
	}
	return e.gates.get(tenant)
}

// endpointDelivering reports whether endpoint id's gate is open (true on
// a single node, and for an endpoint this node does not know). It takes
// no lock but the gates' own: the scheduler asks under its mutex.
func (e *Engine) endpointDelivering(id wal.ID) bool {
	if e.opts.Cluster == nil {
		return true
	}
	tenant, ok := e.EndpointTenant(id)
	return !ok || e.gates.get(tenant).Load()
}

// owns reports whether this node writes tenant's delivery state now.
func (e *Engine) owns(tenant string) bool {
	return e.opts.Cluster == nil || e.opts.Cluster.Owns(tenant)
}

// gateWait bounds how long a write for a tenant this node owns waits for
// the tenant's gate to open (clusterWatchEvery after the move, usually).
const gateWait = time.Second

// writable reports whether this node may take writes for tenant now: it
// owns the tenant and the tenant's gate is open. A gate opens after the
// lanes' counters are recounted from the store, and a publish counted
// before that recount would be counted away: between the two, the write
// waits for the gate.
//
// An unknown tenant, or an engine that stopped watching the gates, is not
// waited for: the write fails on its own terms (tenant_not_found,
// shutting_down).
func (e *Engine) writable(tenant string) bool {
	if e.opts.Cluster == nil {
		return true
	}
	if !e.opts.Cluster.Owns(tenant) {
		return false
	}
	if _, ok := e.incarnation(tenant); !ok {
		return true
	}
	g := e.gates.get(tenant)
	deadline := time.Now().Add(gateWait)
	for !g.Load() {
		select {
		case <-e.clusterStop:
			return true
		default:
		}
		if !e.opts.Cluster.Owns(tenant) || time.Now().After(deadline) {
			return false
		}
		time.Sleep(5 * time.Millisecond)
	}
	return true
}

// watchCluster opens and closes the tenants' gates as ownership and
// health change. A gate that opens makes its lanes read their queues from
// the start and loads their retries; the others' outcomes were applied to
// the store meanwhile, not to this node's memory.
func (e *Engine) watchCluster(stop <-chan struct{}) {
	t := time.NewTicker(clusterWatchEvery)
	defer t.Stop()
	for {
		e.syncGates()
		select {
		case <-stop:
			return
		case <-t.C:
		}
	}
}

func (e *Engine) syncGates() {
	healthy := e.opts.Cluster.Healthy()
	var opened, closed []*Lane
	var opening, closing []string
	e.cfgMu.RLock()
	for id, ts := range e.tenants {
		open := healthy && e.opts.Cluster.Owns(id)
		g := e.gates.get(id)
		if g.Load() == open {
			continue
		}
		if open {
			opening = append(opening, id)
			opened = append(opened, ts.lanes...)
		} else {
			g.Store(false)
			closing = append(closing, id)
			closed = append(closed, ts.lanes...)
		}
	}
	e.cfgMu.RUnlock()
	for _, ln := range closed {
		ln.kick()
	}
	e.gateJobs(nil, closing)
	if len(opening) == 0 {
		return
	}
	// The counters first: a fifo lane holds new deliveries back while its
	// retrying count says a retry is due, which it must know before it
	// runs. The retries after: the scheduler drops those of closed gates.
	if depths, err := e.log.QueueDepths(); err == nil {
		for _, ln := range opened {
			d := depths[ln.id]
			ln.depth.Store(int64(d.Queued + d.Retrying))
			ln.retrying.Store(int64(d.Retrying))
		}
	} else if !errors.Is(err, wal.ErrClosed) {
		e.logger.Error("cannot count the queues of partitions taken over", "err", err)
	}
	eps := make(map[wal.ID]bool, len(opened))
	for _, ln := range opened {
		eps[ln.id] = true
	}
	e.sched.reloadFor(eps, func() {
		for _, id := range opening {
			e.gates.get(id).Store(true)
		}
	})
	// The lanes again, now: one made meanwhile behind the closed gate is
	// parked and would wait for a kick that nothing else sends. (Its
	// retries: a new endpoint has none.)
	opened = opened[:0]
	e.cfgMu.RLock()
	for _, id := range opening {
		if ts := e.tenants[id]; ts != nil {
			opened = append(opened, ts.lanes...)
		}
	}
	e.cfgMu.RUnlock()
	for _, ln := range opened {
		ln.kick()
	}
	if len(opened) > 0 {
		e.logger.Info("delivering for endpoints taken over", "endpoints", len(opened))
	}
	e.gateJobs(opening, nil)
}

// ReloadTenant makes the in-memory config of tenant (its record, its
// endpoints' lanes, its event types) what the store holds: cluster mode
// calls it when another node changed one of them.
func (e *Engine) ReloadTenant(id string) error {
	var rec []byte
	err := e.log.Tenants(func(tid string, val []byte) error {
		if tid == id {
			rec = bytes.Clone(val)
		}
		return nil
	})
	if err != nil {
		return err
	}
	type epRec struct {
		id wal.ID
		ep Endpoint
	}
	var eps []epRec
	err = endpointRecords.Load(e.log, e.opts.Secrets, e.logger, func(eid wal.ID, ep *Endpoint) error {
		if ep.Tenant == id {
			eps = append(eps, epRec{eid, *ep})
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("cannot load endpoints of tenant %q: %w", id, err)
	}
	types := map[string]*eventTypeEntry{}
	err = e.log.ScanEventTypes(func(tenant, typ string, val []byte) {
		if tenant != id {
			return
		}
		if en := e.decodeEventType(tenant, typ, val); en != nil {
			types[typ] = en
		}
	})
	if err != nil {
		return err
	}

	var stopped []*Lane
	defer func() {
		for _, ln := range stopped {
			ln.stop()
		}
	}()
	e.cfgMu.Lock()
	defer e.cfgMu.Unlock()
	ts := e.tenants[id]
	if rec == nil {
		if ts != nil {
			for _, ln := range ts.lanes {
				delete(e.lanes, ln.id)
				stopped = append(stopped, ln)
			}
			delete(e.tenants, id)
		}
		return nil
	}
	t, inc, err := decodeTenant(rec)
	if err != nil {
		return err
	}
	if ts == nil || ts.inc != inc {
		if ts != nil {
			for _, ln := range ts.lanes {
				delete(e.lanes, ln.id)
				stopped = append(stopped, ln)
			}
		}
		ts = e.newTenantState(t, inc)
		e.tenants[id] = ts
	} else {
		ts.t = t
	}
	ts.types = types
	lanes := make([]*Lane, 0, len(eps))
	for i := range eps {
		r := &eps[i]
		if r.ep.DeletedAt != nil {
			if ln := e.lanes[r.id]; ln != nil {
				delete(e.lanes, r.id)
				stopped = append(stopped, ln)
			}
			if e.deleted[r.id] == nil {
				e.deleted[r.id] = e.deletedLane(r.id, &r.ep)
			}
			continue
		}
		cfg, err := e.laneConfig(&r.ep)
		if err != nil {
			e.logger.Error("skipping endpoint with invalid config", "endpoint", r.ep.ID, "err", err)
			continue
		}
		ln := e.lanes[r.id]
		if ln == nil {
			ln = newLane(e, r.id, cfg)
			e.lanes[r.id] = ln
			ln.start()
		} else {
			ln.setConfig(cfg)
		}
		lanes = append(lanes, ln)
	}
	for _, ln := range ts.lanes {
		if !slices.Contains(lanes, ln) && e.lanes[ln.id] == ln {
			delete(e.lanes, ln.id)
			stopped = append(stopped, ln)
		}
	}
	ts.lanes = lanes
	return nil
}

// EndpointTenant names the tenant of endpoint id, deleted or not, as this
// node's memory knows it: cluster mode tags writes with it. It takes no
// lock the engine holds while it writes (an endpoint's tenant never
// changes, so the map is only added to).
func (e *Engine) EndpointTenant(id wal.ID) (string, bool) {
	t, ok := e.epTenants.Load(id)
	if !ok {
		return "", false
	}
	return t.(string), true
}

// EndpointRecordTenant names the tenant of endpoint id from memory, or
// from its stored record when this node has not loaded it yet (another
// node just created it).
func (e *Engine) EndpointRecordTenant(id wal.ID) (string, bool) {
	if t, ok := e.EndpointTenant(id); ok {
		return t, true
	}
	var tenant string
	_ = endpointRecords.Load(e.log, e.opts.Secrets, e.logger, func(eid wal.ID, ep *Endpoint) error {
		if eid == id {
			tenant = ep.Tenant
		}
		return nil
	})
	return tenant, tenant != ""
}

// TenantIDs lists the tenants in memory.
func (e *Engine) TenantIDs() []string {
	e.cfgMu.RLock()
	defer e.cfgMu.RUnlock()
	ids := make([]string, 0, len(e.tenants))
	for id := range e.tenants {
		ids = append(ids, id)
	}
	return ids
}

// StoredTenantIDs lists the tenants in the store.
func (e *Engine) StoredTenantIDs() ([]string, error) {
	var ids []string
	err := e.log.Tenants(func(id string, _ []byte) error {
		ids = append(ids, id)
		return nil
	})
	return ids, err
}
