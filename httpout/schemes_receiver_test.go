package httpout

import (
	"crypto/ed25519"
	"crypto/hmac"
	"encoding/base64"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stripe/stripe-go/v85/webhook"
)

// The tests in this file send real requests to a net/http receiver on
// 127.0.0.1 and verify each scheme with code hookline does not share: the
// official Standard Webhooks library, stripe-go's webhook package, and
// crypto/hmac and crypto/ed25519 used the way a receiver's docs say to.

type received struct {
	method        string
	header        http.Header
	body          []byte
	contentLength int64
}

// newCaptureServer starts a receiver that hands every request it gets to
// the returned channel and answers 204.
func newCaptureServer(t *testing.T) (string, <-chan received) {
	t.Helper()
	got := make(chan received, 1)
	srv, _ := newLocalServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got <- received{method: r.Method, header: r.Header.Clone(), body: body, contentLength: r.ContentLength}
		w.WriteHeader(http.StatusNoContent)
	}))
	return srv.URL + "/hooks/in", got
}

var receiverBody = []byte(`{"type":"invoice.paid","timestamp":"2026-11-23T10:00:00Z","data":{"id":"in_1","amount":4200}}`)

const receiverMsgID = "evt_01JD5Z7Q4S6W8Y0A2C4E6G8J0K"

// sendSigned signs req (whose URL, MsgID and Timestamp it sets) with signer,
// sends it and returns what the receiver got.
func sendSigned(t *testing.T, signer *Signer, req Request) received {
	t.Helper()
	url, got := newCaptureServer(t)
	s := newTestSender(t, Options{Allow: allowLoopback})
	req.URL, req.MsgID, req.Timestamp = url, receiverMsgID, time.Now().Unix()
	req.Signature = signer.AppendSignatures(nil, req.MsgID, req.Timestamp, req.Body)
	req.SignatureHeader = signer.Header()
	requireResponse(t, send(s, &req), http.StatusNoContent)
	return <-got
}

func TestSchemeStandardWebhooksRotation(t *testing.T) {
	current := mustNewSecretFor(t, SchemeStandardWebhooks)
	r := sendSigned(t, mustSignerFor(t, SignatureConfig{}, current, specSecret), Request{Body: receiverBody})
	// A receiver holding only the old secret and one holding only the new
	// one both accept the delivery.
	for _, secret := range []string{current, specSecret} {
		wh, err := standardwebhooks.NewWebhook(secret)
		if err != nil {
			t.Fatalf("NewWebhook: %s", err)
		}
		if err := wh.Verify(r.body, r.header); err != nil {
			t.Fatalf("standardwebhooks.Verify: %s (webhook-signature %q)", err, r.header.Get("Webhook-Signature"))
		}
	}
	wh, _ := standardwebhooks.NewWebhook(mustNewSecretFor(t, SchemeStandardWebhooks))
	if err := wh.Verify(r.body, r.header); err == nil {
		t.Fatalf("verification with an unrelated secret must fail")
	}
}

// TestSchemeStripe verifies with stripe-go, keyed by the secret text: one a
// user chose and one hookline generated (whsec_..., used whole).
func TestSchemeStripe(t *testing.T) {
	const chosen = "acme-legacy-stripe-style-secret-2019"
	generated := mustNewSecretFor(t, SchemeStripe)
	f := func(cfg SignatureConfig, header string) {
		t.Helper()
		r := sendSigned(t, mustSignerFor(t, cfg, generated, chosen), Request{Body: receiverBody})
		v := r.header.Get(header)
		if !strings.HasPrefix(v, "t="+r.header.Get("Webhook-Timestamp")+",v1=") || strings.Count(v, ",v1=") != 2 {
			t.Fatalf("%s = %q; want t=<webhook-timestamp> and two v1 entries", header, v)
		}
		for _, secret := range []string{generated, chosen} {
			if err := webhook.ValidatePayloadWithTolerance(r.body, v, secret, 5*time.Minute); err != nil {
				t.Fatalf("stripe-go ValidatePayload with one of the secrets: %s (%s: %q)", err, header, v)
			}
		}
		if err := webhook.ValidatePayloadWithTolerance(r.body, v, "whsec_unrelatedunrelatedunrelated", 5*time.Minute); err == nil {
			t.Fatalf("stripe-go accepted an unrelated secret")
		}
		tampered := append([]byte(nil), r.body...)
		tampered[len(tampered)-2] = '1'
		if err := webhook.ValidatePayloadWithTolerance(tampered, v, generated, 5*time.Minute); err == nil {
			t.Fatalf("stripe-go accepted a tampered body")
		}
	}
	f(SignatureConfig{Scheme: SchemeStripe}, "Stripe-Signature")
	f(SignatureConfig{Scheme: SchemeStripe, Header: "Acme-Signature"}, "Acme-Signature")
}

