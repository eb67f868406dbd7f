package engine_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"hookline/engine"
	"hookline/httpout"
	"hookline/wal"
)

// verifies reports whether d verifies with secret through the official
// Standard Webhooks library.
func verifies(t testing.TB, secret string, d delivery) bool {
	t.Helper()
	wh, err := standardwebhooks.NewWebhook(secret)
	require_NoError(t, err)
	return wh.Verify(d.body, d.header) == nil
}

// signatures returns the v1 signatures of d's webhook-signature header.
func signatures(d delivery) []string { return strings.Fields(d.header.Get("webhook-signature")) }

// onlyFirstSignature is d with its webhook-signature cut to the first one.
func onlyFirstSignature(d delivery) delivery {
	d.header = d.header.Clone()
	d.header.Set("webhook-signature", signatures(d)[0])
	return d
}

// deliverOne publishes one event and returns its delivery to rc.
func deliverOne(t testing.TB, h *harness, rc *receiver) delivery {
	t.Helper()
	n := rc.count()
	res := h.publish("acme", engine.PublishEvent{Type: "invoice.paid", Payload: []byte(`{"n":1}`)})
	waitFor(t, 10*time.Second, "the delivery", func() bool { return rc.count() > n })
	d := rc.deliveries()[n]
	require_Equal(t, d.id, engine.FormatEventID(res[0].ID))
	return d
}

// storedEndpoint returns the endpoint's record as stored in the wal.
func storedEndpoint(t testing.TB, h *harness, ep engine.Endpoint) string {
	t.Helper()
	want := walID(t, ep)
	var out string
	require_NoError(t, h.log.Endpoints(func(id wal.ID, val []byte) error {
		if id == want {
			out = string(val)
		}
		return nil
	}))
	require_True(t, out != "", "no stored record for %s", ep.ID)
	return out
}

