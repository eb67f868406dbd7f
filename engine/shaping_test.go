package engine_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"hookline/engine"
	"hookline/httpout"
)

const integrationSecret = "an-existing-integration-secret-42"

// TestShapedRequest: an endpoint with a method, a URL template, static
// headers, bearer auth, a body template and the hmac-sha256 scheme gets
// exactly the request it describes, verified with the standard library;
// the attempt log keeps the method, the rendered URL and the body sent.
func TestShapedRequest(t *testing.T) {
	h := newHarness(t, testOptions())
	h.tenant("acme")
	rc := newReceiver(t, recvConfig{})
	ep := h.endpoint("acme", engine.EndpointInput{
		URL:     ptr(rc.base() + "/accounts/{$.data.account.id}?email={$.data.email}"),
		Method:  ptr("PUT"),
		Headers: json.RawMessage(`{"X-Team": "growth"}`),
		Auth:    json.RawMessage(`{"type":"bearer","token":"crm-token-0123456789"}`),
		Body: json.RawMessage(`{"name":"$.data.account.name","text":"Account {$.data.account.name} ({$.data.email}) says \"hi\"",` +
			`"tier":"gold","seats":"$.data.seats","kind":"$.type"}`),
		Signature: &httpout.SignatureConfig{Scheme: "hmac-sha256", Header: "X-Signature", Prefix: "sha256=", Encoding: "hex"},
		Secret:    ptr(integrationSecret),
	})
	res := h.publish("acme", engine.PublishEvent{Type: "account.updated",
		Payload: []byte(`{"account":{"id":"acc/1 2","name":"Zoë & Co"},"email":"a+b@x.example","seats":12}`)})
	waitFor(t, time.Minute, "the shaped request", func() bool { return rc.count() == 1 })
	d := rc.deliveries()[0]
	require_Equal(t, d.method, "PUT")
	require_Equal(t, d.uri, "/accounts/acc%2F1%202?email=a%2Bb%40x.example")
	require_Equal(t, d.header.Get("X-Team"), "growth")
	require_Equal(t, d.header.Get("Authorization"), "Bearer crm-token-0123456789")
	require_Equal(t, d.header.Get("hookline-event-type"), "account.updated")
	const wantBody = `{"name":"Zoë & Co","text":"Account Zoë & Co (a+b@x.example) says \"hi\"","tier":"gold","seats":12,"kind":"account.updated"}`
	require_Equal(t, string(d.body), wantBody)
	mac := hmac.New(sha256.New, []byte(integrationSecret))
	mac.Write(d.body)
	require_Equal(t, d.header.Get("X-Signature"), "sha256="+hex.EncodeToString(mac.Sum(nil)))

	// The receiver answers before the attempt is recorded.
	var del engine.Delivery
	waitFor(t, time.Minute, "the attempt recorded", func() bool {
		var err error
		del, err = h.e.GetDelivery("acme", ep.ID, engine.FormatEventID(res[0].ID))
		return err == nil && del.Status == "succeeded"
	})
	a := del.AttemptLog[0]
	require_Equal(t, a.Method, "PUT")
	require_Equal(t, a.URL, rc.base()+"/accounts/acc%2F1%202?email=a%2Bb%40x.example")
	require_Equal(t, a.RequestBody, wantBody)
	require_True(t, !a.Corrected, "not corrected")
}

// TestFilterAtFanout: an event the filter refuses writes no queue entry
// for the endpoint; one it lets through is delivered; another endpoint
// without the filter gets both.
func TestFilterAtFanout(t *testing.T) {
	h := newHarness(t, testOptions())
	h.tenant("acme")
	hot, all := newReceiver(t, recvConfig{}), newReceiver(t, recvConfig{})
	epHot := h.endpoint("acme", engine.EndpointInput{URL: ptr(hot.URL()), Filter: json.RawMessage(`{"path":"$.data.lead.score","gte":80}`)})
	h.endpoint("acme", engine.EndpointInput{URL: ptr(all.URL())})
	res := h.publish("acme",
		engine.PublishEvent{Type: "lead.won", Payload: []byte(`{"lead":{"score":50}}`)},
		engine.PublishEvent{Type: "lead.won", Payload: []byte(`{"lead":{"score":80}}`)},
		engine.PublishEvent{Type: "lead.won", Payload: []byte(`{"lead":{"score":"99"}}`)},
		engine.PublishEvent{Type: "lead.won", Payload: []byte(`{"lead":{}}`)},
	)
	waitFor(t, time.Minute, "every delivery", func() bool { return all.count() == 4 && hot.count() == 1 })
	h.requireSettled()
	time.Sleep(quiet)
	require_Equal(t, hot.count(), 1)
	require_Equal(t, hot.deliveries()[0].id, engine.FormatEventID(res[1].ID))
	for _, i := range []int{0, 2, 3} {
		_, err := h.e.GetDelivery("acme", epHot.ID, engine.FormatEventID(res[i].ID))
		require_ErrorCode(t, err, engine.KindNotFound, "delivery_not_found")
	}
}

