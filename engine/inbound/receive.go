package inbound

import (
	"errors"
	"sync"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/bytedance/sonic"

	"hookline/engine"
	"hookline/internal/rotation"
	"hookline/internal/transform"
	"hookline/internal/verify"
	"hookline/wal"
)

// Request is one request to a source's URL, as httpin read it.
type Request struct {
	verify.Request
	// RawHeaders are the request's header lines ("Name: value\r\n"), for
	// the inbound log; credentials are redacted before they are stored.
	RawHeaders []byte
}

// Inbound outcomes, as answered and logged.
const (
	Accepted  = "accepted"
	Duplicate = "duplicate"
	Dropped   = "dropped"
	Challenge = "challenge"
	Rejected  = "rejected"
)

// Result is what the receiver answers.
type Result struct {
	Status  int    // HTTP status
	Outcome string // Accepted, Duplicate, Dropped, Challenge or Rejected
	EventID string // accepted, duplicate
	// Challenge is the whole answer to a provider's handshake, with its
	// content type.
	Challenge            []byte
	ChallengeContentType string
	Code, Message        string // rejected
	// RetryAfter is set for 503 (back-pressure).
	RetryAfter time.Duration
	RequestID  string
}

// maxLoggedBytes caps the headers and the body an inbound log record keeps.
const maxLoggedBytes = 64 << 10

// LogEntry is one logged request.
type LogEntry struct {
	ID         string    `json:"id"`
	At         time.Time `json:"at"`
	Outcome    string    `json:"outcome"`
	Status     int       `json:"status"`
	Code       string    `json:"code,omitempty"`
	Message    string    `json:"message,omitempty"`
	EventID    string    `json:"event_id,omitempty"`
	EventType  string    `json:"event_type,omitempty"`
	DedupeID   string    `json:"dedupe_id,omitempty"`
	Verified   bool      `json:"verified"`
	Headers    string    `json:"headers,omitempty"`
	Body       string    `json:"body,omitempty"`
	BodyBase64 bool      `json:"body_base64,omitempty"`
	BodyBytes  int       `json:"body_bytes"`
	Truncated  bool      `json:"truncated,omitempty"`
	ReplayOf   string    `json:"replay_of,omitempty"`
	// BodyInEvent marks a record stored without its body because the
	// event it made holds the same bytes as its payload; reads fill Body
	// from there. Stored, not shown.
	BodyInEvent bool   `json:"body_in_event,omitempty"`
	RequestURL  string `json:"url,omitempty"`
	ContentType string `json:"content_type,omitempty"`
}

const requestPrefix = "req_"

// mapBufs are scratch buffers for mapping payloads, reused across requests.
var mapBufs = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// HasSource reports whether source id exists: the HTTP front end caps the
// body of a request to an unknown source as small before reading it.
func (rc *Receiver) HasSource(id string) bool {
	rc.mu.RLock()
	defer rc.mu.RUnlock()
	return rc.sources[id] != nil
}

// Receive handles one request to source sourceID: verify, map, dedupe,
// append durably, and log it. It answers as soon as the event is durable;
// no outbound work happens here.
func (rc *Receiver) Receive(sourceID string, r *Request) Result {
	now := time.Now()
	st := rc.liveSource(sourceID, now)
	if st == nil {
		return Result{Status: 404, Outcome: Rejected, Code: "source_not_found", Message: "no source at this URL"}
	}
	// The log lists a source's requests by ID: they must increase in
	// arrival order, also within one millisecond.
	reqID := rc.log.NewConfigID()
	entry := LogEntry{ID: requestPrefix + reqID.String(), At: now.UTC()}
	res := rc.receive(st, r, now, &entry)
	if !entry.Verified {
		return rc.unverified(st, reqID, r, &entry, res, now)
	}
	res.RequestID = entry.ID
	rc.logInbound(st, reqID, r, &entry, res)
	return res
}