// TestSchemeHMACSHA256Rotation checks the single-signature scheme through a
// rotation: during the overlap the oldest valid secret signs, so a receiver
// that has not switched keeps working; afterwards the current one does.
func TestSchemeHMACSHA256Rotation(t *testing.T) {
	oldest := "the-original-secret-from-2019!"
	middle := mustNewSecretFor(t, SchemeHMACSHA256)
	current := mustNewSecretFor(t, SchemeHMACSHA256)
	cfg := SignatureConfig{Scheme: SchemeHMACSHA256, Header: "X-Hub-Signature-256", Prefix: "sha256=", Encoding: EncodingHex}

	// Previous secrets newest first, as the engine keeps them.
	r := sendSigned(t, mustSignerFor(t, cfg, current, middle, oldest), Request{Body: receiverBody})
	got := r.header.Get("X-Hub-Signature-256")
	if want := hubSignature(oldest, r.body, "sha256=", false); !hmac.Equal([]byte(got), []byte(want)) {
		t.Fatalf("during the overlap: X-Hub-Signature-256 = %q; want the oldest secret's %q", got, want)
	}
	r = sendSigned(t, mustSignerFor(t, cfg, current, middle), Request{Body: receiverBody})
	if got, want := r.header.Get("X-Hub-Signature-256"), hubSignature(middle, r.body, "sha256=", false); got != want {
		t.Fatalf("after the oldest expired: got %q; want the next oldest's %q", got, want)
	}
	r = sendSigned(t, mustSignerFor(t, cfg, current), Request{Body: receiverBody})
	if got, want := r.header.Get("X-Hub-Signature-256"), hubSignature(current, r.body, "sha256=", false); got != want {
		t.Fatalf("after the overlap: got %q; want the current secret's %q", got, want)
	}

	// Defaults: X-Hookline-Signature, no prefix, hex; and base64.
	r = sendSigned(t, mustSignerFor(t, SignatureConfig{Scheme: SchemeHMACSHA256}, current), Request{Body: receiverBody})
	if got, want := r.header.Get(DefaultHMACHeader), hubSignature(current, r.body, "", false); got != want {
		t.Fatalf("default config: %s = %q; want %q", DefaultHMACHeader, got, want)
	}
	if r.header.Get("Webhook-Signature") != "" || r.header.Get("Webhook-Id") != receiverMsgID {
		t.Fatalf("hmac-sha256 must send webhook-id and no webhook-signature; got %v", r.header)
	}
	r = sendSigned(t, mustSignerFor(t, SignatureConfig{Scheme: SchemeHMACSHA256, Encoding: EncodingBase64}, current), Request{Body: receiverBody})
	if got, want := r.header.Get(DefaultHMACHeader), hubSignature(current, r.body, "", true); got != want {
		t.Fatalf("base64: got %q; want %q", got, want)
	}
}

// verifyV1a is a receiver's check of Standard Webhooks asymmetric
// signatures with a whpk_ public key: any v1a entry that verifies.
func verifyV1a(t *testing.T, r received, publicKey string) bool {
	t.Helper()
	pub, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(publicKey, "whpk_"))
	if err != nil || len(pub) != ed25519.PublicKeySize {
		t.Fatalf("bad public key %q: %v", publicKey, err)
	}
	signed := r.header.Get("Webhook-Id") + "." + r.header.Get("Webhook-Timestamp") + "." + string(r.body)
	for _, entry := range strings.Split(r.header.Get("Webhook-Signature"), " ") {
		v, sig, ok := strings.Cut(entry, ",")
		if !ok || v != "v1a" {
			continue
		}
		raw, err := base64.StdEncoding.DecodeString(sig)
		if err == nil && ed25519.Verify(pub, []byte(signed), raw) {
			return true
		}
	}
	return false
}

