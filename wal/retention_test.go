package wal

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// retentionGen is one generation of records: events fanned out to every
// endpoint, each delivery left in another state, idempotency keys and an
// audit record.
type retentionGen struct {
	events []ID
	keys   []string
	audit  ID
}

// writeGen writes a generation: delivery (i, endpoint j) succeeds, dies,
// waits for a retry or stays queued by (i+j)%4.
func writeGen(t *testing.T, l *Log, name string, eps []ID) retentionGen {
	t.Helper()
	var g retentionGen
	for i := 0; i < 4; i++ {
		ev := mkEvent("acme", fmt.Appendf(nil, "%s-%d", name, i), eps...)
		ev.IdempotencyKey = fmt.Sprintf("%s-key-%d", name, i)
		id := appendOne(t, l, ev).ID
		g.events, g.keys = append(g.events, id), append(g.keys, ev.IdempotencyKey)
		for j, ep := range eps {
			m := &Move{Endpoint: ep, Event: id, Attempt: Attempt{Attempt: 1, TimeMs: 1000}}
			switch (i + j) % 4 {
			case 0:
				m.Attempt.Outcome = OutcomeSuccess
			case 1:
				m.Attempt.Outcome = OutcomeDead
			case 2:
				m.Attempt.Outcome, m.Attempt.NextMs = OutcomeRetry, 1<<40
			case 3:
				continue
			}
			require_NoError(t, l.RecordAttempt(m))
		}
	}
	var err error
	g.audit, err = l.AppendAudit([]byte(name))
	require_NoError(t, err)
	return g
}

// cutoffBetween returns a time after everything written so far and before
// everything written after it returns.
func cutoffBetween() int64 {
	time.Sleep(3 * time.Millisecond)
	ms := time.Now().UnixMilli()
	time.Sleep(3 * time.Millisecond)
	return ms
}

// snapshot is what a test compares across an Expire.
type snapshot struct {
	queued  map[ID][]ID
	retries []Retry
}

func takeSnapshot(t *testing.T, l *Log, eps []ID) snapshot {
	t.Helper()
	s := snapshot{queued: map[ID][]ID{}, retries: retries(t, l)}
	for _, ep := range eps {
		s.queued[ep] = queued(t, l, ep)
	}
	return s
}

func TestRetentionExpire(t *testing.T) {
	l, _ := openLog(t, nil)
	eps := []ID{testEndpoint(1), testEndpoint(2), testEndpoint(3)}
	old := writeGen(t, l, "old", eps)
	cutoff := cutoffBetween()
	young := writeGen(t, l, "young", eps)
	before := takeSnapshot(t, l, eps)
	attemptsOf := func(ep, ev ID) int {
		n := 0
		require_NoError(t, l.ScanAttempts(ep, ev, func(*Attempt) error { n++; return nil }))
		return n
	}
	youngAttempts := map[[2]ID]int{}
	for _, ep := range eps {
		for _, ev := range young.events {
			youngAttempts[[2]ID{ep, ev}] = attemptsOf(ep, ev)
		}
	}

	st, err := l.Expire(context.Background(), cutoff)
	require_NoError(t, err)
	// e, l, x; a for each endpoint; d for each endpoint (every one has a
	// dead letter in each generation); f for the one tenant.
	require_Equal(t, st, ExpireStats{Ranges: 3 + len(eps) + len(eps) + 1, IdempotencyKeys: len(old.events)})

	var r EventRecord
	var buf EventBuf
	for _, ev := range old.events {
		require_Error(t, l.ReadEvent(ev, &r, &buf), ErrNotFound)
		for _, ep := range eps {
			require_Equal(t, attemptsOf(ep, ev), 0)
		}
	}
	for i, ev := range young.events {
		require_Equal(t, string(readEvent(t, l, ev).Body), fmt.Sprintf("young-%d", i))
		for _, ep := range eps {
			require_Equal(t, attemptsOf(ep, ev), youngAttempts[[2]ID{ep, ev}])
		}
	}
	for _, ep := range eps {
		for _, d := range dead(t, l, ep) {
			require_True(t, !d.Event.Less(young.events[0]), "dead letter of expired event %s is left", d.Event)
		}
		require_Equal(t, len(dead(t, l, ep)), 1)
	}
	// Live deliveries stay, old ones included: the engine counts them.
	require_DeepEqual(t, takeSnapshot(t, l, eps), before)
	c := counts(t, l)
	require_Equal(t, c.Events, len(young.events))
	require_Equal(t, c.IdempotencyKeys, len(young.keys))
	require_Equal(t, c.IdempotencyIndex, len(young.keys))
	require_Equal(t, c.Audit, 1)
	var audit []ID
	require_NoError(t, l.ScanAudit(ID{}, func(id ID, _ []byte) bool { audit = append(audit, id); return true }))
	require_DeepEqual(t, audit, []ID{young.audit})

	// An expired key makes a new event; a young one is still a duplicate.
	ev := mkEvent("acme", []byte("again"), eps[0])
	ev.IdempotencyKey = old.keys[0]
	require_Equal(t, appendOne(t, l, ev).Duplicate, false)
	ev.IdempotencyKey = young.keys[0]
	require_Equal(t, appendOne(t, l, ev), AppendResult{ID: young.events[0], Duplicate: true})

	// Nothing is left below the cutoff: no range deletion is written again.
	st, err = l.Expire(context.Background(), cutoff)
	require_NoError(t, err)
	require_Equal(t, st, ExpireStats{})
}

