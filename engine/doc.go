// Package engine owns delivery: it keeps the tenants, their endpoints and
// event-type catalogues in memory, fans each published event out to the
// endpoints subscribed to its type, runs one Lane per endpoint that signs
// and sends deliveries through httpout, and applies the retry policy with
// a timer wheel (engine/wheel) backed by the on-disk retry index. Around
// that core it keeps each endpoint's circuit breaker, rate limit, health
// and attempt log, auto-disables endpoints that stay broken, tells tenants
// of failures with hookline.* events (notify.go), replays and
// cancels deliveries singly or as bulk jobs, sends test events, serves the
// event feed, applies back-pressure and retention.
//
// Where to look: publish.go (ingest and fan-out; the 202 waits in
// wal.Log.Append for the fsync), lane.go (one endpoint's delivery loop),
// retry.go (the whole retry decision), scheduler.go (retries coming due),
// circuit.go, endpoint_disable.go, notify.go, deliveries.go (the attempt
// log and replay), tenantdeliveries.go (one log over a tenant's
// endpoints), jobs.go, tenants.go, endpoints.go, hooks.go (what the feature
// packages build on).
//
// Feature packages that the core does not need live beside it and import
// it: engine/inbound (sources and their receiver) and engine/access (API
// keys, scopes, the audit log). They hook in through WithTenant,
// OnTenantDelete, OnRetentionPass and SetAuditor. engine stores everything through wal and
// speaks HTTP only through httpout; it must not import its feature
// packages, httpin, bench or cmd (internal/lint checks this).
//
// Lock order: a lane's notification lock (laneNotify.mu or
// exhaustedAgg.mu, never both: an operational event is published under
// it), then
// Engine.cfgMu, then a feature package's own lock
// (inbound.Receiver.mu, access.Access.mu), then Lane.recordMu, then
// scheduler.mu, then Lane.mu. No goroutine holding scheduler.mu or Lane.mu
// takes another lock, nor one holding laneHealth.mu, which may be taken
// under any of them, nor one holding deadLog.mu (its log lines), taken
// under none.
package engine
