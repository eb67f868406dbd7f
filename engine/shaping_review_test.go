package engine_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"hookline/engine"
	"hookline/httpout"
)

// TestPreviewSignsNothing: a preview (an endpoints:read action) must not
// hand out a signature that a receiver would accept: with one, anyone who
// may read an endpoint could sign any body they choose, and post it to the
// receiver as hookline. The header is shown, its value masked.
func TestPreviewSignsNothing(t *testing.T) {
	h := newHarness(t, testOptions())
	h.tenant("acme")
	rc := newReceiver(t, recvConfig{})
	mac := func(key []byte, msg string) []byte {
		m := hmac.New(sha256.New, key)
		m.Write([]byte(msg))
		return m.Sum(nil)
	}
	in := engine.PreviewInput{Type: "invoice.paid", Payload: []byte(`{"amount":1000000,"to":"attacker"}`)}

	gh := h.endpoint("acme", engine.EndpointInput{URL: ptr(rc.URL()), Secret: ptr(integrationSecret),
		Signature: &httpout.SignatureConfig{Scheme: "hmac-sha256", Header: "X-Signature", Prefix: "sha256="}})
	p, err := h.e.PreviewEndpoint("acme", gh.ID, in)
	require_NoError(t, err)
	sig, ok := p.Headers["X-Signature"]
	require_True(t, ok, "the preview shows the signature header: %v", p.Headers)
	forged := hex.EncodeToString(mac([]byte(integrationSecret), p.Body))
	require_True(t, !strings.Contains(sig, forged), "the preview's X-Signature %q signs its body", sig)
	require_Equal(t, sig, "sha256=****")

	std := h.endpoint("acme", engine.EndpointInput{URL: ptr(rc.URL())})
	p, err = h.e.PreviewEndpoint("acme", std.ID, in)
	require_NoError(t, err)
	key, err := httpout.ParseSecret(std.Secret)
	require_NoError(t, err)
	forged = base64.StdEncoding.EncodeToString(mac(key, p.Headers["Webhook-Id"]+"."+p.Headers["Webhook-Timestamp"]+"."+p.Body))
	sig, ok = p.Headers["Webhook-Signature"]
	require_True(t, ok, "the preview shows the signature header: %v", p.Headers)
	require_True(t, !strings.Contains(sig, forged), "the preview's webhook-signature %q signs its body", sig)
	require_Equal(t, sig, "v1,****")

	stripe := h.endpoint("acme", engine.EndpointInput{URL: ptr(rc.URL()), Secret: ptr(integrationSecret),
		Signature: &httpout.SignatureConfig{Scheme: "stripe"}})
	p, err = h.e.PreviewEndpoint("acme", stripe.ID, in)
	require_NoError(t, err)
	require_Equal(t, p.Headers["Stripe-Signature"], "t="+p.Headers["Webhook-Timestamp"]+",v1=****")
}

// TestPreviewUserAgent: an endpoint may set its own User-Agent (a receiver
// that allow-lists one); the preview shows the one the request carries.
func TestPreviewUserAgent(t *testing.T) {
	h := newHarness(t, testOptions())
	h.tenant("acme")
	rc := newReceiver(t, recvConfig{})
	ep := h.endpoint("acme", engine.EndpointInput{URL: ptr(rc.URL()), Headers: json.RawMessage(`{"User-Agent": "crm-allowlisted/1.0"}`)})
	res := h.publish("acme", engine.PublishEvent{Type: "invoice.paid", Payload: []byte(`{}`)})
	waitFor(t, time.Minute, "the delivery", func() bool { return rc.count() == 1 })
	require_Equal(t, rc.deliveries()[0].header.Get("User-Agent"), "crm-allowlisted/1.0")
	p, err := h.e.PreviewEndpoint("acme", ep.ID, engine.PreviewInput{EventID: engine.FormatEventID(res[0].ID)})
	require_NoError(t, err)
	require_Equal(t, p.Headers["User-Agent"], "crm-allowlisted/1.0")
}

// TestStaticURLBraces: {{ and }} in a URL without placeholders are literal
// braces, sent percent-encoded as they are with placeholders (and as the
// URL check saw them).
func TestStaticURLBraces(t *testing.T) {
	h := newHarness(t, testOptions())
	h.tenant("acme")
	rc := newReceiver(t, recvConfig{})
	ep := h.endpoint("acme", engine.EndpointInput{URL: ptr(rc.base() + "/a/{{b}}"), EventTypes: &[]string{"invoice.*"}})
	h.publish("acme", engine.PublishEvent{Type: "invoice.paid", Payload: []byte(`{}`)})
	waitFor(t, time.Minute, "the delivery", func() bool { return rc.count() == 1 })
	require_Equal(t, rc.deliveries()[0].uri, "/a/%7Bb%7D")
	p, err := h.e.PreviewEndpoint("acme", ep.ID, engine.PreviewInput{Type: "invoice.paid", Payload: []byte(`{}`)})
	require_NoError(t, err)
	require_Equal(t, p.URL, rc.base()+"/a/%7Bb%7D")

	// }} alone too.
	rc2 := newReceiver(t, recvConfig{})
	h.endpoint("acme", engine.EndpointInput{URL: ptr(rc2.base() + "/c}}d"), EventTypes: &[]string{"other.*"}})
	h.publish("acme", engine.PublishEvent{Type: "other.x", Payload: []byte(`{}`)})
	waitFor(t, time.Minute, "the delivery", func() bool { return rc2.count() == 1 })
	require_Equal(t, rc2.deliveries()[0].uri, "/c%7Dd")
}

