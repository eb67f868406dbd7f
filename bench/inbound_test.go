package bench

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"hookline/internal/verify"
)

// TestInboundSignerPassesTheServersVerifier checks the bench's requests
// against the verifier the server runs: a bench whose signatures failed
// would measure 401s, and one signing with the server's own code could
// not catch a scheme both got wrong, so the signer is the bench's own.
func TestInboundSignerPassesTheServersVerifier(t *testing.T) {
	now := time.Now()
	secret := randomSecret()
	f := func(kind inboundKind, key string, wantHeader string) {
		t.Helper()
		v, err := verify.New(verify.Config{Provider: kind.provider, Secrets: []string{secret}})
		require_NoError(t, err)
		req := fasthttp.AcquireRequest()
		defer fasthttp.ReleaseRequest(req)
		s := newInboundSigner(kind, secret)
		for range 2 { // the second request reuses the signer's buffers
			s.fill(req, "http://127.0.0.1:1/in/src_x", []byte(key), now)
			if _, verr := v.Verify(&verify.Request{URL: req.URI().FullURI(), Header: &req.Header, Body: req.Body()}, now); verr != nil {
				t.Fatalf("%s: the server's verifier refuses the bench's request: %v", kind.provider, verr)
			}
		}
		if len(req.Header.Peek(wantHeader)) == 0 {
			t.Fatalf("%s: no %s header", kind.provider, wantHeader)
		}
		// A different secret must fail: the check above is not vacuous.
		other, err := verify.New(verify.Config{Provider: kind.provider, Secrets: []string{randomSecret()}})
		require_NoError(t, err)
		if _, verr := other.Verify(&verify.Request{Header: &req.Header, Body: req.Body()}, now); verr == nil {
			t.Fatalf("%s: a request verified under the wrong secret", kind.provider)
		}
	}
	f(githubPR, "0000002a-0001-4000-8000-000000000007", "X-GitHub-Delivery")
	f(stripeInvoice, "evt_0000002a-0001-4000-8000-000000000007", "Stripe-Signature")
}

func TestInboundBodies(t *testing.T) {
	req := fasthttp.AcquireRequest()
	defer fasthttp.ReleaseRequest(req)
	newInboundSigner(githubPR, "s").fill(req, "http://x/in/src_x", []byte("k"), time.Now())
	// The documented 28,011-byte payload with the delivery key in front.
	require_Equal(t, len(req.Body()), 28011+len(`"bench_delivery":"k",`))
	if !json.Valid(req.Body()) {
		t.Fatal("the github body is not JSON")
	}
	other := fasthttp.AcquireRequest()
	defer fasthttp.ReleaseRequest(other)
	newInboundSigner(githubPR, "s").fill(other, "http://x/in/src_x", []byte("l"), time.Now())
	if string(other.Body()) == string(req.Body()) {
		t.Fatal("two deliveries sent the same body")
	}
	now := time.Unix(1763900000, 123)
	newInboundSigner(stripeInvoice, "s").fill(req, "http://x/in/src_x", []byte("evt_k"), now)
	body := req.Body()
	if n := len(body); n < 900 || n > 1200 {
		t.Fatalf("stripe-like body is %d bytes; want about 1 KB", n)
	}
	// The sink times a delivery by the payload's leading "t".
	got, ok := sentAt(append([]byte(`{"type":"x","data":`), body...))
	if !ok || !got.Equal(now) {
		t.Fatalf("sentAt of the stripe-like body = %v, %v; want %v", got, ok, now)
	}
}

func TestDeliveryKeysAreUnique(t *testing.T) {
	f := func(provider string, tag uint32, worker int, seq int64, want string) {
		t.Helper()
		require_Equal(t, string(appendDeliveryKey(nil, provider, tag, worker, seq)), want)
	}
	f(providerGitHub, 0xdeadbeef, 7, 0x1e240, "deadbeef-0007-4000-8000-00000001e240")
	f(providerStripe, 1, 0xffff, 1<<48-1, "evt_00000001-ffff-4000-8000-ffffffffffff")
	seen := map[string]bool{}
	for w := range 50 {
		for seq := range int64(50) {
			k := string(appendDeliveryKey(nil, providerGitHub, 9, w, seq))
			if seen[k] {
				t.Fatalf("key %s repeats", k)
			}
			seen[k] = true
		}
	}
}

func TestParseInboundAnswer(t *testing.T) {
	f := func(body, wantID string, wantDup, wantOK bool) {
		t.Helper()
		id, dup, ok := parseInboundAnswer([]byte(body))
		if string(id) != wantID || dup != wantDup || ok != wantOK {
			t.Fatalf("parseInboundAnswer(%q) = %q, %v, %v; want %q, %v, %v", body, id, dup, ok, wantID, wantDup, wantOK)
		}
	}
	f(`{"id":"evt_1"}`, "evt_1", false, true)
	f(`{"id":"evt_1","duplicate":true}`, "evt_1", true, true)
	f(`{"dropped":true}`, "", false, false)
	f(`{"id":""}`, "", false, false)
	f(`{"id":"evt_1","duplicate":false}`, "", false, false)
	f(`{"id":"evt_1`, "", false, false)
}

func TestParseMachineBusy(t *testing.T) {
	f := func(stat string, want int64, wantErr bool) {
		t.Helper()
		got, err := parseMachineBusy([]byte(stat))
		if (err != nil) != wantErr || got != want {
			t.Fatalf("parseMachineBusy(%q) = %d, %v; want %d, error %v", stat, got, err, want, wantErr)
		}
	}
	// user nice system idle iowait irq softirq steal guest guest_nice
	f("cpu  100 2 30 5000 40 5 6 7 0 0\ncpu0 1 2 3 4 5 6 7 8 0 0\n", 150, false)
	f("cpu0 1 2 3 4 5 6 7 8\n", 0, true)
	f("cpu  1 2 3\n", 0, true)
	f("cpu  1 2 x 4 5 6 7 8\n", 0, true)
}
