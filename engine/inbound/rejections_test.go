package inbound_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"hookline/engine"
	"hookline/engine/inbound"
	"hookline/wal"
)

// unsigned is a GitHub-shaped request without a signature.
func unsigned(id string, body []byte, extra ...[2]string) *inbound.Request {
	return request(id, "", body, append(hdrs{{"X-GitHub-Event", "push"}, {"X-GitHub-Delivery", "d"}}, extra...))
}

// rejected returns source id's logged requests that failed verification,
// newest first.
func (h *harness) rejected(tenant, id string) []inbound.LogEntry {
	h.t.Helper()
	var out []inbound.LogEntry
	for _, en := range h.requests(tenant, id) {
		if !en.Verified {
			out = append(out, en)
		}
	}
	return out
}

// TestRejectedLogRecord: a request that fails verification is logged with
// its metadata and at most 1 KiB of its body (4 KiB of headers); one
// that is verified keeps 64 KiB, as before. A record logged before the
// bounds, with its whole body, still reads.
func TestRejectedLogRecord(t *testing.T) {
	h := newHarness(t)
	h.tenant("acme")
	src := h.source("acme", inbound.SourceInput{Provider: ptr("github"), Secret: ptr("gh-secret")})
	body := []byte(`{"pad":"` + strings.Repeat("é", 32<<10) + `"}`)
	res := h.rc.Receive(src.ID, unsigned(src.ID, body, [2]string{"X-Big", strings.Repeat("h", 8<<10)}, [2]string{"X-After", "1"}))
	require_Equal(t, res.Status, 401)
	require_Equal(t, res.Code, "missing_signature")
	require_True(t, res.RequestID != "", "a rejection within the rate is logged")
	en, err := h.rc.GetRequest("acme", src.ID, res.RequestID)
	require_NoError(t, err)
	require_Equal(t, en.Verified, false)
	require_Equal(t, en.Outcome, inbound.Rejected)
	require_Equal(t, en.Status, 401)
	require_Equal(t, en.Code, "missing_signature")
	require_Equal(t, en.BodyBytes, len(body))
	require_True(t, en.Truncated, "the body is not marked truncated")
	raw := en.Body
	if en.BodyBase64 {
		b, err := base64.StdEncoding.DecodeString(en.Body)
		require_NoError(t, err)
		raw = string(b)
	}
	require_Equal(t, raw, string(body[:1024]))
	require_True(t, len(en.Headers) <= 4<<10, "%d bytes of headers logged", len(en.Headers))
	require_True(t, strings.Contains(en.Headers, "X-GitHub-Delivery: d\n"), "headers %q", en.Headers)
	require_True(t, !strings.Contains(en.Headers, "X-After"), "headers past the big one were logged: %q", en.Headers)
	require_True(t, strings.Contains(en.RequestURL, src.ID), "url %q", en.RequestURL)
	_, err = h.rc.ReplayRequest(bg, "acme", src.ID, en.ID)
	require_ErrorCode(t, err, engine.KindConflict, "not_verified")

	// Verified requests are logged as before: this body is the event's
	// payload, and reads whole from there.
	big := []byte(`{"action":"opened","pad":"` + strings.Repeat("x", 70<<10) + `"}`)
	res = h.rc.Receive(src.ID, githubReq(src.ID, "gh-secret", "d-1", big))
	require_Equal(t, res.Outcome, inbound.Accepted)
	en, err = h.rc.GetRequest("acme", src.ID, res.RequestID)
	require_NoError(t, err)
	require_Equal(t, en.Body, string(big))

	// A record of a rejection from before (whole body, verified request
	// range) reads and lists as it did.
	id, ok := inbound.ParseSourceID(src.ID)
	require_True(t, ok, "source id %q", src.ID)
	reqID := h.log.NewConfigID()
	old := inbound.LogEntry{ID: "req_" + reqID.String(), At: time.Now().UTC(), Outcome: inbound.Rejected, Status: 401,
		Code: "bad_signature", Body: strings.Repeat("o", 64<<10), BodyBytes: 64 << 10}
	rec, err := json.Marshal(old)
	require_NoError(t, err)
	require_NoError(t, h.log.LogInbound(id, reqID, rec))
	got, err := h.rc.GetRequest("acme", src.ID, old.ID)
	require_NoError(t, err)
	require_Equal(t, len(got.Body), 64<<10)
	reqs := h.requests("acme", src.ID)
	require_Equal(t, len(reqs), 3)
	require_Equal(t, reqs[0].ID, old.ID)
	require_Equal(t, reqs[2].Code, "missing_signature")
}

