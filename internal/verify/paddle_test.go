package verify

import (
	"bytes"
	"fmt"
	"net/http"
	"testing"
	"time"

	paddle "github.com/PaddleHQ/paddle-go-sdk/v4"
)

var paddleSecrets = [3]string{
	"pdl_ntfset_01gkpjp8bkm3tm53kdgkx6sms7_6h3qd3uFSi9YCD3OLYAShQI90XTI5vEI",
	"pdl_ntfset_01gkpjp8bkm3tm53kdgkx6sms7_NEWNEWNEWNEWNEWNEWNEWNEWNEWNEWNE",
	"pdl_ntfset_01hzzzzzzzzzzzzzzzzzzzzzzz_wrongwrongwrongwrongwrongwrong",
}

// signPaddle signs per Paddle's docs ("ts=<unix>;h1=<hex HMAC-SHA256 of
// ts:body>") and checks that Paddle's Go SDK agrees before the request
// is handed to our verifier.
func signPaddle(tb testing.TB, k int, body []byte, at time.Time) *Request {
	tb.Helper()
	ts := fmt.Sprint(at.Unix())
	sig := "ts=" + ts + ";h1=" + hexSHA256MAC(paddleSecrets[k], ts, ":", string(body))
	hr, err := http.NewRequest("POST", "https://hooks.example.com/in/paddle", bytes.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	hr.Header.Set("Paddle-Signature", sig)
	if ok, err := paddle.NewWebhookVerifier(paddleSecrets[k]).Verify(hr); !ok || err != nil {
		tb.Fatalf("paddle-go-sdk rejects our signature: %v %v", ok, err)
	}
	return &Request{
		URL:    []byte("https://hooks.example.com/in/paddle"),
		Body:   body,
		Header: fields("Paddle-Signature", sig),
	}
}

func TestPaddle(t *testing.T) {
	runPresetCase(t, signedPresetCase{
		preset:     "paddle",
		secrets:    paddleSecrets,
		sign:       signPaddle,
		body:       constBody(`{"event_id":"evt_01h8bzakzx3hm2fmen703n5q45","event_type":"transaction.completed","occurred_at":"2026-05-01T12:00:00.000Z","notification_id":"ntf_01h8bzam1z32agrxjwhjgqk8w6","data":{"id":"txn_01h8bz8evs6mjmnqd9fgrqnsy5","status":"completed"}}`),
		sigHeader:  "Paddle-Signature",
		malformed:  "ts=abc",
		signedTime: true,
	})
	// During Paddle's own key rotation the header carries two h1s.
	v := mustVerifier(t, "paddle", paddleSecrets[0])
	body := []byte(`{"event_id":"evt_1","event_type":"customer.created"}`)
	ts := fmt.Sprint(testNow.Unix())
	h := "ts=" + ts + ";h1=" + hexSHA256MAC(paddleSecrets[2], ts, ":", string(body)) + ";h1=" + hexSHA256MAC(paddleSecrets[0], ts, ":", string(body))
	wantCode(t, "two h1", v, &Request{Header: fields("Paddle-Signature", h), Body: body}, "")
	// The tolerance can be narrowed to the SDK's 5 s.
	tight, err := New(Config{Provider: "paddle", Secrets: paddleSecrets[:1], Tolerance: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	wantCode(t, "6 s old, 5 s tolerance", tight, signPaddle(t, 0, body, testNow.Add(-6*time.Second)), CodeStaleTimestamp)
}
