package wal

import (
	"context"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
)

// Config records (tenants, endpoints) are small and rare: they are written
// with fsync one at a time, and loaded whole at start-up.

// PutTenant stores the config record of tenant id.
func (l *Log) PutTenant(id string, val []byte) error {
	if !l.enter() {
		return ErrClosed
	}
	defer l.exit()
	if err := l.setOne(tenantKey(nil, id), val); err != nil {
		return fmt.Errorf("cannot store tenant %q: %w", id, err)
	}
	return nil
}

// DeleteTenant removes tenant id, its idempotency keys, its event-type
// catalogue and its published counts, and leaves its events and its feed index to the background
// removal (see PurgeTenant): it takes a fence (see Fence) and records, in
// the same batch as the deletion, u <tenant> -> the fence: every event of
// the tenant lies below it. The caller deletes the tenant's endpoints
// first, and appends no event of the tenant from the call on.
func (l *Log) DeleteTenant(id string) error {
	if !l.enter() {
		return ErrClosed
	}
	defer l.exit()
	below, err := l.Fence()
	if err != nil {
		return fmt.Errorf("cannot delete tenant %q: %w", id, err)
	}
	b := l.db.NewBatch()
	defer b.Close()
	_ = b.Delete(tenantKey(nil, id), nil)
	idem := idempotencyKey(nil, id, "")
	_ = b.DeleteRange(idem, prefixEnd(idem), nil)
	types := eventTypeKey(id, "")
	_ = b.DeleteRange(types, prefixEnd(types), nil)
	published := publishedPrefix(nil, id)
	_ = b.DeleteRange(published, prefixEnd(published), nil)
	// A purge still pending from an earlier deletion of the same name lies
	// below this fence too: one record covers both.
	_ = b.Set(purgeKey(id), below[:], nil)
	l.purgeMu.Lock()
	defer l.purgeMu.Unlock()
	if err := l.commit(b, pebble.Sync); err != nil {
		return fmt.Errorf("cannot delete tenant %q: %w", id, err)
	}
	return nil
}

// Tenants calls fn for every tenant record in id order; val is valid only
// during fn.
func (l *Log) Tenants(fn func(id string, val []byte) error) error {
	if !l.enter() {
		return ErrClosed
	}
	defer l.exit()
	var ferr error
	err := l.scan([]byte{kindTenant}, func(k, v []byte) {
		if ferr == nil {
			ferr = fn(string(k[1:]), v)
		}
	})
	if err != nil {
		return err
	}
	return ferr
}

// PutEndpoint stores the config record of endpoint id.
func (l *Log) PutEndpoint(id ID, val []byte) error {
	if !l.enter() {
		return ErrClosed
	}
	defer l.exit()
	if err := l.setOne(endpointKey(nil, id), val); err != nil {
		return fmt.Errorf("cannot store endpoint %s: %w", id, err)
	}
	return nil
}

// DeleteEndpoint removes endpoint id with its queue, attempt log, dead
// letters and hourly health. Its retry entries are spread over the retry
// index by due time; they are dropped when they come due and find no
// endpoint.
func (l *Log) DeleteEndpoint(id ID) error {
	if !l.enter() {
		return ErrClosed
	}
	defer l.exit()
	b := l.db.NewBatch()
	defer b.Close()
	_ = b.Delete(endpointKey(nil, id), nil)
	for _, kind := range []byte{kindQueue, kindDead, kindAttempt, kindReplayed, kindHealth, kindCorrection} {
		p := append([]byte{kind}, id[:]...)
		_ = b.DeleteRange(p, prefixEnd(p), nil)
	}
	if err := l.commit(b, pebble.Sync); err != nil {
		return fmt.Errorf("cannot delete endpoint %s: %w", id, err)
	}
	return nil
}

// SoftDeleteEndpoint replaces endpoint id's record with val (the engine's
// record of a deleted endpoint, without its secrets) and removes, in the
// same synced batch, what would deliver or describe it as live: its queue,
// its replayed marks and its hourly health. Its attempt log, dead letters
// and corrections stay for retention to expire; its retry entries are
// dropped when they come due and find no live endpoint. DeleteEndpoint
// removes the record once its history is gone.
func (l *Log) SoftDeleteEndpoint(id ID, val []byte) error {
	if !l.enter() {
		return ErrClosed
	}
	defer l.exit()
	b := l.db.NewBatch()
	defer b.Close()
	_ = b.Set(endpointKey(nil, id), val, nil)
	for _, kind := range []byte{kindQueue, kindReplayed, kindHealth} {
		p := append([]byte{kind}, id[:]...)
		_ = b.DeleteRange(p, prefixEnd(p), nil)
	}
	if err := l.commit(b, pebble.Sync); err != nil {
		return fmt.Errorf("cannot delete endpoint %s: %w", id, err)
	}
	return nil
}

// CompactEndpoint writes the memtable out and compacts endpoint id's
// record, so the versions it replaced (a deleted endpoint's sealed
// secrets) leave the store's files rather than wait for Pebble's own
// compactions. One flush per call: for rare changes, not a hot path.
func (l *Log) CompactEndpoint(id ID) error {
	if !l.enter() {
		return ErrClosed
	}
	defer l.exit()
	if err := l.db.Flush(); err != nil {
		return fmt.Errorf("cannot flush for endpoint %s: %w", id, err)
	}
	k := endpointKey(nil, id)
	if err := l.db.Compact(context.Background(), k, prefixEnd(k), true); err != nil {
		return fmt.Errorf("cannot compact endpoint %s: %w", id, err)
	}
	return nil
}

// DeleteRetry removes one retry entry, e.g. one whose endpoint is gone.
func (l *Log) DeleteRetry(r Retry) error {
	if !l.enter() {
		return ErrClosed
	}
	defer l.exit()
	b := l.db.NewBatch()
	defer b.Close()
	_ = b.Delete(retryKey(nil, r.DueMs, r.Endpoint, r.Event), nil)
	if err := l.commit(b, pebble.NoSync); err != nil {
		return fmt.Errorf("cannot delete retry of event %s to endpoint %s: %w", r.Event, r.Endpoint, err)
	}
	return nil
}

// Endpoints calls fn for every endpoint record in id order; val is valid
// only during fn.
func (l *Log) Endpoints(fn func(id ID, val []byte) error) error {
	return l.records(kindEndpoint, "endpoint", fn)
}

// records calls fn for every record of a kind keyed by its id alone, in
// id order, until fn fails.
func (l *Log) records(kind byte, what string, fn func(id ID, val []byte) error) error {
	if !l.enter() {
		return ErrClosed
	}
	defer l.exit()
	var ferr error
	err := l.scan([]byte{kind}, func(k, v []byte) {
		if ferr != nil {
			return
		}
		if len(k) != 17 {
			ferr = fmt.Errorf("%w: %s key of %d bytes", errCorrupt, what, len(k))
			return
		}
		var id ID
		copy(id[:], k[1:])
		ferr = fn(id, v)
	})
	if err != nil {
		return err
	}
	return ferr
}
