package wal

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/oklog/ulid/v2"
)

// ID is a 16-byte ULID: 48 bits of unix milliseconds then 80 bits of entropy.
type ID [16]byte

// Less reports whether id sorts before o, as their bytes (and keys) do.
// Two 64-bit compares: on hot paths this beat bytes.Compare by a wide margin.
func (id ID) Less(o ID) bool {
	a, b := binary.BigEndian.Uint64(id[:8]), binary.BigEndian.Uint64(o[:8])
	if a != b {
		return a < b
	}
	return binary.BigEndian.Uint64(id[8:]) < binary.BigEndian.Uint64(o[8:])
}

// IsZero reports whether id is the zero ID, which sorts before every real one.
func (id ID) IsZero() bool { return id == ID{} }

// String returns the 26-character Crockford base32 form.
func (id ID) String() string { return ulid.ULID(id).String() }

// Time returns the millisecond timestamp encoded in id.
func (id ID) Time() time.Time { return time.UnixMilli(int64(ulid.ULID(id).Time())) }

// ParseID parses the 26-character form produced by String.
func ParseID(s string) (ID, error) {
	u, err := ulid.ParseStrict(s)
	if err != nil {
		return ID{}, fmt.Errorf("cannot parse id %q: %w", s, err)
	}
	return ID(u), nil
}

// NewID returns a random ID: ordered by millisecond, random within one.
// Config records use (*Log).NewConfigID, which is strictly increasing.
func NewID() ID {
	return ID(ulid.MustNew(ulid.Now(), rand.Reader))
}

// idGen hands out strictly increasing IDs even if the clock steps back. It is
// used by the writer goroutine only.
type idGen struct {
	last ID
}

func (g *idGen) next(now time.Time) ID {
	ms := uint64(now.UnixMilli())
	lastMs := ulid.ULID(g.last).Time()
	var id ID
	if ms > lastMs {
		u := ulid.ULID{}
		_ = u.SetTime(ms)
		copy(id[:], u[:6])
		_, _ = rand.Read(id[6:])
		// Keep headroom so increments within this millisecond cannot overflow.
		id[6] &= 0x7f
	} else {
		id = g.last
		hi := binary.BigEndian.Uint16(id[6:8])
		lo := binary.BigEndian.Uint64(id[8:16])
		lo++
		if lo == 0 {
			hi++
			binary.BigEndian.PutUint16(id[6:8], hi)
		}
		binary.BigEndian.PutUint64(id[8:16], lo)
	}
	g.last = id
	return id
}

// AppendString appends the 26-character form of id to dst without allocating.
func (id ID) AppendString(dst []byte) []byte {
	var buf [ulid.EncodedSize]byte
	_ = ulid.ULID(id).MarshalTextTo(buf[:])
	return append(dst, buf[:]...)
}

// Next returns the smallest ID above id, for an exclusive bound that takes
// id in; the zero ID (no bound) when id is the largest.
func (id ID) Next() ID {
	for i := len(id) - 1; i >= 0; i-- {
		id[i]++
		if id[i] != 0 {
			return id
		}
	}
	return id
}
