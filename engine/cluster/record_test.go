package cluster

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
)

func TestRecordRoundTrip(t *testing.T) {
	for _, r := range []record{
		{kind: kindBatch, origin: "n1", incarnation: 7, nonce: 9, partitions: []uint16{0, 5, 63}, repr: []byte("batch")},
		{kind: kindBatch, origin: "", incarnation: 1, nonce: 1},
		{kind: kindMembers, origin: "n2", incarnation: 3, nonce: 4, prevView: 11, members: []member{{"n1", 7, "10.0.0.1:8080"}, {"n2", 3, ""}}},
	} {
		b := appendRecord([]byte("prefix"), &r)
		var got record
		if err := decodeRecord(b[len("prefix"):], &got); err != nil {
			t.Fatalf("%+v: %v", r, err)
		}
		if len(got.repr) == 0 {
			got.repr = nil
		}
		if !reflect.DeepEqual(got, r) {
			t.Fatalf("got %+v, want %+v", got, r)
		}
		// Every single-bit flip and every truncation is refused.
		body := b[len("prefix"):]
		for i := range body {
			for bit := 0; bit < 8; bit++ {
				c := append([]byte(nil), body...)
				c[i] ^= 1 << bit
				if err := decodeRecord(c, &got); !errors.Is(err, errRecord) {
					t.Fatalf("flip of bit %d of byte %d: %v", bit, i, err)
				}
			}
			if err := decodeRecord(body[:i], &got); !errors.Is(err, errRecord) {
				t.Fatalf("cut at %d: %v", i, err)
			}
		}
	}
}

func FuzzDecodeRecord(f *testing.F) {
	f.Add(appendRecord(nil, &record{kind: kindBatch, origin: "n1", incarnation: 7, nonce: 9, partitions: []uint16{1}, repr: []byte("x")}))
	f.Add(appendRecord(nil, &record{kind: kindMembers, origin: "n1", members: []member{{"a", 1, "b"}}}))
	f.Fuzz(func(t *testing.T, b []byte) {
		var r record
		if err := decodeRecord(b, &r); err != nil {
			if !errors.Is(err, errRecord) {
				t.Fatalf("error %v is not errRecord", err)
			}
			return
		}
		// What decodes encodes back to the same bytes.
		if again := appendRecord(nil, &r); string(again) != string(b) {
			t.Fatalf("%x decodes to %+v, which encodes to %x", b, r, again)
		}
	})
}

func TestMembershipOwners(t *testing.T) {
	var m membership
	m.set(1, []member{{name: "n0"}, {name: "n1"}, {name: "n2"}})
	share := map[string]int{}
	before := map[int]string{}
	for p := range Partitions {
		o, ok := m.owner(p)
		if !ok {
			t.Fatalf("partition %d has no owner", p)
		}
		share[o.name]++
		before[p] = o.name
	}
	for n, c := range share {
		if c < Partitions/6 {
			t.Fatalf("%s owns %d of %d partitions: %v", n, c, Partitions, share)
		}
	}
	// n1 leaves: only its partitions move.
	m.set(2, []member{{name: "n0"}, {name: "n2"}})
	for p := range Partitions {
		o, _ := m.owner(p)
		if before[p] != "n1" && o.name != before[p] {
			t.Fatalf("partition %d moved from %s to %s though its owner stayed", p, before[p], o.name)
		}
	}
	// A stale compare-and-set does not apply; one on the current view does.
	if m.applyMembers(&record{prevView: 1, members: []member{{name: "x"}}}, 3) {
		t.Fatal("a record on view 1 applied at view 2")
	}
	if !m.applyMembers(&record{prevView: 2, members: []member{{name: "x"}}}, 3) || m.view != 3 {
		t.Fatalf("a record on the current view did not apply: %+v", m)
	}
	// Batches: only the owner, in its incarnation.
	m.set(4, []member{{name: "a", incarnation: 1}, {name: "b", incarnation: 2}})
	for p := range Partitions {
		o, _ := m.owner(p)
		other := map[string]string{"a": "b", "b": "a"}[o.name]
		if !m.accepts(&record{origin: o.name, incarnation: o.incarnation, partitions: []uint16{uint16(p)}}) {
			t.Fatalf("owner %s refused on %d", o.name, p)
		}
		if m.accepts(&record{origin: other, incarnation: 1 + 2 - o.incarnation, partitions: []uint16{uint16(p)}}) {
			t.Fatalf("%s accepted on %s's partition %d", other, o.name, p)
		}
		if m.accepts(&record{origin: o.name, incarnation: o.incarnation + 10, partitions: []uint16{uint16(p)}}) {
			t.Fatalf("an old incarnation of %s accepted", o.name)
		}
	}
	if m.accepts(&record{origin: "a", incarnation: 1, partitions: []uint16{Partitions}}) {
		t.Fatal("a partition out of range accepted")
	}
	enc := m.encode()
	got, err := decodeMembership(enc)
	if err != nil || fmt.Sprint(got) != fmt.Sprint(m) {
		t.Fatalf("membership round trip: %+v %v, want %+v", got, err, m)
	}
}
