package engine_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"hookline/engine"
	"hookline/httpout"
	"hookline/internal/seal"
	"hookline/wal"
)

func testKeyring(t testing.TB, b byte, older ...*seal.Key) *seal.Keyring {
	t.Helper()
	k, err := seal.NewKey(bytes.Repeat([]byte{b}, seal.KeySize))
	require_NoError(t, err)
	return seal.NewKeyring(k, older...)
}

// TestEndpointSecretsSealed: endpoints stored before sealing (plaintext)
// are sealed when the engine starts with a key; their stored records then
// hold no secret, deliveries verify with the current and the previous
// secret, a start with another key is refused naming both key ids, and a
// ring with the new key and the old one reseals everything under the new.
func TestEndpointSecretsSealed(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testOptions())
	h.tenant("acme")
	rc := newReceiver(t, recvConfig{})
	ep := h.endpoint("acme", engine.EndpointInput{URL: ptr(rc.URL())})
	rot, err := h.e.RotateSecret(context.Background(), "acme", ep.ID, engine.SecretRotation{Overlap: ptr("1h")})
	require_NoError(t, err)
	require_True(t, strings.Contains(storedEndpoint(t, h, ep), rot.Secret), "without a keyring the record holds the secret as given")

	noSecrets := func(rec, keyID string) {
		t.Helper()
		for _, s := range []string{ep.Secret, rot.Secret, strings.TrimPrefix(ep.Secret, "whsec_"), strings.TrimPrefix(rot.Secret, "whsec_")} {
			require_True(t, !strings.Contains(rec, s), "the stored record holds a secret: %s", rec)
		}
		require_Equal(t, strings.Count(rec, seal.Prefix+keyID+"."), 2)
	}
	h.stop(5 * time.Second)
	kr1 := testKeyring(t, 1)
	h.opts.Secrets = kr1
	h.start()
	noSecrets(storedEndpoint(t, h, ep), kr1.CurrentID())
	d := deliverOne(t, h, rc)
	require_True(t, verifies(t, rot.Secret, d) && verifies(t, ep.Secret, d), "a delivery after sealing does not verify with both secrets")

	// A write seals too.
	_, err = h.e.UpdateEndpoint(context.Background(), "acme", ep.ID, engine.EndpointInput{Description: ptr("x")})
	require_NoError(t, err)
	noSecrets(storedEndpoint(t, h, ep), kr1.CurrentID())
	h.stop(5 * time.Second)

	// Another key, or none: a clear error, and nothing rewritten.
	k2, err := seal.NewKey(bytes.Repeat([]byte{2}, seal.KeySize))
	require_NoError(t, err)
	f := func(kr *seal.Keyring, want string) {
		t.Helper()
		l, err := wal.Open(h.dir, nil)
		require_NoError(t, err)
		defer l.Close()
		opts := testOptions()
		opts.Secrets = kr
		e, err := engine.New(l, httpout.NewSender(httpout.Options{}), opts)
		if err == nil {
			e.Stop(context.Background())
			t.Fatalf("engine started with the wrong key")
		}
		require_True(t, strings.Contains(err.Error(), want), "error %q does not contain %q", err, want)
	}
	f(seal.NewKeyring(k2), "sealed under key "+kr1.CurrentID()+", which the key file does not hold (the key file holds key "+k2.ID()+")")
	f(nil, "sealed under key "+kr1.CurrentID())

	// The rotation's ring: the new key current, the old one to open with.
	k1, _ := seal.NewKey(bytes.Repeat([]byte{1}, seal.KeySize))
	h.opts.Secrets = seal.NewKeyring(k2, k1)
	h.start()
	noSecrets(storedEndpoint(t, h, ep), k2.ID())
	d = deliverOne(t, h, rc)
	require_True(t, verifies(t, rot.Secret, d), "a delivery after the key rotation does not verify")
	h.stop(5 * time.Second)
	h.opts.Secrets = seal.NewKeyring(k2)
	h.start()
	d = deliverOne(t, h, rc)
	require_True(t, verifies(t, rot.Secret, d), "a delivery with only the new key does not verify")
}
