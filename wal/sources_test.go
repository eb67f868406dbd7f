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
	require_NoError(t, l.Sources(func(id ID, val []byte) { n++ }))
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
	require_NoError(t, l.Sources(func(id ID, val []byte) { n++ }))
	require_Equal(t, n, 1)
}
