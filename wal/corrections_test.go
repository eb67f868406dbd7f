package wal

import "testing"

// TestCorrections: a replay with a correction stores it for the delivery
// alone, across a restart; a plain replay removes it; deleting the
// endpoint removes it too.
func TestCorrections(t *testing.T) {
	l, dir := openLog(t, nil)
	ep, other := testEndpoint(1), testEndpoint(2)
	ev := appendOne(t, l, mkEvent("t", []byte(`{}`), ep, other)).ID
	correction := func(l *Log, ep ID) (string, bool) {
		t.Helper()
		b, ok, err := l.Correction(ep, ev, nil)
		require_NoError(t, err)
		return string(b), ok
	}
	anyCorrection := func(l *Log) bool {
		t.Helper()
		ok, err := l.AnyCorrection()
		require_NoError(t, err)
		return ok
	}
	require_True(t, !anyCorrection(l), "a new log has no correction")
	require_NoError(t, l.RecordAttempt(&Move{Endpoint: ep, Event: ev, Attempt: Attempt{Attempt: 1, Outcome: OutcomeDead}}))
	require_NoError(t, l.Replay(ep, ev, 1, 1000, true, false, []byte(`{"fixed":true}`)))
	got, ok := correction(l, ep)
	require_True(t, ok && got == `{"fixed":true}`, "correction %q %v", got, ok)
	_, ok = correction(l, other)
	require_True(t, !ok, "the other endpoint's delivery has no correction")
	require_True(t, anyCorrection(l), "AnyCorrection after a corrected replay")

	// The queued marker says the attempt to come is corrected.
	var marker Attempt
	require_NoError(t, l.ScanAttempts(ep, ev, func(a *Attempt) error { marker = *a; return nil }))
	require_True(t, marker.Outcome == OutcomeQueued && marker.Corrected, "marker %+v", marker)

	require_NoError(t, l.Close())
	l = reopenLog(t, dir, nil)
	got, ok = correction(l, ep)
	require_True(t, ok && got == `{"fixed":true}`, "after a restart: correction %q %v", got, ok)

	// A plain replay delivers the event as published again.
	require_NoError(t, l.RecordAttempt(&Move{Endpoint: ep, Event: ev, Attempt: Attempt{Attempt: 2, Outcome: OutcomeDead}}))
	require_NoError(t, l.Replay(ep, ev, 2, 2000, true, false, nil))
	_, ok = correction(l, ep)
	require_True(t, !ok, "a plain replay removes the correction")

	require_NoError(t, l.Replay(ep, ev, 3, 3000, false, false, []byte(`{}`)))
	require_NoError(t, l.DeleteEndpoint(ep))
	_, ok = correction(l, ep)
	require_True(t, !ok, "deleting the endpoint removes its corrections")
	require_True(t, !anyCorrection(l), "no correction left")
}