// TestRotateSecretOverlap: within the overlap a delivery carries the new
// signature first and the old one second, and verifies with either secret;
// once the overlap ends, with no config write in between, deliveries verify
// with the new secret only. The expired secret leaves the stored record at
// its next write.
func TestRotateSecretOverlap(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testOptions())
	h.tenant("acme")
	rc := newReceiver(t, recvConfig{})
	ep := h.endpoint("acme", engine.EndpointInput{URL: ptr(rc.URL())})
	old := ep.Secret

	// The delivery must arrive inside the overlap: one second on a quiet
	// machine. A loaded one may take longer, which proves nothing; the
	// overlap then doubles, rotating again, and the secret it replaces is
	// the old one of the next round.
	var rot engine.Endpoint
	var expires time.Time
	var d delivery
	for overlap := time.Second; ; overlap *= 2 {
		var err error
		rot, err = h.e.RotateSecret(context.Background(), "acme", ep.ID, engine.SecretRotation{Overlap: ptr(overlap.String())})
		require_NoError(t, err)
		require_True(t, strings.HasPrefix(rot.Secret, httpout.SecretPrefix) && rot.Secret != old, "rotation returned secret %q (old %q)", rot.Secret, old)
		require_True(t, rot.SecretRotatedAt != nil && rot.PreviousSecretExpiresAt != nil, "rotation view lacks its times: %+v", rot)
		require_Equal(t, rot.PreviousSecretExpiresAt.Sub(*rot.SecretRotatedAt), overlap)
		require_True(t, rot.PreviousSecrets == nil, "rotation view shows previous secrets")
		expires = *rot.PreviousSecretExpiresAt
		if d = deliverOne(t, h, rc); d.at.Before(expires) {
			break
		}
		require_True(t, overlap < 30*time.Second, "no delivery arrived within an overlap of %s", overlap)
		t.Logf("the delivery came %s after an overlap of %s ended; rotating again with a longer one", d.at.Sub(expires), overlap)
		old = rot.Secret
	}
	require_Equal(t, len(signatures(d)), 2)
	require_True(t, verifies(t, old, d), "in the overlap, the delivery does not verify with the OLD secret: %v", d.header)
	require_True(t, verifies(t, rot.Secret, d), "in the overlap, the delivery does not verify with the NEW secret: %v", d.header)
	first := onlyFirstSignature(d)
	require_True(t, verifies(t, rot.Secret, first) && !verifies(t, old, first), "the first signature is not the new secret's")
	other, err := httpout.NewSecret()
	require_NoError(t, err)
	require_True(t, !verifies(t, other, d), "the delivery verifies with an unrelated secret")

	time.Sleep(time.Until(expires) + 10*time.Millisecond)
	got, err := h.e.GetEndpoint("acme", ep.ID)
	require_NoError(t, err)
	require_True(t, got.PreviousSecretExpiresAt == nil, "after the overlap GET shows previous_secret_expires_at %v", got.PreviousSecretExpiresAt)
	require_True(t, got.SecretRotatedAt != nil && got.SecretRotatedAt.Equal(*rot.SecretRotatedAt), "secret_rotated_at %v; want %v", got.SecretRotatedAt, rot.SecretRotatedAt)
	require_Equal(t, got.Secret, "")

	d = deliverOne(t, h, rc)
	require_Equal(t, len(signatures(d)), 1)
	require_True(t, verifies(t, rot.Secret, d), "after the overlap, the delivery does not verify with the new secret: %v", d.header)
	require_True(t, !verifies(t, old, d), "after the overlap, the delivery still verifies with the OLD secret: %v", d.header)

	// Nothing was written since the rotation: the record still holds the
	// expired secret, unused; the next write drops it.
	require_True(t, strings.Contains(storedEndpoint(t, h, ep), old), "the stored record lost the old secret before any write")
	_, err = h.e.UpdateEndpoint(context.Background(), "acme", ep.ID, engine.EndpointInput{Description: ptr("after the overlap")})
	require_NoError(t, err)
	rec := storedEndpoint(t, h, ep)
	require_True(t, !strings.Contains(rec, old) && !strings.Contains(rec, "previous_secrets"), "the write kept the expired secret: %s", rec)
	require_True(t, strings.Contains(rec, rot.Secret) && strings.Contains(rec, "secret_rotated_at"), "the record lost the rotation: %s", rec)
	h.requireSettled()
}

