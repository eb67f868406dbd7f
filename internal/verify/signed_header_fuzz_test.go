package verify

import (
	"bytes"
	"encoding/asn1"
	"encoding/base64"
	"math/big"
	"net/url"
	"sort"
	"strings"
	"testing"
)

// Fuzz targets for the parsers of linear, paddle, calendly, hubspot,
// twilio and sendgrid: none may panic, and where the standard library
// parses the same thing the two must agree.

func fuzzSignedHeader(f *testing.F, sep byte, tsKey, sigKey string, seeds ...string) {
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		var sh signedHeader
		if err := parseSignedHeader([]byte(h), sep, tsKey, sigKey, &sh); err != nil {
			if err.Code != CodeMalformedSignature {
				t.Fatalf("code %s", err.Code)
			}
			return
		}
		if sh.ts == nil || sh.n < 1 || sh.n > maxHeaderSigs {
			t.Fatalf("accepted %q with ts %q and %d signatures", h, sh.ts, sh.n)
		}
	})
}

func FuzzPaddleSignatureHeader(f *testing.F) {
	fuzzSignedHeader(f, ';', "ts", "h1",
		"ts=1671552777;h1=eb4d0dc8853be92b7f063b9f3ba5233eb920a09459b6e6b2c26705b4364db151",
		"ts=1;h1=eb4d0dc8853be92b7f063b9f3ba5233eb920a09459b6e6b2c26705b4364db151;h1=00",
		"ts=;h1=", ";;;", "h1", "ts=1=2;h1=x")
}

func FuzzCalendlySignatureHeader(f *testing.F) {
	fuzzSignedHeader(f, ',', "t", "v1",
		"t=1492774577,v1=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd",
		" t = 1 , v1=zz", "t=1,,v1=", ",=,")
}

func FuzzLinearTimestamp(f *testing.F) {
	for _, s := range []string{
		`{"action":"create","webhookTimestamp":1714550400000}`,
		`{"a":{"webhookTimestamp":1},"b":[1,"]",{}],"webhookTimestamp":2}`,
		`{"a":"\\","webhookTimestamp":3}`, `{`, `{"`, `{"a":`, `[]`, `{"webhookTimestamp"  :  7  }`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		v := topLevelValue(body, "webhookTimestamp")
		if v == nil {
			return
		}
		if len(v) == 0 || bytes.ContainsAny(v, " \t\r\n,}]") {
			t.Fatalf("value %q from %q", v, body)
		}
		timestampOf(v, true, "webhookTimestamp")
	})
}

func FuzzHubSpotURI(f *testing.F) {
	for _, s := range []string{"https://a.example/b%3Fc%3a%2f", "%", "%2", "%%3A", "%ZZ%3B"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, u string) {
		var got recorder
		writeHubSpotURI(&got, []byte(u))
		want := u
		for i := 0; i < len(hubspotDecoded); i++ {
			c := hubspotDecoded[i]
			want = strings.ReplaceAll(want, "%"+strings.ToUpper(hexByte(c)), string(c))
			want = strings.ReplaceAll(want, "%"+hexByte(c), string(c))
		}
		// No decoded character is '%' or a hex digit, so decoding one
		// escape at a time cannot form another: the results must agree.
		if string(got) != want {
			t.Fatalf("writeHubSpotURI(%q) = %q, want %q", u, got, want)
		}
	})
}

func hexByte(c byte) string {
	const digits = "0123456789abcdef"
	return string([]byte{digits[c>>4], digits[c&15]})
}

// FuzzTwilioForm checks the form canonicalisation against
// url.ParseQuery (which twilio-go's validator uses), plus the URL
// helpers around it.
func FuzzTwilioForm(f *testing.F) {
	f.Add([]byte("To=%2B1415&Body=Hello+there&From=%2B1416"), []byte("https://a.example:8443/x?bodySHA256=ab#f"))
	f.Add([]byte("a=1&a=2&b&=c&&"), []byte("http://u:p@[::1]:80/"))
	f.Add([]byte("%zz=1"), []byte("https://"))
	f.Fuzz(func(t *testing.T, body, u []byte) {
		twilioPortToggle(u)
		queryParam(u, bodySHA256Param)
		var form twilioForm
		ok := form.parse(body)
		var got recorder
		if ok {
			form.write(&got)
		}
		vals, err := url.ParseQuery(string(body))
		if err != nil {
			return // ParseQuery also refuses ';', which Twilio never sends
		}
		if !ok {
			t.Fatalf("parse(%q) failed, url.ParseQuery did not", body)
		}
		names := make([]string, 0, len(vals))
		for k := range vals {
			names = append(names, k)
		}
		sort.Strings(names)
		var want []byte
		for _, k := range names {
			vs := append([]string(nil), vals[k]...)
			sort.Strings(vs)
			for i, v := range vs {
				if i > 0 && vs[i-1] == v {
					continue
				}
				want = append(want, k+v...)
			}
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("canonical(%q) = %q, want %q", body, got, want)
		}
	})
}

// FuzzSendGridSignature feeds arbitrary signature headers to the
// verifier and checks the DER test against encoding/asn1.
func FuzzSendGridSignature(f *testing.F) {
	f.Add("MEUCIQCtIHJeH93Y+qpYeWrySphQgpNGNr/U+UyUlBkU6n7RAwIgJTz2C+8a8xonZGi6BpSzoQsbVRamr2nlxFDWYNH2j/0=")
	f.Add("MAYCAQECAQE=")
	f.Add("MAA=")
	v, err := New(Config{Provider: "sendgrid", Secrets: sendgridSecrets[:1]})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, sig string) {
		r := &Request{Body: []byte("[]"), Header: fields(sendgridSigHeader, sig, sendgridTSHeader, "1777636800")}
		if _, rerr := v.Verify(r, testNow); rerr == nil {
			t.Fatalf("accepted a fuzzed signature %q", sig)
		}
		der, err := base64.StdEncoding.DecodeString(sig)
		if err != nil || len(der) > maxECDSASigDER {
			return
		}
		var rs struct{ R, S *big.Int }
		rest, err := asn1.Unmarshal(der, &rs)
		asn1OK := err == nil && len(rest) == 0 && rs.R.Sign() >= 0 && rs.S.Sign() >= 0
		if isECDSASigDER(der) && !asn1OK {
			t.Fatalf("isECDSASigDER accepts %x, encoding/asn1 does not", der)
		}
	})
}

func FuzzSendGridKey(f *testing.F) {
	f.Add(sendgridSecrets[0])
	f.Add(sendgridSecrets[1])
	f.Add("-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----")
	f.Add("MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE")
	f.Fuzz(func(t *testing.T, s string) {
		k, err := parseSendGridKey(s)
		if err != nil {
			if len(s) > 8 && strings.Contains(err.Error(), s) {
				t.Fatalf("error %q quotes the key", err)
			}
			return
		}
		if k == nil {
			t.Fatalf("nil key without error from %q", s)
		}
		if _, err := k.Bytes(); err != nil {
			t.Fatalf("accepted an unusable key: %v", err)
		}
	})
}
