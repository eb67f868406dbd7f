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

// TestVerifyTokenSealed: a whatsapp source's verify token is sealed with
// its secret, and after a restart under the key it still answers Meta's
// handshake (and only with that token).
func TestVerifyTokenSealed(t *testing.T) {
	k, err := seal.NewKey(bytes.Repeat([]byte{3}, seal.KeySize))
	require_NoError(t, err)
	h := newHarnessWith(t, func(h *harness) { h.secrets = seal.NewKeyring(k) })
	h.tenant("acme")
	const token = "meta-verify-token-0123"
	src := h.source("acme", inbound.SourceInput{Provider: ptr("whatsapp"), Secret: ptr("0123456789abcdef0123456789abcdef"), VerifyToken: ptr(token)})
	require_Equal(t, src.VerifyToken, token)
	var rec string
	require_NoError(t, h.log.Sources(func(id wal.ID, val []byte) error { rec = string(val); return nil }))
	require_True(t, !strings.Contains(rec, token) && !strings.Contains(rec, "0123456789abcdef0123456789abcdef"), "the stored record holds a secret: %s", rec)
	require_Equal(t, strings.Count(rec, seal.Prefix+k.ID()+"."), 2)

	h.stop(5 * time.Second)
	h.start()
	handshake := func(tok string) inbound.Result {
		return h.rc.Handshake(src.ID, request(src.ID, "hub.mode=subscribe&hub.verify_token="+tok+"&hub.challenge=77", nil, nil))
	}
	res := handshake(token)
	require_Equal(t, res.Status, 200)
	require_Equal(t, string(res.Challenge), "77")
	require_Equal(t, handshake("meta-verify-token-0124").Status, 403)
	got, err := h.rc.GetSource("acme", src.ID)
	require_NoError(t, err)
	require_Equal(t, got.VerifyToken, "")
}
