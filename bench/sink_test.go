package bench

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/valyala/fasthttp"
)

// The Standard Webhooks spec vector: it pins the verifier to the spec
// rather than to a signer written by the same hand.
const (
	specSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	specID     = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	specTS     = "1614265330"
	specBody   = `{"test": 2432232314}`
	specSig    = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

// testSecret is a second secret, for "signed with the wrong key" cases.
var testSecret = "whsec_" + base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))

func require_NoError(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
}

func require_Equal[T comparable](t testing.TB, got, want T) {
	t.Helper()
	if got != want {
		t.Fatalf("got %v; want %v", got, want)
	}
}

func startSink(t testing.TB, opts SinkOptions) *Sink {
	t.Helper()
	s, err := NewSink(opts)
	require_NoError(t, err)
	require_NoError(t, s.Start())
	t.Cleanup(func() { require_NoError(t, s.Close()) })
	return s
}

func sign(t testing.TB, secret, id string, ts int64, body string) string {
	t.Helper()
	key, err := ParseSecret(secret)
	require_NoError(t, err)
	mac := hmac.New(sha256.New, key)
	fmt.Fprintf(mac, "%s.%d.%s", id, ts, body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

type hdr map[string]string

func signed(t testing.TB, secret, id, body string) hdr {
	ts := time.Now().Unix()
	return hdr{
		"content-type":      "application/json",
		"webhook-id":        id,
		"webhook-timestamp": strconv.FormatInt(ts, 10),
		"webhook-signature": sign(t, secret, id, ts, body),
		"hookline-attempt":  "1",
	}
}

var httpClient = &http.Client{Timeout: 5 * time.Second}

func post(t testing.TB, url string, h hdr, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	require_NoError(t, err)
	for k, v := range h {
		req.Header.Set(k, v)
	}
	resp, err := httpClient.Do(req)
	require_NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require_NoError(t, err)
	return resp.StatusCode, string(b)
}

// recorder collects what OnDelivery saw, copying Body as the contract asks.
type recorder struct {
	mu sync.Mutex
	ds []Delivery
}

func (r *recorder) on(d *Delivery) {
	c := *d
	c.Body = append([]byte(nil), d.Body...)
	r.mu.Lock()
	r.ds = append(r.ds, c)
	r.mu.Unlock()
}

func (r *recorder) last(t testing.TB) Delivery {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.ds) == 0 {
		t.Fatalf("OnDelivery was not called")
	}
	return r.ds[len(r.ds)-1]
}

func TestParseSecret(t *testing.T) {
	f := func(secret string, keyLen int, wantErr string) {
		t.Helper()
		key, err := ParseSecret(secret)
		if wantErr == "" {
			require_NoError(t, err)
			require_Equal(t, len(key), keyLen)
			return
		}
		if err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Fatalf("ParseSecret: got error %v; want one containing %q", err, wantErr)
		}
		if b64, _ := strings.CutPrefix(secret, "whsec_"); len(b64) > 8 && strings.Contains(err.Error(), b64) {
			t.Fatalf("error %q leaks the secret", err)
		}
	}
	b64 := func(n int) string { return base64.StdEncoding.EncodeToString(make([]byte, n)) }
	f(specSecret, 24, "")
	f(specSecret+"\n", 24, "")
	f("whsec_"+b64(64), 64, "")
	f("", 0, `must start with "whsec_"`)
	f("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", 0, `must start with "whsec_"`)
	f("whsec_!!!!MfKQ9r8GKYqrTwjUPD8ILPZ", 0, "standard base64")
	f("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS", 0, "standard base64") // truncated
	f("whsec_"+b64(16), 0, "has 16 bytes; want 24..64")
	f("whsec_"+b64(65), 0, "has 65 bytes; want 24..64")
	f("whsec_", 0, "has 0 bytes")

	_, err := NewSink(SinkOptions{Secret: "whsec_short"})
	if err == nil {
		t.Fatalf("NewSink accepted a bad secret")
	}
	_, err = NewSink(SinkOptions{VerifyEvery: -1})
	if err == nil {
		t.Fatalf("NewSink accepted VerifyEvery=-1")
	}
}

