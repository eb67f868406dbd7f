package engine

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"hookline/wal"
)

func TestRecentBodies(t *testing.T) {
	r := newRecentBodies(1000, 8)
	var gen []wal.ID
	body := func(i int) []byte { return []byte(fmt.Sprintf("body-%03d-%s", i, bytes.Repeat([]byte{'x'}, i%50))) }
	idAt := func(i int) wal.ID {
		for len(gen) <= i {
			var id wal.ID
			id[0], id[15] = byte(len(gen)>>8), byte(len(gen))
			gen = append(gen, id)
		}
		return gen[i]
	}
	f := func(i int, want bool) {
		t.Helper()
		got, ok := r.get(idAt(i), nil)
		if ok != want {
			t.Fatalf("get(%d) found=%v; want %v", i, ok, want)
		}
		if ok && !bytes.Equal(got, body(i)) {
			t.Fatalf("get(%d) = %q; want %q", i, got, body(i))
		}
	}
	f(0, false) // empty
	for i := 0; i < 5; i++ {
		r.add(idAt(i), body(i))
	}
	for i := 0; i < 5; i++ {
		f(i, true)
	}
	f(5, false) // not added
	// Past 8 entries the oldest fall out of the entry ring.
	for i := 5; i < 12; i++ {
		r.add(idAt(i), body(i))
	}
	f(3, false)
	f(4, true)
	f(11, true)
	// Large bodies wrap around the byte ring and overwrite old ones.
	for i := 12; i < 40; i++ {
		r.add(idAt(i), body(i))
		f(i, true)
	}
	f(30, false) // bytes overwritten (8 entries but ~1000 bytes: fewer fit)
	f(39, true)
	// A body over an eighth of the ring is not kept.
	big := idAt(40)
	r.add(big, bytes.Repeat([]byte{'y'}, 200))
	if _, ok := r.get(big, nil); ok {
		t.Fatalf("an oversized body was kept")
	}
}

func TestRecentBodiesRandomAgainstModel(t *testing.T) {
	r := newRecentBodies(4096, 64)
	gen := &walIDs{}
	var ids []wal.ID
	var bodies [][]byte
	for i := 0; i < 5000; i++ {
		id := gen.next()
		b := bytes.Repeat([]byte{byte(i)}, 1+i*7%300)
		r.add(id, b)
		ids, bodies = append(ids, id), append(bodies, b)
		j := i - int(uint(i*2654435761)%100)
		if j < 0 {
			continue
		}
		got, ok := r.get(ids[j], nil)
		if ok && !bytes.Equal(got, bodies[j]) {
			t.Fatalf("entry %d came back as %d bytes of %d; want %d of %d", j, len(got), got[0], len(bodies[j]), bodies[j][0])
		}
		if j == i && !ok {
			t.Fatalf("the newest entry %d was not found", i)
		}
	}
}

// walIDs makes increasing IDs like the wal's writer does.
type walIDs struct{ n uint64 }

func (g *walIDs) next() wal.ID {
	g.n++
	var id wal.ID
	ms := uint64(time.Now().UnixMilli())
	for i := 0; i < 6; i++ {
		id[5-i] = byte(ms >> (8 * i))
	}
	for i := 0; i < 8; i++ {
		id[15-i] = byte(g.n >> (8 * i))
	}
	return id
}
