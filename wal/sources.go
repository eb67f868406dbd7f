package wal

import (
	"bytes"
	"context"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
)

// Inbound sources and their request log:
//
//	s <source id>               -> source config record (JSON, owned by engine/inbound)
//	g <source id> <request id>  -> inbound log record (owned by engine/inbound): one request received
//	v <source id> <request id>  -> the same, for a request that failed verification
//
// Request IDs are ULIDs, so a source's log sorts by arrival and retention
// cuts it per source the way it cuts an endpoint's attempt log. Requests
// that failed verification are anyone's to send, so they get a range of
// their own: its count (TrimRejected) and age (ExpireRejected) are bounded
// with range deletions, and a flood of them never shares a range with the
// records of verified requests. Listing merges the two ranges.
const (
	kindSource     = 's'
	kindInboundLog = 'g'
	kindRejected   = 'v'
)

func sourceKey(id ID) []byte { return append([]byte{kindSource}, id[:]...) }

func inboundKey(dst []byte, src, req ID) []byte { return logKey(dst, kindInboundLog, src, req) }

func rejectedKey(dst []byte, src, req ID) []byte { return logKey(dst, kindRejected, src, req) }

func logKey(dst []byte, kind byte, src, req ID) []byte {
	dst = append(dst, kind)
	dst = append(dst, src[:]...)
	return append(dst, req[:]...)
}

// PutSource stores source id's config record.
func (l *Log) PutSource(id ID, val []byte) error {
	if !l.enter() {
		return ErrClosed
	}
	defer l.exit()
	if err := l.setOne(sourceKey(id), val); err != nil {
		return fmt.Errorf("cannot store source %s: %w", id, err)
	}
	return nil
}

// DeleteSource removes source id with its request log (both ranges).
func (l *Log) DeleteSource(id ID) error {
	if !l.enter() {
		return ErrClosed
	}
	defer l.exit()
	b := l.db.NewBatch()
	defer b.Close()
	_ = b.Delete(sourceKey(id), nil)
	for _, kind := range []byte{kindInboundLog, kindRejected} {
		p := append([]byte{kind}, id[:]...)
		_ = b.DeleteRange(p, prefixEnd(p), nil)
	}
	if err := l.commit(b, pebble.Sync); err != nil {
		return fmt.Errorf("cannot delete source %s: %w", id, err)
	}
	return nil
}

// Sources calls fn for every source record in id order, for start-up;
// val is valid only during fn.
func (l *Log) Sources(fn func(id ID, val []byte) error) error {
	return l.records(kindSource, "source", fn)
}

// LogInbound appends one inbound log record without fsync: the event a
// request produced is durable on its own, and the next synced write (an
// append, or the outcome writer within outcomeSyncDelay) carries this one.
func (l *Log) LogInbound(src, req ID, rec []byte) error {
	return l.logRequest(inboundKey(nil, src, req), src, rec)
}

// LogRejected is LogInbound for a request that failed verification: its
// record goes to the rejected range, which TrimRejected and
// ExpireRejected bound.
func (l *Log) LogRejected(src, req ID, rec []byte) error {
	return l.logRequest(rejectedKey(nil, src, req), src, rec)
}

func (l *Log) logRequest(key []byte, src ID, rec []byte) error {
	if !l.enter() {
		return ErrClosed
	}
	defer l.exit()
	if err := l.db.Set(key, rec, pebble.NoSync); err != nil {
		return fmt.Errorf("cannot log a request to source %s: %w", src, err)
	}
	return nil
}

