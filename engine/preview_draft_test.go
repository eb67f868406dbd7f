package engine_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"hookline/engine"
	"hookline/httpout"
)

// TestPreviewDraftChanges: an endpoint's preview with a draft renders the
// endpoint as the draft would leave it, checked as PATCH checks it, and
// changes nothing: the endpoint, its secret and its audit trail stay.
func TestPreviewDraftChanges(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testOptions())
	h.tenant("acme")
	rec := &auditRecorder{}
	h.e.SetAuditor(rec)
	rc := newReceiver(t, recvConfig{})
	const token = "stored-crm-token-0123456789"
	ep := h.endpoint("acme", engine.EndpointInput{URL: ptr(rc.URL()), Auth: json.RawMessage(`{"type":"bearer","token":"` + token + `"}`)})
	before, err := h.e.GetEndpoint("acme", ep.ID)
	require_NoError(t, err)
	ev := engine.PreviewInput{Type: "lead.won", Payload: []byte(`{"lead":{"id":7,"name":"Ada"}}`)}
	draft := func(in engine.EndpointInput) engine.PreviewInput {
		p := ev
		p.Endpoint = &in
		return p
	}

	p, err := h.e.PreviewEndpoint("acme", ep.ID, draft(engine.EndpointInput{
		URL:    ptr(rc.base() + "/leads/{$.data.lead.id}"),
		Method: ptr("put"),
		Body:   json.RawMessage(`{"who":"$.data.lead.name"}`),
		Filter: json.RawMessage(`{"path":"$.data.lead.id","gt":10}`),
	}))
	require_NoError(t, err)
	require_Equal(t, p.Method, "PUT")
	require_Equal(t, p.URL, rc.base()+"/leads/7")
	require_Equal(t, p.Body, `{"who":"Ada"}`)
	require_True(t, p.FilteredOut, "the draft's filter refuses id 7")
	require_Equal(t, p.Headers["Authorization"], "Bearer ****6789")

	// The auth as answers show it keeps the stored one; another masks the
	// draft's own; null removes it.
	p, err = h.e.PreviewEndpoint("acme", ep.ID, draft(engine.EndpointInput{Auth: json.RawMessage(`{"type":"bearer","token":"****6789"}`)}))
	require_NoError(t, err)
	require_Equal(t, p.Headers["Authorization"], "Bearer ****6789")
	p, err = h.e.PreviewEndpoint("acme", ep.ID, draft(engine.EndpointInput{Auth: json.RawMessage(`{"type":"header","name":"X-Key","value":"k"}`)}))
	require_NoError(t, err)
	require_Equal(t, p.Headers["X-Key"], "****")
	require_Equal(t, p.Headers["Authorization"], "")
	p, err = h.e.PreviewEndpoint("acme", ep.ID, draft(engine.EndpointInput{Auth: json.RawMessage(`null`)}))
	require_NoError(t, err)
	require_Equal(t, p.Headers["Authorization"], "")

	// A new scheme renders its header; the secret it would need is not kept.
	p, err = h.e.PreviewEndpoint("acme", ep.ID, draft(engine.EndpointInput{Signature: &httpout.SignatureConfig{Scheme: "ed25519"}}))
	require_NoError(t, err)
	require_True(t, p.Headers["Webhook-Signature"] != "" && strings.Contains(p.Headers["Webhook-Signature"], "****"), "headers %v", p.Headers)

	// Each bad field is refused as PATCH refuses it, the field named.
	for _, c := range []struct {
		in          engine.EndpointInput
		code, field string
	}{
		{engine.EndpointInput{Body: json.RawMessage(`{"text":"{$.data.x"}`)}, "invalid_template", "body.text"},
		{engine.EndpointInput{URL: ptr("http://{$.data.host}/x")}, "invalid_template", "url"},
		{engine.EndpointInput{URL: ptr("ftp://127.0.0.1/x")}, "invalid_url", "ftp"},
		{engine.EndpointInput{Filter: json.RawMessage(`{"path":"$.data.x","almost":1}`)}, "invalid_template", "almost"},
		{engine.EndpointInput{Headers: json.RawMessage(`{"Transfer-Encoding":"chunked"}`)}, "invalid_headers", "Transfer-Encoding"},
		{engine.EndpointInput{Auth: json.RawMessage(`{"type":"basic","password":"p"}`)}, "invalid_auth", "auth.username"},
		{engine.EndpointInput{Method: ptr("TRACE")}, "invalid_method", "TRACE"},
		{engine.EndpointInput{Signature: &httpout.SignatureConfig{Scheme: "hmac-sha256", Encoding: "base32"}}, "invalid_signature", "encoding"},
		{engine.EndpointInput{EventTypes: &[]string{}}, "invalid_event_types", "event_types"},
		{engine.EndpointInput{MaxInFlight: ptr(0)}, "invalid_max_in_flight", "max_in_flight"},
	} {
		_, err := h.e.PreviewEndpoint("acme", ep.ID, draft(c.in))
		_, perr := h.e.UpdateEndpoint(context.Background(), "acme", ep.ID, c.in)
		require_ErrorCode(t, err, engine.KindInvalid, c.code)
		require_ErrorCode(t, perr, engine.KindInvalid, c.code)
		require_True(t, strings.Contains(err.Error(), c.field), "%s: %v does not name %q", c.code, err, c.field)
	}
	_, err = h.e.PreviewEndpoint("acme", "ep_nope", draft(engine.EndpointInput{}))
	require_ErrorCode(t, err, engine.KindNotFound, "endpoint_not_found")

	after, err := h.e.GetEndpoint("acme", ep.ID)
	require_NoError(t, err)
	a, b := mustJSON(t, before), mustJSON(t, after)
	require_Equal(t, a, b)
	for _, c := range rec.all() {
		require_True(t, c.Action == "endpoint.create", "a preview recorded %s", c.Action)
	}
	// A PATCH sending back the auth as shown keeps the stored credentials
	// too (and changes the rest).
	_, err = h.e.UpdateEndpoint(context.Background(), "acme", ep.ID, engine.EndpointInput{
		Auth: json.RawMessage(`{"type":"bearer","token":"****6789"}`), Description: ptr("kept auth")})
	require_NoError(t, err)
	// The stored secret still signs: the delivery verifies with it, and
	// carries the stored token.
	h.publish("acme", engine.PublishEvent{Type: "lead.won", Payload: []byte(`{}`)})
	waitFor(t, time.Minute, "the delivery", func() bool { return rc.count() == 1 })
	require_True(t, verifies(t, ep.Secret, rc.deliveries()[0]), "the delivery does not verify with the stored secret")
	require_Equal(t, rc.deliveries()[0].header.Get("Authorization"), "Bearer "+token)
}

