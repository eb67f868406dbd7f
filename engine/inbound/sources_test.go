package inbound_test

import (
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"hookline/engine"
	"hookline/engine/inbound"
	"hookline/internal/verify"
	"hookline/wal"
)

// TestSourcesSurviveRestart: sources, their rotation state and their
// request logs are on disk: after a restart on the same directory they
// are the same and keep receiving; the dedupe of their events holds.
func TestSourcesSurviveRestart(t *testing.T) {
	h := newHarness(t)
	rc := newReceiver(t, recvConfig{})
	h.tenant("acme")
	h.endpoint("acme", engine.EndpointInput{URL: ptr(rc.URL()), EventTypes: &[]string{"github.*", "forms.*"}})
	gh := h.source("acme", inbound.SourceInput{Name: ptr("gh"), Provider: ptr("github"), Secret: ptr("old")})
	_, err := h.rc.RotateSourceSecret(bg, "acme", gh.ID, engine.SecretRotation{Secret: ptr("new"), Overlap: ptr("1h")})
	require_NoError(t, err)
	forms := h.source("acme", inbound.SourceInput{
		Provider: ptr("api-key"), Secret: ptr("k-1234567890abcdef"), APIKey: &verify.APIKeyConfig{Header: "X-Key"},
		Mapping: json.RawMessage(`{"type":"forms.{$.form}","id":"$.sid","payload":{"email":"$.email"}}`),
	})
	body := []byte(`{"action":"opened","issue":1}`)
	first := h.rc.Receive(gh.ID, githubReq(gh.ID, "old", "d-1", body))
	require_Equal(t, first.Outcome, inbound.Accepted)
	before, err := h.rc.ListSources("acme")
	require_NoError(t, err)
	logBefore := h.requests("acme", gh.ID)

	h.stop(5 * time.Second)
	h.start()

	after, err := h.rc.ListSources("acme")
	require_NoError(t, err)
	require_DeepEqual(t, after, before)
	require_DeepEqual(t, h.requests("acme", gh.ID), logBefore)
	// Both secrets of the overlap still count; the dedupe survived.
	res := h.rc.Receive(gh.ID, githubReq(gh.ID, "old", "d-1", body))
	require_Equal(t, res.Outcome, inbound.Duplicate)
	require_Equal(t, res.EventID, first.EventID)
	res = h.rc.Receive(gh.ID, githubReq(gh.ID, "new", "d-2", body))
	require_Equal(t, res.Outcome, inbound.Accepted)
	res = h.rc.Receive(forms.ID, request(forms.ID, "", []byte(`{"form":"contact","sid":"s1","email":"a@example.com"}`), hdrs{{"X-Key", "k-1234567890abcdef"}}))
	require_Equal(t, res.Outcome, inbound.Accepted)
	waitFor(t, 10*time.Second, "three deliveries", func() bool { return rc.count() == 3 })
	got := map[string]string{}
	for _, d := range rc.deliveries() {
		var o struct {
			Type string          `json:"type"`
			Data json.RawMessage `json:"data"`
		}
		require_NoError(t, json.Unmarshal(d.body, &o))
		got[o.Type] = string(o.Data)
	}
	require_Equal(t, got["forms.contact"], `{"email":"a@example.com"}`)
	require_Equal(t, got["github.issues.opened"], string(body))
}

// TestSourcePreviousSecretExpires: an expired previous secret is refused
// by the receiver and by a verifying dry run, and the source is stored
// without it, so a restart does not bring it back.
func TestSourcePreviousSecretExpires(t *testing.T) {
	h := newHarness(t)
	h.tenant("acme")
	src := h.source("acme", inbound.SourceInput{Provider: ptr("github"), Secret: ptr("old")})
	rot, err := h.rc.RotateSourceSecret(bg, "acme", src.ID, engine.SecretRotation{Secret: ptr("new"), Overlap: ptr("1s")})
	require_NoError(t, err)
	require_Equal(t, rot.Secret, "new")
	require_True(t, rot.PreviousSecretExpiresAt != nil, "no previous_secret_expires_at")
	body := []byte(`{"action":"opened"}`)
	dry := func(secret string) inbound.SourceTestResult {
		t.Helper()
		r, err := h.rc.TestSource("acme", src.ID, inbound.SourceTest{
			RawBody: ptr(string(body)), Verify: true,
			Headers: map[string]string{"X-GitHub-Event": "issues", "X-Hub-Signature-256": githubSig(secret, body)},
		})
		require_NoError(t, err)
		return r
	}
	require_Equal(t, dry("old").Outcome, "event")

	waitFor(t, 10*time.Second, "the previous secret to expire", func() bool { return time.Now().After(*rot.PreviousSecretExpiresAt) })
	// The dry run comes first: it must not verify with a stale verifier.
	r := dry("old")
	require_Equal(t, r.Outcome, inbound.Rejected)
	require_Equal(t, r.Code, "bad_signature")
	require_Equal(t, dry("new").Outcome, "event")
	res := h.rc.Receive(src.ID, githubReq(src.ID, "old", "d-1", body))
	require_Equal(t, res.Code, "bad_signature")
	res = h.rc.Receive(src.ID, githubReq(src.ID, "new", "d-2", body))
	require_Equal(t, res.Outcome, inbound.Accepted)
	got, err := h.rc.GetSource("acme", src.ID)
	require_NoError(t, err)
	require_True(t, got.PreviousSecretExpiresAt == nil, "previous_secret_expires_at is still %v", got.PreviousSecretExpiresAt)

	h.stop(5 * time.Second)
	require_True(t, !strings.Contains(storedSources(t, h), `"old"`), "the expired secret is still stored")
	h.start()
	res = h.rc.Receive(src.ID, githubReq(src.ID, "old", "d-3", body))
	require_Equal(t, res.Code, "bad_signature")
}

