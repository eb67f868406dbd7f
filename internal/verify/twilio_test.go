package verify

import (
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/url"
	"sort"
	"testing"
	"time"

	twilio "github.com/twilio/twilio-go/client"
)

var twilioSecrets = [3]string{"12345678901234567890123456789012", "abcdefabcdefabcdefabcdefabcdefab", "00000000000000000000000000000000"}

const twilioURL = "https://hooks.example.com/in/twilio?src=sms"

const twilioFormBody = "ToCountry=US&ToState=CA&SmsMessageSid=SM1234567890abcdef&NumMedia=0&ToCity=SAN+FRANCISCO&FromZip=94105&SmsSid=SM1234567890abcdef&FromState=CA&SmsStatus=received&FromCity=SAN+FRANCISCO&Body=Hello%2C+w%C3%B6rld+%26+more&FromCountry=US&To=%2B14155550100&ToZip=94105&NumSegments=1&MessageSid=SM1234567890abcdef&AccountSid=AC1234567890abcdef&From=%2B14155550199&ApiVersion=2010-04-01"

// twilioSign computes X-Twilio-Signature per Twilio's docs: base64
// HMAC-SHA1 of the URL, then for a form body each parameter (sorted by
// name) as name+value.
func twilioSign(secret, u string, form url.Values) string {
	s := u
	names := make([]string, 0, len(form))
	for k := range form {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		s += k + form.Get(k)
	}
	return base64.StdEncoding.EncodeToString(macOf(sha1.New, secret, s))
}

// signTwilioForm signs a form body and checks that twilio-go's
// RequestValidator agrees before our verifier sees it.
func signTwilioForm(tb testing.TB, k int, body []byte, _ time.Time) *Request {
	tb.Helper()
	return signTwilioAt(tb, k, body, twilioURL, twilioURL)
}

func signTwilioAt(tb testing.TB, k int, body []byte, u, signedURL string) *Request {
	tb.Helper()
	form, err := url.ParseQuery(string(body))
	if err != nil {
		tb.Fatal(err)
	}
	sig := twilioSign(twilioSecrets[k], signedURL, form)
	rv := twilio.NewRequestValidator(twilioSecrets[k])
	if !rv.ValidateBody(u, body, sig) {
		tb.Fatalf("twilio-go rejects our signature of %s", u)
	}
	return &Request{
		URL:    []byte(u),
		Body:   body,
		Header: fields("X-Twilio-Signature", sig, "I-Twilio-Idempotency-Token", "a1b2c3"),
	}
}

// signTwilioJSON signs a JSON body with the bodySHA256 scheme and
// checks that twilio-go agrees.
func signTwilioJSON(tb testing.TB, k int, body []byte, _ time.Time) *Request {
	tb.Helper()
	sum := sha256.Sum256(body)
	u := twilioURL + "&bodySHA256=" + hex.EncodeToString(sum[:])
	sig := twilioSign(twilioSecrets[k], u, nil)
	rv := twilio.NewRequestValidator(twilioSecrets[k])
	if !rv.ValidateBody(u, body, sig) {
		tb.Fatalf("twilio-go rejects our JSON signature")
	}
	return &Request{URL: []byte(u), Body: body, Header: fields("X-Twilio-Signature", sig)}
}

func TestTwilioForm(t *testing.T) {
	runPresetCase(t, signedPresetCase{
		preset:    "twilio",
		secrets:   twilioSecrets,
		sign:      signTwilioForm,
		body:      constBody(twilioFormBody),
		sigHeader: "X-Twilio-Signature",
		malformed: "short",
	})
	v := mustVerifier(t, "twilio", twilioSecrets[0])
	body := []byte(twilioFormBody)

	// Twilio signs with or without the default port; both verify.
	withPort := "https://hooks.example.com:443/in/twilio?src=sms"
	wantCode(t, "signed without port, sent with", v, signTwilioAt(t, 0, body, withPort, twilioURL), "")
	wantCode(t, "signed with port, sent without", v, signTwilioAt(t, 0, body, twilioURL, withPort), "")
	wantCode(t, "signed as sent with port", v, signTwilioAt(t, 0, body, withPort, withPort), "")
	httpURL := "http://user@hooks.example.com/in"
	wantCode(t, "http, port 80", v, signTwilioAt(t, 0, body, httpURL, "http://user@hooks.example.com:80/in"), "")

	r := signTwilioForm(t, 0, body, testNow)
	r.Body = []byte(twilioFormBody + "&Extra=1")
	wantCode(t, "added parameter", v, r, CodeBadSignature)
	r.Body = []byte(twilioFormBody + "&Bad=%zz")
	wantCode(t, "broken escape", v, r, CodeBadSignature)
	r.URL = []byte("https://hooks.example.com/in/twilio?src=mms")
	r.Body = body
	wantCode(t, "other URL", v, r, CodeBadSignature)
	r.URL = nil
	wantCode(t, "no URL", v, r, CodeBadSignature)
}

func TestTwilioJSON(t *testing.T) {
	runPresetCase(t, signedPresetCase{
		preset:    "twilio",
		secrets:   twilioSecrets,
		sign:      signTwilioJSON,
		body:      constBody(`{"AccountSid":"AC1234567890abcdef","ConversationSid":"CH123","EventType":"onMessageAdded","Body":"hi"}`),
		sigHeader: "X-Twilio-Signature",
		malformed: "!!!!!!!!!!!!!!!!!!!!!!!!!!!=",
	})
	// The URL (and so bodySHA256) is signed, the body is not: a body
	// that no longer matches its hash is rejected even with a good MAC.
	v := mustVerifier(t, "twilio", twilioSecrets[0])
	r := signTwilioJSON(t, 0, []byte(`{"a":1}`), testNow)
	r.Body = []byte(`{"a":2}`)
	wantCode(t, "body not matching bodySHA256", v, r, CodeBadSignature)
}

func TestTwilioFormCanonical(t *testing.T) {
	f := func(body, want string) {
		t.Helper()
		var form twilioForm
		if !form.parse([]byte(body)) {
			t.Fatalf("parse(%q) failed", body)
		}
		var got recorder
		form.write(&got)
		if string(got) != want {
			t.Fatalf("canonical(%q) = %q, want %q", body, got, want)
		}
	}
	f("", "")
	f("b=2&a=1", "a1b2")
	f("a=2&a=1&a=2", "a1a2")
	f("k&=v&&x=", "vkx")
	f("A+B=c%2Bd&a=%41", "A Bc+daA")
}

// recorder is a hash.Hash that keeps what was written, to test the
// canonical string itself.
type recorder []byte

func (r *recorder) Write(p []byte) (int, error) { *r = append(*r, p...); return len(p), nil }
func (r *recorder) Sum(b []byte) []byte         { return append(b, *r...) }
func (r *recorder) Reset()                      { *r = (*r)[:0] }
func (r *recorder) Size() int                   { return 0 }
func (r *recorder) BlockSize() int              { return 1 }