func (rc *Receiver) receive(st *sourceState, r *Request, now time.Time, entry *LogEntry) Result {
	vr, verr := st.verifier.Verify(&r.Request, now)
	if verr != nil {
		rc.m.requests[rejected].Inc()
		return Result{Status: 401, Outcome: Rejected, Code: verr.Code, Message: verr.Message}
	}
	entry.Verified = true
	if vr.Challenge != nil {
		rc.m.requests[challenge].Inc()
		return Result{Status: 200, Outcome: Challenge, Challenge: vr.Challenge, ChallengeContentType: vr.ChallengeContentType}
	}
	return rc.mapAndAppend(st, r.Body, r.Header, &vr, entry)
}

// mapAndAppend turns a verified body into an event and appends it. vr is
// what verifying it said; nil for a replay from the log, which is deduped
// on the mapping's id alone.
func (rc *Receiver) mapAndAppend(st *sourceState, body []byte, h transform.Headers, vr *verify.Result, entry *LogEntry) Result {
	bp := mapBufs.Get().(*[]byte)
	defer mapBufs.Put(bp)
	var mr transform.Result
	var err error
	*bp, err = st.mapping.Apply(body, h, &mr, *bp)
	if err != nil {
		rc.m.requests[rejected].Inc()
		code, msg := "mapping_failed", err.Error()
		var te *transform.Error
		if errors.As(err, &te) {
			code, msg = te.Code, te.Error()
		}
		// Not a 2xx: the provider keeps the request and retries it, so
		// fixing the mapping loses nothing.
		return Result{Status: 422, Outcome: Rejected, Code: code, Message: msg}
	}
	if mr.Dropped {
		rc.m.requests[dropped].Inc()
		return Result{Status: 200, Outcome: Dropped, Message: mr.Reason}
	}
	if ee := reservedMappedType(mr.Type); ee != nil {
		// 400, as for a publisher: the provider keeps the request and
		// retries it, so fixing the mapping loses nothing.
		rc.m.requests[rejected].Inc()
		return Result{Status: 400, Outcome: Rejected, Code: ee.Code, Message: ee.Message}
	}
	dedupe := st.dedupeID(mr.ID, body)
	entry.EventType, entry.DedupeID = mr.Type, dedupe
	ev := engine.PublishEvent{Type: mr.Type, Payload: mr.Payload}
	if dedupe != "" {
		// Control characters cannot occur in API idempotency keys, so
		// this key space is the sources' alone.
		ev.IdempotencyKey = "\x01" + st.src.ID + "\x00" + dedupe
	}
	ev.AltIdempotencyKey = st.replayKey(vr)
	var res [1]wal.AppendResult
	if err := rc.e.PublishFrom(engine.OriginInbound, st.src.Tenant, []engine.PublishEvent{ev}, res[:]); err != nil {
		var ee *engine.Error
		if errors.As(err, &ee) {
			out := Result{Status: 400, Outcome: Rejected, Code: ee.Code, Message: ee.Message}
			switch ee.Kind {
			case engine.KindUnavailable:
				out.Status, out.RetryAfter = 503, ee.RetryAfter
			case engine.KindTooMany:
				out.Status, out.RetryAfter = 429, ee.RetryAfter
			case engine.KindNotFound:
				out.Status = 404
			}
			rc.m.requests[rejected].Inc()
			return out
		}
		rc.logger.Error("cannot append an inbound event", "source", st.src.ID, "err", err)
		rc.m.requests[rejected].Inc()
		return Result{Status: 500, Outcome: Rejected, Code: "internal", Message: "the event could not be stored"}
	}
	entry.EventID = engine.FormatEventID(res[0].ID)
	// An unshaped payload is the body itself: the log need not keep a
	// second copy (a 28 KB GitHub delivery wrote it twice).
	entry.BodyInEvent = !res[0].Duplicate && len(mr.Payload) == len(body) && len(body) > 0 && &mr.Payload[0] == &body[0]
	if res[0].Duplicate {
		rc.m.requests[duplicate].Inc()
		return Result{Status: 200, Outcome: Duplicate, EventID: entry.EventID}
	}
	rc.m.requests[accepted].Inc()
	return Result{Status: 200, Outcome: Accepted, EventID: entry.EventID}
}

