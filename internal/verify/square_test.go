package verify

import (
	"testing"
	"time"
)

var squareSecrets = [3]string{"Y2uBvq0sS2tQb9nSdtbC9w", "p9kS3rX1vQ2mN7bL4hJ6tA", "zzzzzzzzzzzzzzzzzzzzzz"}

const squareURL = "https://hooks.example.com/in/src_01JSQUARE"

// Square's Go SDK is not among the test dependencies; signed per its
// docs: base64 HMAC-SHA256 of the notification URL followed by the body.
func signSquare(_ testing.TB, k int, body []byte, _ time.Time) *Request {
	return &Request{
		URL:    []byte(squareURL),
		Body:   body,
		Header: fields("X-Square-Hmacsha256-Signature", b64SHA256MAC(squareSecrets[k], squareURL, string(body))),
	}
}

func TestSquare(t *testing.T) {
	runPresetCase(t, signedPresetCase{
		preset:    "square",
		secrets:   squareSecrets,
		sign:      signSquare,
		body:      constBody(`{"merchant_id":"6SSW7HV8K2ST5","type":"payment.created","event_id":"13b867cf-db3d-4b1c-90b6-2f32a9d78124","created_at":"2026-05-01T12:00:00Z","data":{"type":"payment","id":"KkAkhdMsgzn59SM8A89WgKwekxLZY","object":{"payment":{"id":"KkAkhdMsgzn59SM8A89WgKwekxLZY","status":"APPROVED"}}}}`),
		sigHeader: "X-Square-Hmacsha256-Signature",
		malformed: "!!not base64!!",
	})
	v := mustVerifier(t, "square", squareSecrets[0])
	body := []byte(`{"type":"refund.created","event_id":"e2"}`)
	r := signSquare(t, 0, body, testNow)
	r.URL = []byte(squareURL + "?x=1")
	wantCode(t, "other URL", v, r, CodeBadSignature)
	r.URL = []byte("http://hooks.example.com/in/src_01JSQUARE")
	wantCode(t, "other scheme", v, r, CodeBadSignature)
	r.URL = nil
	wantCode(t, "no URL", v, r, CodeBadSignature)
	// The URL alone, or the body alone, signed: not Square's content.
	r = signSquare(t, 0, body, testNow)
	r.Header = fields("X-Square-Hmacsha256-Signature", b64SHA256MAC(squareSecrets[0], string(body)))
	wantCode(t, "body alone", v, r, CodeBadSignature)
	if p, _ := Lookup("square"); p.UnsignedID || p.DefaultID != "$.event_id" {
		t.Fatalf("square: id %q, UnsignedID %v", p.DefaultID, p.UnsignedID)
	}
}
