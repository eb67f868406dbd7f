// Package wal owns hookline's durable state: one Pebble database holding the
// event log, the per-endpoint delivery queues, the retry index, the attempt log,
// dead letters, idempotency keys, hourly endpoint health, the config
// records (tenants, endpoints, event types, sources, API keys, jobs), the
// inbound request log and the audit log.
// It knows bytes and keys, not HTTP or delivery policy, and imports no other
// hookline package.
//
// # Key layout
//
// Every key starts with one kind byte, so each kind is a contiguous range that
// can be scanned, counted or range-deleted on its own. IDs are 16-byte ULIDs in
// binary, so keys sort by creation time; times are big-endian unix
// milliseconds.
//
//	e <event id>                          -> event record (tenant, type, time, delivery body; zstd above a threshold)
//	q <endpoint id> <event id>            -> "" : a delivery ready to be attempted
//	r <due ms> <endpoint id> <event id>   -> attempts made so far (uvarint): the retry index
//	a <endpoint id> <event id> <attempt>  -> attempt record (time, status, error class, latency, response head)
//	d <endpoint id> <event id>            -> dead letter (attempts made, time)
//	p <endpoint id> <event id>            -> attempts made (uvarint): a replayed delivery waiting in the retry index
//	i <tenant> 0x00 <idempotency key>     -> event id
//	x <event id>                          -> <tenant> 0x00 <idempotency key>: the idempotency keys in time order, for retention
//	f <tenant> 0x00 <event id>            -> "": each tenant's events in order, for the event feed
//	s <source id>                         -> inbound source config record (JSON, owned by engine/inbound)
//	g <source id> <request id>            -> inbound log record: one request a source received (owned by engine/inbound)
//	m <name>                              -> the store's own bookkeeping (m x-index: every idempotency key has its x entry)
//	t <tenant id>                         -> tenant config record (JSON, owned by the engine)
//	n <endpoint id>                       -> endpoint config record (JSON, owned by the engine)
//	l <id>                                -> audit record (JSON, owned by engine/access)
//	c <tenant> 0x00 <event type>          -> event-type catalogue entry (JSON, owned by the engine)
//	k <sha-256 of an API key>             -> tenant API key record (JSON, owned by engine/access; never the key)
//	j <job id>                            -> bulk job record (JSON, owned by the engine), rewritten as it progresses
//	h <endpoint id> <unix hour>           -> the endpoint's delivery health in that hour (binary, owned by the engine); the hour is a big-endian uint32
//
// A replay queues a finished delivery again: a retry entry marked as a
// replay's, a placeholder attempt record (outcome q) at the number of the
// attempt to come, which that attempt's record replaces, and a p mark that
// the attempt removes, so the pending listing reads the queue and the
// marks, never the whole attempt log.
//
// Endpoint and source records hold their secrets sealed (internal/seal,
// done by their owners): the wal stores what it is given. On the real disk
// every file is created 0600 and every directory 0700 (privateFS), and
// Log.CompactConfig pushes overwritten versions of those records out of
// the sstables after their secrets were resealed.
//
// # Retention
//
// Log.Expire removes what is older than a cutoff with range deletions:
// e, l and x below IDAt(cutoff), and a and d below each endpoint's prefix
// plus IDAt(cutoff); the i keys the expired x entries name go one point
// delete each. q and r are never range-deleted. An idempotency key lives as
// long as its event: after that, the same key makes a new event.
//
// A delivery lives in exactly one of q, r or d at a time; every move between
// them is one batch that deletes the old key and writes the new one, together
// with the attempt record, so a crash never loses or duplicates the state.
//
// # Commit path
//
// Appends go through one writer goroutine (see Log.writeLoop):
//  1. Append encodes and compresses records on the caller's goroutine and
//     queues the request.
//  2. The writer takes every queued request, resolves idempotency keys,
//     assigns event IDs (monotonic in commit order) and builds one batch.
//  3. The batch is committed with fsync; all callers in it are released
//     together, so concurrent publishers share one fsync (group commit).
//  4. Options.OnCommit, if set, then gets the group's event count and commit
//     time; cmd/hookline turns them into the fsync metrics. The wal itself
//     imports no metrics package.
//
// Because IDs are assigned by the single writer and batches commit in order, a
// reader that has seen event ID X in a queue has seen every committed ID below X
// too: delivery lanes read their queues with a simple cursor.
//
// Delivery outcomes are committed without fsync: losing one in a crash only
// means the delivery is attempted again (at-least-once). The next synced
// append makes every earlier write durable, and when none comes the outcome
// writer syncs within outcomeSyncDelay (100 ms) itself.
package wal
