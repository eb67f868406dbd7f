package access_test

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"hookline/engine"
	"hookline/engine/access"
)

// TestAPIKeysSurviveRestartHashed: keys authenticate after a restart, and
// what is stored is not the key.
func TestAPIKeysSurviveRestartHashed(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.tenant("acme")
	k, err := h.acc.CreateAPIKey(bg, "acme", "ci", nil)
	require_NoError(t, err)
	h.stop()
	h.start()
	got, ok := h.acc.AuthenticateKey([]byte(k.Key))
	require_True(t, ok, "the key no longer authenticates after a restart")
	require_Equal(t, got.Tenant, "acme")
	require_Equal(t, got.Key, "")
	_, ok = h.acc.AuthenticateKey([]byte(k.Key + "x"))
	require_True(t, !ok, "a wrong key authenticates")
	require_NoError(t, h.log.ScanAPIKeys(func(_ [32]byte, val []byte) {
		require_True(t, !bytes.Contains(val, []byte(k.Key)) && !bytes.Contains(val, []byte(k.Key[10:])), "the stored record holds the key: %s", val)
	}))
}

// TestAPIKeysDeletedWithTenant: deleting a tenant revokes its keys at
// once and for good, also across a restart and a tenant of the same name.
func TestAPIKeysDeletedWithTenant(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.tenant("acme")
	h.tenant("other")
	k, err := h.acc.CreateAPIKey(bg, "acme", "ci", nil)
	require_NoError(t, err)
	keep, err := h.acc.CreateAPIKey(bg, "other", "ci", nil)
	require_NoError(t, err)
	require_NoError(t, h.e.DeleteTenant(bg, "acme"))
	_, ok := h.acc.AuthenticateKey([]byte(k.Key))
	require_True(t, !ok, "a deleted tenant's key still authenticates")
	h.tenant("acme")
	h.stop()
	h.start()
	_, ok = h.acc.AuthenticateKey([]byte(k.Key))
	require_True(t, !ok, "a deleted tenant's key authenticates after a restart")
	got, ok := h.acc.AuthenticateKey([]byte(keep.Key))
	require_True(t, ok && got.Tenant == "other", "another tenant's key was revoked")
	ks, err := h.acc.ListAPIKeys("acme")
	require_NoError(t, err)
	require_Equal(t, len(ks), 0)
}

func TestAPIKeyBadInput(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.tenant("acme")
	_, err := h.acc.CreateAPIKey(bg, "nope", "ci", nil)
	require_ErrorCode(t, err, engine.KindNotFound, "tenant_not_found")
	_, err = h.acc.CreateAPIKey(bg, "acme", strings.Repeat("n", 201), nil)
	require_ErrorCode(t, err, engine.KindInvalid, "invalid_name")
	for _, scopes := range [][]string{{}, {"endpoints:delete"}, {"events:publish", "admin"}, {"Events:Publish"}} {
		_, err = h.acc.CreateAPIKey(bg, "acme", "ci", scopes)
		require_ErrorCode(t, err, engine.KindInvalid, "invalid_scopes")
	}
	ks, err := h.acc.ListAPIKeys("acme")
	require_NoError(t, err)
	require_Equal(t, len(ks), 0)
	k, err := h.acc.CreateAPIKey(bg, "acme", "ci", []string{"deliveries:replay", "endpoints:write", "endpoints:write"})
	require_NoError(t, err)
	require_True(t, slices.Equal(k.Scopes, access.Scopes{access.EndpointsWrite, access.DeliveriesReplay}), "scopes %v", k.Scopes)
	require_NoError(t, h.acc.DeleteAPIKey(bg, "acme", k.ID))
	_, err = h.acc.ListAPIKeys("nope")
	require_ErrorCode(t, err, engine.KindNotFound, "tenant_not_found")
	require_ErrorCode(t, h.acc.DeleteAPIKey(bg, "acme", "key_nope"), engine.KindNotFound, "api_key_not_found")
	require_ErrorCode(t, h.acc.DeleteAPIKey(bg, "nope", "key_nope"), engine.KindNotFound, "tenant_not_found")
	for range 100 {
		_, err := h.acc.CreateAPIKey(bg, "acme", "", nil)
		require_NoError(t, err)
	}
	_, err = h.acc.CreateAPIKey(bg, "acme", "", nil)
	require_ErrorCode(t, err, engine.KindConflict, "too_many_api_keys")
	_, ok := h.acc.AuthenticateKey(nil)
	require_True(t, !ok, "an empty token authenticates")
}
