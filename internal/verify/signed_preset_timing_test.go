package verify

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

// signedBenchCases are the presets of this file group, each with a
// request signed over the ~28 KB fixture (twilio-form over a real-sized
// form body: Twilio forms are never large).
func signedBenchCases(tb testing.TB) []signedBenchCase {
	body := fixtureBody(tb)
	// Linear's timestamp lives in the body, at its top level.
	i := bytes.LastIndexByte(body, '}')
	linear := fmt.Appendf(bytes.Clone(body[:i]), `,"webhookTimestamp":%d}`, testNow.UnixMilli())
	cases := []struct {
		preset string
		secret string
		r      *Request
	}{
		{"linear", linearSecrets[0], signLinear(tb, 0, linear, testNow)},
		{"paddle", paddleSecrets[0], signPaddle(tb, 0, body, testNow)},
		{"typeform", typeformSecrets[0], signTypeform(tb, 0, body, testNow)},
		{"calendly", calendlySecrets[0], signCalendly(tb, 0, body, testNow)},
		{"hubspot", hubspotSecrets[0], signHubSpot(tb, 0, body, testNow)},
		{"twilio", twilioSecrets[0], signTwilioJSON(tb, 0, body, testNow)},
		{"twilio-form", twilioSecrets[0], signTwilioForm(tb, 0, []byte(twilioFormBody), testNow)},
		{"sendgrid", sendgridSecrets[0], signSendGrid(tb, 0, body, testNow)},
	}
	out := make([]signedBenchCase, len(cases))
	for i, c := range cases {
		name, _, _ := strings.Cut(c.preset, "-")
		out[i] = signedBenchCase{c.preset, mustVerifier(tb, name, c.secret), c.r}
	}
	return out
}

type signedBenchCase struct {
	preset string
	v      Verifier
	r      *Request
}

// TestVerifySignedAllocs holds the HMAC presets to zero allocations on
// success; sendgrid's ECDSA verification allocates inside crypto/ecdsa
// and is only reported.
func TestVerifySignedAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector makes sync.Pool drop items, so pooled states get allocated")
	}
	for _, c := range signedBenchCases(t) {
		var rerr *Error
		n := testing.AllocsPerRun(100, func() { _, rerr = c.v.Verify(c.r, testNow) })
		if rerr != nil {
			t.Fatalf("%s: %v", c.preset, rerr)
		}
		t.Logf("%s: %.0f allocs per Verify", c.preset, n)
		if c.preset != "sendgrid" && n != 0 {
			t.Errorf("%s: %.0f allocs per Verify, want 0", c.preset, n)
		}
	}
}

func BenchmarkVerifySigned(b *testing.B) {
	for _, c := range signedBenchCases(b) {
		b.Run(c.preset, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(c.r.Body)))
			now := testNow
			for b.Loop() {
				if _, err := c.v.Verify(c.r, now); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
