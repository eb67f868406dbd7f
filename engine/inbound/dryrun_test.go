package inbound_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"hookline/engine"
	"hookline/engine/inbound"
)

// TestSourceDryRunDraft: a dry run with a draft mapping maps with the
// draft, verifies with the source's secret, and changes nothing: the
// saved mapping still makes the source's events.
func TestSourceDryRunDraft(t *testing.T) {
	h := newHarness(t)
	h.tenant("acme")
	src := h.source("acme", inbound.SourceInput{Provider: ptr("github"), Secret: ptr("gh-secret"), Mapping: json.RawMessage(`{"type":"saved.{$.action}"}`)})
	body := []byte(`{"action":"opened","n":7}`)
	dry := func(in inbound.SourceTest) inbound.SourceTestResult {
		t.Helper()
		in.RawBody = ptr(string(body))
		r, err := h.rc.TestSource("acme", src.ID, in)
		require_NoError(t, err)
		return r
	}
	r := dry(inbound.SourceTest{})
	require_Equal(t, r.Event.Type, "saved.opened")
	r = dry(inbound.SourceTest{Mapping: json.RawMessage(`{"type":"draft.{$.action}","id":"$.n","payload":{"number":"$.n"}}`)})
	require_Equal(t, r.Outcome, "event")
	require_Equal(t, r.Event.Type, "draft.opened")
	require_Equal(t, r.Event.DedupeID, "7")
	require_Equal(t, string(r.Event.Payload), `{"number":7}`)
	// null: the provider's default, as a patch with null would give.
	r = dry(inbound.SourceTest{Mapping: json.RawMessage(`null`), Headers: map[string]string{"X-GitHub-Event": "issues", "X-GitHub-Delivery": "d-1"}})
	require_Equal(t, r.Event.Type, "github.issues.opened")
	require_Equal(t, r.Event.DedupeID, "d-1")
	// The draft maps; the source's secret still verifies.
	r = dry(inbound.SourceTest{Mapping: json.RawMessage(`{"type":"draft"}`), Verify: true, Headers: map[string]string{"X-Hub-Signature-256": githubSig("gh-secret", body)}})
	require_True(t, r.Verified != nil && *r.Verified && r.Event != nil && r.Event.Type == "draft", "verified draft run: %+v", r)
	r = dry(inbound.SourceTest{Mapping: json.RawMessage(`{"type":"draft"}`), Verify: true, Headers: map[string]string{"X-Hub-Signature-256": githubSig("other", body)}})
	require_Equal(t, r.Code, "bad_signature")
	// A draft's routes and drops are the draft's.
	r = dry(inbound.SourceTest{Mapping: json.RawMessage(`{"type":"x","routes":[{"when":{"path":"$.action","equals":"opened"},"drop":true}]}`)})
	require_Equal(t, r.Outcome, inbound.Dropped)

	got, err := h.rc.GetSource("acme", src.ID)
	require_NoError(t, err)
	require_Equal(t, string(got.Mapping), `{"type":"saved.{$.action}"}`)
	res := h.rc.Receive(src.ID, githubReq(src.ID, "gh-secret", "d-2", body))
	require_Equal(t, res.Outcome, inbound.Accepted)
	ev, err := h.e.GetEvent("acme", res.EventID)
	require_NoError(t, err)
	require_Equal(t, ev.Type, "saved.opened")
}

// TestSourceDryRunDraftDedupe: a draft decides the dedupe id as a saved
// mapping would: a provider without delivery ids (hubspot) is deduped on
// the body with its default mapping only.
func TestSourceDryRunDraftDedupe(t *testing.T) {
	h := newHarness(t)
	h.tenant("acme")
	src := h.source("acme", inbound.SourceInput{Provider: ptr("hubspot"), Secret: ptr("hs-secret")})
	body := json.RawMessage(`[{"eventId":11,"subscriptionType":"contact.creation"}]`)
	r, err := h.rc.TestSource("acme", src.ID, inbound.SourceTest{Body: body})
	require_NoError(t, err)
	require_True(t, strings.HasPrefix(r.Event.DedupeID, "sha256:"), "default mapping's dedupe id %q", r.Event.DedupeID)
	r, err = h.rc.TestSource("acme", src.ID, inbound.SourceTest{Body: body, Mapping: json.RawMessage(`{"type":"crm.contact"}`)})
	require_NoError(t, err)
	require_Equal(t, r.Event.Type, "crm.contact")
	require_Equal(t, r.Event.DedupeID, "")
}

// TestSourceDryRunBadDraft: a bad draft is refused with the error a patch
// with it gets, word for word, and nothing is saved.
func TestSourceDryRunBadDraft(t *testing.T) {
	h := newHarness(t)
	h.tenant("acme")
	src := h.source("acme", inbound.SourceInput{Provider: ptr("none"), Mapping: json.RawMessage(`{"type":"t"}`)})
	before, err := h.rc.GetSource("acme", src.ID)
	require_NoError(t, err)
	for _, c := range []struct{ mapping, code, rule string }{
		{`{"type":"x","routes":[{"when":{"path":"$.a"},"type":"y"}]}`, "invalid_mapping", "mapping.routes[0].when"},
		{`{"type":"x.{$.a"}`, "invalid_mapping", "mapping.type"},
		{`{"type":"x","colour":"red"}`, "invalid_mapping", ""},
		{`"x"`, "invalid_mapping", ""},
		{`{}`, "", ""},
		{`{"type":"hookline.{$.kind}"}`, "reserved_event_type", "mapping.type"},
		{`{"type":"x","routes":[{"when":{"path":"$.a","exists":true},"type":"hookline.x"}]}`, "reserved_event_type", "mapping.routes[0].type"},
		{`null`, "missing_mapping", ""}, // provider none has no default
	} {
		_, perr := h.rc.UpdateSource(bg, "acme", src.ID, inbound.SourceInput{Mapping: json.RawMessage(c.mapping)})
		var pe *engine.Error
		require_True(t, errors.As(perr, &pe), "patch with %s: %v", c.mapping, perr)
		if c.code != "" {
			require_Equal(t, pe.Code, c.code)
		}
		_, err := h.rc.TestSource("acme", src.ID, inbound.SourceTest{Body: json.RawMessage(`{"a":1}`), Mapping: json.RawMessage(c.mapping)})
		require_ErrorCode(t, err, pe.Kind, pe.Code)
		var de *engine.Error
		errors.As(err, &de)
		require_Equal(t, de.Message, pe.Message)
		require_True(t, strings.HasPrefix(de.Message, c.rule), "draft %s: message %q does not name %s", c.mapping, de.Message, c.rule)
	}
	// The body is checked as before a draft is.
	_, err = h.rc.TestSource("acme", src.ID, inbound.SourceTest{Mapping: json.RawMessage(`{"type":"x"}`)})
	require_ErrorCode(t, err, engine.KindInvalid, "invalid_test")
	after, err := h.rc.GetSource("acme", src.ID)
	require_NoError(t, err)
	require_DeepEqual(t, after, before)
}