// TestRotateSecretRepeated: rotations within each other's overlaps keep the
// five newest old secrets signing, newest first; rotating back to an old
// secret makes it current without signing twice with it; overlap 0 stops
// every old secret at once.
func TestRotateSecretRepeated(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testOptions())
	h.tenant("acme")
	rc := newReceiver(t, recvConfig{})
	ep := h.endpoint("acme", engine.EndpointInput{URL: ptr(rc.URL())})
	secrets := []string{ep.Secret}
	for range 7 {
		rot, err := h.e.RotateSecret(context.Background(), "acme", ep.ID, engine.SecretRotation{Overlap: ptr("1h")})
		require_NoError(t, err)
		secrets = append(secrets, rot.Secret)
	}
	d := deliverOne(t, h, rc)
	require_Equal(t, len(signatures(d)), 6)
	for i, s := range secrets {
		require_Equal(t, verifies(t, s, d), i >= 2)
	}
	require_True(t, verifies(t, secrets[7], onlyFirstSignature(d)), "the first signature is not the current secret's")

	// Back to secrets[5]: it is current again and no longer a previous one.
	back := secrets[5]
	rot, err := h.e.RotateSecret(context.Background(), "acme", ep.ID, engine.SecretRotation{Overlap: ptr("1h"), Secret: &back})
	require_NoError(t, err)
	require_Equal(t, rot.Secret, back)
	d = deliverOne(t, h, rc)
	sigs := signatures(d)
	require_Equal(t, len(sigs), 6) // back (5), then 7, 6, 4, 3, 2
	seen := map[string]bool{}
	for _, s := range sigs {
		require_True(t, !seen[s], "signature %s appears twice in %q", s, sigs)
		seen[s] = true
	}
	for i, s := range secrets {
		require_Equal(t, verifies(t, s, d), i >= 2)
	}
	require_True(t, verifies(t, back, onlyFirstSignature(d)), "the first signature is not the current secret's")

	// Overlap 0 (a leaked secret): only the new secret signs, at once.
	rot, err = h.e.RotateSecret(context.Background(), "acme", ep.ID, engine.SecretRotation{Overlap: ptr("0s")})
	require_NoError(t, err)
	require_True(t, rot.PreviousSecretExpiresAt == nil, "overlap 0 shows previous_secret_expires_at %v", rot.PreviousSecretExpiresAt)
	d = deliverOne(t, h, rc)
	require_Equal(t, len(signatures(d)), 1)
	require_True(t, verifies(t, rot.Secret, d), "the delivery does not verify with the new secret")
	for _, s := range secrets {
		require_True(t, !verifies(t, s, d), "after overlap 0 the delivery verifies with an old secret")
	}
	rec := storedEndpoint(t, h, ep)
	require_True(t, !strings.Contains(rec, "previous_secrets"), "overlap 0 stored previous secrets: %s", rec)

	// A shorter overlap cuts the older secrets' windows too.
	r1, err := h.e.RotateSecret(context.Background(), "acme", ep.ID, engine.SecretRotation{Overlap: ptr("1h")})
	require_NoError(t, err)
	r2, err := h.e.RotateSecret(context.Background(), "acme", ep.ID, engine.SecretRotation{Overlap: ptr("1m")})
	require_NoError(t, err)
	require_Equal(t, r2.PreviousSecretExpiresAt.Sub(*r2.SecretRotatedAt), time.Minute)
	require_True(t, r1.PreviousSecretExpiresAt.After(*r2.PreviousSecretExpiresAt), "the 1h overlap was not cut by the 1m one")
	h.requireSettled()
}

// TestRotateSecretRestart: the rotation state is in the stored record: an
// overlap still open at restart keeps both secrets signing, and one that
// ended while the server was down signs with the new secret only.
func TestRotateSecretRestart(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testOptions())
	h.tenant("acme")
	rcLong := newReceiver(t, recvConfig{})
	rcShort := newReceiver(t, recvConfig{})
	long := h.endpoint("acme", engine.EndpointInput{URL: ptr(rcLong.URL()), EventTypes: &[]string{"long"}})
	short := h.endpoint("acme", engine.EndpointInput{URL: ptr(rcShort.URL()), EventTypes: &[]string{"short"}})
	rotLong, err := h.e.RotateSecret(context.Background(), "acme", long.ID, engine.SecretRotation{Overlap: ptr("1h")})
	require_NoError(t, err)
	rotShort, err := h.e.RotateSecret(context.Background(), "acme", short.ID, engine.SecretRotation{Overlap: ptr("300ms")})
	require_NoError(t, err)

	h.stop(5 * time.Second)
	time.Sleep(time.Until(*rotShort.PreviousSecretExpiresAt) + 10*time.Millisecond)
	h.start()

	got, err := h.e.GetEndpoint("acme", long.ID)
	require_NoError(t, err)
	require_True(t, got.PreviousSecretExpiresAt != nil && got.PreviousSecretExpiresAt.Equal(*rotLong.PreviousSecretExpiresAt),
		"after restart previous_secret_expires_at is %v; want %v", got.PreviousSecretExpiresAt, rotLong.PreviousSecretExpiresAt)
	require_True(t, got.SecretRotatedAt != nil && got.SecretRotatedAt.Equal(*rotLong.SecretRotatedAt), "after restart secret_rotated_at is %v", got.SecretRotatedAt)
	got, err = h.e.GetEndpoint("acme", short.ID)
	require_NoError(t, err)
	require_True(t, got.PreviousSecretExpiresAt == nil, "an overlap that ended before the restart shows %v", got.PreviousSecretExpiresAt)

	h.publish("acme", engine.PublishEvent{Type: "long"}, engine.PublishEvent{Type: "short"})
	waitFor(t, 10*time.Second, "both deliveries", func() bool { return rcLong.count() == 1 && rcShort.count() == 1 })
	d := rcLong.deliveries()[0]
	require_Equal(t, len(signatures(d)), 2)
	require_True(t, verifies(t, long.Secret, d), "after restart, inside the overlap, the old secret does not verify")
	require_True(t, verifies(t, rotLong.Secret, d), "after restart the new secret does not verify")
	d = rcShort.deliveries()[0]
	require_Equal(t, len(signatures(d)), 1)
	require_True(t, verifies(t, rotShort.Secret, d), "after restart the new secret does not verify")
	require_True(t, !verifies(t, short.Secret, d), "after restart, past the overlap, the old secret still verifies")
	h.requireSettled()
}