// TestRejectedBound: a source keeps at most MaxRejectedPerSource requests
// that failed verification, the newest, also across a restart; its
// verified requests are all kept.
func TestRejectedBound(t *testing.T) {
	const limit = 100
	h := newHarnessWith(t, func(h *harness) {
		h.rcOpts = inbound.Options{MaxRejectedPerSource: limit, FailureRate: -1}
	})
	h.tenant("acme")
	src := h.source("acme", inbound.SourceInput{Provider: ptr("github"), Secret: ptr("gh-secret")})
	other := h.source("acme", inbound.SourceInput{Provider: ptr("github"), Secret: ptr("gh-secret")})
	var rejected []string
	accepted := 0
	send := func(n int) {
		t.Helper()
		for i := range n {
			res := h.rc.Receive(src.ID, unsigned(src.ID, []byte(`{}`)))
			require_Equal(t, res.Status, 401)
			rejected = append(rejected, res.RequestID)
			if i%10 == 0 {
				body := fmt.Appendf(nil, `{"action":"opened","n":%d}`, accepted)
				res = h.rc.Receive(src.ID, githubReq(src.ID, "gh-secret", fmt.Sprint("d-", accepted), body))
				require_Equal(t, res.Outcome, inbound.Accepted)
				accepted++
			}
			got := len(h.rejected("acme", src.ID))
			require_True(t, got <= limit, "%d rejections stored after %d", got, len(rejected))
		}
	}
	check := func() {
		t.Helper()
		stored := h.rejected("acme", src.ID)
		require_True(t, len(stored) >= limit-limit/10, "%d rejections stored", len(stored))
		// The newest, in order: the oldest went first.
		for i, en := range stored {
			require_Equal(t, en.ID, rejected[len(rejected)-1-i])
		}
		require_Equal(t, len(h.requests("acme", src.ID))-len(stored), accepted)
	}
	send(3 * limit)
	check()
	res := h.rc.Receive(other.ID, unsigned(other.ID, []byte(`{}`)))
	require_Equal(t, res.Status, 401)
	require_Equal(t, len(h.rejected("acme", other.ID)), 1)

	h.stop(5 * time.Second)
	h.start()
	send(limit / 2)
	check()
	require_Equal(t, len(h.rejected("acme", other.ID)), 1)

	// Deleting the source takes its rejections; a new source starts empty.
	require_NoError(t, h.rc.DeleteSource(bg, "acme", src.ID))
	id, _ := inbound.ParseSourceID(src.ID)
	n := 0
	require_NoError(t, h.log.ScanInbound(id, wal.ID{}, func(wal.ID, []byte) bool { n++; return true }))
	require_Equal(t, n, 0)
}

// TestRejectedRetention: requests that failed verification are removed
// after RejectedRetention by the engine's retention passes; verified ones
// stay for the engine's retention.
func TestRejectedRetention(t *testing.T) {
	h := newHarnessWith(t, func(h *harness) {
		h.rcOpts = inbound.Options{RejectedRetention: 50 * time.Millisecond}
		h.engineOpts = func(o *engine.Options) { o.RetentionInterval = 20 * time.Millisecond }
	})
	h.tenant("acme")
	src := h.source("acme", inbound.SourceInput{Provider: ptr("github"), Secret: ptr("gh-secret")})
	res := h.rc.Receive(src.ID, unsigned(src.ID, []byte(`{}`)))
	require_Equal(t, res.Status, 401)
	res = h.rc.Receive(src.ID, githubReq(src.ID, "gh-secret", "d-1", []byte(`{"action":"opened"}`)))
	require_Equal(t, res.Outcome, inbound.Accepted)
	start := time.Now()
	waitFor(t, 30*time.Second, "the rejection to expire", func() bool { return len(h.rejected("acme", src.ID)) == 0 })
	require_True(t, time.Since(start) >= 40*time.Millisecond, "the rejection went after %s", time.Since(start))
	reqs := h.requests("acme", src.ID)
	require_Equal(t, len(reqs), 1)
	require_Equal(t, reqs[0].Outcome, inbound.Accepted)
}

