package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// rssBytes reads a process's resident set size from /proc.
func rssBytes(t testing.TB, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	require_NoError(t, err)
	for line := range strings.SplitSeq(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			require_NoError(t, err)
			return kb << 10
		}
	}
	t.Fatalf("no VmRSS in /proc/%d/status", pid)
	return 0
}

// TestHeldBodiesCostNoMemory: 400 connections from 127.0.0.1 declare large
// bodies and send one byte, on every kind of route: no route that takes a
// body, a publish with a wrong token, an unknown source, and a real
// source (which may take one event's worth, within the in-flight budget).
// The real binary's RSS grows by less than 64 MiB (it grew by 16 MiB per
// connection before), and a publish from another address, 127.0.0.2, is
// accepted meanwhile.
func TestHeldBodiesCostNoMemory(t *testing.T) {
	const token = testAdminToken
	dir := t.TempDir()
	cfg := filepath.Join(dir, "hookline.yaml")
	require_NoError(t, os.WriteFile(cfg, []byte("ingest:\n  max_body_bytes_in_flight: 33554432\n"), 0o600))
	srv := startServer(t, filepath.Join(dir, "data"), "--admin-token", token, "--config", cfg)
	a := newAPI(srv.addr, token)
	a.mustDo(t, "POST", "/v1/tenants", map[string]any{"id": "acme"}, 201, nil)
	var src struct {
		URL string `json:"url"`
	}
	a.mustDo(t, "POST", "/v1/tenants/acme/sources", map[string]any{"provider": "none", "mapping": map[string]any{"type": "t"}}, 201, &src)

	before := rssBytes(t, srv.cmd.Process.Pid)
	targets := []struct {
		method, path, auth string
		length             int
	}{
		{"GET", "/healthz", "", 16 << 20},
		{"POST", "/v1/tenants/acme/events/batch", "Authorization: Bearer wrong\r\n", 16 << 20},
		{"POST", "/in/src_01M8VPY2YRDJYAXCT6WGFEF8W3", "", 16 << 20},
		{"POST", src.URL, "", 16 << 20},
		{"POST", src.URL, "", 1 << 20},
	}
	var conns []net.Conn
	t.Cleanup(func() {
		for _, c := range conns {
			c.Close()
		}
	})
	for i := range 400 {
		tg := targets[i%len(targets)]
		c, err := net.DialTimeout("tcp", srv.addr, 5*time.Second)
		require_NoError(t, err)
		conns = append(conns, c)
		_, err = fmt.Fprintf(c, "%s %s HTTP/1.1\r\nHost: x\r\n%sContent-Length: %d\r\n\r\n[", tg.method, tg.path, tg.auth, tg.length)
		require_NoError(t, err)
	}
	// Every request has reached the server once a request after them is
	// answered; let the server settle what it allocated.
	resp, err := http.Get("http://" + srv.addr + "/healthz")
	require_NoError(t, err)
	resp.Body.Close()
	time.Sleep(500 * time.Millisecond)
	after := rssBytes(t, srv.cmd.Process.Pid)
	t.Logf("server RSS %d MiB before, %d MiB with 400 held bodies", before>>20, after>>20)
	require_True(t, after-before < 64<<20, "RSS grew by %d MiB with 400 held bodies", (after-before)>>20)

	other := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DialContext: (&net.Dialer{
		LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)},
	}).DialContext}}
	req, err := http.NewRequest("POST", "http://"+srv.addr+"/v1/tenants/acme/events", strings.NewReader(`{"type":"a.b","payload":{"n":1}}`))
	require_NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err = other.Do(req)
	require_NoError(t, err)
	resp.Body.Close()
	require_Equal(t, resp.StatusCode, http.StatusAccepted)
}
