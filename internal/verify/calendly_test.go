package verify

import (
	"fmt"
	"testing"
	"time"
)

var calendlySecrets = [3]string{"cal-signing-key-1", "cal-signing-key-2", "cal-signing-key-x"}

// Calendly has no Go library; signed per its docs: "t=<unix>,v1=<hex
// HMAC-SHA256 of t.body>".
func signCalendly(_ testing.TB, k int, body []byte, at time.Time) *Request {
	ts := fmt.Sprint(at.Unix())
	return &Request{
		URL:    []byte("https://hooks.example.com/in/calendly"),
		Body:   body,
		Header: fields("Calendly-Webhook-Signature", "t="+ts+",v1="+hexSHA256MAC(calendlySecrets[k], ts, ".", string(body))),
	}
}

func TestCalendly(t *testing.T) {
	runPresetCase(t, signedPresetCase{
		preset:     "calendly",
		secrets:    calendlySecrets,
		sign:       signCalendly,
		body:       constBody(`{"created_at":"2026-05-01T12:00:00.000000Z","created_by":"https://api.calendly.com/users/AAAA","event":"invitee.created","payload":{"email":"ada@example.com","name":"Ada","uri":"https://api.calendly.com/scheduled_events/BBBB/invitees/CCCC"}}`),
		sigHeader:  "Calendly-Webhook-Signature",
		malformed:  "t=1,v1=nothex",
		signedTime: true,
	})
	v := mustVerifier(t, "calendly", calendlySecrets[0])
	body := []byte(`{"event":"invitee.canceled"}`)
	ts := fmt.Sprint(testNow.Unix())
	good := hexSHA256MAC(calendlySecrets[0], ts, ".", string(body))
	other := hexSHA256MAC(calendlySecrets[2], ts, ".", string(body))
	f := func(h, code string) {
		t.Helper()
		wantCode(t, h, v, &Request{Header: fields("Calendly-Webhook-Signature", h), Body: body}, code)
	}
	f("t="+ts+",v1="+other+",v1="+good, "")
	f(" t="+ts+" , v1="+good+" ", "")
	f("t="+ts+",v0=abc,v1="+good, "")
	f("v1="+good, CodeMalformedSignature)
	f("t="+ts, CodeMalformedSignature)
	f("t="+ts+",t="+ts+",v1="+good, CodeMalformedSignature)
	f("t=soon,v1="+good, CodeMalformedSignature)
	f("t="+ts+";v1="+good, CodeMalformedSignature)
}