// reservedMappedType refuses an event type under hookline's reserved prefix
// that a mapping made from a request: only hookline makes those.
func reservedMappedType(typ string) *engine.Error {
	if !engine.ReservedEventType(typ) {
		return nil
	}
	return engine.ReservedType("the mapping made type %q, which is reserved", typ)
}

// liveSource returns source id, its verifier rebuilt first if a previous
// secret has expired since it was built.
func (rc *Receiver) liveSource(id string, now time.Time) *sourceState {
	rc.mu.RLock()
	st := rc.sources[id]
	rc.mu.RUnlock()
	if st == nil || st.rebuildAt.IsZero() || now.Before(st.rebuildAt) {
		return st
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	cur := rc.sources[id]
	if cur != st {
		return cur // changed meanwhile: already rebuilt
	}
	s := st.src
	s.PreviousSecrets = rotation.Unexpired(s.PreviousSecrets, now)
	next, err := rc.buildSource(&s, SourceInput{}, st.id)
	if err != nil {
		rc.logger.Error("cannot rebuild a source after its old secret expired", "source", id, "err", err)
		return st
	}
	// Live first: the expired secret stops working even if the store
	// cannot be written (it is dropped again at the next start).
	rc.sources[id] = next
	if err := rc.putSource(next); err != nil && !errors.Is(err, wal.ErrClosed) {
		rc.logger.Error("cannot store a source after its old secret expired", "source", id, "err", err)
	}
	return next
}

// logInbound stores the request's log record. The credentials a source
// verifies by (basic, api-key) are redacted; signatures are not secrets.
// A request that failed verification keeps less (rejections.go) and goes
// to the wal's rejected range.
func (rc *Receiver) logInbound(st *sourceState, reqID wal.ID, r *Request, entry *LogEntry, res Result) {
	entry.Outcome, entry.Status = res.Outcome, res.Status
	entry.Code, entry.Message = res.Code, res.Message
	if entry.EventID == "" {
		entry.EventID = res.EventID
	}
	maxMeta, maxBody, write := maxLoggedBytes, maxLoggedBytes, rc.log.LogInbound
	if !entry.Verified {
		maxMeta, maxBody, write = maxRejectedMetaBytes, maxRejectedBodyBytes, rc.log.LogRejected
	}
	if r.Header != nil {
		entry.ContentType = clipString(string(r.Header.Peek("Content-Type")), maxMeta)
	}
	entry.Headers = redactHeaders(r.RawHeaders, st.src.redactedHeaders(), maxMeta)
	entry.RequestURL = clipString(redactQuery(string(r.URL), st.src.redactedQuery()), maxMeta)
	entry.BodyBytes = len(r.Body)
	body := r.Body
	if len(body) > maxBody {
		body, entry.Truncated = body[:maxBody], true
	}
	switch {
	case entry.BodyInEvent:
		entry.Truncated = false
	case utf8.Valid(body):
		// A view, not a copy: entry is marshalled below and dropped before
		// r.Body's buffer is reused, and a copy cost a 28 KB GitHub
		// delivery a memmove and an allocation per request.
		entry.Body = unsafe.String(unsafe.SliceData(body), len(body))
	default:
		entry.Body, entry.BodyBase64 = encodeBase64(body), true
	}
	rec, err := sonic.Marshal(entry)
	if err == nil {
		err = write(st.id, reqID, rec)
	}
	if err != nil && !errors.Is(err, wal.ErrClosed) {
		rc.logger.Error("cannot log an inbound request", "source", st.src.ID, "err", err)
	}
}

// clipString cuts s to at most n bytes.
func clipString(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
