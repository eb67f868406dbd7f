package httpout

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
)

// An asymmetric example from Svix's server tests (svix-server worker.rs),
// whose signature is also the v1a example in the Standard Webhooks spec
// ("Webhook headers"); it signs the spec's message.
const (
	specEd25519Secret = "whsk_6Xb/dCcHpPea21PS1N9VY/NZW723CEc77N4rJCubMbfVKIDij2HKpMKkioLlX0dRqSKJp4AJ6p9lMicMFs6Kvg=="
	specEd25519Public = "whpk_1SiA4o9hyqTCpIqC5V9HUakiiaeACeqfZTInDBbOir4="
	specEd25519Sig    = "v1a,hnO3f9T8Ytu9HwrXslvumlUpqtNVqkhqw/enGzPCXe5BdqzCInXqYXFymVJaA7AZdpXwVLPo3mNl8EM+m7TBAg=="
)

func TestSignerEd25519SpecVector(t *testing.T) {
	s := mustSignerFor(t, SignatureConfig{Scheme: SchemeEd25519}, specEd25519Secret)
	if got := string(s.AppendSignatures(nil, specMsgID, specTS, []byte(specBody))); got != specEd25519Sig {
		t.Fatalf("unexpected signature\ngot  %s\nwant %s", got, specEd25519Sig)
	}
	if pk := mustPublicKey(t, specEd25519Secret); pk != specEd25519Public {
		t.Fatalf("PublicKey = %s; want %s", pk, specEd25519Public)
	}
	// Mixed with an HMAC secret, in the order given, as the spec's example.
	s = mustSignerFor(t, SignatureConfig{Scheme: SchemeStandardWebhooks}, specSecret, specEd25519Secret)
	if got := string(s.AppendSignatures(nil, specMsgID, specTS, []byte(specBody))); got != specSig+" "+specEd25519Sig {
		t.Fatalf("mixed signature %q", got)
	}
	// A clone signs the same.
	if got := string(s.Clone().AppendSignatures(nil, specMsgID, specTS, []byte(specBody))); got != specSig+" "+specEd25519Sig {
		t.Fatalf("clone's signature %q", got)
	}
}

func TestSignerFormats(t *testing.T) {
	const secret = "a-text-secret-of-24-chars!"
	f := func(cfg SignatureConfig, header, want string) {
		t.Helper()
		s := mustSignerFor(t, cfg, secret)
		if s.Header() != header {
			t.Fatalf("%+v: header %q; want %q", cfg, s.Header(), header)
		}
		got := string(s.AppendSignatures([]byte("x"), specMsgID, specTS, []byte(specBody)))
		if got != "x"+want {
			t.Fatalf("%+v: got %q; want %q", cfg, got, "x"+want)
		}
	}
	hexSig := hubSignature(secret, []byte(specBody), "", false)
	f(SignatureConfig{Scheme: SchemeHMACSHA256}, DefaultHMACHeader, hexSig)
	f(SignatureConfig{Scheme: SchemeHMACSHA256, Header: "X-Hub-Signature-256", Prefix: "sha256="}, "X-Hub-Signature-256", "sha256="+hexSig)
	f(SignatureConfig{Scheme: SchemeHMACSHA256, Encoding: EncodingBase64}, DefaultHMACHeader, hubSignature(secret, []byte(specBody), "", true))
	f(SignatureConfig{Scheme: SchemeStripe}, DefaultStripeHeader, "t=1614265330,v1="+hubSignature(secret, []byte("1614265330."+specBody), "", false))
	f(SignatureConfig{Scheme: SchemeNone}, "", "")
}

