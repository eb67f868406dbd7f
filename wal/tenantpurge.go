package wal

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
)

// kindPurge keys the deleted tenants whose events still wait for removal:
// u <tenant> -> the fence taken at the deletion (16 bytes). The event log
// mixes every tenant's events; the tenant's feed index (f <tenant> 0x00
// <event id>) lists them, so the removal walks it below the fence.
const kindPurge = 'u'

func purgeKey(tenant string) []byte {
	return append([]byte{kindPurge}, tenant...)
}

// metaIDFloor is the last fence (see Fence): event IDs stay above it.
var metaIDFloor = []byte{kindMeta, 'i', 'd', '-', 'f', 'l', 'o', 'o', 'r'}

// purgeChunk bounds the events one purge batch removes, so the removal of
// a large tenant never builds one huge batch and yields between batches.
const purgeChunk = 1024

// PendingPurges calls fn for every deleted tenant whose events still wait
// for removal, with the fence below which they lie, in tenant order.
func (l *Log) PendingPurges(fn func(tenant string, below ID)) error {
	if !l.enter() {
		return ErrClosed
	}
	defer l.exit()
	return l.scan([]byte{kindPurge}, func(k, v []byte) {
		var below ID
		if len(v) != len(below) {
			return // not written by DeleteTenant: nothing to go by
		}
		copy(below[:], v)
		fn(string(k[1:]), below)
	})
}

// PurgeTenant removes the events of deleted tenant below the fence below,
// with their feed index entries and their idempotency index entries (x;
// the i keys went with the deletion), in batches of purgeChunk, and
// then the u record if it still holds below (a later deletion of the same
// name raises it, and the next call goes on to the new fence). It returns
// how many events it removed. It is resumable: what a crash or ctx
// interrupts, the next call finds in the feed index again. Its writes
// commit without fsync, as a lost one is redone by the next call.
func (l *Log) PurgeTenant(ctx context.Context, tenant string, below ID) (int, error) {
	if !l.enter() {
		return 0, ErrClosed
	}
	defer l.exit()
	prefix := feedKey(nil, tenant, ID{})[:len(tenant)+2]
	lower := bytes.Clone(prefix)
	upper := feedKey(nil, tenant, below)
	total := 0
	b := l.db.NewBatch()
	defer func() { _ = b.Close() }()
	var key []byte
	for {
		n, last, err := l.purgeChunk(b, prefix, lower, upper)
		if err == nil && n > 0 {
			err = b.Commit(pebble.NoSync)
		}
		if err != nil {
			return total, fmt.Errorf("cannot remove events of deleted tenant %q: %w", tenant, err)
		}
		total += n
		if n < purgeChunk {
			break
		}
		// Go on after the last key removed, not over its tombstones.
		key = feedKey(key[:0], tenant, last)
		lower = append(key, 0)
		b.Reset()
		if err := ctx.Err(); err != nil {
			return total, err
		}
	}
	// Drop the u record only while it still names this fence: a deletion
	// of the same name since then wrote a newer one, still to do.
	l.purgeMu.Lock()
	defer l.purgeMu.Unlock()
	v, closer, err := l.db.Get(purgeKey(tenant))
	if errors.Is(err, pebble.ErrNotFound) {
		return total, nil
	}
	if err != nil {
		return total, fmt.Errorf("cannot read the removal record of tenant %q: %w", tenant, err)
	}
	same := bytes.Equal(v, below[:])
	_ = closer.Close()
	if !same {
		return total, nil
	}
	if err := l.db.Delete(purgeKey(tenant), pebble.NoSync); err != nil {
		return total, fmt.Errorf("cannot delete the removal record of tenant %q: %w", tenant, err)
	}
	return total, nil
}

// purgeChunk adds to b the deletion of up to purgeChunk events listed in
// the feed index between lower and upper, with their index entries, and
// returns how many and the last one's ID.
func (l *Log) purgeChunk(b *pebble.Batch, prefix, lower, upper []byte) (int, ID, error) {
	var last ID
	it, err := l.db.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return 0, last, err
	}
	n := 0
	var key []byte
	for ok := it.First(); ok && n < purgeChunk; ok = it.Next() {
		k := it.Key()
		if len(k) != len(prefix)+16 {
			continue
		}
		var id ID
		copy(id[:], k[len(prefix):])
		_ = b.Delete(k, nil)
		key = eventKey(key[:0], id)
		_ = b.Delete(key, nil)
		key = idemIndexKey(key[:0], id)
		_ = b.Delete(key, nil)
		last = id
		n++
	}
	err = it.Error()
	if cerr := it.Close(); err == nil {
		err = cerr
	}
	return n, last, err
}