// TestRenderFailed: a URL placeholder without a value dead-letters the
// delivery with render_failed and sends nothing; after the template is
// fixed, a replay delivers the fixed request.
func TestRenderFailed(t *testing.T) {
	h := newHarness(t, testOptions())
	h.tenant("acme")
	rc := newReceiver(t, recvConfig{})
	ep := h.endpoint("acme", engine.EndpointInput{URL: ptr(rc.base() + "/subscribers/{$.data.email}"), Method: ptr("DELETE")})
	res := h.publish("acme", engine.PublishEvent{Type: "consent.revoked", Payload: []byte(`{"profile":{"email":"a@x.example"}}`)})
	id := engine.FormatEventID(res[0].ID)
	waitFor(t, time.Minute, "the dead letter", func() bool { return len(h.dead(ep)) == 1 })
	require_Equal(t, rc.count(), 0)
	d, err := h.e.GetDelivery("acme", ep.ID, id)
	require_NoError(t, err)
	require_Equal(t, d.Status, "dead")
	a := d.AttemptLog[0]
	require_Equal(t, a.ErrorClass, "render_failed")
	require_Equal(t, a.Method, "DELETE")
	require_True(t, strings.Contains(a.Error, "$.data.email"), "the error names the path: %q", a.Error)

	_, err = h.e.UpdateEndpoint(context.Background(), "acme", ep.ID, engine.EndpointInput{URL: ptr(rc.base() + "/subscribers/{$.data.profile.email}")})
	require_NoError(t, err)
	_, err = h.e.ReplayDelivery(context.Background(), "acme", ep.ID, id, nil)
	require_NoError(t, err)
	waitFor(t, time.Minute, "the fixed request", func() bool { return rc.count() == 1 })
	got := rc.deliveries()[0]
	require_Equal(t, got.method, "DELETE")
	require_Equal(t, got.uri, "/subscribers/a%40x.example")
	require_Equal(t, len(got.body), 0)
	require_Equal(t, got.header.Get("Content-Type"), "")
}

// TestCorrectedReplay: a replay with a corrected payload delivers it (and
// its retries do too), marked corrected in the log; a plain replay then
// delivers the event as published.
func TestCorrectedReplay(t *testing.T) {
	h := newHarness(t, testOptions())
	h.tenant("acme")
	rc := newReceiver(t, recvConfig{replies: []reply{{status: 400}, {status: 503}, {status: 200}}})
	ep := h.endpoint("acme", engine.EndpointInput{URL: ptr(rc.URL())})
	res := h.publish("acme", engine.PublishEvent{Type: "invoice.paid", Payload: []byte(`{"amount":"12,00"}`)})
	id := engine.FormatEventID(res[0].ID)
	waitFor(t, time.Minute, "the dead letter", func() bool { return len(h.dead(ep)) == 1 })

	_, err := h.e.ReplayDelivery(context.Background(), "acme", ep.ID, id, &engine.Correction{Payload: []byte(`{"amount":1200}`), Reason: "amount was a string"})
	require_NoError(t, err)
	waitFor(t, time.Minute, "the corrected replay and its retry", func() bool { return rc.count() == 3 })
	for _, d := range rc.deliveries()[1:] {
		var body struct {
			Type string          `json:"type"`
			Data json.RawMessage `json:"data"`
		}
		require_NoError(t, json.Unmarshal(d.body, &body))
		require_Equal(t, string(body.Data), `{"amount":1200}`)
		require_Equal(t, body.Type, "invoice.paid")
		require_Equal(t, d.id, id)
	}
	waitFor(t, time.Minute, "the success", func() bool {
		d, err := h.e.GetDelivery("acme", ep.ID, id)
		return err == nil && d.Status == "succeeded"
	})
	d, err := h.e.GetDelivery("acme", ep.ID, id)
	require_NoError(t, err)
	require_Equal(t, len(d.AttemptLog), 3)
	require_True(t, !d.AttemptLog[0].Corrected && d.AttemptLog[1].Corrected && d.AttemptLog[2].Corrected, "corrected marks %+v", d.AttemptLog)
	require_Equal(t, d.AttemptLog[1].RequestBody, string(rc.deliveries()[1].body))

	_, err = h.e.ReplayDelivery(context.Background(), "acme", ep.ID, id, nil)
	require_NoError(t, err)
	waitFor(t, time.Minute, "the plain replay", func() bool { return rc.count() == 4 })
	require_True(t, strings.Contains(string(rc.deliveries()[3].body), `"data":{"amount":"12,00"}`), "plain replay body %s", rc.deliveries()[3].body)

	// A corrected payload is checked as a published one would be. (The
	// receiver answers before the outcome is recorded: wait for it, or
	// the delivery is still pending.)
	waitFor(t, time.Minute, "the plain replay recorded", func() bool {
		d, err := h.e.GetDelivery("acme", ep.ID, id)
		return err == nil && d.Status == "succeeded" && len(d.AttemptLog) == 4
	})
	_, err = h.e.ReplayDelivery(context.Background(), "acme", ep.ID, id, &engine.Correction{Payload: []byte(`{"amount":`)})
	require_ErrorCode(t, err, engine.KindInvalid, "invalid_payload")
}

