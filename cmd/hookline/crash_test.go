package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestCrashLosesNothing kills the server with SIGKILL while publishers are
// running, restarts it on the same data directory, and checks that every event
// answered with 202 is delivered at least once: with ingest durability fsync,
// and with os, which answers before the fsync and must survive a kill -9 all
// the same (the OS keeps what the process wrote).
func TestCrashLosesNothing(t *testing.T) {
	for _, durability := range []string{"fsync", "os"} {
		t.Run(durability, func(t *testing.T) { testCrashLosesNothing(t, durability) })
	}
}

func testCrashLosesNothing(t *testing.T, durability string) {
	const token = testAdminToken
	dir := t.TempDir()
	srv := startServer(t, dir, "--admin-token", token, "--durability", durability)
	a := newAPI(srv.addr, token)
	a.mustDo(t, "POST", "/v1/tenants", map[string]any{"id": "acme"}, 201, nil)
	r := newReceiver(t)
	ep := a.createEndpoint(t, "acme", r.srv.URL, []string{"*"})
	r.setSecret(ep.Secret)

	var mu sync.Mutex
	acked := map[string]bool{}
	var stop atomic.Bool
	var wg sync.WaitGroup
	for w := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 100000 && !stop.Load(); i++ {
				if w%2 == 0 {
					var res struct{ ID string }
					body := fmt.Appendf(nil, `{"type":"order.created","payload":{"w":%d,"i":%d}}`, w, i)
					if status, err := a.do("POST", "/v1/tenants/acme/events", "application/json", body, &res); err == nil && status == 202 {
						mu.Lock()
						acked[res.ID] = true
						mu.Unlock()
					}
					continue
				}
				var sb strings.Builder
				for j := range 20 {
					fmt.Fprintf(&sb, "{\"type\":\"order.batched\",\"payload\":{\"w\":%d,\"i\":%d,\"j\":%d}}\n", w, i, j)
				}
				var res struct{ IDs []string }
				if status, err := a.do("POST", "/v1/tenants/acme/events/batch", "application/x-ndjson", []byte(sb.String()), &res); err == nil && status == 202 {
					mu.Lock()
					for _, id := range res.IDs {
						acked[id] = true
					}
					mu.Unlock()
				}
			}
		}()
	}
	// Kill while publishes and deliveries are both in full swing.
	waitFor(t, 30*time.Second, "load to build up", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(acked) >= 3000
	})
	srv.kill9()
	stop.Store(true)
	wg.Wait()
	mu.Lock()
	n := len(acked)
	mu.Unlock()
	before := r.unique()
	t.Logf("acked %d events before the kill; %d delivered before it", n, before)

	srv2 := startServer(t, dir, "--admin-token", token, "--durability", durability)
	waitFor(t, 90*time.Second, "every acked event delivered after restart", func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		for id := range acked {
			if r.got[id] == 0 {
				return false
			}
		}
		return true
	})
	r.mu.Lock()
	dups := 0
	for _, c := range r.got {
		if c > 1 {
			dups += c - 1
		}
	}
	bad := len(r.bad)
	r.mu.Unlock()
	require_Equal(t, bad, 0)
	t.Logf("all %d acked events delivered; %d duplicate deliveries (allowed: at-least-once)", n, dups)
	srv2.stop()
}

// TestGracefulStopAndGeneratedToken starts without a token: one is generated,
// saved 0600 and printed once; SIGTERM exits cleanly; the restart reuses it.
func TestGracefulStopAndGeneratedToken(t *testing.T) {
	dir := t.TempDir()
	srv := startServer(t, dir)
	path := filepath.Join(dir, "admin.token")
	info, err := os.Stat(path)
	require_NoError(t, err)
	require_Equal(t, info.Mode().Perm(), os.FileMode(0o600))
	b, err := os.ReadFile(path)
	require_NoError(t, err)
	token := strings.TrimSpace(string(b))
	if !strings.Contains(srv.output.String(), token) {
		t.Fatalf("generated token not printed at first start")
	}
	a := newAPI(srv.addr, token)
	a.mustDo(t, "POST", "/v1/tenants", map[string]any{"id": "acme"}, 201, nil)
	bad := newAPI(srv.addr, token+"x")
	status, err := bad.do("GET", "/v1/tenants", "", nil, nil)
	require_NoError(t, err)
	require_Equal(t, status, 401)
	srv.stop()

	srv2 := startServer(t, dir)
	if strings.Contains(srv2.output.String(), token) {
		t.Fatalf("token printed again on restart")
	}
	a2 := newAPI(srv2.addr, token)
	var got struct{ ID string }
	a2.mustDo(t, "GET", "/v1/tenants/acme", nil, 200, &got)
	require_Equal(t, got.ID, "acme")
	srv2.stop()
}
