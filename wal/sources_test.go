package wal

import (
	"context"
	"testing"
)

// TestSourcesAndInboundLog: source records round-trip; a source's request
// log lists newest first from a cursor, holds only its own records, is cut
// by retention, and goes with its source.
func TestSourcesAndInboundLog(t *testing.T) {
	l, dir := openLog(t, nil)
	a, b := testEndpoint(1), testEndpoint(2)
	require_NoError(t, l.PutSource(a, []byte(`{"a":1}`)))
	require_NoError(t, l.PutSource(b, []byte(`{"b":1}`)))
	var reqs []ID
	for i := range 3 {
		r := NewID()
		reqs = append(reqs, r)
		require_NoError(t, l.LogInbound(a, r, []byte{byte('0' + i)}))
		require_NoError(t, l.LogInbound(b, NewID(), []byte("other")))
		cutoffBetween() // distinct milliseconds, so the order is the IDs'
	}
	cutoff := cutoffBetween()
	late := NewID()
	require_NoError(t, l.LogInbound(a, late, []byte("late")))

	l.Close()
	l = reopenLog(t, dir, nil)
	n := 0
	require_NoError(t, l.Sources(func(id ID, val []byte) error { n++; return nil }))
	require_Equal(t, n, 2)
	list := func(before ID) string {
		var s string
		require_NoError(t, l.ScanInbound(a, before, func(_ ID, rec []byte) bool { s += string(rec) + ","; return true }))
		return s
	}
	require_Equal(t, list(ID{}), "late,2,1,0,")
	require_Equal(t, list(reqs[2]), "1,0,")
	rec, err := l.GetInbound(a, reqs[1])
	require_NoError(t, err)
	require_Equal(t, string(rec), "1")
	_, err = l.GetInbound(a, NewID())
	require_True(t, err == ErrNotFound, "missing record: %v", err)

	_, err = l.Expire(context.Background(), cutoff)
	require_NoError(t, err)
	require_Equal(t, list(ID{}), "late,")
	require_NoError(t, l.DeleteSource(a))
	require_Equal(t, list(ID{}), "")
	n = 0
	require_NoError(t, l.Sources(func(id ID, val []byte) error { n++; return nil }))
	require_Equal(t, n, 1)
}

// TestRejectedRequests: a source's rejected requests are listed with its
// other requests, in arrival order, read by id, trimmed to the newest
// few, expired at their own cutoff (ExpireRejected) and at the log's
// (Expire), and go with their source.
func TestRejectedRequests(t *testing.T) {
	l, dir := openLog(t, nil)
	a, b := testEndpoint(1), testEndpoint(2)
	var ids []ID
	var want string
	for i := range 6 {
		r := l.NewConfigID()
		ids = append(ids, r)
		rec := []byte{byte('0' + i)}
		if i%2 == 0 {
			require_NoError(t, l.LogInbound(a, r, rec))
		} else {
			require_NoError(t, l.LogRejected(a, r, append([]byte("r"), rec...)))
			require_NoError(t, l.LogRejected(b, l.NewConfigID(), []byte("other")))
		}
		want = string(rec) + "," + want
		if i%2 == 1 {
			want = "r" + want
		}
	}
	list := func(before ID) string {
		t.Helper()
		var s string
		require_NoError(t, l.ScanInbound(a, before, func(_ ID, rec []byte) bool { s += string(rec) + ","; return true }))
		return s
	}
	require_Equal(t, list(ID{}), "r5,4,r3,2,r1,0,")
	require_Equal(t, list(ids[4]), "r3,2,r1,0,")
	require_Equal(t, list(ids[3]), "2,r1,0,")
	n := 0
	require_NoError(t, l.ScanInbound(a, ID{}, func(ID, []byte) bool { n++; return n < 2 }))
	require_Equal(t, n, 2)
	rec, err := l.GetInbound(a, ids[3])
	require_NoError(t, err)
	require_Equal(t, string(rec), "r3")

	// Trimming keeps the newest; keeping more than there are removes none.
	kept, err := l.TrimRejected(a, 5)
	require_NoError(t, err)
	require_Equal(t, kept, 3)
	kept, err = l.TrimRejected(a, 2)
	require_NoError(t, err)
	require_Equal(t, kept, 2)
	require_Equal(t, list(ID{}), "r5,4,r3,2,0,")
	_, err = l.GetInbound(a, ids[1])
	require_True(t, err == ErrNotFound, "a trimmed record: %v", err)
	kept, err = l.TrimRejected(a, 2)
	require_NoError(t, err)
	require_Equal(t, kept, 2)
	kept, err = l.TrimRejected(a, 0)
	require_NoError(t, err)
	require_Equal(t, kept, 0)
	require_Equal(t, list(ID{}), "4,2,0,")

	// Rejected requests expire at their own cutoff; the others stay.
	require_NoError(t, l.LogRejected(a, l.NewConfigID(), []byte("old")))
	cutoff := cutoffBetween()
	require_NoError(t, l.LogRejected(a, l.NewConfigID(), []byte("young")))
	n, err = l.ExpireRejected(context.Background(), cutoff)
	require_NoError(t, err)
	require_Equal(t, n, 2) // sources a and b
	require_Equal(t, list(ID{}), "young,4,2,0,")
	n, err = l.ExpireRejected(context.Background(), cutoff)
	require_NoError(t, err)
	require_Equal(t, n, 0)

	l.Close()
	l = reopenLog(t, dir, nil)
	require_Equal(t, list(ID{}), "young,4,2,0,")
	_, err = l.Expire(context.Background(), cutoffBetween())
	require_NoError(t, err)
	require_Equal(t, list(ID{}), "")
	require_NoError(t, l.LogRejected(a, l.NewConfigID(), []byte("late")))
	require_NoError(t, l.DeleteSource(a))
	require_Equal(t, list(ID{}), "")
}