// TestShapingBadInput: every bad shaping field is refused at create and at
// update with a code naming the field, and an update refused leaves the
// endpoint as it was.
func TestShapingBadInput(t *testing.T) {
	h := newHarness(t, testOptions())
	h.tenant("acme")
	rc := newReceiver(t, recvConfig{})
	good := h.endpoint("acme", engine.EndpointInput{URL: ptr(rc.URL()), Body: json.RawMessage(`{"a":"$.data.a"}`)})
	cases := []struct {
		name       string
		in         engine.EndpointInput
		code, text string
	}{
		{"method", engine.EndpointInput{Method: ptr("GET")}, "invalid_method", "GET"},
		{"placeholder in host", engine.EndpointInput{URL: ptr("http://{$.data.host}/x")}, "invalid_template", "url"},
		{"body template", engine.EndpointInput{Body: json.RawMessage(`{"text":"{$.data.a"}`)}, "invalid_template", "body.text"},
		{"body path", engine.EndpointInput{Body: json.RawMessage(`{"x":"$.[["}`)}, "invalid_template", "body.x"},
		{"filter operand", engine.EndpointInput{Filter: json.RawMessage(`{"path":"$.data.score","gte":"high"}`)}, "invalid_template", "filter"},
		{"filter header", engine.EndpointInput{Filter: json.RawMessage(`{"header":"X-A","equals":"b"}`)}, "invalid_template", "filter"},
		{"hop-by-hop header", engine.EndpointInput{Headers: json.RawMessage(`{"Connection": "close"}`)}, "invalid_headers", "Connection"},
		{"signature header", engine.EndpointInput{Headers: json.RawMessage(`{"webhook-signature": "x"}`)}, "invalid_headers", "webhook-signature"},
		{"header value", engine.EndpointInput{Headers: json.RawMessage(`{"X-A": "a\r\nb"}`)}, "invalid_headers", "X-A"},
		{"auth type", engine.EndpointInput{Auth: json.RawMessage(`{"type":"digest"}`)}, "invalid_auth", "auth.type"},
		{"auth token", engine.EndpointInput{Auth: json.RawMessage(`{"type":"bearer"}`)}, "invalid_auth", "auth.token"},
		{"auth field", engine.EndpointInput{Auth: json.RawMessage(`{"type":"bearer","token":"t","tokn":"x"}`)}, "invalid_auth", "tokn"},
		{"scheme", engine.EndpointInput{Signature: &httpout.SignatureConfig{Scheme: "md5"}}, "invalid_signature", "md5"},
		{"encoding", engine.EndpointInput{Signature: &httpout.SignatureConfig{Scheme: "hmac-sha256", Encoding: "base32"}}, "invalid_signature", "encoding"},
		{"short hmac secret", engine.EndpointInput{Signature: &httpout.SignatureConfig{Scheme: "hmac-sha256"}, Secret: ptr("short")}, "invalid_secret", "at least 24"},
	}
	for _, c := range cases {
		create := c.in
		if create.URL == nil {
			create.URL = ptr(rc.URL())
		}
		_, err := h.e.CreateEndpoint(context.Background(), "acme", create)
		require_ErrorCode(t, err, engine.KindInvalid, c.code)
		require_True(t, strings.Contains(err.Error(), c.text), "%s: create error %q does not name %q", c.name, err, c.text)
		_, err = h.e.UpdateEndpoint(context.Background(), "acme", good.ID, c.in)
		require_ErrorCode(t, err, engine.KindInvalid, c.code)
		got, err := h.e.GetEndpoint("acme", good.ID)
		require_NoError(t, err)
		require_Equal(t, got.URL, good.URL)
		require_Equal(t, string(got.Body), `{"a":"$.data.a"}`)
		require_True(t, got.Auth == nil && got.Filter == nil && len(got.Headers) == 0 && got.Signature == nil, "%s: a refused update changed the endpoint: %+v", c.name, got)
	}
	eps, err := h.e.ListEndpoints("acme", "", 100, false)
	require_NoError(t, err)
	require_Equal(t, len(eps), 1)
}

