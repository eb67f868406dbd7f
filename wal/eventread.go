package wal

import (
	"fmt"

	"github.com/cockroachdb/pebble/v2"
)

// RawEvents holds stored event records read in one pass (ReadRawEvents),
// still encoded: a lane reads its backlog's events this way and each
// attempt decodes its own (DecodeEvent), off the lane's goroutine.
type RawEvents struct {
	data []byte
	// spans[i] is where record i is in data; {-1, -1} when not found.
	spans [][2]int32
}

// Get returns record i, or nil when it was not found. The slice aliases
// the RawEvents, which must not be read into again while it is used.
func (r *RawEvents) Get(i int) []byte {
	if i >= len(r.spans) || r.spans[i][0] < 0 {
		return nil
	}
	s := r.spans[i]
	return r.data[s[0]:s[1]:s[1]]
}

// Len is how many IDs the RawEvents answers for.
func (r *RawEvents) Len() int { return len(r.spans) }

// Bytes is the size of the records read.
func (r *RawEvents) Bytes() int { return len(r.data) }

// ReadRawEvents reads the records of ids, which must be in increasing
// order, into dst (reset first) with one iterator over the event range:
// a backlog drained this way loads each block once and in order, where a
// point Get per event builds an iterator per event and, once the
// memtable has flushed, decompresses a block per event (27% of the
// server's CPU while draining a burst). An id with no record (removed by
// retention) gets a nil record.
func (l *Log) ReadRawEvents(ids []ID, dst *RawEvents) error {
	dst.data, dst.spans = dst.data[:0], dst.spans[:0]
	if len(ids) == 0 {
		return nil
	}
	if !l.enter() {
		return ErrClosed
	}
	defer l.exit()
	var lower, upper, key [17]byte
	it, err := l.db.NewIter(&pebble.IterOptions{
		LowerBound: eventKey(lower[:0], ids[0]),
		UpperBound: prefixEnd(eventKey(upper[:0], ids[len(ids)-1])),
	})
	if err != nil {
		return fmt.Errorf("cannot read events: %w", err)
	}
	for _, id := range ids {
		k := eventKey(key[:0], id)
		// Seeks in increasing order: Pebble continues from where the
		// last one stopped instead of seeking from the top.
		if !it.SeekGE(k) || string(it.Key()) != string(k) {
			dst.spans = append(dst.spans, [2]int32{-1, -1})
			continue
		}
		var v []byte
		if v, err = it.ValueAndErr(); err != nil {
			break
		}
		start := int32(len(dst.data))
		dst.data = append(dst.data, v...)
		dst.spans = append(dst.spans, [2]int32{start, int32(len(dst.data))})
	}
	if err == nil {
		err = it.Error()
	}
	if cerr := it.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		dst.data, dst.spans = dst.data[:0], dst.spans[:0]
		return fmt.Errorf("cannot read events: %w", err)
	}
	return nil
}

// DecodeEvent decodes a record from ReadRawEvents into r, as ReadEvent
// would have; r's slices alias raw or buf.
func (l *Log) DecodeEvent(id ID, raw []byte, r *EventRecord, buf *EventBuf) error {
	r.ID = id
	var err error
	buf.plain, err = l.codec.decodeEvent(raw, r, buf.plain)
	if err != nil {
		return fmt.Errorf("cannot decode event %s: %w", id, err)
	}
	return nil
}

// Reserve makes room for n bytes of records, so a reader that knows the
// size of its last read does not grow data step by step.
func (r *RawEvents) Reserve(n int) {
	if cap(r.data)-len(r.data) < n {
		r.data = append(make([]byte, 0, len(r.data)+n), r.data...)
	}
}