func TestVerifySpecVector(t *testing.T) {
	s, err := NewSink(SinkOptions{Secret: specSecret})
	require_NoError(t, err)
	other := sign(t, testSecret, specID, 1614265330, specBody)
	sigOnly := strings.TrimPrefix(specSig, "v1,")
	f := func(header, body string, want bool) {
		t.Helper()
		got := s.verify([]byte(specID), []byte(specTS), []byte(body), []byte(header))
		if got != want {
			t.Fatalf("verify(%q, %q) = %v; want %v", header, body, got, want)
		}
	}
	f(specSig, specBody, true)
	f(specSig, `{"test": 2432232315}`, false)
	f(other+" "+specSig, specBody, true) // rotation: any match is enough
	f(specSig+" "+other, specBody, true)
	f("  "+specSig+"  ", specBody, true)
	f("v1a,"+sigOnly+" "+specSig, specBody, true)
	f(other, specBody, false)
	f("v1a,"+sigOnly, specBody, false) // other schemes are not v1
	f("v2,"+sigOnly, specBody, false)
	f(sigOnly, specBody, false)
	f(specSig+"x", specBody, false)
	f(specSig[:len(specSig)-1], specBody, false)
	f("", specBody, false)
}

func TestSinkSpecVectorOverHTTP(t *testing.T) {
	var rec recorder
	// The vector's timestamp is from 2021: only a disabled tolerance lets it through.
	s := startSink(t, SinkOptions{Secret: specSecret, Tolerance: -1, OnDelivery: rec.on})
	code, _ := post(t, s.URL(), hdr{"webhook-id": specID, "webhook-timestamp": specTS, "webhook-signature": specSig}, specBody)
	require_Equal(t, code, 200)
	d := rec.last(t)
	require_Equal(t, d.ID, specID)
	require_Equal(t, d.Timestamp, int64(1614265330))
	require_Equal(t, d.SigChecked, true)
	require_Equal(t, d.SigValid, true)
	require_Equal(t, d.TimestampOK, true)
	require_Equal(t, d.Status, 200)
	require_Equal(t, string(d.Body), specBody)
	st := s.Stats()
	require_Equal(t, st.Verified, uint64(1))
	require_Equal(t, st.Accepted, uint64(1))
	require_Equal(t, st.Unique, uint64(1))
}

func TestSinkRejects(t *testing.T) {
	var rec recorder
	s := startSink(t, SinkOptions{Secret: specSecret, OnDelivery: rec.on})
	const body = `{"type":"invoice.paid","timestamp":"2026-11-23T10:00:00Z","data":{"n":1}}`
	f := func(mutate func(h hdr) string, badTS bool, wantReason string) {
		t.Helper()
		before := s.Stats()
		h := signed(t, specSecret, "evt_reject", body)
		b := mutate(h)
		code, text := post(t, s.URL(), h, b)
		require_Equal(t, code, 401)
		if !strings.Contains(text, wantReason) {
			t.Fatalf("401 body %q; want it to contain %q", text, wantReason)
		}
		d := rec.last(t)
		require_Equal(t, d.SigValid, badTS)
		require_Equal(t, d.Status, 401)
		require_Equal(t, d.Reason, text)
		st := s.Stats()
		if badTS {
			require_Equal(t, st.BadTimestamp, before.BadTimestamp+1)
		} else {
			require_Equal(t, st.BadSignature, before.BadSignature+1)
		}
		require_Equal(t, st.Accepted, uint64(0))
	}
	f(func(h hdr) string { return body + " " }, false, "no matching v1 signature")
	f(func(h hdr) string { return strings.Replace(body, "1}", "2}", 1) }, false, "no matching v1 signature")
	f(func(h hdr) string {
		h["webhook-signature"] = sign(t, testSecret, h["webhook-id"], time.Now().Unix(), body)
		return body
	}, false, "no matching v1 signature")
	f(func(h hdr) string { delete(h, "webhook-id"); return body }, false, "missing webhook-id header")
	f(func(h hdr) string { delete(h, "webhook-timestamp"); return body }, false, "missing webhook-timestamp header")
	f(func(h hdr) string { delete(h, "webhook-signature"); return body }, false, "missing webhook-signature header")
	f(func(h hdr) string { h["webhook-timestamp"] = "-5"; return body }, false, "not unix seconds")
	f(func(h hdr) string {
		ts := time.Now().Add(-6 * time.Minute).Unix()
		h["webhook-timestamp"] = strconv.FormatInt(ts, 10)
		h["webhook-signature"] = sign(t, specSecret, "evt_reject", ts, body)
		return body
	}, true, "outside tolerance")
	f(func(h hdr) string {
		ts := time.Now().Add(6 * time.Minute).Unix()
		h["webhook-timestamp"] = strconv.FormatInt(ts, 10)
		h["webhook-signature"] = sign(t, specSecret, "evt_reject", ts, body)
		return body
	}, true, "outside tolerance")
	require_Equal(t, s.Stats().Unique, uint64(0)) // rejected ids are not trusted enough to count
}

