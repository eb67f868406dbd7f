package verify

import (
	"fmt"
	"testing"
	"time"
)

var hubspotSecrets = [3]string{"yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy", "zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz", "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"}

const hubspotURL = "https://hooks.example.com/in/hubspot?portal=62515"

// HubSpot has no Go library; signed per its docs (v3): base64
// HMAC-SHA256 of POST + URI + body + X-HubSpot-Request-Timestamp.
func signHubSpot(_ testing.TB, k int, body []byte, at time.Time) *Request {
	return signHubSpotURL(k, body, at, hubspotURL, hubspotURL)
}

// signHubSpotURL signs over signedURI and sends url: they differ when
// the URL carries escapes HubSpot's scheme decodes.
func signHubSpotURL(k int, body []byte, at time.Time, url, signedURI string) *Request {
	ts := fmt.Sprint(at.UnixMilli())
	return &Request{
		URL:  []byte(url),
		Body: body,
		Header: fields(
			"X-HubSpot-Signature-v3", b64SHA256MAC(hubspotSecrets[k], "POST", signedURI, string(body), ts),
			"X-HubSpot-Request-Timestamp", ts,
		),
	}
}

func TestHubSpot(t *testing.T) {
	runPresetCase(t, signedPresetCase{
		preset:     "hubspot",
		secrets:    hubspotSecrets,
		sign:       signHubSpot,
		body:       constBody(`[{"eventId":1,"subscriptionId":12345,"portalId":62515,"occurredAt":1564113600000,"subscriptionType":"contact.creation","attemptNumber":0,"objectId":123,"changeSource":"CRM","changeFlag":"NEW","appId":54321}]`),
		sigHeader:  "X-HubSpot-Signature-v3",
		malformed:  "!!not base64!!",
		signedTime: true,
	})
	v := mustVerifier(t, "hubspot", hubspotSecrets[0])
	body := []byte(`[{"eventId":2,"subscriptionType":"deal.creation"}]`)

	r := signHubSpot(t, 0, body, testNow)
	r.Header = r.Header.(fieldList).with("X-HubSpot-Request-Timestamp", nil)
	wantCode(t, "no timestamp", v, r, CodeMissingTimestamp)
	r = signHubSpot(t, 0, body, testNow)
	r.Header = r.Header.(fieldList).with("X-HubSpot-Request-Timestamp", []byte("yesterday"))
	wantCode(t, "bad timestamp", v, r, CodeMalformedSignature)

	r = signHubSpot(t, 0, body, testNow)
	r.URL = []byte("https://hooks.example.com/in/hubspot?portal=62516")
	wantCode(t, "other URL", v, r, CodeBadSignature)
	r.URL = nil
	wantCode(t, "no URL", v, r, CodeBadSignature)

	// The listed escapes are signed decoded, in either hex case; others
	// stay as sent.
	sent := "https://hooks.example.com/in/hubspot%3Fx?next=https%3a%2F%2Fa.example%2Fb%3Bc%2Cd%20e%2"
	signedURI := "https://hooks.example.com/in/hubspot?x?next=https://a.example/b;c,d%20e%2"
	wantCode(t, "escapes", v, signHubSpotURL(0, body, testNow, sent, signedURI), "")
	wantCode(t, "escapes signed raw", v, signHubSpotURL(0, body, testNow, sent, sent), CodeBadSignature)
}
