package inbound

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/bytedance/sonic"

	"hookline/engine"
	"hookline/internal/verify"
	"hookline/wal"
)

func encodeBase64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// logHeaders serves a logged request's header lines to a mapping.
type logHeaders []string

func (h logHeaders) Peek(key string) []byte {
	for _, line := range h {
		name, value, ok := strings.Cut(line, ":")
		if ok && strings.EqualFold(strings.TrimSpace(name), key) {
			return []byte(strings.TrimSpace(value))
		}
	}
	return nil
}

// ListRequests returns a page of source id's request log, newest first,
// without bodies, and the cursor of the next page.
func (rc *Receiver) ListRequests(tenant, id, cursor string, limit int) ([]LogEntry, string, error) {
	st, err := rc.sourceOf(tenant, id)
	if err != nil {
		return nil, "", err
	}
	if err := engine.CheckPageLimit(limit); err != nil {
		return nil, "", err
	}
	var before wal.ID
	if cursor != "" {
		req, ok := parseRequestID(cursor)
		if !ok {
			return nil, "", engine.Invalid("invalid_cursor", "cursor %q is not one this API returned", cursor)
		}
		before = req
	}
	out := []LogEntry{}
	var derr error
	err = rc.log.ScanInbound(st.id, before, func(_ wal.ID, rec []byte) bool {
		var en LogEntry
		if derr = sonic.Unmarshal(rec, &en); derr != nil {
			return false
		}
		// The listing shows no bodies, nor the mark of where one is kept.
		en.Headers, en.Body, en.BodyInEvent = "", "", false
		out = append(out, en)
		return len(out) < limit
	})
	if err == nil {
		err = derr
	}
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(out) == limit {
		next = out[len(out)-1].ID
	}
	return out, next, nil
}

// GetRequest returns one logged request with its headers and body.
func (rc *Receiver) GetRequest(tenant, id, reqID string) (LogEntry, error) {
	st, err := rc.sourceOf(tenant, id)
	if err != nil {
		return LogEntry{}, err
	}
	return rc.inboundEntry(st, reqID)
}

func (rc *Receiver) inboundEntry(st *sourceState, reqID string) (LogEntry, error) {
	req, ok := parseRequestID(reqID)
	if !ok {
		return LogEntry{}, engine.NotFound("request_not_found", "request %q is not in source %q's log", reqID, st.src.ID)
	}
	rec, err := rc.log.GetInbound(st.id, req)
	if errors.Is(err, wal.ErrNotFound) {
		return LogEntry{}, engine.NotFound("request_not_found", "request %q is not in source %q's log", reqID, st.src.ID)
	}
	if err != nil {
		return LogEntry{}, err
	}
	var en LogEntry
	if err := sonic.Unmarshal(rec, &en); err != nil {
		return LogEntry{}, err
	}
	if en.BodyInEvent {
		en.BodyInEvent = false
		if err := rc.bodyFromEvent(&en); err != nil {
			return LogEntry{}, err
		}
	}
	return en, nil
}

// bodyFromEvent fills a record's body from the event it made, whose
// payload is the body's bytes. Retention removes the two together; an
// event already gone leaves the body empty and says so.
func (rc *Receiver) bodyFromEvent(en *LogEntry) error {
	if _, ok := engine.ParseEventID(en.EventID); !ok {
		return fmt.Errorf("request %s names no event (%q)", en.ID, en.EventID)
	}
	payload, found, err := rc.e.EventPayload(en.EventID)
	if err != nil {
		return err
	}
	if !found {
		en.Message = "the body was removed with its event"
		return nil
	}
	en.Body = string(payload)
	return nil
}

func parseRequestID(s string) (wal.ID, bool) { return engine.ParsePrefixedID(s, requestPrefix) }

// ReplayRequest runs a logged request again through the source's current
// mapping, without verifying it again: only a request that was verified
// when it came can be replayed. Dedupe still applies, so replaying a
// request that made an event answers that event again.
func (rc *Receiver) ReplayRequest(ctx context.Context, tenant, id, reqID string) (Result, error) {
	res, err := rc.replayRequest(tenant, id, reqID)
	if err == nil {
		rc.e.Audit(ctx, engine.Change{Action: "source.replay_request", Tenant: tenant, Resource: id + "/" + reqID})
	}
	return res, err
}

func (rc *Receiver) replayRequest(tenant, id, reqID string) (Result, error) {
	st, err := rc.sourceOf(tenant, id)
	if err != nil {
		return Result{}, err
	}
	orig, err := rc.inboundEntry(st, reqID)
	if err != nil {
		return Result{}, err
	}
	switch {
	case !orig.Verified:
		return Result{}, engine.Conflict("not_verified", "request %s failed verification (%s); only verified requests can be replayed", reqID, orig.Code)
	case orig.Truncated:
		return Result{}, engine.Conflict("body_truncated", "request %s's body (%d bytes) was logged only in part", reqID, orig.BodyBytes)
	case orig.Body == "" && orig.BodyBytes > 0:
		return Result{}, engine.Conflict("body_removed", "request %s's body was removed with its event", reqID)
	case orig.Outcome == Challenge:
		return Result{}, engine.Conflict("not_an_event", "request %s was a provider handshake, not an event", reqID)
	}
	body := []byte(orig.Body)
	if orig.BodyBase64 {
		if body, err = base64.StdEncoding.DecodeString(orig.Body); err != nil {
			return Result{}, err
		}
	}
	reqWal := rc.log.NewConfigID()
	entry := LogEntry{ID: requestPrefix + reqWal.String(), At: time.Now().UTC(), Verified: true, ReplayOf: reqID}
	h := logHeaders(strings.Split(orig.Headers, "\n"))
	res := rc.mapAndAppend(st, body, h, nil, &entry)
	res.RequestID = entry.ID
	raw := Request{Request: verify.Request{URL: []byte(orig.RequestURL), Body: body}, RawHeaders: []byte(orig.Headers)}
	rc.logInbound(st, reqWal, &raw, &entry, res)
	return res, nil
}