func TestSinkDuplicatesAndStatusHook(t *testing.T) {
	var rec recorder
	fails := map[string]int{"evt_retry": 2, "evt_503": 1 << 30}
	var mu sync.Mutex
	status := func(d *Delivery) int {
		mu.Lock()
		defer mu.Unlock()
		if fails[d.ID] > 0 {
			fails[d.ID]--
			return 503
		}
		return 0
	}
	s := startSink(t, SinkOptions{Secret: testSecret, Status: status, OnDelivery: rec.on})
	f := func(id string, wantCode int) {
		t.Helper()
		body := `{"type":"lead.won","data":{}}`
		code, _ := post(t, s.URL(), signed(t, testSecret, id, body), body)
		require_Equal(t, code, wantCode)
		require_Equal(t, rec.last(t).Status, wantCode)
		require_Equal(t, rec.last(t).Type, "lead.won")
	}
	f("evt_a", 200)
	f("evt_a", 200) // duplicate
	f("evt_a", 200) // duplicate
	f("evt_b", 200)
	f("evt_retry", 503)
	f("evt_retry", 503) // retries after failures are not duplicates
	f("evt_retry", 200)
	f("evt_retry", 200) // duplicate
	f("evt_503", 503)
	f("evt_503", 503)
	st := s.Stats()
	require_Equal(t, st.Unique, uint64(4))
	require_Equal(t, st.Delivered, uint64(3)) // evt_503 was never answered 2xx
	require_Equal(t, st.Duplicates, uint64(3))
	require_Equal(t, st.Accepted, uint64(6))
	require_Equal(t, st.Failed, uint64(4))
	require_Equal(t, st.Requests, uint64(10))
	if st.First.IsZero() || st.Last.Before(st.First) {
		t.Fatalf("bad First/Last: %v %v", st.First, st.Last)
	}
}

func TestSinkSampling(t *testing.T) {
	s := startSink(t, SinkOptions{Secret: specSecret, VerifyEvery: 10})
	codes := map[int]int{}
	for i := 0; i < 100; i++ {
		h := signed(t, testSecret, fmt.Sprintf("evt_%d", i), "{}") // wrong key: only checked ones fail
		code, _ := post(t, s.URL(), h, "{}")
		codes[code]++
	}
	require_Equal(t, codes[401], 10)
	require_Equal(t, codes[200], 90)
	st := s.Stats()
	require_Equal(t, st.BadSignature, uint64(10))
	require_Equal(t, st.Unchecked, uint64(90))
	require_Equal(t, st.Unique, uint64(90))

	// Missing headers are cheap to see, so sampling does not let them through.
	code, _ := post(t, s.URL(), hdr{"webhook-id": "evt_x"}, "{}")
	require_Equal(t, code, 401)
}

func TestSinkNoSecretAndMethods(t *testing.T) {
	var rec recorder
	s := startSink(t, SinkOptions{OnDelivery: rec.on})
	code, _ := post(t, s.URL()+"any/path?q=1", nil, `{"data":{"type":"nested"},"type":"invoice.paid"}`)
	require_Equal(t, code, 200)
	d := rec.last(t)
	require_Equal(t, d.SigChecked, false)
	require_Equal(t, d.TimestampOK, false)
	require_Equal(t, d.Type, "invoice.paid")

	resp, err := httpClient.Get(s.URL())
	require_NoError(t, err)
	resp.Body.Close()
	require_Equal(t, resp.StatusCode, 405)
	require_Equal(t, resp.Header.Get("Allow"), "POST")
	st := s.Stats()
	require_Equal(t, st.NotAllowed, uint64(1))
	require_Equal(t, st.Requests, uint64(2))
	require_Equal(t, st.Untracked, uint64(1)) // no webhook-id
	require_Equal(t, len(rec.ds), 1)
}

func TestSinkStartClose(t *testing.T) {
	s, err := NewSink(SinkOptions{})
	require_NoError(t, err)
	require_Equal(t, s.Addr(), "")
	require_NoError(t, s.Start())
	if err := s.Start(); err == nil {
		t.Fatalf("second Start succeeded")
	}
	if !strings.HasPrefix(s.URL(), "http://127.0.0.1:") {
		t.Fatalf("unexpected URL %q", s.URL())
	}
	require_NoError(t, s.Close())
	require_NoError(t, s.Close())
	if _, err := net.DialTimeout("tcp", s.Addr(), time.Second); err == nil {
		t.Fatalf("sink still accepts after Close")
	}

	s, err = NewSink(SinkOptions{Listen: "127.0.0.1:-1"})
	require_NoError(t, err)
	if err := s.Start(); err == nil || !strings.Contains(err.Error(), "127.0.0.1:-1") {
		t.Fatalf("Start on a bad address: got %v", err)
	}
	require_NoError(t, s.Close())
}

