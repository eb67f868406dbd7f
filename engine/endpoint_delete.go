package engine

import (
	"context"
	"errors"
	"slices"
	"time"

	"hookline/httpout"
	"hookline/wal"
)

// Deleting an endpoint is a soft delete: its delivery history stays
// readable for the retention period. How it works:
//  1. DeleteEndpoint marks the lane deleted (no outcome is recorded from
//     then on), and in one synced batch replaces the endpoint's record with
//     its tombstone (deleted_at set, its signing secrets, auth credentials
//     and headers erased) and drops its queue, replayed marks and hourly
//     health (wal.Log.SoftDeleteEndpoint). Deliveries waiting for their
//     first attempt go with the queue; those retrying lose their retry
//     entries as they come due (the scheduler finds no live lane), and
//     the API shows them, and any replay still waiting, as cancelled.
//  2. The lane stops and leaves e.lanes and its tenant's lanes; e.deleted
//     gets a lane that never runs over the tombstone (deletedLane): publishes never fan out to it, the limit on endpoints
//     does not count it, and every call that would change or send to it
//     answers 409 endpoint_deleted, deleting it again included.
//  3. Its record, its deliveries and their attempts stay readable: GET of
//     the endpoint (with deleted_at), its delivery list and each delivery,
//     and the endpoint list with include_deleted.
//  4. The versions of the record that held the secrets leave the store's
//     files in the background (wal.Log.CompactEndpoint).
//  5. Every event it has deliveries of is older than deleted_at, so once
//     a retention pass's cutoff passes deleted_at that pass has removed
//     them all: the pass then removes the record too (purgeDeletedEndpoints).
//     Deleting the tenant removes it at once, as it does live endpoints.

// DeleteEndpoint soft-deletes the endpoint: see above.
func (e *Engine) DeleteEndpoint(ctx context.Context, tenant, epID string) error {
	e.cfgMu.Lock()
	ln, err := e.lookupLaneLocked(tenant, epID)
	if err != nil {
		e.cfgMu.Unlock()
		return err
	}
	before := ln.view()
	tomb := tombstone(ln.config().ep, time.Now().UTC())
	b, err := endpointRecords.Encode(e.opts.Secrets, &tomb)
	if err != nil {
		e.cfgMu.Unlock()
		return err
	}
	ln.markDeleted()
	if err := e.log.SoftDeleteEndpoint(ln.id, b); err != nil {
		ln.setDeleted(false)
		e.cfgMu.Unlock()
		return err
	}
	delete(e.lanes, ln.id)
	e.deleted[ln.id] = e.deletedLane(ln.id, &tomb)
	ts := e.tenants[tenant]
	ts.lanes = slices.DeleteFunc(slices.Clone(ts.lanes), func(l *Lane) bool { return l == ln })
	e.cfgMu.Unlock()
	ln.stop()
	go e.compactDeleted(ln.id)
	e.Audit(ctx, Change{Action: "endpoint.delete", Tenant: tenant, Resource: epID, Before: auditView(before)})
	return nil
}

// tombstone is what is kept of a deleted endpoint: its settings without
// anything that could authenticate to its receiver or sign for it.
// Headers go too: they may carry an API key.
func tombstone(ep Endpoint, now time.Time) Endpoint {
	ep.DeletedAt = &now
	ep.UpdatedAt = now
	ep.Secret, ep.PreviousSecrets, ep.PublicKey = "", nil, ""
	if ep.Auth != nil {
		ep.Auth = &httpout.AuthConfig{Type: ep.Auth.Type, Name: ep.Auth.Name}
	}
	ep.Headers = nil
	ep.Circuit = nil
	return ep
}

// compactDeleted pushes the versions of a deleted endpoint's record that
// held its secrets out of the store's files.
func (e *Engine) compactDeleted(id wal.ID) {
	if err := e.log.CompactEndpoint(id); err != nil && !errors.Is(err, wal.ErrClosed) {
		e.logger.Error("cannot compact a deleted endpoint's record; its sealed secrets leave with Pebble's own compactions", "endpoint", endpointPrefix+id.String(), "err", err)
	}
}

// deletedLane is what keeps a deleted endpoint readable: a lane that never
// starts, over its tombstone. It is not the endpoint's last live lane,
// whose config an attempt still under way may use as it ends.
func (e *Engine) deletedLane(id wal.ID, tomb *Endpoint) *Lane {
	ln := newLane(e, id, &laneConfig{ep: *tomb})
	ln.deleted.Store(true)
	return ln
}

// lookupEndpointLocked finds tenant's endpoint epID, live or deleted, for
// the calls that read it; the caller holds cfgMu.
func (e *Engine) lookupEndpointLocked(tenant, epID string) (*Lane, error) {
	ln, err := e.lookupLaneLocked(tenant, epID)
	var ee *Error
	if errors.As(err, &ee) && ee.Code == "endpoint_deleted" {
		id, _ := ParseEndpointID(epID)
		return e.deleted[id], nil
	}
	return ln, err
}

// deletedLaneLocked returns tenant's deleted endpoint id, if it is one.
func (e *Engine) deletedLaneLocked(tenant string, id wal.ID) *Lane {
	if ln := e.deleted[id]; ln != nil && ln.config().ep.Tenant == tenant {
		return ln
	}
	return nil
}

// endpointDeleted is the answer to a call that would change, or send to,
// a deleted endpoint.
func endpointDeleted(ep *Endpoint) error {
	return Conflict("endpoint_deleted", "endpoint %q was deleted at %s; its deliveries stay readable until retention removes them, but it cannot be changed or sent to", ep.ID, ep.DeletedAt.Format(time.RFC3339))
}

// purgeDeletedEndpoints removes the records of the endpoints deleted
// before cutoff, whose history a retention pass up to cutoff has removed.
func (e *Engine) purgeDeletedEndpoints(cutoff time.Time) {
	due := func() bool {
		for _, ln := range e.deleted {
			if at := ln.config().ep.DeletedAt; at != nil && at.Before(cutoff) {
				return true
			}
		}
		return false
	}
	// Most passes have nothing to purge: they take the write lock, which
	// publishes wait for, only when they do.
	e.cfgMu.RLock()
	found := due()
	e.cfgMu.RUnlock()
	// In cluster mode a deleted endpoint is removed by its tenant's owner;
	// the other nodes apply that removal and reload the tenant.
	if !found {
		return
	}
	e.cfgMu.Lock()
	defer e.cfgMu.Unlock()
	for id, ln := range e.deleted {
		if at := ln.config().ep.DeletedAt; at == nil || !at.Before(cutoff) || !e.owns(ln.config().ep.Tenant) {
			continue
		}
		if err := e.log.DeleteEndpoint(id); err != nil {
			if !errors.Is(err, wal.ErrClosed) {
				e.logger.Error("cannot remove a deleted endpoint; the next retention pass retries", "endpoint", endpointPrefix+id.String(), "err", err)
			}
			return
		}
		delete(e.deleted, id)
	}
}

// deleteTenantDeletedLocked removes the records of tenant's deleted
// endpoints, for the tenant's deletion; the caller holds cfgMu.
func (e *Engine) deleteTenantDeletedLocked(tenant string) error {
	for id, ln := range e.deleted {
		if ln.config().ep.Tenant != tenant {
			continue
		}
		if err := e.log.DeleteEndpoint(id); err != nil {
			return err
		}
		delete(e.deleted, id)
	}
	return nil
}
