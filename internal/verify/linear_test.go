package verify

import (
	"fmt"
	"testing"
	"time"
)

var linearSecrets = [3]string{"lin_wh_current", "lin_wh_next", "lin_wh_wrong"}

// Linear has no Go library on the module proxy that verifies; signed
// per its docs: hex HMAC-SHA256 of the raw body.
func signLinear(_ testing.TB, k int, body []byte, _ time.Time) *Request {
	return &Request{
		URL:  []byte("https://hooks.example.com/in/linear"),
		Body: body,
		Header: fields(
			"Linear-Signature", hexSHA256MAC(linearSecrets[k], string(body)),
			"Linear-Delivery", "234d1a4e-b617-4388-90fe-adc3633d6b72",
			"Linear-Event", "Issue",
		),
	}
}

func linearBody(at time.Time) []byte {
	return fmt.Appendf(nil, `{"action":"create","type":"Issue","data":{"id":"2174add1-f7c8-44e3-bbf3-2d60b5ea8bc9","title":"Crash on start","webhookTimestamp":1},"url":"https://linear.app/acme/issue/ENG-1","createdAt":"2026-05-01T12:00:00.000Z","webhookTimestamp":%d}`, at.UnixMilli())
}

func TestLinear(t *testing.T) {
	runPresetCase(t, signedPresetCase{
		preset:     "linear",
		secrets:    linearSecrets,
		sign:       signLinear,
		body:       linearBody,
		sigHeader:  "Linear-Signature",
		malformed:  "zz",
		signedTime: true,
	})
	v := mustVerifier(t, "linear", linearSecrets[0])
	// The nested webhookTimestamp (1) is not Linear's: without the
	// top-level one the timestamp is missing, not stale.
	body := []byte(`{"action":"create","type":"Issue","data":{"webhookTimestamp":1}}`)
	wantCode(t, "no webhookTimestamp", v, signLinear(t, 0, body, testNow), CodeMissingTimestamp)
	body = []byte(`{"action":"create","webhookTimestamp":"soon"}`)
	wantCode(t, "string webhookTimestamp", v, signLinear(t, 0, body, testNow), CodeMissingTimestamp)
	body = []byte(`{"action":"create","webhookTimestamp":-5}`)
	wantCode(t, "negative webhookTimestamp", v, signLinear(t, 0, body, testNow), CodeMalformedSignature)
}

func TestTopLevelValue(t *testing.T) {
	f := func(body, want string) {
		t.Helper()
		got := topLevelValue([]byte(body), "webhookTimestamp")
		if (got == nil) != (want == "") || string(got) != want {
			t.Fatalf("topLevelValue(%s) = %q, want %q", body, got, want)
		}
	}
	f(`{"webhookTimestamp":123}`, "123")
	f(` { "a" : [1,{"webhookTimestamp":9}], "b":"}\"{", "webhookTimestamp" : 42 } `, "42")
	f(`{"a":{"webhookTimestamp":9}}`, "")
	f(`{"a":"\"webhookTimestamp\":7"}`, "")
	f(`[{"webhookTimestamp":1}]`, "")
	f(`{"webhookTimestamp":{"x":1}}`, "")
	f(`{"webhookTimestamp":`, "")
	f(`{"a":1,`, "")
	f(``, "")
}