// TrimRejected keeps the newest keep records of source src's rejected
// range and removes the older ones with one range deletion, without
// fsync (a lost trim is redone by the next). It returns how many records
// the range holds after it: it reads at most keep+1 keys, newest first,
// never the removed ones.
func (l *Log) TrimRejected(src ID, keep int) (int, error) {
	if keep < 0 {
		panic(fmt.Sprintf("BUG: TrimRejected keeps %d records", keep))
	}
	if !l.enter() {
		return 0, ErrClosed
	}
	defer l.exit()
	p := append([]byte{kindRejected}, src[:]...)
	n := 0
	var cut []byte // the newest key to remove
	err := l.reverse(p, prefixEnd(p), func(it *pebble.Iterator) bool {
		if n == keep {
			cut = append(cut, it.Key()...)
			return false
		}
		n++
		return true
	})
	if err != nil || cut == nil {
		return n, err
	}
	// [prefix, cut+0x00) is cut and everything older.
	if err := l.db.DeleteRange(p, append(cut, 0), pebble.NoSync); err != nil {
		return n, fmt.Errorf("cannot trim the rejected requests of source %s to %d: %w", src, keep, err)
	}
	return n, nil
}

// ExpireRejected removes every source's rejected requests older than
// cutoffMs: one range deletion per source that has any, as Expire does
// for the whole log (which cuts this range too, at its own cutoff). It
// returns the range deletions written.
func (l *Log) ExpireRejected(ctx context.Context, cutoffMs int64) (int, error) {
	if !l.enter() {
		return 0, ErrClosed
	}
	defer l.exit()
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	b := l.db.NewBatch()
	defer b.Close()
	n, err := l.expirePerPrefix(b, kindRejected, IDAt(cutoffMs), idOwner)
	if err != nil || n == 0 {
		return 0, err
	}
	if err := b.Commit(pebble.NoSync); err != nil {
		return 0, fmt.Errorf("cannot expire rejected requests below %d ms: %w", cutoffMs, err)
	}
	return n, nil
}

// ScanInbound calls fn with source src's log records newest first, below
// before (zero: from the newest), until fn returns false. It merges the
// verified and the rejected ranges; request IDs are unique across both.
func (l *Log) ScanInbound(src, before ID, fn func(req ID, rec []byte) bool) error {
	if !l.enter() {
		return ErrClosed
	}
	defer l.exit()
	q := DeliveryQuery{Endpoint: src, Before: before}
	gLower, gUpper := q.bounds(kindInboundLog)
	vLower, vUpper := q.bounds(kindRejected)
	gi, err := l.db.NewIter(&pebble.IterOptions{LowerBound: gLower, UpperBound: gUpper})
	if err != nil {
		return fmt.Errorf("cannot list the requests of source %s: %w", src, err)
	}
	defer gi.Close()
	vi, err := l.db.NewIter(&pebble.IterOptions{LowerBound: vLower, UpperBound: vUpper})
	if err != nil {
		return fmt.Errorf("cannot list the requests of source %s: %w", src, err)
	}
	defer vi.Close()
	gok, vok := gi.Last(), vi.Last()
	for gok || vok {
		it := gi
		if !gok || vok && bytes.Compare(gi.Key()[17:], vi.Key()[17:]) < 0 {
			it = vi
		}
		var req ID
		copy(req[:], it.Key()[17:])
		if !fn(req, it.Value()) {
			return nil
		}
		if it == gi {
			gok = gi.Prev()
		} else {
			vok = vi.Prev()
		}
	}
	for _, it := range []*pebble.Iterator{gi, vi} {
		if err := it.Error(); err != nil {
			return fmt.Errorf("cannot list the requests of source %s: %w", src, err)
		}
	}
	return nil
}

// GetInbound reads one log record, from either range; ErrNotFound when
// it is in neither.
func (l *Log) GetInbound(src, req ID) ([]byte, error) {
	if !l.enter() {
		return nil, ErrClosed
	}
	defer l.exit()
	for _, key := range [][]byte{inboundKey(nil, src, req), rejectedKey(nil, src, req)} {
		v, closer, err := l.db.Get(key)
		if err == pebble.ErrNotFound {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("cannot read request %s of source %s: %w", req, src, err)
		}
		defer closer.Close()
		return append([]byte(nil), v...), nil
	}
	return nil, ErrNotFound
}
