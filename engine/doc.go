// Package engine owns delivery: it keeps the tenants and endpoints in memory,
// fans each published event out to the endpoints subscribed to its type,
// runs one Lane per endpoint that signs and sends deliveries through httpout,
// and applies the retry policy with a timer wheel backed by the on-disk retry
// index. It stores everything through wal and speaks HTTP only through
// httpout; it must not import httpin, bench or cmd.
//
// Lock order: Engine.cfgMu, then Lane.recordMu, then scheduler.mu, then
// Lane.mu. No goroutine holding scheduler.mu or Lane.mu takes another lock,
// nor one holding laneHealth.mu, which may be taken under any of them.
package engine
