package wal

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
)

// kindIdemIndex keys the idempotency keys by time: x <event id> -> the
// idempotency key without its kind byte (<tenant> 0x00 <key>), and
// x <event id> 0x01 -> the event's second key (AppendEvent's
// AltIdempotencyKey), when it has one. The i keys are ordered by tenant
// and key, not time; without this index, expiring them would mean reading
// all of them on every pass.
const kindIdemIndex = 'x'

func idemIndexKey(dst []byte, ev ID) []byte {
	dst = append(dst, kindIdemIndex)
	return append(dst, ev[:]...)
}

func altIdemIndexKey(dst []byte, ev ID) []byte {
	return append(idemIndexKey(dst, ev), 1)
}

// isIdemIndexKey reports whether k (of kind x) is an entry of either form.
func isIdemIndexKey(k []byte) bool { return len(k) == 17 || len(k) == 18 && k[17] == 1 }

// expireChunk bounds the point deletes of idempotency keys per batch, so a
// pass after a long downtime does not build one huge batch in memory.
const expireChunk = 4096

// ExpireStats says what one Expire call removed. Keys removed by a range
// deletion are not counted: counting them would cost the reads the range
// deletion exists to avoid.
type ExpireStats struct {
	// Ranges is the range deletions written: one for the events, the audit
	// log and the idempotency index each, one per endpoint for its
	// attempt log and its dead letters, one per source for each range of
	// its request log and one per tenant for its event feed, each only where it had
	// something to remove.
	Ranges int
	// IdempotencyKeys is the idempotency keys deleted, one point delete each.
	IdempotencyKeys int
}

// Expire removes the records of everything older than cutoffMs: events,
// the attempt records and dead letters of those events (every endpoint's),
// their idempotency keys, and audit records. How it works:
//  1. Every such range sorts by time within a prefix (see the key layout),
//     so each is one range deletion from the prefix to the prefix plus
//     IDAt(cutoffMs): its cost does not depend on how many keys go.
//  2. Attempt logs and dead letters are grouped by endpoint: one seek per
//     endpoint that has any finds the endpoints, with no config read.
//  3. Idempotency keys are found through the x index below the cutoff;
//     each is deleted only if it still names the indexed event (the
//     tenant may have been deleted and created again since, with a new
//     event under the same key). The x range goes after them, so a crash
//     in between leaves an index that the next pass finishes.
//  4. Last, the idempotency filter (see idemFilter) drops its segments
//     whose newest event is below the cutoff.
//
// Queue and retry entries are never removed: the engine counts them. A
// delivery still waiting finds its event gone and is dead-lettered; the
// next pass removes that dead letter (its event ID is below the cutoff).
//
// Expire takes no lock that appends or outcomes wait on; its writes commit
// without fsync, as a lost one is redone by the next pass.
//
// Space comes back through Pebble's own compactions: files wholly under a
// range deletion are dropped without a rewrite, and files holding range
// deletions are picked for compaction sooner. Flushed L0 files hold every
// kind of key, so their expired share waits for the next L0 compaction:
// the store levels off at the live data plus a few memtables. Expire does
// not call DB.Compact. Measured with the engine's TestRetentionSoak (4 MB/s
// of events, 2 s age, a pass every 250 ms, 4 MiB memtable): without it the
// store levelled off at 24-28 MB of 95 MB written; compacting the expired
// event span after each pass held it at 16-19 MB but cut the ingest the
// test reached by a quarter, the rewrite competing with appends.
func (l *Log) Expire(ctx context.Context, cutoffMs int64) (ExpireStats, error) {
	var st ExpireStats
	if !l.enter() {
		return st, ErrClosed
	}
	defer l.exit()
	floor := IDAt(cutoffMs)
	n, err := l.expireIdempotency(ctx, floor)
	st.IdempotencyKeys = n
	if err != nil {
		return st, err
	}
	b := l.db.NewBatch()
	defer b.Close()
	for _, kind := range []byte{kindEvent, kindAudit, kindIdemIndex} {
		ok, err := l.anyBelow([]byte{kind}, floor)
		if err != nil {
			return st, err
		}
		if ok {
			_ = b.DeleteRange([]byte{kind}, append([]byte{kind}, floor[:]...), nil)
			st.Ranges++
		}
	}
	for _, kind := range []byte{kindAttempt, kindDead, kindCorrection, kindInboundLog, kindRejected} {
		n, err := l.expirePerPrefix(b, kind, floor, idOwner)
		st.Ranges += n
		if err != nil {
			return st, err
		}
	}
	n, err = l.expirePerPrefix(b, kindFeed, floor, tenantOwner)
	st.Ranges += n
	if err != nil {
		return st, err
	}
	if !b.Empty() {
		if err := b.Commit(pebble.NoSync); err != nil {
			return st, fmt.Errorf("cannot commit %d range deletions below %s: %w", st.Ranges, floor, err)
		}
	}
	// Only now are the keys below the cutoff gone from the store, so the
	// filter may forget them (a failed pass leaves them in both).
	l.idem.expire(cutoffMs)
	return st, nil
}

// anyBelow reports whether any key lies in [prefix, prefix+floor).
func (l *Log) anyBelow(prefix []byte, floor ID) (bool, error) {
	it, err := l.db.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: append(bytes.Clone(prefix), floor[:]...)})
	if err != nil {
		return false, fmt.Errorf("cannot scan keys of kind %q: %w", prefix[0], err)
	}
	ok := it.First()
	err = it.Error()
	if cerr := it.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return false, fmt.Errorf("cannot scan keys of kind %q: %w", prefix[0], err)
	}
	return ok, nil
}

