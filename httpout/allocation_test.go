package httpout

import (
	"testing"
	"time"
)

func TestAllocationSigner(t *testing.T) {
	const text = "correct-horse-battery-staple"
	other := "whsec_" + "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
	f := func(name string, s *Signer) {
		t.Helper()
		body := []byte(specBody)
		var dst []byte
		n := testing.AllocsPerRun(100, func() {
			dst = s.AppendSignatures(dst[:0], specMsgID, specTS, body)
		})
		if n != 0 {
			t.Fatalf("%s: Signer.AppendSignatures: %v allocs per run; want 0", name, n)
		}
	}
	f("NewSigner", NewSigner(mustParseSecret(t, specSecret), mustParseSecret(t, other)))
	// Every scheme, through a rotation's overlap.
	f("standard-webhooks", mustSignerFor(t, SignatureConfig{}, specSecret, other))
	f("hmac-sha256", mustSignerFor(t, SignatureConfig{Scheme: SchemeHMACSHA256, Prefix: "sha256="}, text, other))
	f("hmac-sha256 base64", mustSignerFor(t, SignatureConfig{Scheme: SchemeHMACSHA256, Encoding: EncodingBase64}, text))
	f("stripe", mustSignerFor(t, SignatureConfig{Scheme: SchemeStripe}, text, other))
	f("ed25519", mustSignerFor(t, SignatureConfig{Scheme: SchemeEd25519}, specEd25519Secret, mustNewSecretFor(t, SchemeEd25519), specSecret))
	f("none", mustSignerFor(t, SignatureConfig{Scheme: SchemeNone}, text))
	f("clone", mustSignerFor(t, SignatureConfig{}, specSecret, other).Clone())
}

func TestAllocationParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	delta := []byte("120")
	date := []byte("Mon, 23 Nov 2026 10:00:30 GMT")
	n := testing.AllocsPerRun(100, func() {
		_ = parseRetryAfter(delta, now, DefaultMaxRetryAfter)
		_ = parseRetryAfter(date, now, DefaultMaxRetryAfter)
	})
	if n != 0 {
		t.Fatalf("parseRetryAfter: %v allocs per run; want 0", n)
	}
}

// TestAllocationSend checks the steady state of Send: a pooled keep-alive
// connection to a fasthttp receiver and a reused Result.
func TestAllocationSend(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	url := newFastServer(t)
	s := newTestSender(t, Options{Allow: allowLoopback})
	// A plain request, and one shaped by every Request field: method, event
	// type, static and auth headers, another signature header; and a
	// DELETE without a body.
	del := shapedRequest(t, url)
	del.Method, del.Body = MethodDelete, nil
	for _, req := range []*Request{benchRequest(t, url), shapedRequest(t, url), del} {
		var res Result
		s.Send(req, &res) // dial and warm the pools
		n := testing.AllocsPerRun(100, func() {
			s.Send(req, &res)
		})
		if res.Status != 200 || string(res.Body) != `{"received":true}` || res.ContentType != "application/json" {
			t.Fatalf("unexpected result: status %d, class %q, err %v, body %q", res.Status, res.ErrClass, res.Err, res.Body)
		}
		if n != 0 {
			t.Fatalf("Sender.Send of a %s request: %v allocs per run; want 0", req.Method, n)
		}
	}
}