// TestSchemeSwitchDuringOverlap: changing the scheme while a rotation's
// overlap keeps a previous secret the new scheme cannot sign with (an
// integration's own text secret for standard-webhooks, an ed25519 key for
// an HMAC scheme) drops that secret instead of refusing the change.
func TestSchemeSwitchDuringOverlap(t *testing.T) {
	h := newHarness(t, testOptions())
	h.tenant("acme")
	rc := newReceiver(t, recvConfig{})
	ctx := context.Background()

	gh := h.endpoint("acme", engine.EndpointInput{URL: ptr(rc.base() + "/gh"), Secret: ptr(integrationSecret),
		Signature: &httpout.SignatureConfig{Scheme: "hmac-sha256"}})
	rotated, err := h.e.RotateSecret(ctx, "acme", gh.ID, engine.SecretRotation{Overlap: ptr("1h")})
	require_NoError(t, err)
	_, err = h.e.UpdateEndpoint(ctx, "acme", gh.ID, engine.EndpointInput{Signature: &httpout.SignatureConfig{Scheme: "standard-webhooks"}})
	require_NoError(t, err)

	ed := h.endpoint("acme", engine.EndpointInput{URL: ptr(rc.base() + "/ed"), Signature: &httpout.SignatureConfig{Scheme: "ed25519"}})
	_, err = h.e.RotateSecret(ctx, "acme", ed.ID, engine.SecretRotation{Overlap: ptr("1h")})
	require_NoError(t, err)
	_, err = h.e.UpdateEndpoint(ctx, "acme", ed.ID, engine.EndpointInput{Signature: &httpout.SignatureConfig{Scheme: "hmac-sha256"}, Secret: ptr(integrationSecret)})
	require_NoError(t, err)

	h.publish("acme", engine.PublishEvent{Type: "invoice.paid", Payload: []byte(`{"n":1}`)})
	waitFor(t, time.Minute, "both deliveries", func() bool { return rc.count() == 2 })
	for _, d := range rc.deliveries() {
		switch d.uri {
		case "/ed":
			m := hmac.New(sha256.New, []byte(integrationSecret))
			m.Write(d.body)
			require_Equal(t, d.header.Get("X-Hookline-Signature"), hex.EncodeToString(m.Sum(nil)))
		case "/gh":
			// The rotated-in whsec_ secret alone: the integration's text
			// secret cannot key a Standard Webhooks signature.
			key, err := httpout.ParseSecret(rotated.Secret)
			require_NoError(t, err)
			m := hmac.New(sha256.New, key)
			m.Write([]byte(d.id + "." + d.header.Get("webhook-timestamp") + "." + string(d.body)))
			require_Equal(t, d.header.Get("webhook-signature"), "v1,"+base64.StdEncoding.EncodeToString(m.Sum(nil)))
		default:
			t.Fatalf("unexpected request to %s", d.uri)
		}
	}
}

// TestTestEndpointLogsShapedRequest: a test attempt's log entry shows the
// request it sent, as a delivery's does: its method, rendered URL and
// body, not POST to the URL template.
func TestTestEndpointLogsShapedRequest(t *testing.T) {
	h := newHarness(t, testOptions())
	h.tenant("acme")
	rc := newReceiver(t, recvConfig{})
	ep := h.endpoint("acme", engine.EndpointInput{URL: ptr(rc.base() + "/accounts/{$.data.id}"), Method: ptr("PUT"),
		Body: json.RawMessage(`{"account":"$.data.id"}`)})
	res, err := h.e.TestEndpoint(context.Background(), "acme", ep.ID, []byte(`{"id":"a1"}`))
	require_NoError(t, err)
	require_True(t, res.Success, "test result %+v", res)
	require_Equal(t, rc.deliveries()[0].uri, "/accounts/a1")
	d, err := h.e.GetDelivery("acme", ep.ID, res.EventID)
	require_NoError(t, err)
	a := d.AttemptLog[0]
	require_Equal(t, a.Method, "PUT")
	require_Equal(t, a.URL, rc.base()+"/accounts/a1")
	require_Equal(t, a.RequestBody, `{"account":"a1"}`)
}
