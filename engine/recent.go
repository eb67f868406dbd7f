package engine

import (
	"sort"
	"sync"

	"hookline/wal"
)

// recentBodies keeps the delivery bodies of the most recently appended
// events in a fixed-size byte ring, so lanes that keep up with ingest do
// not read each body back from Pebble: once the memtable flushes, that read
// is a block-cache miss, and it was a fifth of the server's CPU under load.
//
// The wal's writer goroutine adds bodies in ID order (see onAppend), so the
// entries are sorted and a lookup is a binary search. Memory is fixed: the
// ring's bytes plus one small entry per slot. A body that has been
// overwritten is simply not found, and the lane reads it from the wal.
type recentBodies struct {
	mu      sync.RWMutex
	data    []byte       // ring of bodies; byte at absolute offset o is data[o%len(data)]
	written int64        // absolute bytes written
	ents    []recentBody // ring of entries, sorted by id over [next-len(ents), next)
	next    int64        // absolute entries written
}

type recentBody struct {
	id  wal.ID
	off int64 // absolute offset in data
	n   int32
}

func newRecentBodies(bytes, entries int) *recentBodies {
	return &recentBodies{data: make([]byte, bytes), ents: make([]recentBody, entries)}
}

// add appends a body; bodies larger than an eighth of the ring are not kept.
func (r *recentBodies) add(id wal.ID, body []byte) {
	if len(body) > len(r.data)/8 {
		return
	}
	r.mu.Lock()
	off := r.written
	start := int(off % int64(len(r.data)))
	if n := copy(r.data[start:], body); n < len(body) {
		copy(r.data, body[n:])
	}
	r.written += int64(len(body))
	r.ents[r.next%int64(len(r.ents))] = recentBody{id: id, off: off, n: int32(len(body))}
	r.next++
	r.mu.Unlock()
}

// get appends the body of id to dst and reports whether it was still here.
func (r *recentBodies) get(id wal.ID, dst []byte) ([]byte, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	first := max(int64(0), r.next-int64(len(r.ents)))
	count := int(r.next - first)
	i := sort.Search(count, func(i int) bool {
		e := &r.ents[(first+int64(i))%int64(len(r.ents))]
		return !e.id.Less(id)
	})
	if i == count {
		return dst, false
	}
	e := r.ents[(first+int64(i))%int64(len(r.ents))]
	if e.id != id || e.off < r.written-int64(len(r.data)) {
		return dst, false // never added, or overwritten since
	}
	start := int(e.off % int64(len(r.data)))
	end := start + int(e.n)
	if end <= len(r.data) {
		return append(dst, r.data[start:end]...), true
	}
	dst = append(dst, r.data[start:]...)
	return append(dst, r.data[:end-len(r.data)]...), true
}
