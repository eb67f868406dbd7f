package httpin_test

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"hookline/httpin"
)

// holdBody opens a connection to s and sends a request's headers and the
// first bytes of its body, leaving the rest unsent: what a slow or hostile
// client does. Closing the returned connection ends the request.
func holdBody(tb testing.TB, s *testServer, method, path, token string, length int) net.Conn {
	tb.Helper()
	conn, err := net.DialTimeout("tcp", s.srv.Addr(), 5*time.Second)
	require_NoError(tb, err)
	tb.Cleanup(func() { conn.Close() })
	auth := ""
	if token != "" {
		auth = "Authorization: Bearer " + token + "\r\n"
	}
	_, err = fmt.Fprintf(conn, "%s %s HTTP/1.1\r\nHost: x\r\n%sContent-Type: application/json\r\nContent-Length: %d\r\n\r\n[", method, path, auth, length)
	require_NoError(tb, err)
	return conn
}

// TestBodyCapBeforeReading: a request's body cap comes from its route and
// token, before any of the body is read: a large declared body on a route
// that takes none, or without a valid token, is refused at once from its
// headers alone (the server used to allocate the declared length first).
func TestBodyCapBeforeReading(t *testing.T) {
	s := newTestServer(t)
	s.mustCreateTenant(t, "acme")
	src := s.mustCreateSource(t, "acme", `{"provider":"none","mapping":{"type":"t"}}`)
	f := func(method, path, token string, length, wantStatus int, wantCode string) {
		t.Helper()
		auth := ""
		if token != "" {
			auth = "Authorization: Bearer " + token + "\r\n"
		}
		status, raw, _ := s.rawRequest(t, fmt.Sprintf("%s %s HTTP/1.1\r\nHost: x\r\n%sContent-Type: application/json\r\nContent-Length: %d\r\n\r\n",
			method, path, auth, length))
		if status != wantStatus {
			t.Fatalf("%s %s with %d bytes declared: status %d, want %d (%s)", method, path, length, status, wantStatus, short(raw))
		}
		requireErrorBody(t, raw, wantCode)
	}
	const huge = 16 << 20
	f("GET", "/healthz", "", huge, 413, "body_too_large")
	f("POST", "/metrics", "", huge, 413, "body_too_large")
	f("GET", eventsPath, testToken, huge, 413, "body_too_large")
	f("POST", eventsPath, "", maxBodyBytes, 401, "missing_token")
	f("POST", eventsPath, "wrong", maxBodyBytes, 401, "invalid_token")
	f("POST", batchPath, "wrong", 64<<10, 401, "invalid_token")
	f("POST", "/in/src_01M8VPY2YRDJYAXCT6WGFEF8W3", "", maxEventBytes, 413, "body_too_large")
	f("POST", "/v1/nowhere", testToken, huge, 413, "body_too_large")
	// A known source's body is read up to twice one event (its handler
	// refuses more than one with 413), and no more.
	f("POST", str(t, src, "url"), "", 2*maxEventBytes+1, 413, "body_too_large")
	// A valid token on a publish route takes MaxBodyBytes.
	f("POST", batchPath, testToken, maxBodyBytes+1, 413, "body_too_large")
	require_Equal(t, s.snapshot(t).counts.Events, 0)
}

// heldBodies keeps n requests holding their bodies open at the server. A
// held request the server answered is replaced by a new one: it was refused
// for want of budget (a probe in flight when its headers arrived takes
// budget it needed) or dropped at the server's ReadTimeout, and either way
// it holds nothing now.
type heldBodies struct {
	tb    testing.TB
	open  func() net.Conn
	conns []net.Conn
}

func holdBodies(tb testing.TB, n int, open func() net.Conn) *heldBodies {
	h := &heldBodies{tb: tb, open: open}
	for range n {
		h.conns = append(h.conns, open())
	}
	return h
}

// refill replaces the held requests the server has answered so far.
func (h *heldBodies) refill() {
	h.tb.Helper()
	var b [1]byte
	for i, c := range h.conns {
		require_NoError(h.tb, c.SetReadDeadline(time.Now().Add(time.Millisecond)))
		_, err := c.Read(b[:])
		if errors.Is(err, os.ErrDeadlineExceeded) {
			continue // still held: the server waits for the rest of its body
		}
		c.Close()
		h.conns[i] = h.open()
	}
}