func TestSchemeEd25519Rotation(t *testing.T) {
	old := mustNewSecretFor(t, SchemeEd25519)
	current := mustNewSecretFor(t, SchemeEd25519)
	r := sendSigned(t, mustSignerFor(t, SignatureConfig{Scheme: SchemeEd25519}, current, old), Request{Body: receiverBody})
	if v := r.header.Get("Webhook-Signature"); strings.Count(v, "v1a,") != 2 || strings.Contains(v, "v1,") {
		t.Fatalf("webhook-signature %q; want two v1a signatures", v)
	}
	for _, secret := range []string{current, old} {
		if !verifyV1a(t, r, mustPublicKey(t, secret)) {
			t.Fatalf("no v1a signature verifies with a rotation's public key")
		}
	}
	if verifyV1a(t, r, mustPublicKey(t, mustNewSecretFor(t, SchemeEd25519))) {
		t.Fatalf("an unrelated public key verified")
	}
	r.body[len(r.body)-2] = '1'
	if verifyV1a(t, r, mustPublicKey(t, current)) {
		t.Fatalf("a tampered body verified")
	}
}

// TestSchemeSwitchStandardToEd25519 checks the overlap of a switch between
// the two Standard Webhooks schemes: one header carries v1a for the new key
// and v1 for the old secret, which the official library still verifies.
func TestSchemeSwitchStandardToEd25519(t *testing.T) {
	current := mustNewSecretFor(t, SchemeEd25519)
	r := sendSigned(t, mustSignerFor(t, SignatureConfig{Scheme: SchemeEd25519}, current, specSecret), Request{Body: receiverBody})
	if !verifyV1a(t, r, mustPublicKey(t, current)) {
		t.Fatalf("the new key's v1a signature does not verify: %q", r.header.Get("Webhook-Signature"))
	}
	wh, _ := standardwebhooks.NewWebhook(specSecret)
	if err := wh.Verify(r.body, r.header); err != nil {
		t.Fatalf("standardwebhooks.Verify with the old secret: %s (%q)", err, r.header.Get("Webhook-Signature"))
	}
}

func TestSchemeNoneWithAuth(t *testing.T) {
	signer := mustSignerFor(t, SignatureConfig{Scheme: SchemeNone}, mustNewSecretFor(t, SchemeNone))
	auth := AuthConfig{Type: AuthBearer, Token: "tok_0123456789abcdef"}
	r := sendSigned(t, signer, Request{Body: receiverBody, EventType: "invoice.paid", Headers: []Header{auth.Header()}})
	if _, ok := r.header["Webhook-Signature"]; ok || signer.Header() != "" {
		t.Fatalf("scheme none sent a signature: %v", r.header)
	}
	for name, want := range map[string]string{
		"Authorization":       "Bearer tok_0123456789abcdef",
		"Webhook-Id":          receiverMsgID,
		"Hookline-Event-Type": "invoice.paid",
		"Content-Type":        "application/json",
	} {
		if got := r.header.Get(name); got != want {
			t.Fatalf("%s = %q; want %q", name, got, want)
		}
	}
}