func TestIDSetCap(t *testing.T) {
	var set idSet
	set.init(idShards * 2)
	for i := 0; i < 1000; i++ {
		set.record([]byte(fmt.Sprintf("evt_%d", i)), nil, true)
	}
	unique, untracked := set.unique.Load(), set.untracked.Load()
	if unique > idShards*2 || unique+untracked != 1000 {
		t.Fatalf("unique=%d untracked=%d; want unique <= %d and a sum of 1000", unique, untracked, idShards*2)
	}
	require_Equal(t, set.dups.Load(), uint64(0))
}

func TestFormatDelivery(t *testing.T) {
	at := time.Date(2026, 11, 23, 11, 0, 0, 123456789, time.FixedZone("CET", 3600))
	f := func(d Delivery, want string) {
		t.Helper()
		d.Received = at
		require_Equal(t, FormatDelivery(&d), want)
	}
	body := make([]byte, 123)
	f(Delivery{ID: "evt_01J", Type: "invoice.paid", Attempt: 1, SigChecked: true, SigValid: true, TimestampOK: true, Status: 200, Body: body},
		"2026-11-23T10:00:00.123Z evt_01J invoice.paid attempt=1 signature=valid 123 bytes")
	f(Delivery{ID: "evt_01J", Type: "invoice.paid", Attempt: 3, TimestampOK: true},
		"2026-11-23T10:00:00.123Z evt_01J invoice.paid attempt=3 signature=unchecked 0 bytes")
	f(Delivery{ID: "evt_1", SigChecked: true, Timestamp: 1, Status: 401, Reason: "webhook-timestamp outside tolerance"},
		"2026-11-23T10:00:00.123Z evt_1 - attempt=0 signature=invalid timestamp=stale 0 bytes status=401 (webhook-timestamp outside tolerance)")
	f(Delivery{ID: "evt 1\x1b[2J", Type: `a"b`, Status: 503},
		`2026-11-23T10:00:00.123Z "evt 1\x1b[2J" "a\"b" attempt=0 signature=unchecked timestamp=missing 0 bytes status=503`)
}

func TestTopLevelString(t *testing.T) {
	f := func(body, want string) {
		t.Helper()
		require_Equal(t, string(topLevelString([]byte(body), "type")), want)
	}
	f(`{"type":"invoice.paid","data":{}}`, "invoice.paid")
	f(` { "type" : "invoice.paid" } `, "invoice.paid")
	f(`{"data":{"type":"nested","a":[1,{"type":"x"}]},"n":-1.5e3,"ok":true,"s":"a\"type\":\"x","type":"lead.won"}`, "lead.won")
	f(`{"id":"x","type":"a\"b"}`, `a\"b`)
	f(`{"data":[1,2,3],"type":"t"}`, "t")
	f(`{"data":{"type":"nested"}}`, "")
	f(`{"type":42}`, "")
	f(`{"type":"unterminated`, "")
	f(`{"data":{"a":1`, "")
	f(`{"a":,"type":"x"}`, "")
	f(`["type","x"]`, "")
	f(``, "")
	f(`{`, "")
	f(`{"a"`, "")
	f(`{"a":1 "type":"x"}`, "")
}

func FuzzTopLevelString(f *testing.F) {
	for _, seed := range []string{
		`{"type":"invoice.paid","timestamp":"2026-11-23T10:00:00Z","data":{}}`,
		`{"data":{"type":"x","a":[{"b":"\"}"}]},"type":"y"}`,
		`{"a":tru`, `{"a":"\`, `{`, `{"type":"\u0041"}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got := topLevelString(b, "type")
		// On valid UTF-8 JSON with no escapes and one "type" key in any case
		// (the decoder folds case), the cheap scan must agree with it.
		var v struct{ Type *string }
		if bytes.Count(bytes.ToLower(b), []byte(`"type"`)) != 1 || bytes.IndexByte(b, '\\') >= 0 || !utf8.Valid(b) || json.Unmarshal(b, &v) != nil {
			return
		}
		if v.Type == nil {
			if got != nil {
				t.Fatalf("scan found %q; the decoder found no string type", got)
			}
			return
		}
		if string(got) != *v.Type {
			t.Fatalf("scan found %q; the decoder found %q", got, *v.Type)
		}
	})
}

