package seal

import (
	"bytes"
	"testing"
)

// FuzzOpen feeds the decoder arbitrary values: it never panics, and only
// a value it sealed itself opens.
func FuzzOpen(f *testing.F) {
	k, err := NewKey(bytes.Repeat([]byte{7}, KeySize))
	if err != nil {
		f.Fatal(err)
	}
	kr := NewKeyring(k)
	good, _ := kr.Seal("whsec_secret", "ep_1")
	for _, s := range []string{good, "", "whsec_x", Prefix, Prefix + k.ID(), Prefix + k.ID() + ".", Prefix + "zzzzzzzz.AAAA", Prefix + k.ID() + ".!!", good[:len(good)-4]} {
		f.Add(s, "ep_1")
	}
	f.Fuzz(func(t *testing.T, v, ad string) {
		got, plain, err := kr.Open(v, ad)
		switch {
		case err != nil:
			if got != "" {
				t.Fatalf("Open(%q) returned %q with error %v", v, got, err)
			}
		case !Sealed(v):
			if got != v || plain != (v != "") {
				t.Fatalf("Open of plaintext %q = %q, %v", v, got, plain)
			}
		case got != "whsec_secret" || ad != "ep_1":
			// The fuzzing workers each seal good afresh (another nonce),
			// so what opens is known by its plaintext and its ad.
			t.Fatalf("Open(%q, %q) opened a value it did not seal: %q", v, ad, got)
		}
	})
}
