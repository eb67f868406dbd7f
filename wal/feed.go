package wal

import (
	"bytes"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
)

// kindFeed indexes each tenant's events in order: f <tenant> 0x00 <event
// id> -> "". The event log itself mixes every tenant; without this index
// a consumer of one tenant's feed would read all the others' events too.
const kindFeed = 'f'

func feedKey(dst []byte, tenant string, ev ID) []byte {
	dst = append(dst, kindFeed)
	dst = append(dst, tenant...)
	dst = append(dst, 0)
	return append(dst, ev[:]...)
}

// ReadFeed calls fn with tenant's events after the event after (zero: from
// the oldest), in ID order, until fn returns false or max events were
// passed. The record and its slices are valid only during fn. An event
// removed between the index and the read (retention) is skipped.
func (l *Log) ReadFeed(tenant string, after ID, max int, fn func(r *EventRecord) bool) error {
	if !l.enter() {
		return ErrClosed
	}
	defer l.exit()
	prefix := feedKey(nil, tenant, ID{})[:len(tenant)+2]
	lower := feedKey(nil, tenant, after)
	if !after.IsZero() {
		lower = append(lower, 0) // past after itself
	}
	it, err := l.db.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: prefixEnd(prefix)})
	if err != nil {
		return fmt.Errorf("cannot read the event feed of %q: %w", tenant, err)
	}
	defer it.Close()
	var (
		r   EventRecord
		buf EventBuf
		n   int
	)
	for ok := it.First(); ok && n < max; ok = it.Next() {
		k := it.Key()
		if len(k) != len(prefix)+16 || !bytes.HasPrefix(k, prefix) {
			return fmt.Errorf("%w: feed key of %d bytes", errCorrupt, len(k))
		}
		var id ID
		copy(id[:], k[len(prefix):])
		v, closer, err := l.db.Get(eventKey(buf.key[:0], id))
		if err == pebble.ErrNotFound {
			continue
		}
		if err != nil {
			return fmt.Errorf("cannot read event %s: %w", id, err)
		}
		buf.raw = append(buf.raw[:0], v...)
		_ = closer.Close()
		r.ID = id
		if buf.plain, err = l.codec.decodeEvent(buf.raw, &r, buf.plain); err != nil {
			return fmt.Errorf("cannot decode event %s: %w", id, err)
		}
		n++
		if !fn(&r) {
			return nil
		}
	}
	if err := it.Error(); err != nil {
		return fmt.Errorf("cannot read the event feed of %q: %w", tenant, err)
	}
	return nil
}

// LastFeedID returns tenant's newest event ID (zero when it has none): a
// feed cursor after everything committed so far.
func (l *Log) LastFeedID(tenant string) (ID, error) {
	if !l.enter() {
		return ID{}, ErrClosed
	}
	defer l.exit()
	prefix := feedKey(nil, tenant, ID{})[:len(tenant)+2]
	it, err := l.db.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: prefixEnd(prefix)})
	if err != nil {
		return ID{}, fmt.Errorf("cannot read the event feed of %q: %w", tenant, err)
	}
	var id ID
	if it.Last() && len(it.Key()) == len(prefix)+16 {
		copy(id[:], it.Key()[len(prefix):])
	}
	err = it.Error()
	if cerr := it.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return ID{}, fmt.Errorf("cannot read the event feed of %q: %w", tenant, err)
	}
	return id, nil
}