// TestSinkConcurrent drives the sink from several goroutines so -race sees
// the counters, the id shards, the MAC pool and the callbacks together.
func TestSinkConcurrent(t *testing.T) {
	const workers, perWorker, idsPerWorker = 8, 500, 250
	var delivered atomic.Int64
	s := startSink(t, SinkOptions{Secret: testSecret, OnDelivery: func(d *Delivery) {
		if d.SigValid && d.Type == "invoice.paid" {
			delivered.Add(1)
		}
	}})
	c := &fasthttp.Client{MaxConnsPerHost: workers, ReadTimeout: 5 * time.Second, WriteTimeout: 5 * time.Second}
	defer c.CloseIdleConnections()
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
			defer fasthttp.ReleaseRequest(req)
			defer fasthttp.ReleaseResponse(resp)
			for i := 0; i < perWorker; i++ {
				id := fmt.Sprintf("evt_%d_%d", w, i%idsPerWorker)
				body := fmt.Sprintf(`{"type":"invoice.paid","data":{"i":%d}}`, i)
				req.Reset()
				req.SetRequestURI(s.URL())
				req.Header.SetMethod(fasthttp.MethodPost)
				for k, v := range signed(t, testSecret, id, body) {
					req.Header.Set(k, v)
				}
				req.SetBodyString(body)
				if err := c.DoTimeout(req, resp, 5*time.Second); err != nil {
					errs <- err
					return
				}
				if resp.StatusCode() != 200 {
					errs <- fmt.Errorf("status %d: %s", resp.StatusCode(), resp.Body())
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	st := s.Stats()
	require_Equal(t, st.Accepted, uint64(workers*perWorker))
	require_Equal(t, st.Verified, uint64(workers*perWorker))
	require_Equal(t, st.Unique, uint64(workers*idsPerWorker))
	require_Equal(t, st.Duplicates, uint64(workers*(perWorker-idsPerWorker)))
	require_Equal(t, delivered.Load(), int64(workers*perWorker))
}

func raceEnabled() bool {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range bi.Settings {
		if s.Key == "-race" {
			return s.Value == "true"
		}
	}
	return false
}

// TestSinkHandlerAllocs keeps the verified, callback-free path at zero
// allocations: the sink must not be what limits a bench run.
func TestSinkHandlerAllocs(t *testing.T) {
	if raceEnabled() {
		t.Skip("the race detector makes sync.Pool drop items at random")
	}
	s, err := NewSink(SinkOptions{Secret: testSecret})
	require_NoError(t, err)
	ctx := signedCtx(t, testSecret, "evt_allocs", `{"type":"invoice.paid","data":{}}`)
	allocs := testing.AllocsPerRun(1000, func() { s.handle(ctx) })
	require_Equal(t, ctx.Response.StatusCode(), 200)
	require_Equal(t, allocs, 0.0)
}

func signedCtx(t testing.TB, secret, id, body string) *fasthttp.RequestCtx {
	var req fasthttp.Request
	req.Header.SetMethod(fasthttp.MethodPost)
	req.SetRequestURI("/")
	for k, v := range signed(t, secret, id, body) {
		req.Header.Set(k, v)
	}
	req.SetBodyString(body)
	ctx := &fasthttp.RequestCtx{}
	ctx.Init(&req, nil, nil)
	return ctx
}

// TestSinkPerPath: with PerPath, one event id delivered to two endpoint
// paths is two deliveries; the same path twice is a duplicate.
func TestSinkPerPath(t *testing.T) {
	s, err := NewSink(SinkOptions{PerPath: true})
	require_NoError(t, err)
	require_NoError(t, s.Start())
	defer s.Close()
	post := func(path string) {
		t.Helper()
		req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
		defer fasthttp.ReleaseRequest(req)
		defer fasthttp.ReleaseResponse(resp)
		req.Header.SetMethod("POST")
		req.SetRequestURI(s.URL() + path)
		req.Header.Set("webhook-id", "evt_1")
		req.SetBodyString(`{"type":"a"}`)
		require_NoError(t, fasthttp.Do(req, resp))
		require_Equal(t, resp.StatusCode(), 200)
	}
	post("e0")
	post("e1")
	post("e1")
	st := s.Stats()
	require_Equal(t, st.Unique, uint64(2))
	require_Equal(t, st.Duplicates, uint64(1))
}
