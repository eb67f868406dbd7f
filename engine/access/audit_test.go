package access_test

import (
	"strings"
	"testing"

	"hookline/engine"
	"hookline/engine/access"
)

// TestAuditRecordsEveryChange: the engine's mutating calls are audited by
// the calls themselves, under the actor their context carries, with the
// resource before and after and never a secret.
func TestAuditRecordsEveryChange(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := access.WithActor(bg, access.Actor{ID: "key_abc", Type: access.ActorTypeAPIKey, Name: "ci"}, "rotating after an incident")
	_, err := h.e.CreateTenant(ctx, engine.TenantInput{ID: ptr("acme")})
	require_NoError(t, err)
	ep, err := h.e.CreateEndpoint(ctx, "acme", engine.EndpointInput{URL: ptr("https://example.com/hook")})
	require_NoError(t, err)
	require_True(t, strings.HasPrefix(ep.Secret, "whsec_"), "no secret on create")
	_, err = h.e.SetPaused(ctx, "acme", ep.ID, true)
	require_NoError(t, err)
	_, err = h.e.RotateSecret(ctx, "acme", ep.ID, engine.SecretRotation{})
	require_NoError(t, err)
	require_NoError(t, h.e.DeleteEndpoint(bg, "acme", ep.ID))
	// A failed call records nothing.
	_, err = h.e.UpdateEndpoint(ctx, "acme", ep.ID, engine.EndpointInput{})
	require_ErrorCode(t, err, engine.KindConflict, "endpoint_deleted")

	es, next, err := h.acc.ListAudit("acme", "", 100)
	require_NoError(t, err)
	require_Equal(t, next, "")
	var got []string
	for _, a := range es {
		got = append(got, a.Actor+" "+a.ActorType+" "+a.ActorName+" "+a.Reason+" "+a.Action+" "+a.Resource)
		for _, raw := range [][]byte{a.Before, a.After} {
			require_True(t, !strings.Contains(string(raw), "whsec_"), "%s keeps a secret: %s", a.Action, raw)
			require_True(t, !strings.Contains(string(raw), `"circuit"`), "%s keeps the live circuit: %s", a.Action, raw)
		}
	}
	want := []string{ // newest first
		"system system   endpoint.delete " + ep.ID,
		"key_abc api_key ci rotating after an incident endpoint.rotate_secret " + ep.ID,
		"key_abc api_key ci rotating after an incident endpoint.pause " + ep.ID,
		"key_abc api_key ci rotating after an incident endpoint.create " + ep.ID,
		"key_abc api_key ci rotating after an incident tenant.create acme",
	}
	require_Equal(t, strings.Join(got, "\n"), strings.Join(want, "\n"))
	pause := es[2]
	require_True(t, strings.Contains(string(pause.Before), `"paused":false`) && strings.Contains(string(pause.After), `"paused":true`),
		"pause before %s after %s", pause.Before, pause.After)
	require_True(t, len(es[0].After) == 0 && len(es[0].Before) > 0, "delete keeps before only: %+v", es[0])
}

func TestAuditListBadInput(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	f := func(cursor string, limit int, code string) {
		t.Helper()
		_, _, err := h.acc.ListAudit("", cursor, limit)
		require_ErrorCode(t, err, engine.KindInvalid, code)
	}
	f("", 0, "invalid_limit")
	f("", engine.MaxPageLimit+1, "invalid_limit")
	f("aud_", 10, "invalid_cursor")
	f("nope", 10, "invalid_cursor")
	f("aud_zzzz", 10, "invalid_cursor")
}

// TestAuditOfRecreatedTenant: a tenant deleted and created again under the
// same name does not see the earlier tenant's entries; the log of all
// tenants keeps them.
func TestAuditOfRecreatedTenant(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	_, err := h.e.CreateTenant(bg, engine.TenantInput{ID: ptr("acme")})
	require_NoError(t, err)
	_, err = h.e.CreateEndpoint(bg, "acme", engine.EndpointInput{URL: ptr("https://old.example.com/hook?token=old")})
	require_NoError(t, err)
	require_NoError(t, h.e.DeleteTenant(bg, "acme"))
	_, err = h.e.CreateTenant(bg, engine.TenantInput{ID: ptr("acme")})
	require_NoError(t, err)

	es, _, err := h.acc.ListAudit("acme", "", 100)
	require_NoError(t, err)
	require_Equal(t, len(es), 1)
	require_Equal(t, es[0].Action, "tenant.create")
	all, _, err := h.acc.ListAudit("", "", 100)
	require_NoError(t, err)
	require_Equal(t, len(all), 4) // create, endpoint, delete, create
}
