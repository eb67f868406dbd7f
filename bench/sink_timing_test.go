package bench

import (
	"fmt"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

// benchBody is the size of a small real event, so MB/s means something.
var benchBody = `{"type":"invoice.paid","timestamp":"2026-11-23T10:00:00Z","data":{"invoice_id":"in_1Mu2xQ2eZvKYlo2C","customer":"cus_NffrFeUfNV2Hib","amount_due":2000,"currency":"usd","lines":[{"price":"price_1MtGUs","quantity":1}]}}`

// BenchmarkSinkHTTP measures requests/s through a real sink over loopback,
// client included: on a small box the client's CPU is part of the number,
// as it is in a bench run.
func BenchmarkSinkHTTP(b *testing.B) {
	for _, bc := range []struct {
		name        string
		secret      string
		verifyEvery int
	}{
		{"verify=all", testSecret, 1},
		{"verify=1in10", testSecret, 10},
		{"verify=off", "", 0},
	} {
		b.Run(bc.name, func(b *testing.B) {
			s := startSink(b, SinkOptions{Secret: bc.secret, VerifyEvery: bc.verifyEvery})
			// Pre-signed requests with distinct ids keep signing out of the
			// loop while the id set still sees more than one key.
			const ids = 1024
			reqs := make([]*fasthttp.Request, ids)
			for i := range reqs {
				req := &fasthttp.Request{}
				req.SetRequestURI(s.URL())
				req.Header.SetMethod(fasthttp.MethodPost)
				for k, v := range signed(b, testSecret, fmt.Sprintf("evt_bench_%d", i), benchBody) {
					req.Header.Set(k, v)
				}
				req.SetBodyString(benchBody)
				reqs[i] = req
			}
			c := &fasthttp.HostClient{Addr: s.Addr(), MaxConns: 64, ReadTimeout: 5 * time.Second, WriteTimeout: 5 * time.Second}
			defer c.CloseIdleConnections()
			var next atomic.Uint64
			b.SetBytes(int64(len(benchBody)))
			b.ReportAllocs()
			b.SetParallelism(8)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				resp := fasthttp.AcquireResponse()
				defer fasthttp.ReleaseResponse(resp)
				for pb.Next() {
					req := reqs[next.Add(1)%ids]
					if err := c.Do(req, resp); err != nil {
						b.Errorf("request failed: %v", err)
						return
					}
					if resp.StatusCode() != fasthttp.StatusOK {
						b.Errorf("status %d: %s", resp.StatusCode(), resp.Body())
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
			st := s.Stats()
			if st.Accepted != uint64(b.N) {
				b.Fatalf("sink accepted %d of %d requests", st.Accepted, b.N)
			}
		})
	}
}

// BenchmarkSinkHandler is the sink's own cost per verified request, without
// the network: the headroom the sink leaves the engine on a shared box.
func BenchmarkSinkHandler(b *testing.B) {
	s, err := NewSink(SinkOptions{Secret: testSecret})
	require_NoError(b, err)
	ctx := signedCtx(b, testSecret, "evt_handler", benchBody)
	b.SetBytes(int64(len(benchBody)))
	b.ReportAllocs()
	for b.Loop() {
		s.handle(ctx)
	}
	require_Equal(b, ctx.Response.StatusCode(), fasthttp.StatusOK)
}

// BenchmarkVerify isolates the HMAC check, the part VerifyEvery saves.
func BenchmarkVerify(b *testing.B) {
	s, err := NewSink(SinkOptions{Secret: testSecret})
	require_NoError(b, err)
	ts := time.Now().Unix()
	id, tsRaw, body := []byte("evt_verify"), []byte(strconv.FormatInt(ts, 10)), []byte(benchBody)
	sig := []byte(sign(b, testSecret, "evt_verify", ts, benchBody))
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if !s.verify(id, tsRaw, body, sig) {
			b.Fatalf("signature did not verify")
		}
	}
}

// BenchmarkIDSetRecord measures the dedupe set and reports its heap cost per
// distinct id, the figure DefaultMaxIDs is sized from. Ids wrap at 2M so a
// long run stays within ~100 MB on a shared box.
func BenchmarkIDSetRecord(b *testing.B) {
	const distinct = 2 << 20
	var set idSet
	set.init(1 << 30)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	id := []byte("evt_01JD6MZ8Q0000000000000")
	n := 0
	b.ReportAllocs()
	for b.Loop() {
		id = strconv.AppendInt(id[:len("evt_01JD6MZ8Q")], int64(n%distinct), 10)
		set.record(id, nil, true)
		n++
	}
	b.StopTimer()
	runtime.GC()
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/float64(set.unique.Load()), "heapB/id")
	runtime.KeepAlive(&set)
}
