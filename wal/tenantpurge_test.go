package wal

import (
	"context"
	"errors"
	"fmt"
	"testing"
)

// purgeAll runs every pending tenant removal to its end.
func purgeAll(t testing.TB, l *Log) {
	t.Helper()
	for {
		type purge struct {
			tenant string
			below  ID
		}
		var ps []purge
		require_NoError(t, l.PendingPurges(func(tenant string, below ID) { ps = append(ps, purge{tenant, below}) }))
		if len(ps) == 0 {
			return
		}
		for _, p := range ps {
			_, err := l.PurgeTenant(context.Background(), p.tenant, p.below)
			require_NoError(t, err)
		}
	}
}

// TestFence: a fence lies between the events before and after it, and
// stays below later events after a reopen.
func TestFence(t *testing.T) {
	l, dir := openLog(t, nil)
	before := appendOne(t, l, mkEvent("a", nil)).ID
	f, err := l.Fence()
	require_NoError(t, err)
	after := appendOne(t, l, mkEvent("a", nil)).ID
	require_True(t, before.Less(f) && f.Less(after), "fence %s not between %s and %s", f, before, after)
	f2, err := l.Fence()
	require_NoError(t, err)
	require_True(t, after.Less(f2), "fence %s not after %s", f2, after)
	require_NoError(t, l.Close())

	// The floor is on disk: the generator starts above the last fence even
	// with no event after it.
	l = reopenLog(t, dir, nil)
	require_True(t, !l.ids.last.Less(f2), "after reopen the generator is at %s, below the fence %s", l.ids.last, f2)
	require_True(t, f2.Less(appendOne(t, l, mkEvent("a", nil)).ID), "an event after reopen is below the fence")
	require_NoError(t, l.Close())
	_, err = l.Fence()
	require_Error(t, err, ErrClosed)
}

// TestPurgeTenant: a deleted tenant's events, feed and idempotency index go
// in the background, across a reopen, and nothing of a tenant created again
// under the same name or of another tenant goes with them.
func TestPurgeTenant(t *testing.T) {
	l, dir := openLog(t, nil)
	n := purgeChunk + 10 // more than one batch
	evs := make([]AppendEvent, n)
	for i := range evs {
		evs[i] = mkEvent("acme", []byte("old"))
		evs[i].IdempotencyKey = fmt.Sprint("k", i)
	}
	old := make([]AppendResult, n)
	require_NoError(t, l.Append(evs, old))
	other := appendOne(t, l, mkEvent("acme2", []byte("other"))).ID
	require_NoError(t, l.DeleteTenant("acme"))
	// Deleted at once: the idempotency keys; the events wait.
	c := counts(t, l)
	require_Equal(t, c.IdempotencyKeys, 0)
	require_Equal(t, c.Events, n+1)
	fresh := appendOne(t, l, evs[0])
	require_True(t, !fresh.Duplicate, "the deleted tenant's key made a duplicate")

	require_NoError(t, l.Close())
	l = reopenLog(t, dir, nil)
	var pending []string
	require_NoError(t, l.PendingPurges(func(tenant string, below ID) {
		pending = append(pending, tenant)
		require_True(t, old[n-1].ID.Less(below) && below.Less(fresh.ID), "fence %s is not between the old and new events", below)
	}))
	require_DeepEqual(t, pending, []string{"acme"})
	purgeAll(t, l)

	for _, r := range old {
		var rec EventRecord
		var buf EventBuf
		require_Error(t, l.ReadEvent(r.ID, &rec, &buf), ErrNotFound)
	}
	require_Equal(t, string(readEvent(t, l, other).Body), "other")
	require_Equal(t, string(readEvent(t, l, fresh.ID).Body), "old")
	require_DeepEqual(t, feedIDs(t, l, "acme", ID{}, 10), []ID{fresh.ID})
	c = counts(t, l)
	require_Equal(t, c.Events, 2)
	require_Equal(t, c.IdempotencyKeys, 1)
	require_Equal(t, c.IdempotencyIndex, 1)
	require_Equal(t, appendOne(t, l, evs[0]), AppendResult{ID: fresh.ID, Duplicate: true})
	pending = nil
	require_NoError(t, l.PendingPurges(func(tenant string, _ ID) { pending = append(pending, tenant) }))
	require_Equal(t, len(pending), 0)
}

// TestPurgeTenantDeletedAgain: a purge that finishes after the tenant was
// deleted a second time leaves the newer record, which covers the events
// of both.
func TestPurgeTenantDeletedAgain(t *testing.T) {
	l, _ := openLog(t, nil)
	first := appendOne(t, l, mkEvent("acme", nil)).ID
	require_NoError(t, l.DeleteTenant("acme"))
	var below ID
	require_NoError(t, l.PendingPurges(func(_ string, b ID) { below = b }))
	second := appendOne(t, l, mkEvent("acme", nil)).ID
	require_NoError(t, l.DeleteTenant("acme"))
	_, err := l.PurgeTenant(context.Background(), "acme", below)
	require_NoError(t, err)
	var rec EventRecord
	var buf EventBuf
	require_Error(t, l.ReadEvent(first, &rec, &buf), ErrNotFound)
	require_NoError(t, l.ReadEvent(second, &rec, &buf))
	purgeAll(t, l)
	err = l.ReadEvent(second, &rec, &buf)
	require_True(t, errors.Is(err, ErrNotFound), "the second incarnation's event survived: %v", err)
}
