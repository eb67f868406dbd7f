package verify

import (
	"testing"
	"time"
)

var typeformSecrets = [3]string{"tf-secret-current", "tf-secret-next", "tf-secret-wrong"}

// Typeform has no Go library; signed per its docs: "sha256=" and the
// base64 HMAC-SHA256 of the raw body.
func signTypeform(_ testing.TB, k int, body []byte, _ time.Time) *Request {
	return &Request{
		URL:    []byte("https://hooks.example.com/in/typeform"),
		Body:   body,
		Header: fields("Typeform-Signature", "sha256="+b64SHA256MAC(typeformSecrets[k], string(body))),
	}
}

func TestTypeform(t *testing.T) {
	runPresetCase(t, signedPresetCase{
		preset:    "typeform",
		secrets:   typeformSecrets,
		sign:      signTypeform,
		body:      constBody(`{"event_id":"01HXYZABCDEF","event_type":"form_response","form_response":{"form_id":"lT4Z3j","token":"a3a12ec67a1365927098a606107fac15","submitted_at":"2026-05-01T12:00:00Z","answers":[{"type":"text","text":"It's cold","field":{"id":"DlXFaesGBpoF","type":"long_text"}}]}}`),
		sigHeader: "Typeform-Signature",
		malformed: "sha1=abc",
	})
	v := mustVerifier(t, "typeform", typeformSecrets[0])
	f := func(sig, code string) {
		t.Helper()
		wantCode(t, sig, v, &Request{Header: fields("Typeform-Signature", sig), Body: []byte("{}")}, code)
	}
	f("sha256=", CodeMalformedSignature)
	f("sha256=!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!=", CodeMalformedSignature)
	f("sha256="+b64SHA256MAC(typeformSecrets[0], "{}")+"=", CodeMalformedSignature)
	f("sha256="+b64SHA256MAC(typeformSecrets[0], "{}"), "")
}
