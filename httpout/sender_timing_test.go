package httpout

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

// benchBody is a typical small event envelope.
var benchBody = []byte(`{"type":"invoice.paid","timestamp":"2026-11-23T10:00:00Z","data":{"id":"in_1QmZ8yL2eZvKYlo2C0a1b2c3","customer":"cus_R4nD0m1d","amount_due":4200,"currency":"eur","status":"paid","lines":[{"id":"il_1","amount":4200,"description":"Pro plan"}]}}`)

// newFastServer starts a fasthttp receiver on 127.0.0.1 that answers every
// request with a small JSON body.
func newFastServer(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("cannot listen on 127.0.0.1: %s", err)
	}
	srv := &fasthttp.Server{
		Handler: func(ctx *fasthttp.RequestCtx) {
			ctx.SetContentType("application/json")
			ctx.SetBodyString(`{"received":true}`)
		},
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ln)
	}()
	tb.Cleanup(func() {
		_ = srv.Shutdown()
		<-done
	})
	return "http://" + ln.Addr().String() + "/hooks/bench"
}

func benchRequest(tb testing.TB, url string) *Request {
	tb.Helper()
	ts := time.Now().Unix()
	const msgID = "evt_01JD5Z7Q4S6W8Y0A2C4E6G8J0K"
	sig := NewSigner(mustParseSecret(tb, specSecret)).AppendSignatures(nil, msgID, ts, benchBody)
	return &Request{URL: url, MsgID: msgID, Timestamp: ts, Signature: sig, Attempt: 1, Body: benchBody}
}

// shapedRequest is benchRequest shaped by an endpoint: PUT, hmac-sha256
// signature, an event type, two static headers and an auth header.
func shapedRequest(tb testing.TB, url string) *Request {
	tb.Helper()
	req := benchRequest(tb, url)
	signer, err := NewSignerFor(SignatureConfig{Scheme: SchemeHMACSHA256, Header: "X-Hub-Signature-256", Prefix: "sha256="}, "correct-horse-battery-staple", nil)
	if err != nil {
		tb.Fatal(err)
	}
	auth := AuthConfig{Type: AuthBearer, Token: "tok_0123456789abcdef"}
	req.Method, req.EventType = MethodPut, "invoice.paid"
	req.Signature, req.SignatureHeader = signer.AppendSignatures(nil, req.MsgID, req.Timestamp, req.Body), signer.Header()
	req.Headers = []Header{{Name: "X-Tenant", Value: "acme"}, {Name: "X-Api-Version", Value: "2026-11-01"}, auth.Header()}
	return req
}

func BenchmarkSend(b *testing.B) {
	f := func(name string, newReq func(testing.TB, string) *Request) {
		b.Run(name, func(b *testing.B) {
			url := newFastServer(b)
			s := newTestSender(b, Options{Allow: allowLoopback})
			req := newReq(b, url)
			var res Result
			b.ReportAllocs()
			b.SetBytes(int64(len(req.Body)))
			for b.Loop() {
				s.Send(req, &res)
				if res.Status != http.StatusOK {
					b.Fatalf("status %d, class %q, err %v", res.Status, res.ErrClass, res.Err)
				}
			}
		})
	}
	f("plain", benchRequest)
	f("shaped", shapedRequest)
}

func BenchmarkSendParallel(b *testing.B) {
	url := newFastServer(b)
	s := newTestSender(b, Options{Allow: allowLoopback})
	req := benchRequest(b, url)
	b.ReportAllocs()
	b.SetBytes(int64(len(req.Body)))
	b.RunParallel(func(pb *testing.PB) {
		var res Result
		for pb.Next() {
			s.Send(req, &res)
			if res.Status != http.StatusOK {
				b.Errorf("status %d, class %q, err %v", res.Status, res.ErrClass, res.Err)
				return
			}
		}
	})
}

// BenchmarkSendNetHTTPBaseline sends the same request with net/http's client,
// for comparison.
func BenchmarkSendNetHTTPBaseline(b *testing.B) {
	url := newFastServer(b)
	req := benchRequest(b, url)
	c := &http.Client{Timeout: 15 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	b.Cleanup(c.CloseIdleConnections)
	ts := []string{"1"}
	buf := make([]byte, 4096)
	b.ReportAllocs()
	b.SetBytes(int64(len(req.Body)))
	for b.Loop() {
		hr, err := http.NewRequest(http.MethodPost, req.URL, bytes.NewReader(req.Body))
		if err != nil {
			b.Fatal(err)
		}
		hr.Header.Set("Content-Type", "application/json")
		hr.Header["Webhook-Id"] = []string{req.MsgID}
		hr.Header["Webhook-Timestamp"] = ts
		hr.Header["Webhook-Signature"] = []string{string(req.Signature)}
		resp, err := c.Do(hr)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.ReadFull(io.LimitReader(resp.Body, int64(len(buf))), buf)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("status %d", resp.StatusCode)
		}
	}
}

func BenchmarkSign(b *testing.B) {
	f := func(name string, keys int) {
		b.Run(name, func(b *testing.B) {
			ks := make([][]byte, keys)
			for i := range ks {
				ks[i] = mustParseSecret(b, specSecret)
			}
			s := NewSigner(ks...)
			var dst []byte
			b.ReportAllocs()
			b.SetBytes(int64(len(benchBody)))
			for b.Loop() {
				dst = s.AppendSignatures(dst[:0], "evt_01JD5Z7Q4S6W8Y0A2C4E6G8J0K", 1614265330, benchBody)
			}
		})
	}
	f("1key", 1)
	f("2keys", 2)
}

// BenchmarkSignScheme signs with each scheme's Signer during a rotation's
// overlap (two secrets; hmac-sha256 signs with one).
func BenchmarkSignScheme(b *testing.B) {
	const text = "correct-horse-battery-staple"
	f := func(cfg SignatureConfig, secret, previous string) {
		b.Run(cfg.Scheme, func(b *testing.B) {
			s, err := NewSignerFor(cfg, secret, []string{previous})
			if err != nil {
				b.Fatal(err)
			}
			var dst []byte
			b.ReportAllocs()
			b.SetBytes(int64(len(benchBody)))
			for b.Loop() {
				dst = s.AppendSignatures(dst[:0], "evt_01JD5Z7Q4S6W8Y0A2C4E6G8J0K", 1614265330, benchBody)
			}
		})
	}
	f(SignatureConfig{Scheme: SchemeStandardWebhooks}, specSecret, specSecret)
	f(SignatureConfig{Scheme: SchemeHMACSHA256}, text, text)
	f(SignatureConfig{Scheme: SchemeStripe}, text, text)
	f(SignatureConfig{Scheme: SchemeEd25519}, specEd25519Secret, specEd25519Secret)
}
