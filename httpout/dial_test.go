package httpout

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestSendConnectionRefused(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("cannot listen: %s", err)
	}
	addr := ln.Addr().String()
	ln.Close()
	s := newTestSender(t, Options{Allow: allowLoopback})
	res := send(s, testRequest("http://"+addr+"/"))
	requireErrClass(t, res, ErrClassRefused)
	if !strings.Contains(res.Err.Error(), addr) {
		t.Fatalf("error %q should name the address %s", res.Err, addr)
	}
}

func TestSendTLSHandshakeTimeout(t *testing.T) {
	var letGo atomic.Bool // the server's hold ran out before the client gave up
	addr, _ := newRawServer(t, func(c net.Conn) {
		c.SetReadDeadline(time.Now().Add(holdLimit))
		_, err := io.Copy(io.Discard, c) // accept, never answer the ClientHello
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			letGo.Store(true)
		}
	})
	const timeout = 300 * time.Millisecond
	s := newTestSender(t, Options{Allow: allowLoopback, Timeout: timeout})
	start := time.Now()
	res := send(s, testRequest("https://"+addr+"/"))
	requireErrClass(t, res, ErrClassTimeout)
	if elapsed := time.Since(start); elapsed < timeout || letGo.Load() {
		t.Fatalf("Send returned after %v (server let go: %v); want its timeout of %v, before the server let go", elapsed, letGo.Load(), timeout)
	}
}

func TestSendTLS(t *testing.T) {
	srv, _ := newLocalServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "secure")
	}))
	srv.Close()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("cannot listen: %s", err)
	}
	tlsSrv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: srv.Config.Handler}}
	tlsSrv.StartTLS()
	t.Cleanup(tlsSrv.Close)

	// The test certificate is self-signed: verification fails.
	s := newTestSender(t, Options{Allow: allowLoopback})
	res := send(s, testRequest(tlsSrv.URL))
	requireErrClass(t, res, ErrClassTLS)

	roots := x509.NewCertPool()
	roots.AddCert(tlsSrv.Certificate())
	s = newTestSender(t, Options{Allow: allowLoopback, TLSConfig: &tls.Config{RootCAs: roots}})
	res = send(s, testRequest(tlsSrv.URL))
	requireResponse(t, res, http.StatusOK)
	if string(res.Body) != "secure" {
		t.Fatalf("Body %q", res.Body)
	}
}

func TestSendSSRFRefusedBeforeConnecting(t *testing.T) {
	addr, accepts := newRawServer(t, func(c net.Conn) {})
	_, port, _ := net.SplitHostPort(addr)
	s := newTestSender(t, Options{}) // nothing allow-listed
	for _, url := range []string{
		"http://" + addr + "/",
		"http://localhost:" + port + "/",
		"http://LocalHost.:" + port + "/",
		"http://api.localhost:" + port + "/",
		"http://[::ffff:127.0.0.1]:" + port + "/",
		"http://2130706433:" + port + "/",
		"http://0x7f000001:" + port + "/",
		"http://127.1:" + port + "/",
	} {
		res := send(s, testRequest(url))
		requireErrClass(t, res, ErrClassSSRF)
	}
	// Non-canonical numeric hosts stay refused even when loopback is allowed:
	// what they mean depends on who parses them.
	sa := newTestSender(t, Options{Allow: allowLoopback})
	res := send(sa, testRequest("http://2130706433:"+port+"/"))
	requireErrClass(t, res, ErrClassSSRF)

	time.Sleep(50 * time.Millisecond) // let a stray connection be accepted
	if n := accepts.Load(); n != 0 {
		t.Fatalf("server accepted %d connections; the guard must refuse before connecting", n)
	}
}

func TestSendLocalhostAllowed(t *testing.T) {
	srv, _ := newLocalServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.Host)
	}))
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	s := newTestSender(t, Options{Allow: allowLoopback})
	res := send(s, testRequest("http://localhost:"+port+"/"))
	requireResponse(t, res, http.StatusOK)
	if string(res.Body) != "localhost:"+port {
		t.Fatalf("server saw Host %q", res.Body)
	}
	res = send(s, testRequest("HTTP://LOCALHOST:"+port+"/"))
	requireResponse(t, res, http.StatusOK)
	res = send(s, testRequest("http://localhost:/"))
	requireErrClass(t, res, ErrClassInvalidURL)
}

// TestSendChecksResolvedAddresses plays a rebinding DNS server: the name
// resolves to an address the guard refuses.
func TestSendChecksResolvedAddresses(t *testing.T) {
	addr, accepts := newRawServer(t, func(c net.Conn) {
		br := bufio.NewReader(c)
		for {
			req, err := http.ReadRequest(br)
			if err != nil {
				return
			}
			io.Copy(io.Discard, req.Body)
			fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", len(req.Host), req.Host)
		}
	})
	_, port, _ := net.SplitHostPort(addr)
	answers := map[string][]netip.Addr{
		"good.test":   {netip.MustParseAddr("127.0.0.1")},
		"rebind.test": {netip.MustParseAddr("127.0.0.2")},
		"mixed.test":  {netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("127.0.0.2")},
		"mapped.test": {netip.MustParseAddr("::ffff:127.0.0.2")},
	}
	s := newTestSender(t, Options{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}})
	s.dialer.lookup = func(_ context.Context, network, host string) ([]netip.Addr, error) {
		if ips, ok := answers[host]; ok {
			return ips, nil
		}
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}

	res := send(s, testRequest("http://good.test:"+port+"/"))
	requireResponse(t, res, http.StatusOK)
	if string(res.Body) != "good.test:"+port {
		t.Fatalf("server saw Host %q", res.Body)
	}
	for _, name := range []string{"rebind.test", "mixed.test", "mapped.test"} {
		res = send(s, testRequest("http://"+name+":"+port+"/"))
		requireErrClass(t, res, ErrClassSSRF)
	}
	res = send(s, testRequest("http://missing.test:"+port+"/"))
	requireErrClass(t, res, ErrClassDNS)
	if n := accepts.Load(); n != 1 {
		t.Fatalf("server accepted %d connections; want 1 (good.test only)", n)
	}
}