// TestPreviewDraftNew: a draft of a new endpoint renders as POST would make
// it, with POST's checks (the tenant's require_https too), and creates
// nothing: no endpoint, none counted toward the limit.
func TestPreviewDraftNew(t *testing.T) {
	t.Parallel()
	opts := testOptions()
	opts.EndpointsPerTenant = 1
	h := newHarness(t, opts)
	ctx := context.Background()
	_, err := h.e.CreateTenant(ctx, engine.TenantInput{ID: ptr("acme"), RequireHTTPS: json.RawMessage(`true`)})
	require_NoError(t, err)
	h.endpoint("acme", engine.EndpointInput{URL: ptr("https://8.8.8.8/hook")}) // the limit is reached
	ev := engine.PreviewInput{Type: "lead.won", Payload: []byte(`{"lead":{"id":7,"name":"Ada"}}`)}
	draft := func(in engine.EndpointInput) engine.PreviewInput {
		p := ev
		p.Endpoint = &in
		return p
	}

	p, err := h.e.PreviewDraft("acme", draft(engine.EndpointInput{
		URL:       ptr("https://8.8.8.8/leads/{$.data.lead.id}"),
		Body:      json.RawMessage(`{"who":"$.data.lead.name"}`),
		Auth:      json.RawMessage(`{"type":"bearer","token":"draft-token-0123456789"}`),
		Signature: &httpout.SignatureConfig{Scheme: "hmac-sha256", Header: "X-Sig", Prefix: "sha256="},
	}))
	require_NoError(t, err)
	require_Equal(t, p.Method, "POST")
	require_Equal(t, p.URL, "https://8.8.8.8/leads/7")
	require_Equal(t, p.Body, `{"who":"Ada"}`)
	require_Equal(t, p.Headers["Authorization"], "Bearer ****6789")
	require_Equal(t, p.Headers["X-Sig"], "sha256=****")
	p, err = h.e.PreviewDraft("acme", draft(engine.EndpointInput{URL: ptr("https://8.8.8.8/plain")}))
	require_NoError(t, err)
	require_Equal(t, p.Headers["Webhook-Signature"], "v1,****")
	require_True(t, strings.HasPrefix(p.Body, `{"type":"lead.won",`), "standard body %s", p.Body)

	for _, c := range []struct {
		in          engine.EndpointInput
		kind        engine.Kind
		code, field string
	}{
		{engine.EndpointInput{Description: ptr("no url")}, engine.KindInvalid, "missing_url", "url"},
		{engine.EndpointInput{URL: ptr("http://8.8.8.8/hook")}, engine.KindInvalid, "https_required", "require_https"},
		{engine.EndpointInput{URL: ptr("https://8.8.8.8/"), Body: json.RawMessage(`{"t":"{$.data"}`)}, engine.KindInvalid, "invalid_template", "body.t"},
		{engine.EndpointInput{URL: ptr("not a url")}, engine.KindInvalid, "invalid_url", "url"},
		{engine.EndpointInput{URL: ptr("https://8.8.8.8/"), Secret: ptr("short")}, engine.KindInvalid, "invalid_secret", "secret"},
	} {
		_, err := h.e.PreviewDraft("acme", draft(c.in))
		require_ErrorCode(t, err, c.kind, c.code)
		require_True(t, strings.Contains(err.Error(), c.field), "%s: %v does not name %q", c.code, err, c.field)
	}
	_, err = h.e.PreviewDraft("nope", draft(engine.EndpointInput{URL: ptr("https://8.8.8.8/")}))
	require_ErrorCode(t, err, engine.KindNotFound, "tenant_not_found")
	bad := draft(engine.EndpointInput{URL: ptr("https://8.8.8.8/")})
	bad.Type = "a b"
	_, err = h.e.PreviewDraft("acme", bad)
	require_ErrorCode(t, err, engine.KindInvalid, "invalid_type")

	list, err := h.e.ListEndpoints("acme", "", 10, true)
	require_NoError(t, err)
	require_Equal(t, len(list), 1)
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require_NoError(t, err)
	return string(b)
}