// TestRotateSecretExpiryUnderLoad: the overlap ends while attempts run
// concurrently: every delivery verifies with the new secret, those that
// arrived before the end carry the old signature too, and those published
// after it do not. A loaded machine may deliver nothing before a short
// overlap ends, which proves nothing either way: the overlap then doubles
// until deliveries fall on both sides of its end.
func TestRotateSecretExpiryUnderLoad(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testOptions())
	h.tenant("acme")
	for round, overlap := 1, 300*time.Millisecond; ; round, overlap = round+1, overlap*2 {
		two, one := rotateUnderLoad(t, h, fmt.Sprintf("round%d", round), overlap)
		t.Logf("overlap %s: %d deliveries with both signatures, %d with the new one only", overlap, two, one)
		if two > 0 && one > 0 {
			return
		}
		require_True(t, overlap < 20*time.Second, "want deliveries on both sides of the overlap's end; got %d and %d with an overlap of %s", two, one, overlap)
	}
}

// rotateUnderLoad rotates a new endpoint's secret with overlap while two
// publishers send it events of type typ, until the overlap has ended and
// some were published after its end; it checks every delivery and returns
// how many carried both signatures and how many the new one only.
func rotateUnderLoad(t *testing.T, h *harness, typ string, overlap time.Duration) (two, one int) {
	t.Helper()
	rc := newReceiver(t, recvConfig{sleep: 2 * time.Millisecond})
	ep := h.endpoint("acme", engine.EndpointInput{URL: ptr(rc.URL()), MaxInFlight: ptr(16), EventTypes: &[]string{typ}})
	rot, err := h.e.RotateSecret(context.Background(), "acme", ep.ID, engine.SecretRotation{Overlap: ptr(overlap.String())})
	require_NoError(t, err)
	expires := *rot.PreviousSecretExpiresAt

	var (
		mu        sync.Mutex
		after     = map[string]bool{} // published after the overlap ended
		published atomic.Int64
		wg        sync.WaitGroup
	)
	// Until 300ms past the end, and at least 8 publishes after it however
	// long they take.
	stopAt := expires.Add(300 * time.Millisecond)
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				done := len(after) >= 8*4 && time.Now().After(stopAt)
				mu.Unlock()
				if done {
					return
				}
				at := time.Now()
				res := make([]wal.AppendResult, 4)
				evs := make([]engine.PublishEvent, len(res))
				for i := range evs {
					evs[i] = engine.PublishEvent{Type: typ}
				}
				if err := h.e.Publish("acme", evs, res); err != nil {
					t.Errorf("publish: %v", err)
					return
				}
				published.Add(int64(len(res)))
				if at.After(expires) {
					mu.Lock()
					for _, r := range res {
						after[engine.FormatEventID(r.ID)] = true
					}
					mu.Unlock()
				}
				time.Sleep(5 * time.Millisecond)
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	waitFor(t, 20*time.Second, "every delivery", func() bool { return h.queued(ep) == 0 && rc.count() >= int(published.Load()) })
	for _, d := range rc.deliveries() {
		n := len(signatures(d))
		switch {
		case !verifies(t, rot.Secret, d):
			t.Fatalf("delivery %s does not verify with the new secret: %v", d.id, d.header)
		case after[d.id] && n != 1:
			t.Fatalf("delivery %s published after the overlap carries %d signatures", d.id, n)
		case d.at.Before(expires) && n != 2:
			t.Fatalf("delivery %s arrived within the overlap with %d signatures", d.id, n)
		}
		if n == 2 {
			two++
			require_True(t, verifies(t, ep.Secret, d), "delivery %s with two signatures does not verify with the old secret", d.id)
		} else {
			one++
		}
	}
	return two, one
}