func TestSignatureConfigValidate(t *testing.T) {
	f := func(cfg SignatureConfig, wantErr string) {
		t.Helper()
		requireErr(t, fmt.Sprintf("%+v.Validate()", cfg), cfg.Validate(), wantErr)
		if wantErr == "" {
			cfg.EnsureDefaults()
			requireErr(t, fmt.Sprintf("%+v.Validate() after EnsureDefaults", cfg), cfg.Validate(), "")
		}
	}
	f(SignatureConfig{}, "")
	f(SignatureConfig{Scheme: SchemeStandardWebhooks}, "")
	f(SignatureConfig{Scheme: SchemeEd25519}, "")
	f(SignatureConfig{Scheme: SchemeNone}, "")
	f(SignatureConfig{Scheme: SchemeHMACSHA256}, "")
	f(SignatureConfig{Scheme: SchemeHMACSHA256, Header: "X-Hub-Signature-256", Prefix: "sha256=", Encoding: "hex"}, "")
	f(SignatureConfig{Scheme: SchemeHMACSHA256, Header: "Authorization", Prefix: "HMAC ", Encoding: "base64"}, "")
	f(SignatureConfig{Scheme: SchemeStripe}, "")
	f(SignatureConfig{Scheme: SchemeStripe, Header: "Acme-Signature"}, "")

	f(SignatureConfig{Scheme: "hmac"}, `signature.scheme "hmac" is not supported`)
	f(SignatureConfig{Scheme: "Stripe"}, `signature.scheme "Stripe" is not supported`)
	f(SignatureConfig{Header: "X-Sig"}, "signature.header is not used by scheme standard-webhooks")
	f(SignatureConfig{Scheme: SchemeEd25519, Encoding: "hex"}, "signature.encoding is not used by scheme ed25519")
	f(SignatureConfig{Scheme: SchemeNone, Prefix: "x"}, "signature.prefix is not used by scheme none")
	f(SignatureConfig{Scheme: SchemeStripe, Prefix: "v1="}, "signature.prefix is not used by scheme stripe")
	f(SignatureConfig{Scheme: SchemeStripe, Encoding: "hex"}, "signature.encoding is not used by scheme stripe")
	f(SignatureConfig{Scheme: SchemeHMACSHA256, Encoding: "base32"}, `signature.encoding "base32" is not supported`)
	f(SignatureConfig{Scheme: SchemeHMACSHA256, Encoding: "HEX"}, `signature.encoding "HEX" is not supported`)
	f(SignatureConfig{Scheme: SchemeHMACSHA256, Header: "X Sig"}, `signature.header "X Sig" has ' '`)
	f(SignatureConfig{Scheme: SchemeHMACSHA256, Header: "X-Sig\r\nX-Evil"}, "signature.header")
	f(SignatureConfig{Scheme: SchemeHMACSHA256, Header: "Webhook-Signature"}, "hookline's own headers")
	f(SignatureConfig{Scheme: SchemeStripe, Header: "hookline-signature"}, "hookline's own headers")
	f(SignatureConfig{Scheme: SchemeStripe, Header: "Connection"}, "hop-by-hop")
	f(SignatureConfig{Scheme: SchemeStripe, Header: "Proxy-Authorization"}, "Proxy-*")
	f(SignatureConfig{Scheme: SchemeHMACSHA256, Header: "Content-Length"}, "describes the request")
	f(SignatureConfig{Scheme: SchemeHMACSHA256, Header: "content-type"}, "signature.header")
	f(SignatureConfig{Scheme: SchemeHMACSHA256, Header: strings.Repeat("x", MaxHeaderNameLen+1)}, "signature.header is 129 bytes")
	f(SignatureConfig{Scheme: SchemeHMACSHA256, Prefix: "sha256=\n"}, "signature.prefix has control character")
	f(SignatureConfig{Scheme: SchemeHMACSHA256, Prefix: " sha256="}, "signature.prefix starts or ends with a space")
	f(SignatureConfig{Scheme: SchemeHMACSHA256, Prefix: strings.Repeat("p", 33)}, "signature.prefix is 33 bytes")
}

func TestCheckSecret(t *testing.T) {
	f := func(scheme, secret string, ok bool) {
		t.Helper()
		err := CheckSecret(scheme, secret)
		if ok != (err == nil) {
			t.Fatalf("CheckSecret(%q, %q) = %v; want ok %v", scheme, secret, err, ok)
		}
		if err != nil && len(secret) > 8 && strings.Contains(err.Error(), secret) {
			t.Fatalf("CheckSecret's error quotes the secret: %s", err)
		}
	}
	gen := func(scheme string) string { return mustNewSecretFor(t, scheme) }
	text := "correct-horse-battery-staple"
	for _, scheme := range []string{"", SchemeStandardWebhooks} {
		f(scheme, specSecret, true)
		f(scheme, gen(scheme), true)
		f(scheme, text, false)
		f(scheme, specEd25519Secret, false)
	}
	for _, scheme := range []string{SchemeHMACSHA256, SchemeStripe, SchemeNone} {
		f(scheme, text, true)
		f(scheme, gen(scheme), true)
		f(scheme, specSecret, true) // a whsec_ secret is text too
		f(scheme, "ünïcödé-secret-of-24-chars", true)
		f(scheme, "short-secret-23-chars!!", false)
		f(scheme, "ÿÿÿÿÿÿÿÿÿÿÿÿ", false) // 24 bytes, 12 characters
		f(scheme, text+"\n", false)
		f(scheme, "correct-horse\x00battery-staple", false)
		f(scheme, " "+text, false)
		f(scheme, text+" ", false)
		f(scheme, text+"\u00a0", false)
		f(scheme, text+"\x85x", false) // C1 control
		f(scheme, "\xffcorrect-horse-battery-staple", false)
		f(scheme, strings.Repeat("s", maxTextSecretBytes), true)
		f(scheme, strings.Repeat("s", maxTextSecretBytes+1), false)
	}
	f(SchemeEd25519, specEd25519Secret, true)
	f(SchemeEd25519, gen(SchemeEd25519), true)
	f(SchemeEd25519, specSecret, false)
	f(SchemeEd25519, specEd25519Public, false)
	f(SchemeEd25519, strings.Replace(specEd25519Secret, "whsk_", "whsec_", 1), false)
	raw, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(specEd25519Secret, "whsk_"))
	f(SchemeEd25519, "whsk_"+base64.StdEncoding.EncodeToString(raw[:32]), false) // seed only
	bad := append([]byte(nil), raw...)
	bad[63] ^= 1 // public half of another key
	f(SchemeEd25519, "whsk_"+base64.StdEncoding.EncodeToString(bad), false)
	f(SchemeEd25519, specEd25519Secret+"\n", false)
	f("hmac", text, false)
}