// TestRetentionKeyReused: a tenant deleted and created again may reuse an
// idempotency key; expiring the first event must not drop the second's key.
func TestRetentionKeyReused(t *testing.T) {
	l, _ := openLog(t, nil)
	ev := mkEvent("acme", []byte("first"), testEndpoint(1))
	ev.IdempotencyKey = "order-1"
	first := appendOne(t, l, ev).ID
	require_NoError(t, l.DeleteTenant("acme"))
	cutoff := cutoffBetween()
	second := appendOne(t, l, ev)
	require_True(t, !second.Duplicate && second.ID != first, "the key survived its tenant")

	st, err := l.Expire(context.Background(), cutoff)
	require_NoError(t, err)
	require_Equal(t, st.IdempotencyKeys, 0)
	require_Equal(t, appendOne(t, l, ev), AppendResult{ID: second.ID, Duplicate: true})
	c := counts(t, l)
	require_Equal(t, c.IdempotencyKeys, 1)
	require_Equal(t, c.IdempotencyIndex, 1)
}

// TestRetentionManyKeys crosses the point-delete batch size.
func TestRetentionManyKeys(t *testing.T) {
	l, _ := openLog(t, nil)
	const n = expireChunk + 100
	evs := make([]AppendEvent, n)
	for i := range evs {
		evs[i] = mkEvent("acme", []byte("x"))
		evs[i].IdempotencyKey = fmt.Sprint("key-", i)
	}
	require_NoError(t, l.Append(evs, make([]AppendResult, n)))
	cutoff := cutoffBetween()
	st, err := l.Expire(context.Background(), cutoff)
	require_NoError(t, err)
	require_Equal(t, st, ExpireStats{Ranges: 3, IdempotencyKeys: n}) // e, x, f
	require_Equal(t, counts(t, l), Counts{})
}

func TestRetentionClosed(t *testing.T) {
	l, _ := openLog(t, nil)
	require_NoError(t, l.Close())
	_, err := l.Expire(context.Background(), time.Now().UnixMilli())
	require_Error(t, err, ErrClosed)
}

// TestRetentionIndexesOldKeys: a store whose idempotency keys predate the x
// index gets their x entries when opened, so they expire like new ones.
func TestRetentionIndexesOldKeys(t *testing.T) {
	l, dir := openLog(t, nil)
	const n = expireChunk + 10
	evs := make([]AppendEvent, n)
	for i := range evs {
		evs[i] = mkEvent("acme", []byte("x"))
		evs[i].IdempotencyKey = fmt.Sprint("key-", i)
	}
	require_NoError(t, l.Append(evs, make([]AppendResult, n)))
	// What an older version wrote: the keys, no index, no marker.
	require_NoError(t, l.db.DeleteRange([]byte{kindIdemIndex}, []byte{kindIdemIndex + 1}, nil))
	require_NoError(t, l.db.Delete(metaIdemIndexed, nil))
	require_Equal(t, counts(t, l).IdempotencyIndex, 0)
	require_NoError(t, l.Close())

	l = reopenLog(t, dir, nil)
	require_Equal(t, counts(t, l).IdempotencyIndex, n)
	cutoff := cutoffBetween()
	st, err := l.Expire(context.Background(), cutoff)
	require_NoError(t, err)
	require_Equal(t, st.IdempotencyKeys, n)
	require_Equal(t, counts(t, l).IdempotencyKeys, 0)
	// The marker stays: the next open reads no key.
	require_NoError(t, l.Close())
	l = reopenLog(t, dir, nil)
	_, closer, err := l.db.Get(metaIdemIndexed)
	require_NoError(t, err)
	require_NoError(t, closer.Close())
}
