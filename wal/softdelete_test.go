package wal

import (
	"bytes"
	"testing"
)

// TestSoftDeleteEndpoint: the record is replaced and the queue, replayed
// marks and health go in one batch; the attempt log, dead letters and
// corrections stay, the other endpoint is untouched, and DeleteEndpoint
// then removes the rest.
func TestSoftDeleteEndpoint(t *testing.T) {
	l, dir := openLog(t, nil)
	ep, other := testEndpoint(1), testEndpoint(2)
	require_NoError(t, l.PutEndpoint(ep, []byte(`{"secret":"s3cr3t"}`)))
	require_NoError(t, l.PutEndpoint(other, []byte(`{"secret":"other"}`)))
	evs := make([]ID, 4)
	for i := range evs {
		evs[i] = appendOne(t, l, mkEvent("acme", []byte(`{}`), ep, other)).ID
	}
	// evs[0] succeeded, evs[1] is dead and replayed with a correction,
	// evs[2] is dead, evs[3] is still queued.
	require_NoError(t, l.RecordAttempt(&Move{Endpoint: ep, Event: evs[0], Attempt: Attempt{Attempt: 1, Outcome: OutcomeSuccess, Status: 200}}))
	for _, ev := range evs[1:3] {
		require_NoError(t, l.RecordAttempt(&Move{Endpoint: ep, Event: ev, Attempt: Attempt{Attempt: 1, Outcome: OutcomeDead, Status: 400}}))
	}
	require_NoError(t, l.Replay(ep, evs[1], 1, 5000, true, false, []byte(`{"fixed":true}`)))
	require_NoError(t, l.PutHealth([]HealthHour{{Endpoint: ep, Hour: 7, Value: []byte("h")}, {Endpoint: other, Hour: 7, Value: []byte("h")}}))
	health := func(id ID) int {
		n := 0
		require_NoError(t, l.ScanHealth(id, 0, 100, func(uint32, []byte) { n++ }))
		return n
	}
	attempts := func(id ID, ev ID) int {
		n := 0
		require_NoError(t, l.ScanAttempts(id, ev, func(*Attempt) error { n++; return nil }))
		return n
	}
	list := func(status string) int {
		n := 0
		_, err := l.ListDeliveries(DeliveryQuery{Endpoint: ep, Status: status}, func(*Delivery) bool { n++; return true })
		require_NoError(t, err)
		return n
	}
	require_Equal(t, list(StatusPending), 2) // the queued one and the replay

	require_NoError(t, l.SoftDeleteEndpoint(ep, []byte(`{"deleted_at":"x"}`)))
	check := func() {
		t.Helper()
		records := map[ID][]byte{}
		require_NoError(t, l.Endpoints(func(id ID, v []byte) error { records[id] = bytes.Clone(v); return nil }))
		require_Equal(t, string(records[ep]), `{"deleted_at":"x"}`)
		require_Equal(t, string(records[other]), `{"secret":"other"}`)
		require_Equal(t, len(queued(t, l, ep)), 0)
		require_Equal(t, len(queued(t, l, other)), 4)
		require_Equal(t, list(StatusPending), 0)
		require_Equal(t, health(ep), 0)
		require_Equal(t, health(other), 1)
		require_Equal(t, attempts(ep, evs[0]), 1)
		require_Equal(t, attempts(ep, evs[1]), 2) // the dead attempt and the replay's placeholder
		require_Equal(t, len(dead(t, l, ep)), 1)
		_, ok, err := l.Correction(ep, evs[1], nil)
		require_NoError(t, err)
		require_True(t, ok, "the correction went with the soft delete")
	}
	check()
	require_NoError(t, l.CompactEndpoint(ep))
	require_NoError(t, l.Close())
	l = reopenLog(t, dir, nil)
	check()

	require_NoError(t, l.DeleteEndpoint(ep))
	n := 0
	require_NoError(t, l.Endpoints(func(id ID, _ []byte) error { n++; return nil }))
	require_Equal(t, n, 1)
	require_Equal(t, attempts(ep, evs[0]), 0)
	require_Equal(t, len(dead(t, l, ep)), 0)
}
