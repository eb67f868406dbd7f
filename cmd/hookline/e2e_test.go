package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// receiver is a customer endpoint: it verifies every delivery with the
// official Standard Webhooks library and records what arrived.
type receiver struct {
	t   testing.TB
	srv *httptest.Server
	wh  atomic.Pointer[standardwebhooks.Webhook]

	mu     sync.Mutex
	got    map[string]int    // webhook-id -> deliveries
	bodies map[string][]byte // webhook-id -> first body
	bad    []string          // why a request was not a valid delivery
}

func newReceiver(t testing.TB) *receiver {
	r := &receiver{t: t, got: map[string]int{}, bodies: map[string][]byte{}}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) setSecret(secret string) {
	wh, err := standardwebhooks.NewWebhook(secret)
	require_NoError(r.t, err)
	r.wh.Store(wh)
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	id := req.Header.Get("webhook-id")
	var problem string
	switch wh := r.wh.Load(); {
	case err != nil:
		problem = "cannot read body: " + err.Error()
	case wh == nil:
		problem = "no secret set"
	case req.Method != "POST" || req.Header.Get("content-type") != "application/json":
		problem = fmt.Sprintf("%s with content-type %q", req.Method, req.Header.Get("content-type"))
	default:
		if verr := wh.Verify(body, req.Header); verr != nil {
			problem = "signature: " + verr.Error()
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if problem != "" {
		r.bad = append(r.bad, id+": "+problem)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	r.got[id]++
	if _, ok := r.bodies[id]; !ok {
		r.bodies[id] = body
	}
	w.WriteHeader(http.StatusOK)
}

func (r *receiver) unique() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.got)
}

type publishedEvent struct {
	typ     string
	payload []byte
}

// TestEndToEnd publishes 10,000 events, singly and in batches, to a tenant
// with three endpoints subscribed to different types, and checks that each
// endpoint receives exactly its events, signed and with the payload unchanged.
func TestEndToEnd(t *testing.T) {
	const token = testAdminToken
	srv := startServer(t, t.TempDir(), "--admin-token", token)
	a := newAPI(srv.addr, token)
	a.mustDo(t, "POST", "/v1/tenants", map[string]any{"id": "acme", "name": "Acme"}, 201, nil)

	subs := [][]string{{"invoice.*"}, {"lead.won", "invoice.paid"}, {"*"}}
	recvs := make([]*receiver, len(subs))
	for i, types := range subs {
		recvs[i] = newReceiver(t)
		ep := a.createEndpoint(t, "acme", recvs[i].srv.URL+"/hook", types)
		recvs[i].setSecret(ep.Secret)
	}

	types := []string{"invoice.paid", "invoice.failed", "lead.won", "user.created"}
	const total, singles, batchSize = 10000, 2000, 100
	var mu sync.Mutex
	published := make(map[string]publishedEvent, total)
	payloadFor := func(i int) []byte {
		// Odd spacing, unicode escapes and big numbers prove the payload is
		// forwarded byte for byte, never re-encoded.
		return fmt.Appendf(nil, `{"n": %d, "amount":12345678901234567890, "note":"caf\u00e9 %d" ,"tags":[ "a", "b" ]}`, i, i)
	}

	// Single-event publishes from 8 concurrent clients.
	var wg sync.WaitGroup
	var failures atomic.Int64
	next := atomic.Int64{}
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= singles {
					return
				}
				typ := types[i%len(types)]
				body := fmt.Appendf(nil, `{"type":%q,"payload":%s}`, typ, payloadFor(i))
				var res struct{ ID string }
				status, err := a.do("POST", "/v1/tenants/acme/events", "application/json", body, &res)
				if err != nil || status != 202 {
					failures.Add(1)
					continue
				}
				mu.Lock()
				published[res.ID] = publishedEvent{typ, payloadFor(i)}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	require_Equal(t, failures.Load(), int64(0))

	// Batches, alternating JSON arrays and NDJSON.
	for b := 0; b < (total-singles)/batchSize; b++ {
		var body bytes.Buffer
		ndjson := b%2 == 1
		if !ndjson {
			body.WriteByte('[')
		}
		var batch []publishedEvent
		for j := range batchSize {
			i := singles + b*batchSize + j
			ev := publishedEvent{types[i%len(types)], payloadFor(i)}
			batch = append(batch, ev)
			if j > 0 && !ndjson {
				body.WriteByte(',')
			}
			fmt.Fprintf(&body, `{"type":%q,"payload":%s}`, ev.typ, ev.payload)
			if ndjson {
				body.WriteByte('\n')
			}
		}
		if !ndjson {
			body.WriteByte(']')
		}
		ct := "application/json"
		if ndjson {
			ct = "application/x-ndjson"
		}
		var res struct{ IDs []string }
		status, err := a.do("POST", "/v1/tenants/acme/events/batch", ct, body.Bytes(), &res)
		require_NoError(t, err)
		require_Equal(t, status, 202)
		require_Equal(t, len(res.IDs), batchSize)
		for j, id := range res.IDs {
			published[id] = batch[j]
		}
	}
	require_Equal(t, len(published), total)

	want := make([]map[string]bool, len(subs))
	for i := range subs {
		want[i] = map[string]bool{}
	}
	for id, ev := range published {
		for i, types := range subs {
			for _, p := range types {
				if p == "*" || p == ev.typ || strings.HasSuffix(p, ".*") && strings.HasPrefix(ev.typ, strings.TrimSuffix(p, "*")) {
					want[i][id] = true
				}
			}
		}
	}
	for i, r := range recvs {
		waitFor(t, 90*time.Second, fmt.Sprintf("endpoint %d to receive %d events", i, len(want[i])), func() bool {
			return r.unique() >= len(want[i])
		})
	}
	// Let stragglers (a wrong extra delivery) arrive before judging.
	time.Sleep(300 * time.Millisecond)
	for i, r := range recvs {
		r.mu.Lock()
		if len(r.bad) > 0 {
			t.Fatalf("endpoint %d got %d invalid deliveries, first: %s", i, len(r.bad), r.bad[0])
		}
		require_Equal(t, len(r.got), len(want[i]))
		for id, n := range r.got {
			if !want[i][id] {
				t.Fatalf("endpoint %d (%v) got event %s of type %s it did not subscribe to", i, subs[i], id, published[id].typ)
			}
			if n != 1 {
				t.Fatalf("endpoint %d got event %s %d times in a run without failures", i, id, n)
			}
			checkBody(t, r.bodies[id], published[id])
		}
		r.mu.Unlock()
	}
}

// checkBody asserts a delivery body is {type,timestamp,data} with data being
// the published payload byte for byte.
func checkBody(t testing.TB, body []byte, ev publishedEvent) {
	t.Helper()
	var env map[string]json.RawMessage
	require_NoError(t, json.Unmarshal(body, &env))
	if len(env) != 3 {
		t.Fatalf("body has fields %v; want type, timestamp, data", env)
	}
	require_Equal(t, string(env["type"]), `"`+ev.typ+`"`)
	var ts time.Time
	require_NoError(t, json.Unmarshal(env["timestamp"], &ts))
	if d := time.Since(ts); d < 0 || d > 5*time.Minute {
		t.Fatalf("timestamp %s is not recent", ts)
	}
	if !bytes.HasSuffix(body, append(append([]byte(`"data":`), ev.payload...), '}')) {
		t.Fatalf("body %s does not end with the payload %s unchanged", body, ev.payload)
	}
}
