package wal

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
)

// kindPublished keys the events each tenant had accepted per hour:
// b <tenant> 0x00 <unix hour, big-endian uint32> -> count (uvarint; the
// engine may append fields after it). A tenant's hours are one contiguous
// range, so a window is one short scan and the tenant's deletion one range
// delete (DeleteTenant).
const kindPublished = 'b'

func publishedKey(dst []byte, tenant string, hour uint32) []byte {
	dst = publishedPrefix(dst, tenant)
	return binary.BigEndian.AppendUint32(dst, hour)
}

func publishedPrefix(dst []byte, tenant string) []byte {
	dst = append(dst, kindPublished)
	dst = append(dst, tenant...)
	return append(dst, 0)
}

// PublishedHour is how many events one tenant had accepted in one hour.
type PublishedHour struct {
	Tenant string
	Hour   uint32 // unix seconds / 3600
	Count  uint64
}

// PutPublished stores hourly counts, replacing what those hours held, in
// one synced batch, as PutHealth does for endpoints.
func (l *Log) PutPublished(hours []PublishedHour) error {
	if !l.enter() {
		return ErrClosed
	}
	defer l.exit()
	b := l.db.NewBatch()
	defer b.Close()
	var k, v []byte
	for i := range hours {
		k = publishedKey(k[:0], hours[i].Tenant, hours[i].Hour)
		v = binary.AppendUvarint(v[:0], hours[i].Count)
		_ = b.Set(k, v, nil)
	}
	if err := b.Commit(pebble.Sync); err != nil {
		return fmt.Errorf("cannot store %d hourly published counts: %w", len(hours), err)
	}
	return nil
}

// ScanPublished calls fn with tenant's hours in [from, to), oldest first.
// A value that is no uvarint is skipped: the count is lost, not the scan.
func (l *Log) ScanPublished(tenant string, from, to uint32, fn func(hour uint32, n uint64)) error {
	if !l.enter() {
		return ErrClosed
	}
	defer l.exit()
	if from >= to {
		return nil
	}
	keyLen := len(tenant) + 6
	err := l.scanRange(publishedKey(nil, tenant, from), publishedKey(nil, tenant, to), func(k, v []byte) {
		if len(k) != keyLen {
			return
		}
		if n, m := binary.Uvarint(v); m > 0 {
			fn(binary.BigEndian.Uint32(k[keyLen-4:]), n)
		}
	})
	if err != nil {
		return fmt.Errorf("cannot scan published counts of tenant %q from hour %d to %d: %w", tenant, from, to, err)
	}
	return nil
}

// DeletePublishedBefore deletes every tenant's hours below cutoff and
// returns how many it deleted, seeking once per tenant as
// DeleteHealthBefore does per endpoint.
func (l *Log) DeletePublishedBefore(cutoff uint32) (int, error) {
	n, err := l.deleteHoursBefore(kindPublished, cutoff, func(k []byte) int {
		// A tenant name holds no 0x00: the hour is the 4 bytes after the
		// first one.
		sep := bytes.IndexByte(k[1:], 0) + 1
		if sep < 1 || len(k) != sep+5 {
			return -1
		}
		return sep + 1
	})
	if err != nil {
		return 0, fmt.Errorf("cannot delete published counts before hour %d: %w", cutoff, err)
	}
	return n, nil
}
