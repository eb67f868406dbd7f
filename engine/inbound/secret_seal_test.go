package inbound_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"hookline/engine"
	"hookline/engine/inbound"
	"hookline/internal/seal"
	"hookline/internal/verify"
	"hookline/wal"
)

// TestSourceSecretsSealed: a source stored before sealing is sealed when
// the receiver starts with a key; its stored record then holds neither its
// secret nor its previous one, both still verify, and a start under
// another key is refused.
func TestSourceSecretsSealed(t *testing.T) {
	h := newHarness(t)
	h.tenant("acme")
	const key1, key2 = "source-key-one-0123456789", "source-key-two-0123456789"
	src := h.source("acme", inbound.SourceInput{
		Provider: ptr("api-key"), Secret: ptr(key1),
		APIKey:  &verify.APIKeyConfig{Header: "X-Api-Key"},
		Mapping: json.RawMessage(`{"type":"t"}`),
	})
	_, err := h.rc.RotateSourceSecret(bg, "acme", src.ID, engine.SecretRotation{Secret: ptr(key2), Overlap: ptr("1h")})
	require_NoError(t, err)
	stored := func() string {
		t.Helper()
		var out string
		require_NoError(t, h.log.Sources(func(id wal.ID, val []byte) error { out = string(val); return nil }))
		return out
	}
	require_True(t, strings.Contains(stored(), key1), "without a keyring the record holds the secrets as given")
	status := func(key string) int {
		t.Helper()
		return h.rc.Receive(src.ID, request(src.ID, "", []byte(`{}`), hdrs{{"X-Api-Key", key}})).Status
	}

	h.stop(5 * time.Second)
	k1, err := seal.NewKey(bytes.Repeat([]byte{1}, seal.KeySize))
	require_NoError(t, err)
	h.secrets = seal.NewKeyring(k1)
	h.start()
	rec := stored()
	require_True(t, !strings.Contains(rec, key1) && !strings.Contains(rec, key2), "the stored record holds a secret: %s", rec)
	require_Equal(t, strings.Count(rec, seal.Prefix+k1.ID()+"."), 2)
	require_Equal(t, status(key2), 200)
	require_Equal(t, status(key1), 200)
	require_Equal(t, status("wrong-key-0123456789"), 401)

	h.stop(5 * time.Second)
	k2, err := seal.NewKey(bytes.Repeat([]byte{2}, seal.KeySize))
	require_NoError(t, err)
	l, err := wal.Open(h.dir, nil)
	require_NoError(t, err)
	defer l.Close()
	_, err = inbound.ResealSources(l, seal.NewKeyring(k2), nil)
	require_True(t, err != nil && strings.Contains(err.Error(), "sealed under key "+k1.ID()), "ResealSources under another key: %v", err)
	n, err := inbound.ResealSources(l, seal.NewKeyring(k2, k1), nil)
	require_NoError(t, err)
	require_Equal(t, n, 1)
	require_NoError(t, l.Sources(func(id wal.ID, val []byte) error { rec = string(val); return nil }))
	require_Equal(t, strings.Count(rec, seal.Prefix+k2.ID()+"."), 2)
}
