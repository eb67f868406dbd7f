package cluster

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
)

// The replicated log's records. Every message of stream HL_LOG is one
// record:
//
//	version (1) | kind (1) | origin name (uvarint length, bytes) |
//	incarnation (8) | nonce (8) | body | CRC-32C of all before (4)
//
// kind 'b', a batch of delivery state: partitions (uvarint count, then 2
// bytes each) | Pebble batch representation (the rest).
// kind 'm', a membership change: the view it replaces (8) | members
// (see encodeMembers).
//
// The incarnation is random per process start, so a node's records from
// before a restart are told from its current ones; the nonce numbers a
// process's records, so its Replicate calls find their verdicts.

const recordVersion = 1

const (
	kindBatch   = 'b'
	kindMembers = 'm'
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// errRecord wraps every decoding failure: a record that does not decode
// is never applied.
var errRecord = errors.New("cluster: malformed log record")

type record struct {
	kind        byte
	origin      string
	incarnation uint64
	nonce       uint64
	// kind b
	partitions []uint16
	repr       []byte
	// kind m
	prevView uint64
	members  []member
}

// member is one node of the cluster as the log knows it.
type member struct {
	name        string
	incarnation uint64
	// addr is the node's HTTP API address, where the others forward
	// requests for the partitions it owns.
	addr string
}

func appendRecord(dst []byte, r *record) []byte {
	start := len(dst)
	dst = append(dst, recordVersion, r.kind)
	dst = appendString(dst, r.origin)
	dst = binary.BigEndian.AppendUint64(dst, r.incarnation)
	dst = binary.BigEndian.AppendUint64(dst, r.nonce)
	switch r.kind {
	case kindBatch:
		dst = binary.AppendUvarint(dst, uint64(len(r.partitions)))
		for _, p := range r.partitions {
			dst = binary.BigEndian.AppendUint16(dst, p)
		}
		dst = append(dst, r.repr...)
	case kindMembers:
		dst = binary.BigEndian.AppendUint64(dst, r.prevView)
		dst = appendMembers(dst, r.members)
	default:
		panic(fmt.Sprintf("BUG: record kind %q", r.kind))
	}
	return binary.BigEndian.AppendUint32(dst, crc32.Checksum(dst[start:], castagnoli))
}

// decodeRecord parses src; r's slices point into src.
func decodeRecord(src []byte, r *record) error {
	if len(src) < 2+4 {
		return fmt.Errorf("%w: %d bytes", errRecord, len(src))
	}
	body, sum := src[:len(src)-4], binary.BigEndian.Uint32(src[len(src)-4:])
	if crc32.Checksum(body, castagnoli) != sum {
		return fmt.Errorf("%w: checksum mismatch", errRecord)
	}
	if body[0] != recordVersion {
		return fmt.Errorf("%w: version %d (this node reads %d)", errRecord, body[0], recordVersion)
	}
	*r = record{kind: body[1]}
	d := decoder{b: body[2:]}
	r.origin = d.string()
	r.incarnation = d.u64()
	r.nonce = d.u64()
	switch r.kind {
	case kindBatch:
		n := d.uvarint()
		if d.err == nil && n > uint64(len(d.b))/2 {
			d.fail("partition count")
		}
		for i := uint64(0); i < n && d.err == nil; i++ {
			r.partitions = append(r.partitions, d.u16())
		}
		r.repr, d.b = d.b, nil
	case kindMembers:
		r.prevView = d.u64()
		r.members = d.members()
	default:
		return fmt.Errorf("%w: kind %q", errRecord, r.kind)
	}
	if d.err == nil && len(d.b) != 0 {
		d.fail("trailing bytes")
	}
	return d.err
}

func appendMembers(dst []byte, ms []member) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(ms)))
	for _, m := range ms {
		dst = appendString(dst, m.name)
		dst = binary.BigEndian.AppendUint64(dst, m.incarnation)
		dst = appendString(dst, m.addr)
	}
	return dst
}

func appendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

// decoder reads fields until the first failure, which it keeps.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s", errRecord, what)
	}
	d.b = nil
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail("varint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) u64() uint64 {
	if len(d.b) < 8 {
		d.fail("short uint64")
		return 0
	}
	v := binary.BigEndian.Uint64(d.b)
	d.b = d.b[8:]
	return v
}

func (d *decoder) u16() uint16 {
	if len(d.b) < 2 {
		d.fail("short uint16")
		return 0
	}
	v := binary.BigEndian.Uint16(d.b)
	d.b = d.b[2:]
	return v
}

func (d *decoder) string() string {
	n := d.uvarint()
	if d.err != nil {
		return ""
	}
	if n > uint64(len(d.b)) {
		d.fail("string length")
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

func (d *decoder) members() []member {
	n := d.uvarint()
	// Each member takes at least 10 bytes: a bound before allocating.
	if d.err == nil && n > uint64(len(d.b))/10 {
		d.fail("member count")
	}
	var ms []member
	for i := uint64(0); i < n && d.err == nil; i++ {
		ms = append(ms, member{name: d.string(), incarnation: d.u64(), addr: d.string()})
	}
	return ms
}
