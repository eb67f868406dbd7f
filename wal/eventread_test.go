package wal

import (
	"bytes"
	"fmt"
	"testing"
)

// TestReadRawEvents reads a sparse, ordered set of events (one endpoint's
// share of a log, some bodies compressed, some IDs absent) from the
// memtable and again from sstables, and checks each record decodes to
// what ReadEvent returns.
func TestReadRawEvents(t *testing.T) {
	l, _ := openLog(t, &Options{CompressAbove: 256})
	var want []ID
	for i := range 300 {
		body := []byte(fmt.Sprintf(`{"n":%d}`, i))
		if i%7 == 0 {
			body = bytes.Repeat(body, 100) // compressed
		}
		id := appendOne(t, l, mkEvent(fmt.Sprintf("t%d", i%3), body)).ID
		if i%3 == 0 {
			want = append(want, id)
		}
	}
	// Records gone (as retention removes them): the first, one between,
	// and an ID above the last that was never stored.
	isMissing := map[ID]bool{want[0]: true, want[5]: true}
	for id := range isMissing {
		require_NoError(t, l.db.Delete(eventKey(nil, id), nil))
	}
	above := NewID()
	want = append(want, above)
	isMissing[above] = true

	check := func(where string) {
		t.Helper()
		var raw RawEvents
		require_NoError(t, l.ReadRawEvents(want, &raw))
		require_Equal(t, raw.Len(), len(want))
		var r EventRecord
		var buf EventBuf
		for i, id := range want {
			rec := raw.Get(i)
			if isMissing[id] {
				require_True(t, rec == nil, "%s: a missing event has a record", where)
				continue
			}
			require_True(t, rec != nil, "%s: event %d not read", where, i)
			require_NoError(t, l.DecodeEvent(id, rec, &r, &buf))
			w := readEvent(t, l, id)
			require_Equal(t, r.ID, id)
			require_Equal(t, r.TimeMs, w.TimeMs)
			require_Bytes(t, r.Tenant, w.Tenant)
			require_Bytes(t, r.Type, w.Type)
			require_Bytes(t, r.Body, w.Body)
		}
		require_True(t, raw.Get(len(want)) == nil, "%s: a record past the end", where)
		// A second read into the same RawEvents starts afresh.
		require_NoError(t, l.ReadRawEvents(want[1:2], &raw))
		require_Equal(t, raw.Len(), 1)
		require_NoError(t, l.DecodeEvent(want[1], raw.Get(0), &r, &buf))
		require_Bytes(t, r.Body, readEvent(t, l, want[1]).Body)
	}
	check("memtable")
	require_NoError(t, l.db.Flush())
	check("sstables")

	var raw RawEvents
	require_NoError(t, l.ReadRawEvents(nil, &raw))
	require_Equal(t, raw.Len(), 0)
	require_NoError(t, l.Close())
	require_Error(t, l.ReadRawEvents(want, &raw), ErrClosed)
}

// TestDecodeEventCorrupt: a record that does not decode is an error, as
// from ReadEvent.
func TestDecodeEventCorrupt(t *testing.T) {
	l, _ := openLog(t, nil)
	var r EventRecord
	var buf EventBuf
	for _, val := range [][]byte{nil, {recordVersion}, {9, 0, 1, 0, 0}, {recordVersion, flagZstd, 1, 0, 0, 'x'}} {
		require_Error(t, l.DecodeEvent(NewID(), val, &r, &buf), errCorrupt)
	}
}