// expirePerPrefix adds to b one range deletion per owner (an endpoint, a
// source, a tenant) with keys of kind below floor, and returns how many.
// ownerLen gives the length of a key's owner prefix (kind byte included),
// -1 for a key that has none. It visits each owner's first key only,
// skipping the rest with a seek, so it costs one seek per owner however
// long its history.
func (l *Log) expirePerPrefix(b *pebble.Batch, kind byte, floor ID, ownerLen func(k []byte) int) (int, error) {
	it, err := l.db.NewIter(&pebble.IterOptions{LowerBound: []byte{kind}, UpperBound: []byte{kind + 1}})
	if err != nil {
		return 0, fmt.Errorf("cannot scan keys of kind %q: %w", kind, err)
	}
	n := 0
	var lo, hi []byte
	for ok := it.First(); ok; {
		k := it.Key()
		end := ownerLen(k)
		if end < 0 {
			ok = it.Next()
			continue
		}
		lo = append(lo[:0], k[:end]...)
		hi = append(append(hi[:0], lo...), floor[:]...)
		if bytes.Compare(k, hi) < 0 {
			_ = b.DeleteRange(lo, hi, nil)
			n++
		}
		ok = it.SeekGE(prefixEnd(lo))
	}
	err = it.Error()
	if cerr := it.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return n, fmt.Errorf("cannot scan keys of kind %q: %w", kind, err)
	}
	return n, nil
}

// idOwner is the owner length of keys owned by an ID (<kind> <16-byte
// id> <event or request id> ...); tenantOwner of keys owned by a tenant
// (<kind> <tenant> 0x00 <event id>).
func idOwner(k []byte) int {
	if len(k) < 17 {
		return -1
	}
	return 17
}

func tenantOwner(k []byte) int {
	end := bytes.IndexByte(k, 0)
	if end < 0 {
		return -1
	}
	return end + 1
}

// expireIdempotency deletes the idempotency keys of the events below floor
// that the x index names, in batches of expireChunk, and returns how many.
func (l *Log) expireIdempotency(ctx context.Context, floor ID) (int, error) {
	it, err := l.db.NewIter(&pebble.IterOptions{LowerBound: []byte{kindIdemIndex}, UpperBound: idemIndexKey(nil, floor)})
	if err != nil {
		return 0, fmt.Errorf("cannot scan the idempotency index: %w", err)
	}
	defer it.Close()
	b := l.db.NewBatch()
	defer func() { _ = b.Close() }()
	total, inBatch := 0, 0
	commit := func() error {
		if inBatch == 0 {
			return nil
		}
		if err := b.Commit(pebble.NoSync); err != nil {
			return fmt.Errorf("cannot delete %d expired idempotency keys: %w", inBatch, err)
		}
		total += inBatch
		inBatch = 0
		b.Reset()
		return nil
	}
	var ik []byte
	for ok := it.First(); ok; ok = it.Next() {
		k := it.Key()
		if !isIdemIndexKey(k) {
			continue
		}
		ik = append(append(ik[:0], kindIdempotency), it.Value()...)
		v, closer, err := l.db.Get(ik)
		if errors.Is(err, pebble.ErrNotFound) {
			continue // its tenant was deleted
		}
		if err != nil {
			return total, fmt.Errorf("cannot read idempotency key: %w", err)
		}
		same := bytes.Equal(v, k[1:17])
		_ = closer.Close()
		if !same {
			continue
		}
		_ = b.Delete(ik, nil)
		if inBatch++; inBatch == expireChunk {
			if err := commit(); err != nil {
				return total, err
			}
			if err := ctx.Err(); err != nil {
				return total, err
			}
		}
	}
	if err := it.Error(); err != nil {
		return total, fmt.Errorf("cannot scan the idempotency index: %w", err)
	}
	return total, commit()
}

// kindMeta keys the store's own bookkeeping: m <name> -> value.
const kindMeta = 'm'

// metaIdemIndexed is set once every idempotency key has its x entry.
var metaIdemIndexed = []byte{kindMeta, 'x', '-', 'i', 'n', 'd', 'e', 'x'}

// indexIdempotencyKeys gives the idempotency keys of a store written before
// the x index existed their x entries, once: without them they would never
// expire. It reads every i key, so it runs only while the marker is absent.
func (l *Log) indexIdempotencyKeys() error {
	_, closer, err := l.db.Get(metaIdemIndexed)
	if err == nil {
		return closer.Close()
	}
	if err != pebble.ErrNotFound {
		return fmt.Errorf("cannot read the idempotency index marker: %w", err)
	}
	b := l.db.NewBatch()
	defer func() { _ = b.Close() }()
	n := 0
	var ferr error
	err = l.scan([]byte{kindIdempotency}, func(k, v []byte) {
		if ferr != nil || len(v) != 16 {
			return
		}
		var ev ID
		copy(ev[:], v)
		_ = b.Set(idemIndexKey(nil, ev), k[1:], nil)
		if n++; n%expireChunk == 0 {
			ferr = b.Commit(pebble.NoSync)
			b.Reset()
		}
	})
	if err == nil {
		err = ferr
	}
	if err == nil {
		_ = b.Set(metaIdemIndexed, nil, nil)
		err = b.Commit(pebble.Sync)
	}
	if err != nil {
		return fmt.Errorf("cannot index %d idempotency keys for retention: %w", n, err)
	}
	return nil
}