// TestCredentialsWriteOnly: auth credentials are never shown: not in the
// create answer, GET, the list or the audit log; the preview masks them.
func TestCredentialsWriteOnly(t *testing.T) {
	h := newHarness(t, testOptions())
	h.tenant("acme")
	rec := &auditRecorder{}
	h.e.SetAuditor(rec)
	rc := newReceiver(t, recvConfig{})
	const token = "very-secret-crm-token-0123456789"
	ep := h.endpoint("acme", engine.EndpointInput{URL: ptr(rc.URL()), Auth: json.RawMessage(`{"type":"bearer","token":"` + token + `"}`)})
	got, err := h.e.GetEndpoint("acme", ep.ID)
	require_NoError(t, err)
	list, err := h.e.ListEndpoints("acme", "", 10, false)
	require_NoError(t, err)
	p, err := h.e.PreviewEndpoint("acme", ep.ID, engine.PreviewInput{Type: "lead.won", Payload: []byte(`{}`)})
	require_NoError(t, err)
	require_True(t, strings.HasPrefix(p.Headers["Authorization"], "Bearer ") && !strings.Contains(p.Headers["Authorization"], token), "preview auth %q", p.Headers["Authorization"])
	for what, v := range map[string]any{"create": ep, "get": got, "list": list, "audit": rec.all(), "preview": p} {
		b, err := json.Marshal(v)
		require_NoError(t, err)
		require_True(t, !strings.Contains(string(b), token), "%s shows the token: %s", what, b)
	}
	require_Equal(t, got.Auth.Type, "bearer")
}

// TestPreview: the preview is the request an attempt sends (method,
// rendered URL, headers, body), for an event as published or a stored
// one; a template that cannot render is render_failed naming the path.
func TestPreview(t *testing.T) {
	h := newHarness(t, testOptions())
	h.tenant("acme")
	rc := newReceiver(t, recvConfig{})
	ep := h.endpoint("acme", engine.EndpointInput{
		URL:    ptr(rc.base() + "/leads/{$.data.lead.id}"),
		Method: ptr("PATCH"),
		Body:   json.RawMessage(`{"text":"New lead {$.data.lead.email}","id":"$.id"}`),
		Filter: json.RawMessage(`{"path":"$.data.lead.score","gt":10}`),
	})
	p, err := h.e.PreviewEndpoint("acme", ep.ID, engine.PreviewInput{Type: "lead.won", Payload: []byte(`{"lead":{"id":7,"email":"a@x.example","score":50}}`)})
	require_NoError(t, err)
	require_Equal(t, p.Method, "PATCH")
	require_Equal(t, p.URL, rc.base()+"/leads/7")
	require_True(t, strings.HasPrefix(p.Body, `{"text":"New lead a@x.example","id":"evt_`), "body %s", p.Body)
	require_Equal(t, p.Headers["Hookline-Event-Type"], "lead.won")
	require_True(t, p.Headers["Webhook-Signature"] != "", "headers %v", p.Headers)
	require_True(t, !p.FilteredOut, "score 50 passes gt 10")

	p, err = h.e.PreviewEndpoint("acme", ep.ID, engine.PreviewInput{Type: "lead.won", Payload: []byte(`{"lead":{"id":7,"email":"a@x.example","score":5}}`)})
	require_NoError(t, err)
	require_True(t, p.FilteredOut, "score 5 is filtered out")

	_, err = h.e.PreviewEndpoint("acme", ep.ID, engine.PreviewInput{Type: "lead.won", Payload: []byte(`{"lead":{"id":7}}`)})
	require_ErrorCode(t, err, engine.KindInvalid, "render_failed")
	require_True(t, strings.Contains(err.Error(), "$.data.lead.email"), "names the path: %v", err)

	// A stored event renders as its delivery did: same id, same body.
	res := h.publish("acme", engine.PublishEvent{Type: "lead.won", Payload: []byte(`{"lead":{"id":8,"email":"b@x.example","score":90}}`)})
	id := engine.FormatEventID(res[0].ID)
	waitFor(t, time.Minute, "the delivery", func() bool { return rc.count() == 1 })
	p, err = h.e.PreviewEndpoint("acme", ep.ID, engine.PreviewInput{EventID: id})
	require_NoError(t, err)
	require_Equal(t, p.Body, string(rc.deliveries()[0].body))
	require_Equal(t, p.Headers["Webhook-Id"], id)
	_, err = h.e.PreviewEndpoint("acme", ep.ID, engine.PreviewInput{EventID: "evt_nope"})
	require_ErrorCode(t, err, engine.KindNotFound, "event_not_found")
}

