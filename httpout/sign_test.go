package httpout

import (
	"encoding/base64"
	"strings"
	"testing"
)

// The example from the Standard Webhooks specification.
const (
	specSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	specMsgID  = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	specTS     = 1614265330
	specBody   = `{"test": 2432232314}`
	specSig    = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

func mustParseSecret(t testing.TB, s string) []byte {
	t.Helper()
	key, err := ParseSecret(s)
	if err != nil {
		t.Fatalf("ParseSecret(%q): %s", s, err)
	}
	return key
}

func TestSignerSpecVector(t *testing.T) {
	s := NewSigner(mustParseSecret(t, specSecret))
	got := string(s.AppendSignatures(nil, specMsgID, specTS, []byte(specBody)))
	if got != specSig {
		t.Fatalf("unexpected signature\ngot  %s\nwant %s", got, specSig)
	}
	// A reused Signer and dst give the same answer again.
	dst := []byte("prefix:")
	got = string(s.AppendSignatures(dst, specMsgID, specTS, []byte(specBody)))
	if got != "prefix:"+specSig {
		t.Fatalf("unexpected signature on reuse: %s", got)
	}
}

func TestSignerTwoKeys(t *testing.T) {
	other, err := NewSecret()
	if err != nil {
		t.Fatalf("NewSecret: %s", err)
	}
	k1 := mustParseSecret(t, specSecret)
	k2 := mustParseSecret(t, other)
	both := string(NewSigner(k1, k2).AppendSignatures(nil, specMsgID, specTS, []byte(specBody)))
	second := string(NewSigner(k2).AppendSignatures(nil, specMsgID, specTS, []byte(specBody)))
	want := specSig + " " + second
	if both != want {
		t.Fatalf("unexpected header value\ngot  %s\nwant %s", both, want)
	}
	if parts := strings.Split(both, " "); len(parts) != 2 {
		t.Fatalf("want 2 space-separated signatures; got %d in %q", len(parts), both)
	}
}

func TestSignerNoKeys(t *testing.T) {
	got := NewSigner().AppendSignatures([]byte("x"), "id", 1, nil)
	if string(got) != "x" {
		t.Fatalf("a Signer without keys must append nothing; got %q", got)
	}
}

func TestParseSecret(t *testing.T) {
	f := func(in string, wantErr bool) {
		t.Helper()
		key, err := ParseSecret(in)
		if wantErr {
			if err == nil {
				t.Fatalf("ParseSecret(%q): want error; got key of %d bytes", in, len(key))
			}
			return
		}
		if err != nil {
			t.Fatalf("ParseSecret(%q): unexpected error: %s", in, err)
		}
		if len(key) < 24 || len(key) > 64 {
			t.Fatalf("ParseSecret(%q): key of %d bytes", in, len(key))
		}
	}
	b64 := func(n int) string { return base64.StdEncoding.EncodeToString(make([]byte, n)) }

	f(specSecret, false)
	f("whsec_"+b64(24), false)
	f("whsec_"+b64(64), false)
	f("whsec_"+b64(32), false)

	f("", true)
	f("whsec_", true)
	f("whsec", true)
	f("WHSEC_"+b64(32), true)                         // prefix is case-sensitive
	f(b64(32), true)                                  // no prefix
	f("whsk_"+b64(32), true)                          // wrong prefix
	f(" whsec_"+b64(32), true)                        // leading space
	f("whsec_"+b64(32)+"\n", true)                    // newline, silently skipped by encoding/base64
	f("whsec_"+b64(16)+"\r\n"+b64(16), true)          // CRLF in the middle
	f("whsec_"+b64(23), true)                         // too short
	f("whsec_"+b64(65), true)                         // too long
	f("whsec_"+strings.TrimRight(b64(32), "="), true) // missing padding
	f("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS!", true) // not base64
	f("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw====", true)
	f("whsec_"+base64.URLEncoding.EncodeToString([]byte(strings.Repeat("\xfb\xff", 16))), true) // URL alphabet
	f("whsec_"+b64(32)[:len(b64(32))-2]+"x=", true)                                             // non-zero padding bits
}

func TestNewSecret(t *testing.T) {
	a, err := NewSecret()
	if err != nil {
		t.Fatalf("NewSecret: %s", err)
	}
	b, err := NewSecret()
	if err != nil {
		t.Fatalf("NewSecret: %s", err)
	}
	if a == b {
		t.Fatalf("two NewSecret calls returned the same secret %q", a)
	}
	if key := mustParseSecret(t, a); len(key) != 32 {
		t.Fatalf("NewSecret key has %d bytes; want 32", len(key))
	}
}
