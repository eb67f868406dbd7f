package wal

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oklog/ulid/v2"
)

// memReplicatedLog stands in for engine/cluster's stream: it orders the
// batches of every writer and applies each to every replica, its writer's
// with Own set. Only the current writer may write; the others are refused.
type memReplicatedLog struct {
	mu       sync.Mutex
	replicas []*Log
	writer   int
	pos      uint64
}

type memReplicator struct {
	rl *memReplicatedLog
	i  int
}

func (r memReplicator) Replicate(repr []byte) error {
	rl := r.rl
	rl.mu.Lock()
	defer rl.mu.Unlock()
	if rl.writer != r.i {
		return ErrReplicaRefused
	}
	rl.pos++
	for i, l := range rl.replicas {
		// Apply does not keep repr; a copy per replica proves it.
		b := ReplicaBatch{Repr: append([]byte(nil), repr...), Own: i == r.i}
		if err := l.Apply([]ReplicaBatch{b}, rl.pos, []byte("state")); err != nil {
			return err
		}
	}
	return nil
}

func openReplicas(t *testing.T, n int) (*memReplicatedLog, []*Log) {
	t.Helper()
	rl := &memReplicatedLog{}
	for i := 0; i < n; i++ {
		l, _ := openLog(t, &Options{Replicator: memReplicator{rl, i}})
		rl.replicas = append(rl.replicas, l)
	}
	return rl, rl.replicas
}

// dump lists every key and value of l's store.
func dump(t *testing.T, l *Log) string {
	t.Helper()
	var buf bytes.Buffer
	require_NoError(t, l.scanRange([]byte{0}, []byte{0xff}, func(k, v []byte) {
		fmt.Fprintf(&buf, "%x=%x\n", k, v)
	}))
	return buf.String()
}

func TestReplicasConverge(t *testing.T) {
	rl, ls := openReplicas(t, 3)
	a, b := ls[0], ls[1]
	var hooked []string
	var hookMu sync.Mutex
	b.SetAppendHook(func(id ID, ev *AppendEvent) {
		hookMu.Lock()
		hooked = append(hooked, ev.Tenant+"/"+id.String())
		hookMu.Unlock()
	})
	ep := testEndpoint(1)
	ev := mkEvent("acme", []byte(`{"n":1}`), ep)
	ev.IdempotencyKey = "order-1"
	first := appendOne(t, a, ev)
	second := appendOne(t, a, mkEvent("acme", compressible(8000), ep))
	fence, err := a.Fence()
	require_NoError(t, err)
	require_True(t, first.ID.Less(second.ID) && second.ID.Less(fence), "IDs in order")
	require_NoError(t, a.RecordAttempt(&Move{Endpoint: ep, Event: first.ID, Attempt: Attempt{Attempt: 1, Outcome: OutcomeSuccess, TimeMs: 1, Status: 200}}))
	require_NoError(t, a.RecordAttempt(&Move{Endpoint: ep, Event: second.ID, Attempt: Attempt{Attempt: 1, Outcome: OutcomeRetry, TimeMs: 1, NextMs: 5000, Status: 500}}))
	require_NoError(t, a.Replay(ep, first.ID, 1, 7000, false, false, nil))
	ok, err := a.CancelRetry(ep, second.ID, 5000, 1, 2, false)
	require_NoError(t, err)
	require_True(t, ok, "retry cancelled")

	want := dump(t, a)
	for _, l := range ls[1:] {
		require_Equal(t, dump(t, l), want)
		pos, state, err := l.ReplicaPosition()
		require_NoError(t, err)
		require_Equal(t, pos, rl.pos)
		require_Equal(t, string(state), "state")
		require_DeepEqual(t, queued(t, l, ep), []ID(nil))
		require_Equal(t, string(readEvent(t, l, second.ID).Tenant), "acme")
	}
	hookMu.Lock()
	require_DeepEqual(t, hooked, []string{"acme/" + first.ID.String(), "acme/" + second.ID.String()})
	hookMu.Unlock()

	// A writer that is not the log's current one is refused, and nothing
	// of its batch lands anywhere.
	before := dump(t, b)
	_, err = b.Fence()
	require_Error(t, err, ErrReplicaRefused)
	var res [1]AppendResult
	require_Error(t, b.Append([]AppendEvent{mkEvent("acme", []byte(`{}`), ep)}, res[:]), ErrReplicaRefused)
	require_Equal(t, dump(t, b), before)

	// b takes over writing: it knows a's idempotency keys and answers a
	// repeat with a's event.
	rl.mu.Lock()
	rl.writer = 1
	rl.mu.Unlock()
	dup := appendOne(t, b, ev)
	require_True(t, dup.Duplicate && dup.ID == first.ID, "b answers a's key with a's event: %+v", dup)
	third := appendOne(t, b, mkEvent("acme", []byte(`{"n":3}`), ep))
	require_True(t, fence.Less(third.ID), "b's IDs are above a's fence")
	require_Equal(t, dump(t, a), dump(t, b))
}

