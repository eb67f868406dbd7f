package httpin_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// benchPayload600 returns an event whose payload is 600 bytes of JSON.
func benchPayload600() string {
	const head = `{"invoice":"in_1MtHbELkdIwHu7ixl4OzzPMv","customer":"cus_NffrFeUfNV2Hib","amount_due":2000,"currency":"usd","lines":"`
	const tail = `"}`
	payload := head + strings.Repeat("x", 600-len(head)-len(tail)) + tail
	if len(payload) != 600 {
		panic(fmt.Sprintf("BUG: payload is %d bytes", len(payload)))
	}
	return `{"type":"invoice.paid","payload":` + payload + `}`
}

// benchmarkPublish posts body to path from parallel clients and reports the
// events accepted per second. Allocations are the whole process's: client,
// server, engine and wal together.
func benchmarkPublish(b *testing.B, path, contentType, body string, eventsPerRequest int) {
	s := newTestServer(b)
	s.mustCreateTenant(b, "acme")
	benchmarkPublishTo(b, s, path, contentType, body, eventsPerRequest)
}

func benchmarkPublishTo(b *testing.B, s *testServer, path, contentType, body string, eventsPerRequest int) {
	url := s.base + path
	// A few requests first so connections and pools are warm.
	for range 4 {
		status, raw, _ := s.doRaw(b, "POST", path, testToken, contentType, body)
		if status != http.StatusAccepted {
			b.Fatalf("warm-up: status %d (%s)", status, short(raw))
		}
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	// Many requests in flight let the wal share fsyncs, as real ingest does.
	b.SetParallelism(16)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, err := http.NewRequest("POST", url, strings.NewReader(body))
			if err != nil {
				b.Error(err)
				return
			}
			req.Header.Set("Authorization", "Bearer "+testToken)
			req.Header.Set("Content-Type", contentType)
			resp, err := s.client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusAccepted {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
		}
	})
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N*eventsPerRequest)/elapsed.Seconds(), "events/s")
}

func BenchmarkPublishSingle(b *testing.B) {
	benchmarkPublish(b, "/v1/tenants/acme/events", "application/json", benchPayload600(), 1)
}

// BenchmarkPublishFanout1 publishes to a tenant with one endpoint on
// 127.0.0.1 answering 204, so the lane's attempt path runs alongside ingest
// (on the same cores: events/s counts publishes, deliveries compete with them).
func BenchmarkPublishFanout1(b *testing.B) {
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusNoContent)
	}))
	b.Cleanup(rc.Close)
	s := newTestServer(b)
	s.mustCreateTenant(b, "acme")
	s.mustCreateEndpoint(b, "acme", `{"url":"`+rc.URL+`/hook"}`)
	benchmarkPublishTo(b, s, "/v1/tenants/acme/events", "application/json", benchPayload600(), 1)
}

func BenchmarkPublishBatch100(b *testing.B) {
	ev := benchPayload600()
	body := "[" + strings.TrimSuffix(strings.Repeat(ev+",", 100), ",") + "]"
	benchmarkPublish(b, "/v1/tenants/acme/events/batch", "application/json", body, 100)
}
