package cluster

import (
	"encoding/binary"
	"hash/fnv"
	"slices"
	"strings"
)

// Partitions is the number of partitions tenants are spread over: a
// tenant's events, endpoints and idempotency keys are all in one, so one
// node at a time writes them. Far more than nodes, so shares stay even.
const Partitions = 64

// PartitionOf is the partition of a tenant.
func PartitionOf(tenant string) int {
	h := fnv.New32a()
	_, _ = h.Write([]byte(tenant))
	return int(h.Sum32() % Partitions)
}

// membership is the replicated log's own state, the same on every replica
// at the same position: the members, the view (the position of the record
// that set them), and from them who owns each partition (rendezvous
// hashing: each partition goes to the member with the highest score for
// it, so a member joining or leaving moves only its own share).
type membership struct {
	view    uint64
	members []member // sorted by name
	owners  [Partitions]int16
}

func (m *membership) set(view uint64, ms []member) {
	ms = slices.Clone(ms)
	slices.SortFunc(ms, func(a, b member) int { return strings.Compare(a.name, b.name) })
	ms = slices.CompactFunc(ms, func(a, b member) bool { return a.name == b.name })
	m.view, m.members = view, ms
	for p := range m.owners {
		best, bestScore := -1, uint64(0)
		for i, x := range ms {
			if s := score(p, x.name); best < 0 || s > bestScore {
				best, bestScore = i, s
			}
		}
		m.owners[p] = int16(best)
	}
}

// score is the rendezvous weight of node for partition p.
func score(p int, node string) uint64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(node))
	x := h.Sum64() ^ uint64(p)*0x9e3779b97f4a7c15
	// splitmix64's finaliser spreads nearby inputs apart.
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

// applyMembers applies a membership record at pos: it takes effect when it
// names the view in force (a compare-and-set, so two nodes changing the
// members at once cannot both win), or when this replica knows no members
// yet (it started on a log whose beginning retention removed).
func (m *membership) applyMembers(r *record, pos uint64) bool {
	if r.prevView != m.view && len(m.members) > 0 {
		return false
	}
	m.set(pos, r.members)
	return true
}

// accepts reports whether a batch record may be applied: its writer is a
// member in the incarnation that wrote it and owns every partition it
// writes. Everything else (a fenced node, a restarted node's old process,
// a node that lost a partition before its write landed) is dropped, the
// same way by every replica.
func (m *membership) accepts(r *record) bool {
	i := m.index(r.origin)
	if i < 0 || m.members[i].incarnation != r.incarnation {
		return false
	}
	for _, p := range r.partitions {
		if int(p) >= Partitions || int(m.owners[p]) != i {
			return false
		}
	}
	return true
}

func (m *membership) index(name string) int {
	i, ok := slices.BinarySearchFunc(m.members, name, func(x member, n string) int { return strings.Compare(x.name, n) })
	if !ok {
		return -1
	}
	return i
}

// owner is the member owning partition p, and false when there are none.
func (m *membership) owner(p int) (member, bool) {
	i := m.owners[p]
	if i < 0 || int(i) >= len(m.members) {
		return member{}, false
	}
	return m.members[i], true
}

func (m *membership) clone() membership {
	c := *m
	c.members = slices.Clone(m.members)
	return c
}

// encode is what the replica stores with its position (wal.Log.Apply).
func (m *membership) encode() []byte {
	return appendMembers(binary.BigEndian.AppendUint64(nil, m.view), m.members)
}

func decodeMembership(b []byte) (membership, error) {
	var m membership
	if len(b) == 0 {
		m.set(0, nil)
		return m, nil
	}
	d := decoder{b: b}
	view := d.u64()
	ms := d.members()
	if d.err == nil && len(d.b) != 0 {
		d.fail("trailing bytes")
	}
	if d.err != nil {
		return m, d.err
	}
	m.set(view, ms)
	return m, nil
}
