package verify

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sendgrid/sendgrid-go/helpers/eventwebhook"
)

// sendgridKeys are generated once per test binary: P-256 generation is
// cheap, but the secrets must stay stable across one run.
var sendgridKeys = func() (keys [3]*ecdsa.PrivateKey) {
	for i := range keys {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			panic(err)
		}
		keys[i] = k
	}
	return keys
}()

// sendgridSecrets: key 0 as SendGrid's settings show it (base64 DER),
// key 1 as PEM, key 2 never configured.
var sendgridSecrets = func() (s [3]string) {
	for i, k := range sendgridKeys {
		der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
		if err != nil {
			panic(err)
		}
		s[i] = base64.StdEncoding.EncodeToString(der)
		if i == 1 {
			s[i] = string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
		}
	}
	return s
}()

// signSendGrid signs per SendGrid's docs (ECDSA P-256 over SHA-256 of
// timestamp + body, ASN.1 DER, base64) and checks that sendgrid-go's
// eventwebhook.VerifySignature agrees.
func signSendGrid(tb testing.TB, k int, body []byte, at time.Time) *Request {
	tb.Helper()
	ts := fmt.Sprint(at.Unix())
	digest := sha256.Sum256(append([]byte(ts), body...))
	der, err := ecdsa.SignASN1(rand.Reader, sendgridKeys[k], digest[:])
	if err != nil {
		tb.Fatal(err)
	}
	sig := base64.StdEncoding.EncodeToString(der)
	if ok, err := eventwebhook.VerifySignature(&sendgridKeys[k].PublicKey, body, sig, ts); !ok || err != nil {
		tb.Fatalf("sendgrid-go rejects our signature: %v %v", ok, err)
	}
	return &Request{
		URL:  []byte("https://hooks.example.com/in/sendgrid"),
		Body: body,
		Header: fields(
			eventwebhook.VerificationHTTPHeader, sig,
			eventwebhook.TimestampHTTPHeader, ts,
		),
	}
}

func TestSendGrid(t *testing.T) {
	runPresetCase(t, signedPresetCase{
		preset:     "sendgrid",
		secrets:    sendgridSecrets,
		sign:       signSendGrid,
		body:       constBody(`[{"email":"ada@example.com","timestamp":1588788367,"event":"delivered","sg_event_id":"ZGVsaXZlcmVkLTAtMjQ","sg_message_id":"14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0"}]`),
		sigHeader:  eventwebhook.VerificationHTTPHeader,
		malformed:  base64.StdEncoding.EncodeToString([]byte("not a DER signature")),
		signedTime: true,
	})
	v := mustVerifier(t, "sendgrid", sendgridSecrets[0])
	body := []byte(`[{"event":"open"}]`)
	r := signSendGrid(t, 0, body, testNow)
	r.Header = r.Header.(fieldList).with(eventwebhook.TimestampHTTPHeader, nil)
	wantCode(t, "no timestamp", v, r, CodeMissingTimestamp)
	r = signSendGrid(t, 0, body, testNow)
	r.Header = r.Header.(fieldList).with(eventwebhook.VerificationHTTPHeader, []byte(strings.Repeat("A", 200)))
	wantCode(t, "long signature", v, r, CodeMalformedSignature)
	r.Header = r.Header.(fieldList).with(eventwebhook.VerificationHTTPHeader, []byte("MEUCIQ@@"))
	wantCode(t, "not base64", v, r, CodeMalformedSignature)
}

// SendGrid's own published test vector, checked by sendgrid-go too.
func TestSendGridPublishedVector(t *testing.T) {
	const (
		pub     = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEEDr2LjtURuePQzplybdC+u4CwrqDqBaWjcMMsTbhdbcwHBcepxo7yAQGhHPTnlvFYPAZFceEu/1FwCM/QmGUhA=="
		sig     = "MEUCIQCtIHJeH93Y+qpYeWrySphQgpNGNr/U+UyUlBkU6n7RAwIgJTz2C+8a8xonZGi6BpSzoQsbVRamr2nlxFDWYNH2j/0="
		ts      = "1588788367"
		payload = `{"category":"example_payload","event":"test_event","message_id":"message_id"}`
	)
	k, err := eventwebhook.ConvertPublicKeyBase64ToECDSA(pub)
	if err != nil {
		t.Fatal(err)
	}
	if ok, _ := eventwebhook.VerifySignature(k, []byte(payload), sig, ts); !ok {
		t.Skip("sendgrid-go does not verify its own vector: the payload here is not byte-exact")
	}
	v, err := New(Config{Provider: "sendgrid", Secrets: []string{pub}, Tolerance: 100 * 365 * 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	wantCode(t, "published vector", v, &Request{Body: []byte(payload), Header: fields(eventwebhook.VerificationHTTPHeader, sig, eventwebhook.TimestampHTTPHeader, ts)}, "")
}

func TestSendGridKeys(t *testing.T) {
	f := func(secret, code string) {
		t.Helper()
		_, err := New(Config{Provider: "sendgrid", Secrets: []string{secret}})
		e, _ := err.(*Error)
		if code == "" && err != nil || code != "" && (e == nil || e.Code != code) {
			t.Fatalf("New(%.20q…): %v, want %q", secret, err, code)
		}
	}
	der := sendgridSecrets[0]
	f(der, "")
	f(der[:20]+"\n"+der[20:]+"\n", "")
	f(sendgridSecrets[1], "")
	f("  "+sendgridSecrets[1]+"\n", "")
	f("not base64!", "invalid_secret")
	f(base64.StdEncoding.EncodeToString([]byte("not DER")), "invalid_secret")
	f("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", "invalid_secret")
	f(strings.Replace(sendgridSecrets[1], "PUBLIC KEY", "CERTIFICATE", 2), "invalid_secret")
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	d, _ := x509.MarshalPKIXPublicKey(&p384.PublicKey)
	f(base64.StdEncoding.EncodeToString(d), "invalid_secret")
}