func (h *heldBodies) close() {
	for _, c := range h.conns {
		c.Close()
	}
}

// TestBodyBudget: the body bytes of requests in progress are bounded; past
// the budget a request gets 503 server_busy with Retry-After before its
// body is read, requests to the inbound receiver may hold only half of it,
// and the budget comes back when the requests holding it end.
//
// Whether a held request fits depends on what else holds budget when its
// headers arrive, probes included: with the machine loaded, the server may
// read a held request's headers while a probe is in flight and refuse it.
// So the probes are repeated, and refused held requests replaced, until a
// probe is refused: what must eventually happen, as no more fit.
func TestBodyBudget(t *testing.T) {
	const budget = 2 * maxBodyBytes
	s := newTestServerHTTP(t, func(o *httpin.Options) { o.MaxBodyBytesInFlight = budget })
	s.mustCreateTenant(t, "acme")
	src := s.mustCreateSource(t, "acme", `{"provider":"none","mapping":{"type":"t"}}`)
	publish := func() (int, string, http.Header) {
		return s.doRaw(t, "POST", eventsPath, testToken, "application/json", `{"type":"a.b","payload":{}}`)
	}
	inbound := func() (int, string, http.Header) {
		return s.rawRequest(t, "POST "+str(t, src, "url")+" HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}")
	}

	// Inbound requests holding their bodies take half the budget, all of
	// what they may hold...
	heldInbound := holdBodies(t, budget/2/maxEventBytes, func() net.Conn {
		return holdBody(t, s, "POST", str(t, src, "url"), "", maxEventBytes)
	})
	var status int
	var raw string
	var h http.Header
	waitFor(t, 10*time.Second, "an inbound request over half the budget to be refused", func() bool {
		status, raw, h = inbound()
		if status == http.StatusServiceUnavailable {
			return true
		}
		require_Equal(t, status, http.StatusOK)
		heldInbound.refill()
		return false
	})
	requireErrorBody(t, raw, "server_busy")
	require_Equal(t, h.Get("Retry-After"), "1")
	// ...so publishing goes on.
	status, raw, _ = publish()
	require_Equal(t, status, http.StatusAccepted)

	// A publish holding the other half spends the budget: everyone waits.
	heldPublish := holdBodies(t, (budget-budget/2)/maxBodyBytes, func() net.Conn {
		return holdBody(t, s, "POST", batchPath, testToken, maxBodyBytes)
	})
	waitFor(t, 10*time.Second, "a publish over the budget to be refused", func() bool {
		status, raw, h = publish()
		if status == http.StatusServiceUnavailable {
			return true
		}
		require_Equal(t, status, http.StatusAccepted)
		heldInbound.refill()
		heldPublish.refill()
		return false
	})
	requireErrorBody(t, raw, "server_busy")
	require_Equal(t, h.Get("Retry-After"), "1")
	require_True(t, s.metric(t, "hookline_http_body_budget_refused_total") >= 2, "refusals not counted")

	// Ending the held requests gives the budget back.
	heldInbound.close()
	heldPublish.close()
	waitFor(t, 10*time.Second, "publishing to work again", func() bool {
		status, _, _ = publish()
		return status == http.StatusAccepted
	})
	waitFor(t, 10*time.Second, "the inbound receiver to take requests again", func() bool {
		status, _, _ = inbound()
		return status == http.StatusOK
	})
}

// TestConnsPerIP: one client address may hold MaxConnsPerIP connections;
// another address is served meanwhile.
func TestConnsPerIP(t *testing.T) {
	s := newTestServerHTTP(t, func(o *httpin.Options) { o.MaxConnsPerIP = 3 })
	s.mustCreateTenant(t, "acme")
	for range 3 {
		holdBody(t, s, "POST", batchPath, testToken, 100)
	}
	// The server sees the three before a fourth from the same address.
	time.Sleep(100 * time.Millisecond)
	conn, err := net.DialTimeout("tcp", s.srv.Addr(), 5*time.Second)
	require_NoError(t, err)
	defer conn.Close()
	require_NoError(t, conn.SetDeadline(time.Now().Add(10*time.Second)))
	_, _ = io.WriteString(conn, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
	got, _ := io.ReadAll(conn)
	require_True(t, !strings.Contains(string(got), `{"status":"ok"}`), "a fourth connection from 127.0.0.1 was served: %q", got)

	other := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DialContext: (&net.Dialer{
		LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)},
	}).DialContext}}
	req, err := http.NewRequest("POST", s.base+eventsPath, strings.NewReader(`{"type":"a.b","payload":{}}`))
	require_NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+testToken)
	resp, err := other.Do(req)
	require_NoError(t, err)
	resp.Body.Close()
	require_Equal(t, resp.StatusCode, http.StatusAccepted)
}

