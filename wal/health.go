package wal

import (
	"encoding/binary"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
)

// kindHealth keys the hourly delivery health of each endpoint:
// h <endpoint id> <unix hour, big-endian uint32> -> aggregate (binary, owned
// by the engine). An endpoint's hours are one contiguous range, so a window
// is one short scan and the endpoint's deletion one range delete.
const kindHealth = 'h'

const healthKeyLen = 1 + 16 + 4

func healthKey(dst []byte, ep ID, hour uint32) []byte {
	dst = append(dst, kindHealth)
	dst = append(dst, ep[:]...)
	return binary.BigEndian.AppendUint32(dst, hour)
}

// HealthHour is one endpoint's aggregate for one hour.
type HealthHour struct {
	Endpoint ID
	Hour     uint32 // unix seconds / 3600
	Value    []byte
}

// PutHealth stores hourly aggregates, replacing what those hours held, in
// one synced batch: the engine writes every endpoint's current hour at once.
func (l *Log) PutHealth(hours []HealthHour) error {
	if !l.enter() {
		return ErrClosed
	}
	defer l.exit()
	b := l.db.NewBatch()
	defer b.Close()
	var k []byte
	for i := range hours {
		k = healthKey(k[:0], hours[i].Endpoint, hours[i].Hour)
		_ = b.Set(k, hours[i].Value, nil)
	}
	if err := b.Commit(pebble.Sync); err != nil {
		return fmt.Errorf("cannot store %d hourly health records: %w", len(hours), err)
	}
	return nil
}

// ScanHealth calls fn with endpoint ep's hours in [from, to), oldest first;
// val is valid only during fn.
func (l *Log) ScanHealth(ep ID, from, to uint32, fn func(hour uint32, val []byte)) error {
	if !l.enter() {
		return ErrClosed
	}
	defer l.exit()
	if from >= to {
		return nil
	}
	err := l.scanRange(healthKey(nil, ep, from), healthKey(nil, ep, to), func(k, v []byte) {
		if len(k) == healthKeyLen {
			fn(binary.BigEndian.Uint32(k[17:]), v)
		}
	})
	if err != nil {
		return fmt.Errorf("cannot scan health of endpoint %s from hour %d to %d: %w", ep, from, to, err)
	}
	return nil
}

// DeleteHealthBefore deletes every endpoint's hours below cutoff and returns
// how many it deleted: about one seek per endpoint (deleteHoursBefore).
func (l *Log) DeleteHealthBefore(cutoff uint32) (int, error) {
	n, err := l.deleteHoursBefore(kindHealth, cutoff, func(k []byte) int {
		if len(k) != healthKeyLen {
			return -1
		}
		return 17
	})
	if err != nil {
		return 0, fmt.Errorf("cannot delete health records before hour %d: %w", cutoff, err)
	}
	return n, nil
}

// deleteHoursBefore deletes kind's hourly keys, <kind> <owner> <unix hour
// as a big-endian uint32>, whose hour is below cutoff. hourAt returns
// where a key's hour starts (the owner's prefix ends), or -1 for a key of
// the kind that is not an hourly one (skipped). It seeks once per owner
// and reads only the hours it deletes; the deletes are point deletes
// (normally one hour per owner), which leave no range tombstones for
// reads to step over.
func (l *Log) deleteHoursBefore(kind byte, cutoff uint32, hourAt func(k []byte) int) (int, error) {
	if !l.enter() {
		return 0, ErrClosed
	}
	defer l.exit()
	it, err := l.db.NewIter(&pebble.IterOptions{LowerBound: []byte{kind}, UpperBound: []byte{kind + 1}})
	if err != nil {
		return 0, err
	}
	b := l.db.NewBatch()
	defer b.Close()
	n := 0
	for ok := it.First(); ok; {
		k := it.Key()
		at := hourAt(k)
		switch {
		case at < 0:
			ok = it.Next()
		case binary.BigEndian.Uint32(k[at:]) < cutoff:
			_ = b.Delete(k, nil)
			n++
			ok = it.Next()
		default:
			// The rest of this owner's hours are recent: go to the next one.
			ok = it.SeekGE(prefixEnd(k[:at]))
		}
	}
	err = it.Error()
	if cerr := it.Close(); err == nil {
		err = cerr
	}
	if err == nil && n > 0 {
		// Unsynced: a delete lost in a crash is made again by the next pass.
		err = b.Commit(pebble.NoSync)
	}
	if err != nil {
		return 0, err
	}
	return n, nil
}
