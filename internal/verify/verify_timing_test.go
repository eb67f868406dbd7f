package verify

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"sort"
	"testing"
	"time"
)

// BenchmarkVerify runs each preset's success path on the 28 KB
// pull_request fixture, signed with the current secret.
func BenchmarkVerify(b *testing.B) {
	now := time.Now()
	body := fixture(b, "github/pull_request_opened.json")
	cases := presetCases(b)
	names := make([]string, 0, len(cases))
	for name := range cases {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		pc := cases[name]
		b.Run(name, func(b *testing.B) {
			cfg := pc.cfg
			cfg.Secrets = pc.secrets[:1]
			v := mustNew(b, cfg)
			r := pc.sign(b, pc.secrets[0], body, now)
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			b.ResetTimer()
			for range b.N {
				if _, err := v.Verify(r, now); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkHMACBaseline is the naive check the pools replace: a fresh
// hmac.New and hex decode per request, as most handlers write it.
func BenchmarkHMACBaseline(b *testing.B) {
	body := fixture(b, "github/pull_request_opened.json")
	key := []byte("gh-current")
	sig := hexMAC(sha256.New, string(key), body)
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for range b.N {
		want, _ := hex.DecodeString(sig)
		m := hmac.New(sha256.New, key)
		m.Write(body)
		if !hmac.Equal(m.Sum(nil), want) {
			b.Fatal("mismatch")
		}
	}
}