// storedSources returns the source records of h's stopped store.
func storedSources(t *testing.T, h *harness) string {
	t.Helper()
	l, err := wal.Open(h.dir, h.walOpts)
	require_NoError(t, err)
	defer l.Close()
	var b strings.Builder
	require_NoError(t, l.Sources(func(_ wal.ID, v []byte) error { b.Write(v); b.WriteByte('\n'); return nil }))
	return b.String()
}

// TestSourcesDeletedWithTenant: a deleted tenant's sources and their logs
// are gone, also after a restart.
func TestSourcesDeletedWithTenant(t *testing.T) {
	h := newHarness(t)
	h.tenant("acme")
	h.tenant("other")
	src := h.source("acme", inbound.SourceInput{Provider: ptr("none"), Mapping: json.RawMessage(`{"type":"t"}`)})
	keep := h.source("other", inbound.SourceInput{Provider: ptr("none"), Mapping: json.RawMessage(`{"type":"t"}`)})
	require_Equal(t, h.rc.Receive(src.ID, request(src.ID, "", []byte(`{}`), nil)).Status, 200)
	require_Equal(t, h.rc.Receive(keep.ID, request(keep.ID, "", []byte(`{}`), nil)).Status, 200)
	require_NoError(t, h.e.DeleteTenant(bg, "acme"))
	require_Equal(t, h.rc.Receive(src.ID, request(src.ID, "", []byte(`{}`), nil)).Status, 404)
	h.stop(5 * time.Second)
	stored := storedSources(t, h)
	require_True(t, !strings.Contains(stored, src.ID) && strings.Contains(stored, keep.ID), "stored sources: %s", stored)
	h.start()
	h.tenant("acme")
	srcs, err := h.rc.ListSources("acme")
	require_NoError(t, err)
	require_Equal(t, len(srcs), 0)
	n := 0
	id, _ := inbound.ParseSourceID(src.ID)
	require_NoError(t, h.log.ScanInbound(id, wal.ID{}, func(wal.ID, []byte) bool { n++; return true }))
	require_Equal(t, n, 0)
	require_Equal(t, len(h.requests("other", keep.ID)), 1)
}

// TestSourceRejectsEngine: the engine refuses bad sources with stable
// codes, whoever calls it.
func TestSourceRejectsEngine(t *testing.T) {
	h := newHarness(t)
	h.tenant("acme")
	f := func(in inbound.SourceInput, kind engine.Kind, code string) {
		t.Helper()
		_, err := h.rc.CreateSource(bg, "acme", in)
		require_ErrorCode(t, err, kind, code)
	}
	f(inbound.SourceInput{}, engine.KindInvalid, "missing_provider")
	f(inbound.SourceInput{Provider: ptr("nope"), Secret: ptr("s")}, engine.KindInvalid, "invalid_provider")
	f(inbound.SourceInput{Provider: ptr("github")}, engine.KindInvalid, "missing_secret")
	f(inbound.SourceInput{Provider: ptr("hmac"), Secret: ptr("s"), HMAC: &verify.HMACConfig{Header: "X-Sig"}}, engine.KindInvalid, "missing_mapping")
	f(inbound.SourceInput{Provider: ptr("none"), Mapping: json.RawMessage(`{"type":"x","routes":[{"when":{"path":"$.a"},"type":"y"}]}`)}, engine.KindInvalid, "invalid_mapping")
	_, err := h.rc.CreateSource(bg, "nope", inbound.SourceInput{Provider: ptr("none"), Mapping: json.RawMessage(`{"type":"x"}`)})
	require_ErrorCode(t, err, engine.KindNotFound, "tenant_not_found")
	srcs, err := h.rc.ListSources("acme")
	require_NoError(t, err)
	require_Equal(t, len(srcs), 0)
}