// TestFailuresThrottled: past its burst, a source's failed verifications
// come at most at the failure rate; the others are answered 429
// too_many_failures with a Retry-After, are not logged and are counted.
// Signed requests meanwhile are accepted, and other sources are not
// throttled.
func TestFailuresThrottled(t *testing.T) {
	h := newHarness(t)
	h.tenant("acme")
	src := h.source("acme", inbound.SourceInput{Provider: ptr("github"), Secret: ptr("gh-secret")})
	other := h.source("acme", inbound.SourceInput{Provider: ptr("github"), Secret: ptr("gh-secret")})
	const n = 300
	start := time.Now()
	logged, throttled := 0, 0
	for i := range n {
		res := h.rc.Receive(src.ID, unsigned(src.ID, []byte(`{}`)))
		switch res.Status {
		case 401:
			logged++
			require_True(t, res.RequestID != "", "a logged rejection without an id")
		case 429:
			throttled++
			require_Equal(t, res.Outcome, inbound.Rejected)
			require_Equal(t, res.Code, "too_many_failures")
			require_True(t, strings.Contains(res.Message, "missing_signature"), "message %q does not name the failure", res.Message)
			require_True(t, res.RetryAfter >= time.Second && res.RetryAfter%time.Second == 0, "Retry-After %v", res.RetryAfter)
			require_Equal(t, res.RequestID, "")
		default:
			t.Fatalf("request %d: %d %s", i, res.Status, res.Code)
		}
		if i == n/2 {
			res := h.rc.Receive(src.ID, githubReq(src.ID, "gh-secret", "d-1", []byte(`{"action":"opened"}`)))
			require_Equal(t, res.Outcome, inbound.Accepted)
			res = h.rc.Receive(other.ID, unsigned(other.ID, []byte(`{}`)))
			require_Equal(t, res.Status, 401)
		}
	}
	allowed := inbound.DefaultFailureBurst + int(math.Ceil(inbound.DefaultFailureRate*time.Since(start).Seconds()))
	require_True(t, logged >= inbound.DefaultFailureBurst, "%d logged; the burst is %d", logged, inbound.DefaultFailureBurst)
	require_True(t, logged <= allowed, "%d logged; the limiter allows %d", logged, allowed)
	require_Equal(t, len(h.rejected("acme", src.ID)), logged)
	require_Equal(t, h.metric(`hookline_inbound_verification_throttled_total`), float64(throttled))
	require_Equal(t, h.metric(`hookline_inbound_requests_total{outcome="rejected"}`), float64(n+1))
}

// TestReceiverOptions: bad bounds are refused with the option's name.
func TestReceiverOptions(t *testing.T) {
	f := func(o inbound.Options, want string) {
		t.Helper()
		o.EnsureDefaults()
		err := o.Validate()
		if want == "" {
			require_NoError(t, err)
			return
		}
		require_True(t, err != nil && strings.Contains(err.Error(), want), "error %v; want one naming %s", err, want)
	}
	f(inbound.Options{}, "")
	f(inbound.Options{FailureRate: -1}, "")
	f(inbound.Options{MaxRejectedPerSource: -1}, "MaxRejectedPerSource")
	f(inbound.Options{RejectedRetention: -time.Second}, "RejectedRetention")
	f(inbound.Options{FailureBurst: -1}, "FailureBurst")
}

// TestHandshakeFailuresThrottled: failed handshakes count against the
// source's failure rate as failed signatures do, so a verify token cannot
// be guessed at line rate; a good one is still answered.
func TestHandshakeFailuresThrottled(t *testing.T) {
	h := newHarnessWith(t, func(h *harness) { h.rcOpts = inbound.Options{FailureRate: 0.001, FailureBurst: 3} })
	h.tenant("acme")
	src := h.source("acme", inbound.SourceInput{Provider: ptr("meta"), Secret: ptr("0123456789abcdef0123456789abcdef"), VerifyToken: ptr("right")})
	try := func(tok string) inbound.Result {
		return h.rc.Handshake(src.ID, request(src.ID, "hub.mode=subscribe&hub.verify_token="+tok+"&hub.challenge=1", nil, nil))
	}
	for range 3 {
		require_Equal(t, try("wrong").Code, "bad_verify_token")
	}
	res := try("wrong")
	require_Equal(t, res.Status, 429)
	require_Equal(t, res.Code, inbound.CodeTooManyFailures)
	require_Equal(t, try("right").Status, 200)
	require_Equal(t, len(h.requests("acme", src.ID)), 4)
}