// TestRotateSecretDefaultOverlap: a rotation without overlap takes
// Options.SecretOverlap; negative means none.
func TestRotateSecretDefaultOverlap(t *testing.T) {
	t.Parallel()
	f := func(opt, want time.Duration) {
		t.Helper()
		opts := testOptions()
		opts.SecretOverlap = opt
		h := newHarness(t, opts)
		h.tenant("acme")
		ep := h.endpoint("acme", engine.EndpointInput{URL: ptr("http://127.0.0.1:1/hook")})
		rot, err := h.e.RotateSecret(context.Background(), "acme", ep.ID, engine.SecretRotation{})
		require_NoError(t, err)
		if want == 0 {
			require_True(t, rot.PreviousSecretExpiresAt == nil, "overlap option %s: previous_secret_expires_at %v", opt, rot.PreviousSecretExpiresAt)
			return
		}
		require_True(t, rot.PreviousSecretExpiresAt != nil, "overlap option %s: no previous_secret_expires_at", opt)
		require_Equal(t, rot.PreviousSecretExpiresAt.Sub(*rot.SecretRotatedAt), want)
	}
	f(0, 24*time.Hour)
	f(3*time.Hour, 3*time.Hour)
	f(-1, 0)
	// Over MaxSecretOverlap is an error, not a clamp.
	l, err := wal.Open(t.TempDir(), nil)
	require_NoError(t, err)
	defer l.Close()
	opts := testOptions()
	opts.SecretOverlap = 30 * 24 * time.Hour
	_, err = engine.New(l, nil, opts)
	require_True(t, err != nil && strings.Contains(err.Error(), "SecretOverlap is 720h0m0s"), "SecretOverlap over %s: error %v", engine.MaxSecretOverlap, err)
}

// TestRotateSecretRejects: bad input is refused with its code and changes
// nothing.
func TestRotateSecretRejects(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testOptions())
	h.tenant("acme")
	ep := h.endpoint("acme", engine.EndpointInput{URL: ptr("http://127.0.0.1:1/hook")})
	before := storedEndpoint(t, h, ep)
	f := func(tenant, id string, in engine.SecretRotation, kind engine.Kind, code string) {
		t.Helper()
		_, err := h.e.RotateSecret(context.Background(), tenant, id, in)
		require_ErrorCode(t, err, kind, code)
		require_Equal(t, storedEndpoint(t, h, ep), before)
	}
	ok := engine.SecretRotation{}
	f("acme", "ep_nope", ok, engine.KindNotFound, "endpoint_not_found")
	f("acme", "ep_01ARZ3NDEKTSV4RRFFQ69G5FAV", ok, engine.KindNotFound, "endpoint_not_found")
	f("nobody", ep.ID, ok, engine.KindNotFound, "tenant_not_found")
	for _, o := range []string{"", "soon", "-1s", "169h", "1d", "24"} {
		f("acme", ep.ID, engine.SecretRotation{Overlap: ptr(o)}, engine.KindInvalid, "invalid_overlap")
	}
	for _, s := range []string{"", "whsec_", "secret", "whsec_c2hvcnQ=", "whsec_!!!!"} {
		f("acme", ep.ID, engine.SecretRotation{Secret: ptr(s)}, engine.KindInvalid, "invalid_secret")
	}
	f("acme", ep.ID, engine.SecretRotation{Secret: ptr(ep.Secret)}, engine.KindInvalid, "secret_unchanged")
}