// TestRequestShaping checks what the receiver sees of methods, bodies,
// static and auth headers.
func TestRequestShaping(t *testing.T) {
	signer := mustSignerFor(t, SignatureConfig{}, specSecret)
	basic := AuthConfig{Type: AuthBasic, Username: "hookline", Password: "p:ss wörd"}
	custom := AuthConfig{Type: AuthHeader, Name: "X-Api-Key", Value: "key_abc"}
	f := func(method string, body []byte, headers []Header, wantContentType string) received {
		t.Helper()
		r := sendSigned(t, signer, Request{Method: method, Body: body, EventType: "lead.created", Attempt: 2, Headers: headers})
		wantMethod := method
		if method == "" {
			wantMethod = http.MethodPost
		}
		if r.method != wantMethod || string(r.body) != string(body) || r.contentLength != int64(len(body)) {
			t.Fatalf("%s: receiver got %s with %d-byte body %q (content-length %d)", wantMethod, r.method, len(r.body), r.body, r.contentLength)
		}
		ct, hasCT := r.header["Content-Type"]
		if (wantContentType == "") == hasCT || (hasCT && ct[0] != wantContentType) {
			t.Fatalf("%s: content-type %q; want %q", wantMethod, ct, wantContentType)
		}
		for name, want := range map[string]string{
			"Hookline-Event-Type": "lead.created",
			"Hookline-Attempt":    "2",
			"Webhook-Id":          receiverMsgID,
		} {
			if got := r.header.Get(name); got != want {
				t.Fatalf("%s: %s = %q; want %q", wantMethod, name, got, want)
			}
		}
		// The signature covers what was sent, with or without a body.
		wh, _ := standardwebhooks.NewWebhook(specSecret)
		if err := wh.Verify(r.body, r.header); err != nil {
			t.Fatalf("%s: standardwebhooks.Verify: %s", wantMethod, err)
		}
		return r
	}
	static := []Header{{Name: "X-Tenant", Value: "acme"}, basic.Header()}
	for _, m := range []string{"", MethodPost, MethodPut, MethodPatch, MethodDelete} {
		r := f(m, receiverBody, static, "application/json")
		if r.header.Get("X-Tenant") != "acme" {
			t.Fatalf("%s: static header missing: %v", m, r.header)
		}
		req := &http.Request{Header: r.header}
		if u, p, ok := req.BasicAuth(); !ok || u != basic.Username || p != basic.Password {
			t.Fatalf("%s: basic auth %q %q %v; want %q %q", m, u, p, ok, basic.Username, basic.Password)
		}
	}
	// A DELETE without a body template sends neither body nor content-type,
	// even when a static header names a content-type.
	r := f(MethodDelete, nil, []Header{{Name: "Content-Type", Value: "application/vnd.api+json"}, custom.Header()}, "")
	if r.header.Get("X-Api-Key") != "key_abc" {
		t.Fatalf("auth header missing: %v", r.header)
	}
	// Other methods keep theirs; a static Content-Type replaces the default.
	f(MethodPost, nil, nil, "application/json")
	f(MethodPatch, receiverBody, []Header{{Name: "Content-Type", Value: "application/vnd.api+json"}}, "application/vnd.api+json")
}

// TestSendRefusesUnknownMethod: a method no endpoint can have is refused
// before any connection.
func TestSendRefusesUnknownMethod(t *testing.T) {
	srv, conns := newLocalServer(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	s := newTestSender(t, Options{Allow: allowLoopback})
	for _, m := range []string{"GET", "post", "CONNECT", "DELETE "} {
		req := testRequest(srv.URL)
		req.Method = m
		requireErrClass(t, send(s, req), ErrClassInvalidURL)
	}
	if n := conns.Load(); n != 0 {
		t.Fatalf("%d connections for refused methods; want 0", n)
	}
}

func TestSendHeaderOrderAndTimestamp(t *testing.T) {
	// webhook-timestamp is the timestamp the signature covers, on every
	// scheme that signs one.
	r := sendSigned(t, mustSignerFor(t, SignatureConfig{Scheme: SchemeStripe}, mustNewSecretFor(t, SchemeStripe)), Request{Body: receiverBody})
	ts, err := strconv.ParseInt(r.header.Get("Webhook-Timestamp"), 10, 64)
	if err != nil || !strings.HasPrefix(r.header.Get("Stripe-Signature"), "t="+strconv.FormatInt(ts, 10)+",") {
		t.Fatalf("webhook-timestamp %q and Stripe-Signature %q disagree", r.header.Get("Webhook-Timestamp"), r.header.Get("Stripe-Signature"))
	}
}
