package httpout

import (
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

var allowLoopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}

// newLocalServer starts a net/http server on 127.0.0.1 and counts the
// connections it accepts.
func newLocalServer(t *testing.T, h http.Handler) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("cannot listen on 127.0.0.1: %s", err)
	}
	var conns atomic.Int32
	srv := &httptest.Server{Listener: ln, Config: &http.Server{
		Handler: h,
		ConnState: func(_ net.Conn, st http.ConnState) {
			if st == http.StateNew {
				conns.Add(1)
			}
		},
	}}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, &conns
}

// newRawServer accepts TCP connections on 127.0.0.1 and runs handle on each.
func newRawServer(t *testing.T, handle func(c net.Conn)) (addr string, accepts *atomic.Int32) {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("cannot listen on 127.0.0.1: %s", err)
	}
	accepts = &atomic.Int32{}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var open []net.Conn
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepts.Add(1)
			mu.Lock()
			open = append(open, c)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				handle(c)
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range open {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ln.Addr().String(), accepts
}

func newTestSender(t testing.TB, opts Options) *Sender {
	t.Helper()
	s, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(s.CloseIdle)
	return s
}

func testRequest(url string) *Request {
	return &Request{
		URL:       url,
		MsgID:     "msg_test",
		Timestamp: time.Now().Unix(),
		Signature: []byte("v1,test"),
		Attempt:   1,
		Body:      []byte(`{"type":"invoice.paid"}`),
	}
}

func send(s *Sender, req *Request) *Result {
	var res Result
	s.Send(req, &res)
	return &res
}

func requireResponse(t *testing.T, res *Result, wantStatus int) {
	t.Helper()
	if res.ErrClass != "" || res.Err != nil {
		t.Fatalf("want a response with status %d; got ErrClass %q, Err %v", wantStatus, res.ErrClass, res.Err)
	}
	if res.Status != wantStatus {
		t.Fatalf("want status %d; got %d (body %q)", wantStatus, res.Status, res.Body)
	}
}

func requireErrClass(t *testing.T, res *Result, want string) {
	t.Helper()
	if res.ErrClass != want {
		t.Fatalf("want ErrClass %q; got %q (status %d, err %v)", want, res.ErrClass, res.Status, res.Err)
	}
	if res.Err == nil || res.Status != 0 || len(res.Body) != 0 {
		t.Fatalf("failed Send must set Err and leave Status 0 and Body empty; got err %v, status %d, body %q", res.Err, res.Status, res.Body)
	}
}

// requireErr fails unless err contains want, or unless err is nil when want
// is "". what names the call in the failure.
func requireErr(t *testing.T, what string, err error, want string) {
	t.Helper()
	switch {
	case want == "" && err != nil:
		t.Fatalf("%s: unexpected error: %s", what, err)
	case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
		t.Fatalf("%s = %v; want an error containing %q", what, err, want)
	}
}
