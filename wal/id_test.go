package wal

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// TestIDLess: Less agrees with the byte order of the keys, including IDs
// that differ only in their last byte or only in their first.
func TestIDLess(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	f := func(a, b ID) {
		t.Helper()
		if got, want := a.Less(b), bytes.Compare(a[:], b[:]) < 0; got != want {
			t.Fatalf("%x.Less(%x) = %v; want %v", a, b, got, want)
		}
	}
	var a, b ID
	f(a, b)
	b[15] = 1
	f(a, b)
	f(b, a)
	a[0] = 1
	f(a, b)
	f(b, a)
	for range 10000 {
		for i := range a {
			a[i], b[i] = byte(rng.IntN(3)), byte(rng.IntN(3))
		}
		f(a, b)
	}
}
