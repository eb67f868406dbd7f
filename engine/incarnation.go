package engine

import (
	"context"
	"errors"
	"fmt"

	"github.com/bytedance/sonic"

	"hookline/wal"
)

// Incarnations: a tenant deleted and created again under the same name is a
// new tenant, and nothing the old one wrote is reachable through it. How it
// works:
//  1. Creating a tenant takes a fence (wal.Log.Fence) under cfgMu: an event
//     ID that no event has, above every event committed so far and below
//     every one to come. It is the tenant's incarnation, stored in its
//     record. Records written before incarnations existed have none: zero,
//     below every event.
//  2. Every event of a tenant was appended while it existed: publishes hold
//     cfgMu for reading until their batch commits, and DeleteTenant takes
//     it for writing. So an event of the tenant's name with an ID below the
//     incarnation belongs to an earlier tenant, and every read by tenant
//     treats it as absent: GetEvent, the feed, backfill scans.
//  3. Deleting a tenant removes at once, with range deletions, its
//     idempotency keys (a new tenant's first publish with an old key is
//     not a duplicate) and its event-type catalogue; the endpoints and
//     their queues, attempt logs and dead letters go as before.
//  4. Its events and their feed entries stay behind, below a second fence
//     taken at the deletion and recorded with it (u <tenant> in the wal),
//     and the purge goroutine removes them in the background, in batches,
//     holding no engine lock (wal.Log.PurgeTenant). The record stays until
//     the removal ends, so a restart resumes it. Retention removes the
//     same events once they pass its age; each of the two removes what the
//     other has not, and either alone is enough.
//  5. Bulk jobs are deleted after the tenant (they must stop first); a job
//     record a crash left behind carries its tenant's incarnation, and
//     loadJobs deletes one whose tenant is gone or of another incarnation.
//
// Endpoints and sources need no incarnation of their own: their IDs are
// new ULIDs at each creation (NewConfigID for endpoints, random for
// sources) and everything they own is keyed by that ID, so a new one never
// reaches an old one's queue, attempt log, health or request log.

// tenantRecord is a tenant as stored: the API view and its incarnation.
type tenantRecord struct {
	Tenant
	Incarnation string `json:"incarnation,omitempty"`
}

func encodeTenant(t *Tenant, inc wal.ID) ([]byte, error) {
	rec := tenantRecord{Tenant: *t}
	if !inc.IsZero() {
		rec.Incarnation = inc.String()
	}
	b, err := sonic.Marshal(&rec)
	if err != nil {
		return nil, fmt.Errorf("cannot encode tenant %q: %w", t.ID, err)
	}
	return b, nil
}

func decodeTenant(val []byte) (Tenant, wal.ID, error) {
	var rec tenantRecord
	if err := sonic.Unmarshal(val, &rec); err != nil {
		return Tenant{}, wal.ID{}, err
	}
	var inc wal.ID
	if rec.Incarnation != "" {
		id, err := wal.ParseID(rec.Incarnation)
		if err != nil {
			return Tenant{}, wal.ID{}, fmt.Errorf("incarnation: %w", err)
		}
		inc = id
	}
	return rec.Tenant, inc, nil
}

// incarnation returns tenant's incarnation; ok is false when it does not
// exist.
func (e *Engine) incarnation(tenant string) (inc wal.ID, ok bool) {
	e.cfgMu.RLock()
	defer e.cfgMu.RUnlock()
	ts := e.tenants[tenant]
	if ts == nil {
		return wal.ID{}, false
	}
	return ts.inc, true
}

// purger runs the background removal of deleted tenants' events.
type purger struct {
	wake   chan struct{}
	cancel context.CancelFunc
	done   chan struct{}
}

func (e *Engine) startPurge() {
	ctx, cancel := context.WithCancel(context.Background())
	e.purge.wake = make(chan struct{}, 1)
	e.purge.cancel, e.purge.done = cancel, make(chan struct{})
	go e.purgeLoop(ctx)
}

func (e *Engine) stopPurge() {
	e.purge.cancel()
	<-e.purge.done
}

// wakePurge tells the purge goroutine that a tenant was deleted.
func (e *Engine) wakePurge() {
	select {
	case e.purge.wake <- struct{}{}:
	default:
	}
}

func (e *Engine) purgeLoop(ctx context.Context) {
	defer close(e.purge.done)
	for {
		e.purgePass(ctx)
		select {
		case <-e.purge.wake:
		case <-ctx.Done():
			return
		}
	}
}

// purgePass removes the events of every deleted tenant that has some left,
// until none has: a tenant deleted again meanwhile gets a newer record,
// which the next round finds.
func (e *Engine) purgePass(ctx context.Context) {
	type pending struct {
		tenant string
		below  wal.ID
	}
	for ctx.Err() == nil {
		var ps []pending
		err := e.log.PendingPurges(func(tenant string, below wal.ID) { ps = append(ps, pending{tenant, below}) })
		if err == nil && len(ps) == 0 {
			return
		}
		for _, p := range ps {
			if err != nil {
				break
			}
			var n int
			n, err = e.log.PurgeTenant(ctx, p.tenant, p.below)
			if err == nil {
				e.logger.Info("removed the events of a deleted tenant", "tenant", p.tenant, "events", n)
			}
		}
		if err != nil {
			if !errors.Is(err, wal.ErrClosed) && ctx.Err() == nil {
				e.logger.Error("cannot remove a deleted tenant's events; the next deletion or restart retries", "err", err)
			}
			return
		}
	}
}
