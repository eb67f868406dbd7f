// Package wal owns hookline's durable state: one Pebble database holding the
// event log, the per-endpoint delivery queues, the retry index, the attempt log,
// dead letters, idempotency keys, hourly endpoint health and tenant event
// counts, the config records (tenants, endpoints, event types, sources, API keys, portal sessions, jobs), the
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
//	i <tenant> 0x00 <idempotency key>     -> event id (an event has up to two keys: AppendEvent.IdempotencyKey and AltIdempotencyKey)
//	x <event id>                          -> <tenant> 0x00 <idempotency key>: the idempotency keys in time order, for retention
//	x <event id> 0x01                     -> <tenant> 0x00 <second idempotency key>, the same for an event's second key
//	f <tenant> 0x00 <event id>            -> "": each tenant's events in order, for the event feed
//	s <source id>                         -> inbound source config record (JSON, owned by engine/inbound)
//	g <source id> <request id>            -> inbound log record: one request a source received (owned by engine/inbound)
//	v <source id> <request id>            -> the same, for a request that failed verification: kept apart so its count and age are bounded with range deletions
//	m <name>                              -> the store's own bookkeeping (m x-index: every idempotency key has its x entry; m id-floor: the last fence)
//	u <tenant>                            -> fence ID: a deleted tenant whose events below the fence still wait for removal
//	t <tenant id>                         -> tenant config record (JSON, owned by the engine)
//	n <endpoint id>                       -> endpoint config record (JSON, owned by the engine; a deleted endpoint's is kept, without secrets, until retention has removed its history)
//	l <id>                                -> audit record (JSON, owned by engine/access)
//	c <tenant> 0x00 <event type>          -> event-type catalogue entry (JSON, owned by the engine)
//	k <sha-256 of an API key>             -> tenant API key record (JSON, owned by engine/access; never the key)
//	y <sha-256 of a portal session token> -> portal session record (JSON, owned by engine/access; never the token), rewritten when revoked
//	j <job id>                            -> bulk job record (JSON, owned by the engine), rewritten as it progresses
//	h <endpoint id> <unix hour>           -> the endpoint's delivery health in that hour (binary, owned by the engine); the hour is a big-endian uint32
//	b <tenant> 0x00 <unix hour>           -> the events the tenant had accepted in that hour (uvarint), duplicates not counted; the hour as in h
//
// A replay queues a finished delivery again: a retry entry marked as a
// replay's, a placeholder attempt record (outcome q) at the number of the
// attempt to come, which that attempt's record replaces, and a p mark that
// the attempt removes, so the pending listing reads the queue and the
// marks, never the whole attempt log.
//
// No key is kept per tenant for deliveries: a tenant's delivery log
// (ListMergedDeliveries) merges one backward walk of q, a, d or p per
// endpoint, so the delivery path writes nothing for it.
//
// # Fences and deleted tenants
//
// Log.Fence takes, through the writer, an ID that no event has, above every
// event ID assigned before it and below every one assigned after it, and
// stores it with fsync as m id-floor, from which Open seeds the ID
// generator along with the newest e key: later IDs stay above it even if
// the clock went back. The engine takes one when it creates a tenant (the
// tenant's incarnation, kept in its t record) and treats events of the
// tenant's name below it as an earlier tenant's: absent.
//
// Log.DeleteTenant takes a fence too and, in one batch: deletes the t
// record, range-deletes the tenant's i, c and b keys, and sets u <tenant> to
// the fence (one record per name: a second deletion raises it, and the
// higher fence covers both). The tenant's e records, their f and x entries
// stay; Log.PurgeTenant removes them in the background, walking f <tenant>
// below the fence in batches of purgeChunk (point deletes without fsync)
// and deleting the u record last, only if it still holds that fence. A
// crash anywhere leaves the u record, and the next call walks what is left
// of the f range. Retention removes the same keys when they pass its
// cutoff (Expire); the two never conflict, as each deletes only what
// exists, and either alone removes the data eventually: the purge makes it
// prompt, retention makes it certain if a purge fails.
// Endpoint and source records hold their secrets sealed (internal/seal,
// done by their owners): the wal stores what it is given. On the real disk
// every file is created 0600 and every directory 0700 (privateFS), and
// Log.CompactConfig pushes overwritten versions of those records out of
// the sstables after their secrets were resealed.
//
// # Retention
//
// Log.Expire removes what is older than a cutoff with range deletions:
// e, l and x below IDAt(cutoff), a and d below each endpoint's prefix plus
// IDAt(cutoff), g and v below each source's, and f below each tenant's;
// the i keys the expired x entries name go one point delete each. q and r
// are never range-deleted. An idempotency key lives as long as its event:
// after that, the same key makes a new event. An event's second key
// (engine/inbound: what a request's signature covers, beside the
// provider's delivery id) has its x entry one byte longer, which stores
// written before it never hold and which versions before it skip (such a
// version leaves those i keys in place).
// After a pass, Expire drops the idempotency filter's segments (see
// "Commit path") whose newest event lies below the cutoff; keys of
// expired events in a kept segment are false positives until it goes.
//
// The v range has bounds of its own, which engine/inbound applies: a
// shorter age (Log.ExpireRejected, after each retention pass) and a count
// per source (Log.TrimRejected keeps the newest, one range deletion from
// the source's prefix up to the oldest kept). Listing a source's requests
// merges g and v by request ID, which is unique across both; records of
// failed requests written before v existed stay in g and expire with it.
//
// Deleting an endpoint (Log.SoftDeleteEndpoint) rewrites its n record and
// range-deletes its q, p and h keys in one batch; its a, d and
// correction keys expire with retention, after which the engine removes
// the n record (Log.DeleteEndpoint, which a tenant's deletion uses for
// every endpoint at once).
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
//     A key is looked for among the group's own keys, then in an in-memory
//     filter (idemFilter), and read from Pebble only when the filter says
//     it may be there: a fresh key, which every inbound request has, costs
//     no read.
//  3. The batch is committed with fsync; all callers in it are released
//     together, so concurrent publishers share one fsync (group commit).
//  4. Options.OnCommit, if set, then gets the group's event count and commit
//     time; cmd/hookline turns them into the fsync metrics. The wal itself
//     imports no metrics package.
//
// The idempotency filter holds every i key of every event retention has
// not expired (false positives, never false negatives): Bloom filters of
// 10 bits and 7 hashes a key (0.82% false positives each at their planned
// count), in event ID order, filled at Open by one scan of the x index
// (both key forms) and by the writer as it writes keys. The last takes new
// keys until it holds its planned count, and the next is planned for half
// the live keys, so each segment's rate stays bounded whatever the load
// and a steady load keeps about three (10 million live keys with 30 days
// retained: 3 segments, 17.5 MiB, 1.8% false positives, 0.5 us a fresh
// key; BenchmarkIdemFilterMiss). A false positive costs only the read.
// Log.IdempotencyFilter reports its size and how many reads it saved.
//
// Because IDs are assigned by the single writer and batches commit in order, a
// reader that has seen event ID X in a queue has seen every committed ID below X
// too: delivery lanes read their queues with a simple cursor.
//
// Delivery outcomes are committed without fsync: losing one in a crash only
// means the delivery is attempted again (at-least-once). The next synced
// append makes every earlier write durable, and when none comes the outcome
// writer syncs within outcomeSyncDelay (100 ms) itself.
//
// # Durability
//
// Options.Durability says what "with fsync" above means. DurabilityFsync
// (the default): the commit returns after the write-ahead log's fsync.
// DurabilityOS: Pebble's log files are opened through lazySyncFS, whose
// Sync returns at once and leaves the fsync to a background syncer within
// OSSyncInterval (10 ms). Pebble writes a synced commit's records to the
// file before it asks for the sync, so an acknowledged append is in the
// OS: it survives a kill -9, not a power loss. Sstables, the MANIFEST and
// a log file being closed are synced as Pebble asks, and a failed
// background fsync is fatal, as a failed log sync is to Pebble.
package wal