// TestSchemeSwitchNewSecret: moving an endpoint to ed25519 gives it a key
// pair (the answer shows the new secret, GET the public key); moving back
// to HMAC gives it a new whsec_ secret.
func TestSchemeSwitchNewSecret(t *testing.T) {
	h := newHarness(t, testOptions())
	h.tenant("acme")
	rc := newReceiver(t, recvConfig{})
	ep := h.endpoint("acme", engine.EndpointInput{URL: ptr(rc.URL())})
	up, err := h.e.UpdateEndpoint(context.Background(), "acme", ep.ID, engine.EndpointInput{Signature: &httpout.SignatureConfig{Scheme: "ed25519"}})
	require_NoError(t, err)
	require_True(t, up.Secret != "" && up.Secret != ep.Secret, "a new key pair is shown: %q", up.Secret)
	require_True(t, up.PublicKey != "", "the public key is shown")
	got, err := h.e.GetEndpoint("acme", ep.ID)
	require_NoError(t, err)
	require_Equal(t, got.Secret, "")
	require_Equal(t, got.PublicKey, up.PublicKey)
	back, err := h.e.UpdateEndpoint(context.Background(), "acme", ep.ID, engine.EndpointInput{Signature: &httpout.SignatureConfig{Scheme: "standard-webhooks"}})
	require_NoError(t, err)
	_, perr := httpout.ParseSecret(back.Secret)
	require_NoError(t, perr)
	require_Equal(t, back.PublicKey, "")
}

// auditRecorder keeps every change recorded.
type auditRecorder struct {
	mu      sync.Mutex
	changes []engine.Change
}

func (r *auditRecorder) Record(_ context.Context, c engine.Change) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.changes = append(r.changes, c)
}

func (r *auditRecorder) all() []engine.Change {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]engine.Change(nil), r.changes...)
}

// TestSchemeRotation: through a rotation's overlap, a stripe endpoint
// signs with both secrets and an hmac-sha256 endpoint with the old one
// (a receiver that has not switched keeps working); both check out with
// the standard library.
func TestSchemeRotation(t *testing.T) {
	h := newHarness(t, testOptions())
	h.tenant("acme")
	rc := newReceiver(t, recvConfig{})
	const oldSecret, newSecret = "old-integration-secret-0123456789", "new-integration-secret-9876543210"
	stripe := h.endpoint("acme", engine.EndpointInput{URL: ptr(rc.base() + "/stripe"), Secret: ptr(oldSecret),
		Signature: &httpout.SignatureConfig{Scheme: "stripe", Header: "Acme-Signature"}})
	gh := h.endpoint("acme", engine.EndpointInput{URL: ptr(rc.base() + "/gh"), Secret: ptr(oldSecret),
		Signature: &httpout.SignatureConfig{Scheme: "hmac-sha256", Header: "X-Hub-Signature-256", Prefix: "sha256="}})
	for _, ep := range []engine.Endpoint{stripe, gh} {
		_, err := h.e.RotateSecret(context.Background(), "acme", ep.ID, engine.SecretRotation{Secret: ptr(newSecret), Overlap: ptr("1h")})
		require_NoError(t, err)
	}
	h.publish("acme", engine.PublishEvent{Type: "invoice.paid", Payload: []byte(`{"n":1}`)})
	waitFor(t, time.Minute, "both deliveries", func() bool { return rc.count() == 2 })
	mac := func(key, msg string) string {
		m := hmac.New(sha256.New, []byte(key))
		m.Write([]byte(msg))
		return hex.EncodeToString(m.Sum(nil))
	}
	for _, d := range rc.deliveries() {
		switch d.uri {
		case "/stripe":
			v := d.header.Get("Acme-Signature")
			ts, _, _ := strings.Cut(strings.TrimPrefix(v, "t="), ",")
			signed := ts + "." + string(d.body)
			require_Equal(t, v, "t="+ts+",v1="+mac(newSecret, signed)+",v1="+mac(oldSecret, signed))
		case "/gh":
			require_Equal(t, d.header.Get("X-Hub-Signature-256"), "sha256="+mac(oldSecret, string(d.body)))
		default:
			t.Fatalf("unexpected request to %s", d.uri)
		}
	}
}