// TestSourceCreateRacingTenantDelete: a source created while its tenant is
// deleted is either deleted with it or refused, never left behind (the
// engine's WithTenant and OnTenantDelete hooks order the two).
func TestSourceCreateRacingTenantDelete(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	for round := range 20 {
		h.tenant("acme")
		var wg sync.WaitGroup
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 5 {
					_, err := h.rc.CreateSource(bg, "acme", inbound.SourceInput{Provider: ptr("none"), Mapping: json.RawMessage(`{"type":"t"}`)})
					if err != nil {
						require_ErrorCode(t, err, engine.KindNotFound, "tenant_not_found")
					}
				}
			}()
		}
		require_NoError(t, h.e.DeleteTenant(bg, "acme"))
		wg.Wait()
		h.tenant("acme")
		srcs, err := h.rc.ListSources("acme")
		require_NoError(t, err)
		require_Equal(t, len(srcs), 0)
		require_NoError(t, h.e.DeleteTenant(bg, "acme"))
		if round == 19 {
			h.stop(5 * time.Second)
			require_Equal(t, storedSources(t, h), "")
			h.start()
		}
	}
}

// TestWeakSecrets: a secret the operator invents (api-key, hmac, basic's
// password) shorter than verify.MinSecretBytes is refused with
// weak_secret, at creation and at rotation; a provider-issued one keeps
// the provider's format. A source stored before the minimum still loads
// (refusing it would drop a working source at upgrade), with a warning,
// and can be patched and rotated to a strong secret.
func TestWeakSecrets(t *testing.T) {
	h := newHarness(t)
	h.tenant("acme")
	strong := strings.Repeat("s", verify.MinSecretBytes)
	mapping := json.RawMessage(`{"type":"x"}`)
	apiKey := func(secret string) inbound.SourceInput {
		return inbound.SourceInput{Provider: ptr("api-key"), Secret: ptr(secret), APIKey: &verify.APIKeyConfig{Header: "X-Key"}, Mapping: mapping}
	}
	hmacIn := func(secret string) inbound.SourceInput {
		return inbound.SourceInput{Provider: ptr("hmac"), Secret: ptr(secret), HMAC: &verify.HMACConfig{Header: "X-Sig"}, Mapping: mapping}
	}
	basic := func(secret string) inbound.SourceInput {
		return inbound.SourceInput{Provider: ptr("basic"), Secret: ptr(secret), Mapping: mapping}
	}
	f := func(in inbound.SourceInput) {
		t.Helper()
		_, err := h.rc.CreateSource(bg, "acme", in)
		require_ErrorCode(t, err, engine.KindInvalid, "weak_secret")
		require_True(t, strings.Contains(err.Error(), "at least 16 bytes"), "error %q does not name the minimum", err)
	}
	f(apiKey("7"))
	f(hmacIn("k"))
	f(basic(":"))
	f(apiKey(strong[1:]))
	f(basic("a-long-user-name:" + strong[1:]))

	_, err := h.rc.CreateSource(bg, "acme", apiKey(strong))
	require_NoError(t, err)
	_, err = h.rc.CreateSource(bg, "acme", basic("u:"+strong))
	require_NoError(t, err)
	_, err = h.rc.CreateSource(bg, "acme", inbound.SourceInput{Provider: ptr("stripe"), Secret: ptr("whsec_x")})
	require_NoError(t, err)

	src, err := h.rc.CreateSource(bg, "acme", hmacIn(strong))
	require_NoError(t, err)
	_, err = h.rc.RotateSourceSecret(bg, "acme", src.ID, engine.SecretRotation{Secret: ptr("k")})
	require_ErrorCode(t, err, engine.KindInvalid, "weak_secret")

	// A source stored with a weak secret before the minimum existed.
	id, _ := inbound.ParseSourceID(src.ID)
	var stored []byte
	require_NoError(t, h.log.Sources(func(got wal.ID, val []byte) error {
		if got == id {
			stored = append([]byte(nil), val...)
		}
		return nil
	}))
	var rec map[string]any
	require_NoError(t, json.Unmarshal(stored, &rec))
	rec["secret"] = "k"
	stored, err = json.Marshal(rec)
	require_NoError(t, err)
	require_NoError(t, h.log.PutSource(id, stored))
	h.stop(5 * time.Second)
	h.start()
	got, err := h.rc.GetSource("acme", src.ID)
	require_NoError(t, err)
	require_Equal(t, got.ID, src.ID)
	h.logMu.Lock()
	logs := h.logs.String()
	h.logMu.Unlock()
	require_True(t, strings.Contains(logs, "weak_secret") && strings.Contains(logs, src.ID), "no warning about the stored weak secret in:\n%s", logs)
	res := h.rc.Receive(src.ID, request(src.ID, "", []byte(`{}`), hdrs{{"X-Sig", strings.TrimPrefix(githubSig("k", []byte(`{}`)), "sha256=")}}))
	require_Equal(t, res.Outcome, inbound.Accepted)
	_, err = h.rc.UpdateSource(bg, "acme", src.ID, inbound.SourceInput{Name: ptr("renamed")})
	require_NoError(t, err)
	_, err = h.rc.RotateSourceSecret(bg, "acme", src.ID, engine.SecretRotation{Secret: ptr(strong + "2")})
	require_NoError(t, err)
}