// mustCreateSource creates an inbound source from a JSON body and returns
// it decoded.
func (s *testServer) mustCreateSource(tb testing.TB, tenant, body string) map[string]any {
	tb.Helper()
	status, raw, _ := s.doRaw(tb, "POST", "/v1/tenants/"+tenant+"/sources", testToken, "application/json", body)
	if status != http.StatusCreated {
		tb.Fatalf("create source %s: status %d (body %s)", body, status, short(raw))
	}
	return decodeObject(tb, raw)
}

// metric reads one series' value from /metrics, -1 when it is absent.
func (s *testServer) metric(tb testing.TB, series string) float64 {
	tb.Helper()
	_, raw, _ := s.doRaw(tb, "GET", "/metrics", "", "", "")
	for line := range strings.SplitSeq(raw, "\n") {
		if rest, ok := strings.CutPrefix(line, series+" "); ok {
			var v float64
			if _, err := fmt.Sscan(rest, &v); err == nil {
				return v
			}
		}
	}
	return -1
}

// TestBodyBudgetAbandonedRequests: a request that ends while its body is
// being read, without an answer, gives its reservation back. A chunked
// body whose client closes at a chunk boundary ends with neither the
// handler nor the error handler (fasthttp takes the EOF for a client
// closing between requests), and its reservation used to stay: merged
// into whatever request next used the same pooled header (from the wrong
// half when that was a publish), or kept for good once the garbage
// collector dropped the pooled header. Four such requests, which anyone
// who knows a source's URL may send, left every inbound request 503
// server_busy until the restart.
func TestBodyBudgetAbandonedRequests(t *testing.T) {
	s := newTestServerHTTP(t, func(o *httpin.Options) {
		o.MaxBodyBytesInFlight = maxBodyBytes // the least allowed: 4 inbound bodies fill its half
		httpin.SetReadTimeout(o, time.Second)
	})
	s.mustCreateTenant(t, "acme")
	src := s.mustCreateSource(t, "acme", `{"provider":"none","mapping":{"type":"t"}}`)
	inboundOK := func() bool {
		status, _, _ := s.rawRequest(t, "POST "+str(t, src, "url")+" HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}")
		return status == http.StatusOK
	}
	abandon := func() net.Conn {
		conn, err := net.DialTimeout("tcp", s.srv.Addr(), 5*time.Second)
		require_NoError(t, err)
		_, err = io.WriteString(conn, "POST "+str(t, src, "url")+" HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n")
		require_NoError(t, err)
		return conn
	}
	require_True(t, inboundOK(), "inbound refused before any abandoned request")

	// Requests abandoned together, each on a header of its own, which the
	// garbage collector then takes from fasthttp's pool...
	var conns []net.Conn
	for range maxBodyBytes / 2 / (2 * maxEventBytes) {
		conns = append(conns, abandon())
	}
	time.Sleep(200 * time.Millisecond)
	for _, c := range conns {
		c.Close()
	}
	time.Sleep(200 * time.Millisecond)
	runtime.GC()
	runtime.GC()
	// ...and each followed by a publish that may reuse its header.
	for range 16 {
		abandon().Close()
		time.Sleep(5 * time.Millisecond)
		status, raw, _ := s.rawRequest(t, fmt.Sprintf("POST %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Length: 27\r\n\r\n{\"type\":\"a.b\",\"payload\":{}}", eventsPath, testToken))
		require_True(t, status == http.StatusAccepted, "publish: %d %s", status, short(raw))
	}

	// The budget comes back: at once for most, and for the rest once the
	// read timeout has passed for them.
	waitFor(t, 15*time.Second, "an inbound request to be accepted again", inboundOK)
}