// An ID applied from another writer whose clock runs ahead raises the
// floor of this replica's IDs: a partition's events stay in ID order
// across a change of writer.
func TestReplicaIDsStayAboveApplied(t *testing.T) {
	rl, ls := openReplicas(t, 2)
	a, b := ls[0], ls[1]
	ep := testEndpoint(2)
	ahead := ulid.ULID{}
	require_NoError(t, ahead.SetTime(ulid.Timestamp(time.Now().Add(time.Hour))))
	a.ids.last = ID(ahead) // before any append: the writer is idle
	x := appendOne(t, a, mkEvent("acme", []byte(`{}`), ep))
	require_True(t, ID(ahead).Less(x.ID), "a's ID is an hour ahead")
	rl.mu.Lock()
	rl.writer = 1
	rl.mu.Unlock()
	y := appendOne(t, b, mkEvent("acme", []byte(`{}`), ep))
	require_True(t, x.ID.Less(y.ID), "b's ID %s is above a's %s", y.ID, x.ID)
	require_DeepEqual(t, queued(t, b, ep), []ID{x.ID, y.ID})
	require_DeepEqual(t, queued(t, a, ep), []ID{x.ID, y.ID})
}

func TestApplyRejectsGarbage(t *testing.T) {
	_, ls := openReplicas(t, 1)
	before := dump(t, ls[0])
	for _, repr := range [][]byte{nil, []byte("short"), bytes.Repeat([]byte{0xff}, 40)} {
		if err := ls[0].Apply([]ReplicaBatch{{Repr: repr}}, 9, nil); err == nil {
			t.Fatalf("Apply took %x", repr)
		}
	}
	require_Equal(t, dump(t, ls[0]), before)
	pos, state, err := ls[0].ReplicaPosition()
	require_NoError(t, err)
	require_Equal(t, pos, uint64(0))
	require_Equal(t, len(state), 0)
}

func TestBatchScope(t *testing.T) {
	var reprs [][]byte
	rec := recordingReplicator{&reprs}
	l, _ := openLog(t, &Options{Replicator: rec})
	ep, ep2 := testEndpoint(3), testEndpoint(4)
	ev := mkEvent("acme", []byte(`{}`), ep, ep2)
	ev.IdempotencyKey = "k"
	res := appendOne(t, l, ev)
	require_NoError(t, l.RecordAttempt(&Move{Endpoint: ep2, Event: res.ID, Attempt: Attempt{Attempt: 1, Outcome: OutcomeRetry, TimeMs: 1, NextMs: 9}}))
	require_NoError(t, l.DeleteRetry(Retry{DueMs: 9, Endpoint: ep2, Event: res.ID}))
	// A job's record is its tenant's; its deletion is no one's.
	job := NewID()
	require_NoError(t, l.PutJob(job, []byte(`{"id":"job_x","tenant":"globex","state":"running"}`)))
	require_NoError(t, l.DeleteJob(job))
	want := []string{"acme " + ep.String() + " " + ep2.String(), ep2.String(), ep2.String(), "globex", ""}
	require_Equal(t, len(reprs), len(want))
	for i, repr := range reprs {
		tenants, eps := map[string]bool{}, map[ID]bool{}
		require_NoError(t, BatchScope(repr, func(s string) { tenants[s] = true }, func(id ID) { eps[id] = true }))
		var got []string
		for s := range tenants {
			got = append(got, s)
		}
		for _, id := range []ID{ep, ep2} {
			if eps[id] {
				got = append(got, id.String())
			}
		}
		require_Equal(t, fmt.Sprint(got), fmt.Sprint(strings.Fields(want[i])))
	}
	require_True(t, BatchScope([]byte("x"), func(string) {}, func(ID) {}) != nil, "garbage refused")
}

// recordingReplicator keeps what it is given and applies it at once.
type recordingReplicator struct{ reprs *[][]byte }

func (r recordingReplicator) Replicate(repr []byte) error {
	*r.reprs = append(*r.reprs, append([]byte(nil), repr...))
	return nil
}

func TestReplicaConfigHook(t *testing.T) {
	_, ls := openReplicas(t, 2)
	a, b := ls[0], ls[1]
	var mu sync.Mutex
	var got []string
	hook := func(c ConfigChange) {
		mu.Lock()
		got = append(got, fmt.Sprintf("%c:%s", c.Kind, c.Key))
		mu.Unlock()
	}
	a.SetConfigHook(hook) // a's own writes are not reported to it
	b.SetConfigHook(hook)
	require_NoError(t, a.PutTenant("acme", []byte(`{}`)))
	require_NoError(t, a.PutEventType("acme", "order.paid", []byte(`{}`)))
	require_NoError(t, a.DeleteEventType("acme", "order.paid"))
	require_NoError(t, a.PutAPIKey([32]byte{'h'}, []byte(`{}`)))
	var seen []string
	require_NoError(t, b.Tenants(func(id string, val []byte) error {
		seen = append(seen, id+"="+string(val))
		return nil
	}))
	require_DeepEqual(t, seen, []string{"acme={}"})
	mu.Lock()
	defer mu.Unlock()
	h := [32]byte{'h'}
	require_DeepEqual(t, got, []string{"t:acme", "c:acme\x00order.paid", "c:acme\x00order.paid", "k:" + string(h[:])})
}
