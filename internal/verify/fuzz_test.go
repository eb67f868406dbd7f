package verify

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"strconv"
	"strings"
	"testing"
	"time"
)

// encode is the inverse of sigList.add, for round trips.
func encode(enc encoding, sum []byte) string {
	if enc == encBase64 {
		return base64.StdEncoding.EncodeToString(sum)
	}
	return hex.EncodeToString(sum)
}

func (l *sigList) list() [][]byte {
	out := make([][]byte, l.n)
	for i := range out {
		out[i] = l.buf[i][:l.size[i]]
	}
	return out
}

func requireSameSigs(t *testing.T, a, b *sigList) {
	t.Helper()
	x, y := a.list(), b.list()
	if len(x) != len(y) {
		t.Fatalf("%d signatures became %d", len(x), len(y))
	}
	for i := range x {
		if !bytes.Equal(x[i], y[i]) {
			t.Fatalf("signature %d: %x became %x", i, x[i], y[i])
		}
	}
}

// FuzzStripeSignature: the t=/v1= parser never panics, and a header it
// accepts, written back in Stripe's form, parses to the same t and v1s.
func FuzzStripeSignature(f *testing.F) {
	sig := strings.Repeat("5257a869e7ecebeda32affa62cdca3fa", 2)
	f.Add("t=1492774577,v1=" + sig + ",v0=6ffbb59b2300aae63f272406069a9788598b792a944a07aba816edb039989a39")
	f.Add("t=1492774577,v1=" + sig + ",v1=" + sig)
	f.Add("v1=" + sig + ",t=1")
	f.Add("t=,v1=")
	f.Add("t=1,,v1=" + sig)
	f.Add("t==1")
	f.Fuzz(func(t *testing.T, h string) {
		var sigs sigList
		ts, err := parseStripeSignature([]byte(h), &sigs)
		if err != nil {
			return
		}
		var b strings.Builder
		b.WriteString("t=" + string(ts))
		for _, s := range sigs.list() {
			b.WriteString(",v1=" + hex.EncodeToString(s))
		}
		var again sigList
		ts2, err := parseStripeSignature([]byte(b.String()), &again)
		if err != nil {
			t.Fatalf("%q parsed, its rewrite %q did not: %s", h, b.String(), err)
		}
		if string(ts) != string(ts2) {
			t.Fatalf("t %q became %q", ts, ts2)
		}
		requireSameSigs(t, &sigs, &again)
	})
}

// FuzzSignatureList: the standard-webhooks "v1,sig v1,sig" parser never
// panics and round-trips what it accepts.
func FuzzSignatureList(f *testing.F) {
	sig := base64.StdEncoding.EncodeToString(make([]byte, 32))
	f.Add("v1," + sig)
	f.Add("v1," + sig + " v1a,abc v1," + sig)
	f.Add("  v1," + sig + "  ")
	f.Add("v1,")
	f.Add("v2,x v1")
	f.Fuzz(func(t *testing.T, h string) {
		var sigs sigList
		if parseSignatureList([]byte(h), "webhook-signature", &sigs) != nil {
			return
		}
		var parts []string
		for _, s := range sigs.list() {
			parts = append(parts, "v1,"+base64.StdEncoding.EncodeToString(s))
		}
		var again sigList
		if err := parseSignatureList([]byte(strings.Join(parts, " ")), "webhook-signature", &again); err != nil {
			t.Fatalf("%q parsed, its rewrite did not: %s", h, err)
		}
		requireSameSigs(t, &sigs, &again)
	})
}

// FuzzPrefixedSignature covers the single-value headers: slack's "v0=",
// github's and discourse's "sha256=", intercom's "sha1=", shopify's and
// zendesk's bare base64. A value that parses round-trips.
func FuzzPrefixedSignature(f *testing.F) {
	f.Add("v0=" + strings.Repeat("ab", 32))
	f.Add("sha256=" + strings.Repeat("AB", 32))
	f.Add("sha1=" + strings.Repeat("0f", 20))
	f.Add(base64.StdEncoding.EncodeToString(make([]byte, 32)))
	f.Add("sha256=")
	schemes := []struct {
		prefix string
		enc    encoding
		size   int
	}{
		{"v0=", encHex, sha256.Size},
		{"sha256=", encHex, sha256.Size},
		{"sha1=", encHex, sha1.Size},
		{"", encBase64, sha256.Size},
		{"sha512=", encBase64, sha512.Size},
	}
	f.Fuzz(func(t *testing.T, h string) {
		for _, s := range schemes {
			var sigs sigList
			if !sigs.add(s.enc, trimPrefix([]byte(h), s.prefix), s.size) {
				continue
			}
			if sigs.n != 1 || int(sigs.size[0]) != s.size {
				t.Fatalf("%q: %d signatures of %d bytes", h, sigs.n, sigs.size[0])
			}
			again := s.prefix + encode(s.enc, sigs.list()[0])
			if !strings.EqualFold(again, h) {
				t.Fatalf("%q round-tripped to %q", h, again)
			}
		}
	})
}