func TestNewSecretForAndPublicKey(t *testing.T) {
	sk := mustNewSecretFor(t, SchemeEd25519)
	if !strings.HasPrefix(sk, Ed25519SecretPrefix) || sk == mustNewSecretFor(t, SchemeEd25519) {
		t.Fatalf("NewSecretFor(ed25519) = %q", sk)
	}
	pk := mustPublicKey(t, sk)
	raw, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(sk, Ed25519SecretPrefix))
	if want := Ed25519PublicKeyPrefix + base64.StdEncoding.EncodeToString(ed25519.PrivateKey(raw).Public().(ed25519.PublicKey)); pk != want {
		t.Fatalf("PublicKey = %q; want %q", pk, want)
	}
	for _, scheme := range []string{"", SchemeStandardWebhooks, SchemeHMACSHA256, SchemeStripe, SchemeNone} {
		if s := mustNewSecretFor(t, scheme); !strings.HasPrefix(s, SecretPrefix) || CheckSecret(scheme, s) != nil {
			t.Fatalf("NewSecretFor(%q) = %q", scheme, s)
		}
	}
	if _, err := NewSecretFor("rsa"); err == nil {
		t.Fatalf("NewSecretFor accepted an unknown scheme")
	}
	if _, err := PublicKey(specSecret); err == nil {
		t.Fatalf("PublicKey accepted a whsec_ secret")
	}
}

func TestNewSignerForErrors(t *testing.T) {
	f := func(cfg SignatureConfig, secret string, previous []string, wantErr string) {
		t.Helper()
		_, err := NewSignerFor(cfg, secret, previous)
		requireErr(t, fmt.Sprintf("NewSignerFor(%+v)", cfg), err, wantErr)
	}
	text := "correct-horse-battery-staple"
	f(SignatureConfig{Scheme: "x"}, specSecret, nil, "signature.scheme")
	f(SignatureConfig{}, text, nil, "secret must start with")
	f(SignatureConfig{Scheme: SchemeEd25519}, specSecret, nil, "ed25519 secret must start with")
	f(SignatureConfig{}, specSecret, []string{text}, "previous secret 1")
	f(SignatureConfig{Scheme: SchemeEd25519}, specEd25519Secret, []string{specSecret, "whsk_AAAA"}, "previous secret 2")
	f(SignatureConfig{Scheme: SchemeHMACSHA256}, text, []string{"short"}, "previous secret 1")
	f(SignatureConfig{Scheme: SchemeStripe}, text, []string{specSecret, specEd25519Secret}, "previous secret 2 is an ed25519 private key")
	f(SignatureConfig{Scheme: SchemeStripe}, "short", nil, "at least 24")
	// Scheme none signs nothing, so its previous secrets do not matter.
	if _, err := NewSignerFor(SignatureConfig{Scheme: SchemeNone}, text, []string{"anything"}); err != nil {
		t.Fatalf("scheme none: %s", err)
	}
}

func mustSignerFor(t *testing.T, cfg SignatureConfig, secret string, previous ...string) *Signer {
	t.Helper()
	s, err := NewSignerFor(cfg, secret, previous)
	if err != nil {
		t.Fatalf("NewSignerFor(%+v): %s", cfg, err)
	}
	return s
}

func mustNewSecretFor(t *testing.T, scheme string) string {
	t.Helper()
	s, err := NewSecretFor(scheme)
	if err != nil {
		t.Fatalf("NewSecretFor(%q): %s", scheme, err)
	}
	return s
}

// hubSignature is how a GitHub-style receiver computes the expected value.
func hubSignature(secret string, body []byte, prefix string, b64 bool) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	if b64 {
		return prefix + base64.StdEncoding.EncodeToString(m.Sum(nil))
	}
	return prefix + hex.EncodeToString(m.Sum(nil))
}

func mustPublicKey(t *testing.T, secret string) string {
	t.Helper()
	pk, err := PublicKey(secret)
	if err != nil {
		t.Fatalf("PublicKey: %s", err)
	}
	return pk
}
