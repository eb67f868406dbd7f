package httpout

import (
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// TestSendVerifiedByStandardWebhooks checks the wire format with the official
// Standard Webhooks Go library as an independent verifier.
func TestSendVerifiedByStandardWebhooks(t *testing.T) {
	rotated, err := NewSecret()
	if err != nil {
		t.Fatalf("NewSecret: %s", err)
	}
	type received struct {
		method string
		header http.Header
		body   []byte
	}
	got := make(chan received, 1)
	srv, _ := newLocalServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got <- received{method: r.Method, header: r.Header.Clone(), body: body}
		w.WriteHeader(http.StatusNoContent)
	}))

	s := newTestSender(t, Options{Allow: allowLoopback, UserAgent: "hookline/test"})
	body := []byte(`{"type":"invoice.paid","timestamp":"2026-11-23T10:00:00Z","data":{"id":"in_1","amount":4200}}`)
	ts := time.Now().Unix()
	const msgID = "evt_01JD5Z7Q4S6W8Y0A2C4E6G8J0K"
	signer := NewSigner(mustParseSecret(t, specSecret), mustParseSecret(t, rotated))
	req := &Request{
		URL:       srv.URL + "/hooks/in?tenant=acme",
		MsgID:     msgID,
		Timestamp: ts,
		Signature: signer.AppendSignatures(nil, msgID, ts, body),
		Attempt:   3,
		Body:      body,
	}
	res := send(s, req)
	requireResponse(t, res, http.StatusNoContent)
	r := <-got

	if r.method != http.MethodPost {
		t.Fatalf("method %q; want POST", r.method)
	}
	if string(r.body) != string(body) {
		t.Fatalf("body %q; want %q", r.body, body)
	}
	for name, want := range map[string]string{
		"Content-Type":      "application/json",
		"Webhook-Id":        msgID,
		"Webhook-Timestamp": strconv.FormatInt(ts, 10),
		"User-Agent":        "hookline/test",
		"Hookline-Attempt":  "3",
	} {
		if v := r.header.Get(name); v != want {
			t.Fatalf("header %s = %q; want %q", name, v, want)
		}
	}
	// Receivers holding either secret of the rotation window accept it.
	for _, secret := range []string{specSecret, rotated} {
		wh, err := standardwebhooks.NewWebhook(secret)
		if err != nil {
			t.Fatalf("NewWebhook: %s", err)
		}
		if err := wh.Verify(r.body, r.header); err != nil {
			t.Fatalf("standardwebhooks.Verify with secret %q: %s (webhook-signature %q)", secret, err, r.header.Get("Webhook-Signature"))
		}
	}
	other, _ := NewSecret()
	wh, _ := standardwebhooks.NewWebhook(other)
	if err := wh.Verify(r.body, r.header); err == nil {
		t.Fatalf("verification with an unrelated secret must fail")
	}
	tampered := append([]byte(nil), r.body...)
	tampered[len(tampered)-2] = '1'
	wh, _ = standardwebhooks.NewWebhook(specSecret)
	if err := wh.Verify(tampered, r.header); err == nil {
		t.Fatalf("verification of a tampered body must fail")
	}
}