// FuzzTemplate: the hmac template parser never panics, and a template
// it accepts compiles back to itself.
func FuzzTemplate(f *testing.F) {
	f.Add("")
	f.Add("v0:{timestamp}:{body}")
	f.Add("{header:webhook-id}.{timestamp}.{body}")
	f.Add("{header:}")
	f.Add("{{body}}")
	f.Add("}{")
	f.Fuzz(func(t *testing.T, tmpl string) {
		c, err := parseTemplate(tmpl)
		if err != nil {
			return
		}
		if tmpl != "" && c.String() != tmpl {
			t.Fatalf("%q compiled back to %q", tmpl, c.String())
		}
		if _, err := parseTemplate(c.String()); err != nil {
			t.Fatalf("%q: its rewrite fails: %s", tmpl, err)
		}
	})
}

// FuzzBasic: the Authorization parser never panics, and credentials it
// accepts, encoded again, parse to the same bytes.
func FuzzBasic(f *testing.F) {
	f.Add("Basic aG9vazpzM2NyM3Q=")
	f.Add("basic    aG9vazpzM2NyM3Q=")
	f.Add("Basic ")
	f.Add("Basic Og==")
	f.Add("Bearer x")
	f.Fuzz(func(t *testing.T, h string) {
		var buf [maxBasic]byte
		creds, ok := parseBasic([]byte(h), buf[:])
		if !ok {
			return
		}
		if !bytes.Contains(creds, []byte(":")) {
			t.Fatalf("%q: credentials %q without a colon", h, creds)
		}
		var buf2 [maxBasic]byte
		again, ok := parseBasic([]byte("Basic "+base64.StdEncoding.EncodeToString(creds)), buf2[:])
		if !ok || !bytes.Equal(again, creds) {
			t.Fatalf("%q: %q did not round-trip (%q)", h, creds, again)
		}
	})
}

// FuzzTimestamp: unix seconds parse as strconv does, RFC 3339 as time
// does, and neither panics.
func FuzzTimestamp(f *testing.F) {
	f.Add("1492774577")
	f.Add("000000000000000001")
	f.Add("9999999999999999999")
	f.Add("2021-03-25T05:09:27Z")
	f.Add("-1")
	f.Fuzz(func(t *testing.T, s string) {
		if n, ok := parseUnix([]byte(s)); ok {
			if m, err := strconv.ParseInt(s, 10, 64); err != nil || m != n {
				t.Fatalf("%q: %d, strconv says %d %v", s, n, m, err)
			}
		}
		parseTimestamp(tsRFC3339, []byte(s))
	})
}

// FuzzVerify sends every signing preset requests whose signature and
// timestamp headers are arbitrary: no panic, and never accepted.
func FuzzVerify(f *testing.F) {
	f.Add("t=1,v1=00", "1")
	f.Add("sha256="+strings.Repeat("0", 64), "")
	f.Add("v1,"+base64.StdEncoding.EncodeToString(make([]byte, 32)), "2021-03-25T05:09:27Z")
	now := time.Unix(1700000000, 0)
	type preset struct {
		v       Verifier
		sig, ts string
	}
	var presets []preset
	for _, pc := range presetCases(f) {
		if pc.badCode == CodeBadCredentials {
			continue // a guessed password is accepted, rightly
		}
		cfg := pc.cfg
		cfg.Secrets = pc.secrets[:]
		presets = append(presets, preset{v: mustNew(f, cfg), sig: pc.sigHeader, ts: pc.tsHeader})
	}
	body := []byte(`{"type":"url_verification","challenge":"c"}`)
	f.Fuzz(func(t *testing.T, sig, ts string) {
		for _, p := range presets {
			kv := []string{p.sig, sig, "webhook-id", "msg_1", "svix-id", "msg_1"}
			if p.ts != "" {
				kv = append(kv, p.ts, ts)
			}
			if _, err := p.v.Verify(newReq(body, kv...), now); err == nil {
				t.Fatalf("%s %q %q accepted", p.sig, sig, ts)
			}
		}
	})
}
