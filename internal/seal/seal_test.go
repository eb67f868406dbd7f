package seal

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func testKey(t testing.TB, b byte) *Key {
	t.Helper()
	k, err := NewKey(bytes.Repeat([]byte{b}, KeySize))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestSealOpen(t *testing.T) {
	k1, k2 := testKey(t, 1), testKey(t, 2)
	kr := NewKeyring(k1)
	f := func(plain, ad string) {
		t.Helper()
		v, err := kr.Seal(plain, ad)
		if err != nil {
			t.Fatal(err)
		}
		if plain != "" && (!Sealed(v) || strings.Contains(v, plain)) {
			t.Fatalf("Seal(%q) = %q", plain, v)
		}
		got, wasPlain, err := kr.Open(v, ad)
		if err != nil || got != plain || wasPlain {
			t.Fatalf("Open(Seal(%q)) = %q, %v, %v", plain, got, wasPlain, err)
		}
		if kr.NeedsReseal(v) {
			t.Fatalf("a value sealed under the current key needs resealing")
		}
	}
	f("", "ep_1")
	f("whsec_abc", "ep_1")
	f(strings.Repeat("x", 4096), "")

	// Each value gets its own nonce.
	a, _ := kr.Seal("s", "ad")
	b, _ := kr.Seal("s", "ad")
	if a == b {
		t.Fatalf("two seals of one value are equal: %q", a)
	}

	// Another record's additional data, or a changed byte: corrupt.
	if _, _, err := kr.Open(a, "other"); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Open with other ad: %v", err)
	}
	flipped := a[:len(a)-2] + string(a[len(a)-2]^1) + a[len(a)-1:]
	if _, _, err := kr.Open(flipped, "ad"); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Open of a changed value: %v", err)
	}

	// Another key: a clear error naming its id; a ring with both opens it.
	other, _ := NewKeyring(k2).Seal("s", "ad")
	var uk *UnknownKeyError
	if _, _, err := kr.Open(other, "ad"); !errors.As(err, &uk) || uk.ID != k2.ID() {
		t.Fatalf("Open under an unknown key: %v", err)
	}
	both := NewKeyring(k1, k2)
	if got, _, err := both.Open(other, "ad"); err != nil || got != "s" {
		t.Fatalf("Open under an old key: %q, %v", got, err)
	}
	if !both.NeedsReseal(other) || !both.NeedsReseal("plain") || both.NeedsReseal("") {
		t.Fatalf("NeedsReseal is wrong")
	}

	// Plaintext from before sealing comes back as it is.
	if got, plain, err := kr.Open("whsec_old", "ad"); err != nil || got != "whsec_old" || !plain {
		t.Fatalf("Open of plaintext: %q, %v, %v", got, plain, err)
	}
}

func TestKeyFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "secret.key")
	if _, _, err := LoadOrCreateKeyFile(path, false); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a missing key file without create: %v", err)
	}
	k, created, err := LoadOrCreateKeyFile(path, true)
	if err != nil || !created {
		t.Fatalf("create: %v, %v", created, err)
	}
	info, err := os.Stat(path)
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode: %v, %v", info.Mode(), err)
	}
	k2, created, err := LoadOrCreateKeyFile(path, true)
	if err != nil || created || k2.ID() != k.ID() {
		t.Fatalf("reload: %v, %v, %v", k2, created, err)
	}
	if _, err := WriteKeyFile(path); err == nil {
		t.Fatalf("WriteKeyFile overwrote a key")
	}

	f := func(content string, mode os.FileMode, want string) {
		t.Helper()
		p := filepath.Join(dir, "k")
		_ = os.Remove(p)
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
		if _, err := ReadKeyFile(p); err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("ReadKeyFile(%q, %v) = %v; want an error with %q", content, mode, err, want)
		}
	}
	f("", 0o600, "does not hold a key")
	f("c2hvcnQ=\n", 0o600, "does not hold a key")
	f("not base64!", 0o600, "does not hold a key")
	f("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n", 0o644, "chmod 600")
}

func TestSealAllOpenAll(t *testing.T) {
	kr := NewKeyring(testKey(t, 1))
	a, b, c := "one", "", "three"
	if err := kr.SealAll("ep_1", &a, &b, &c); err != nil {
		t.Fatal(err)
	}
	if !Sealed(a) || b != "" || !Sealed(c) {
		t.Fatalf("SealAll gave %q %q %q", a, b, c)
	}
	if stale, err := kr.OpenAll("ep_1", &a, &b, &c); err != nil || stale || a != "one" || b != "" || c != "three" {
		t.Fatalf("OpenAll gave %q %q %q, %v, %v", a, b, c, stale, err)
	}
	if stale, err := kr.OpenAll("ep_1", &a); err != nil || !stale || a != "one" {
		t.Fatalf("OpenAll of plaintext: %q, %v, %v", a, stale, err)
	}
	var none *Keyring
	if err := none.SealAll("ep_1", &a); err != nil || a != "one" {
		t.Fatalf("nil SealAll: %q, %v", a, err)
	}
	_ = kr.SealAll("ep_1", &a)
	var uk *UnknownKeyError
	if _, err := none.OpenAll("ep_1", &a); !errors.As(err, &uk) {
		t.Fatalf("nil OpenAll of a sealed value: %v", err)
	}
}
