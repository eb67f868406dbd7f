package inbound

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	"hookline/wal"
)

// Requests that fail verification are anyone's to send: a source's URL is
// all it takes. Before these bounds, each was logged like a verified one
// (64 KiB of body, 30 days), and 1,000 unsigned 64 KiB posts added 63 MiB
// to the data directory: enough of them would have pushed every tenant
// into 503 disk_full. What the receiver does with them now:
//  1. Their log record keeps the metadata and at most maxRejectedBodyBytes
//     of body (maxRejectedMetaBytes of headers, URL and content type), in a
//     range of the wal of its own (wal.Log.LogRejected).
//  2. A source keeps at most Options.MaxRejectedPerSource of them: past
//     it the oldest go, a tenth at a time (wal.Log.TrimRejected).
//  3. They are kept Options.RejectedRetention (a day), expired after each
//     of the engine's retention passes (wal.Log.ExpireRejected).
//  4. Failures beyond Options.FailureRate per second per source (after a
//     burst of Options.FailureBurst) are answered 429 too_many_failures
//     with Retry-After, and not logged at all; they are counted
//     (hookline_inbound_verification_throttled_total).
//
// Verified requests are untouched by all of this, and a request is
// verified before the limit is looked at: a flood of bad requests never
// turns away a good one. A provider whose secret is wrong fails either
// way; 429 rather than 401 changes only what is logged.
//
// The bounds hold per source; a flood over many sources needs their URLs,
// which are unguessable.

// Defaults of the Options that bound rejected requests.
const (
	// DefaultMaxRejectedPerSource: a record is at most a few KiB, so a
	// source's rejections take at most a few MiB however long a flood
	// lasts, and a thousand is more than enough to see what a
	// misconfigured provider sends (its every delivery fails alike).
	DefaultMaxRejectedPerSource = 1000
	// DefaultRejectedRetention: a rejection is worth looking at while
	// someone fixes the cause, not for the event log's 30 days.
	DefaultRejectedRetention = 24 * time.Hour
	// DefaultFailureRate and DefaultFailureBurst: failed verifications
	// per second and source, and the burst logged before the rate
	// applies. A provider with a wrong secret is seen in its first
	// failures; at 10/s a flood logs at most 864,000 a day, of which the
	// newest MaxRejectedPerSource stay.
	DefaultFailureRate  = 10.0
	DefaultFailureBurst = 50
)

// What a rejected request's log record keeps.
const (
	maxRejectedBodyBytes = 1 << 10
	maxRejectedMetaBytes = 4 << 10
)

// CodeTooManyFailures answers a request that failed verification past
// its source's failure rate.
const CodeTooManyFailures = "too_many_failures"

// rejectState is one source's failure bucket and the count of its stored
// rejections. It outlives the source's sourceState (which is replaced on
// every change) and goes with the source.
type rejectState struct {
	mu sync.Mutex
	// tokens is the bucket's content at last.
	tokens float64
	last   time.Time
	// stored is the source's rejected records as of the last trim plus
	// those logged since; counted says whether a trim ran since start.
	// Retention may have removed some meanwhile: stored is then too high,
	// which costs an early trim that keeps what it should.
	stored  int
	counted bool
}

// take takes a token from the bucket at now, or says how long until one
// is there. rate < 0 means no limit.
func (rs *rejectState) take(now time.Time, rate float64, burst int) (time.Duration, bool) {
	if rate < 0 {
		return 0, true
	}
	if rs.last.IsZero() {
		rs.tokens = float64(burst)
	} else if d := now.Sub(rs.last); d > 0 {
		rs.tokens = min(float64(burst), rs.tokens+d.Seconds()*rate)
	}
	rs.last = now
	if rs.tokens >= 1 {
		rs.tokens--
		return 0, true
	}
	return time.Duration((1 - rs.tokens) / rate * float64(time.Second)), false
}

// rejectStateOf returns source id's rejectState, made on first use.
func (rc *Receiver) rejectStateOf(id wal.ID) *rejectState {
	rc.rejMu.Lock()
	defer rc.rejMu.Unlock()
	rs := rc.rejects[id]
	if rs == nil {
		rs = &rejectState{}
		rc.rejects[id] = rs
	}
	return rs
}

// forgetRejects drops source id's rejectState, once the source is gone.
func (rc *Receiver) forgetRejects(id wal.ID) {
	rc.rejMu.Lock()
	defer rc.rejMu.Unlock()
	delete(rc.rejects, id)
}

// unverified finishes a request that failed verification (res, the 401):
// within the source's failure rate it is logged, capped, and the
// source's stored rejections are bounded; past it the answer is 429 and
// nothing is written.
func (rc *Receiver) unverified(st *sourceState, reqID wal.ID, r *Request, entry *LogEntry, res Result, now time.Time) Result {
	rs := rc.rejectStateOf(st.id)
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if wait, ok := rs.take(now, rc.opts.FailureRate, rc.opts.FailureBurst); !ok {
		rc.m.throttled.Inc()
		// Whole seconds, rounded up: Retry-After has no finer unit.
		secs := max(1, int(math.Ceil(wait.Seconds())))
		return Result{
			Status: 429, Outcome: Rejected, Code: CodeTooManyFailures,
			Message: fmt.Sprintf("more than %g requests a second to this source fail verification (this one: %s); retry after %ds",
				rc.opts.FailureRate, res.Code, secs),
			RetryAfter: time.Duration(secs) * time.Second,
		}
	}
	res.RequestID = entry.ID
	rc.logInbound(st, reqID, r, entry, res)
	rs.stored++
	if limit := rc.opts.MaxRejectedPerSource; !rs.counted || rs.stored > limit {
		keep := limit
		if rs.counted {
			// A tenth at a time: one walk of the newest per limit/10
			// rejections, not one per rejection.
			keep = limit - limit/10
		}
		n, err := rc.log.TrimRejected(st.id, keep)
		if err != nil {
			if !errors.Is(err, wal.ErrClosed) {
				rc.logger.Error("cannot trim the rejected requests of a source", "source", st.src.ID, "err", err)
			}
			return res
		}
		rs.stored, rs.counted = n, true
	}
	return res
}

// expireRejected runs after each of the engine's retention passes.
func (rc *Receiver) expireRejected(ctx context.Context, now time.Time) {
	cutoff := now.Add(-rc.opts.RejectedRetention).UnixMilli()
	if _, err := rc.log.ExpireRejected(ctx, cutoff); err != nil && !errors.Is(err, wal.ErrClosed) && ctx.Err() == nil {
		rc.logger.Error("cannot expire rejected inbound requests; the next retention pass retries", "cutoff", time.UnixMilli(cutoff).UTC(), "err", err)
	}
}
