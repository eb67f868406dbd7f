package httpin_test

// HTTP-level test harness: a real hookline server (real wal dir, real engine,
// real sender) on 127.0.0.1, driven by net/http as any client would.

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"

	"hookline/engine"
	"hookline/engine/access"
	"hookline/engine/inbound"
	"hookline/httpin"
	"hookline/httpout"
	"hookline/internal/replicatest"
	"hookline/wal"
)

const (
	testToken      = "test-token-0123456789abcdef012345"
	maxEventBytes  = 64 << 10
	maxBodyBytes   = 1 << 20
	maxBatchEvents = 100
)

type testServer struct {
	srv    *httpin.Server
	eng    *engine.Engine
	rc     *inbound.Receiver
	log    *wal.Log
	dir    string // the wal's data directory
	base   string
	client *http.Client
	// rec keeps every answer client got; at the end of the test each is
	// validated against openapi.json (checkAnswers). nil in benchmarks.
	rec *recorder

	srvOnce, engOnce, logOnce sync.Once
}

// newTestServer starts a server on 127.0.0.1:0 and registers its shutdown.
// The engine and the server share one metrics set, as cmd/hookline wires them.
func newTestServer(tb testing.TB, engineOpts ...func(*engine.Options)) *testServer {
	tb.Helper()
	return newTestServerHTTP(tb, nil, engineOpts...)
}

// newTestServerHTTP is newTestServer with the server's options changed by
// httpOpts (when not nil) after the tests' defaults are set.
func newTestServerHTTP(tb testing.TB, httpOpts func(*httpin.Options), engineOpts ...func(*engine.Options)) *testServer {
	tb.Helper()
	return newTestServerDir(tb, tb.TempDir(), httpOpts, engineOpts...)
}

// newTestServerDir is newTestServerHTTP on the wal in dir: a test restarts
// a server by stopping it and starting another on its dir.
func newTestServerDir(tb testing.TB, dir string, httpOpts func(*httpin.Options), engineOpts ...func(*engine.Options)) *testServer {
	tb.Helper()
	log, err := replicatest.Open(dir, nil)
	require_NoError(tb, err)
	sender := httpout.NewSender(httpout.Options{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
	set := metrics.NewSet()
	eopts := engine.Options{Metrics: set}
	if replicatest.Enabled() {
		eopts.Cluster = replicatest.SoleOwner{}
	}
	for _, f := range engineOpts {
		f(&eopts)
	}
	eng, err := engine.New(log, sender, eopts)
	if err != nil {
		_ = log.Close()
		tb.Fatalf("engine.New: %v", err)
	}
	hopts := httpin.Options{
		Listen:         "127.0.0.1:0",
		AdminToken:     testToken,
		MaxEventBytes:  maxEventBytes,
		MaxBodyBytes:   maxBodyBytes,
		MaxBatchEvents: maxBatchEvents,
		Metrics:        set,
	}
	if httpOpts != nil {
		httpOpts(&hopts)
	}
	acc, err := access.New(eng, log, access.Options{})
	var rc *inbound.Receiver
	if err == nil {
		rc, err = inbound.New(eng, log, inbound.Options{Metrics: set})
	}
	var srv *httpin.Server
	if err == nil {
		srv, err = httpin.New(eng, rc, acc, hopts)
	}
	if err == nil {
		err = srv.Listen()
	}
	if err != nil {
		eng.Stop(context.Background())
		_ = log.Close()
		tb.Fatalf("cannot start server: %v", err)
	}
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = srv.Serve()
	}()
	var transport http.RoundTripper = &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true}
	var rec *recorder
	if _, bench := tb.(*testing.B); !bench { // a benchmark's answers are many and alike
		rec = &recorder{base: transport, host: srv.Addr()}
		transport = rec
	}
	s := &testServer{
		srv:    srv,
		eng:    eng,
		rc:     rc,
		log:    log,
		dir:    dir,
		base:   "http://" + srv.Addr(),
		client: &http.Client{Timeout: 30 * time.Second, Transport: transport},
		rec:    rec,
	}
	tb.Cleanup(func() {
		if rec != nil {
			checkAnswers(tb, rec)
		}
		s.client.CloseIdleConnections()
		s.shutdownServer(tb)
		select {
		case <-served:
		case <-time.After(10 * time.Second):
			tb.Errorf("Serve did not return within 10s of Shutdown")
		}
		s.stopEngine()
		s.closeLog()
	})
	return s
}

func (s *testServer) shutdownServer(tb testing.TB) {
	s.srvOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.srv.Shutdown(ctx); err != nil {
			tb.Errorf("Shutdown: %v", err)
		}
	})
}

func (s *testServer) stopEngine() {
	s.engOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		s.eng.Stop(ctx)
	})
}

func (s *testServer) closeLog() {
	s.logOnce.Do(func() { _ = s.log.Close() })
}

// doRaw sends one request and returns the status, the raw body and the headers.
// token "" sends no Authorization header; a token containing a space is sent
// verbatim (e.g. "Basic xxx"), any other is sent as "Bearer <token>".
func (s *testServer) doRaw(tb testing.TB, method, path, token, contentType, body string, extra ...string) (int, string, http.Header) {
	tb.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, s.base+path, rd)
	require_NoError(tb, err)
	switch {
	case token == "":
	case strings.Contains(token, " "):
		req.Header.Set("Authorization", token)
	default:
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(extra); i += 2 {
		req.Header.Set(extra[i], extra[i+1])
	}
	resp, err := s.client.Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require_NoError(tb, err)
	return resp.StatusCode, string(b), resp.Header
}

// do is doRaw with the body decoded as a JSON object (nil when the body is
// empty); a non-empty body that is not a JSON object fails the test.
func (s *testServer) do(tb testing.TB, method, path, token, contentType, body string, extra ...string) (int, map[string]any, http.Header) {
	tb.Helper()
	status, raw, h := s.doRaw(tb, method, path, token, contentType, body, extra...)
	return status, decodeObject(tb, raw), h
}

func decodeObject(tb testing.TB, raw string) map[string]any {
	tb.Helper()
	if raw == "" {
		return nil
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		tb.Fatalf("response body is not a JSON object: %v\n%s", err, short(raw))
	}
	return m
}

// requireErrorBody checks that raw is exactly {"error":{"code":code,"message":<non-empty>}}
// and returns the message.
func requireErrorBody(tb testing.TB, raw, code string) string {
	tb.Helper()
	var env map[string]json.RawMessage
	if err := json.Unmarshal([]byte(raw), &env); err != nil {
		tb.Fatalf("error body is not a JSON object: %v\n%s", err, short(raw))
	}
	if len(env) != 1 || env["error"] == nil {
		tb.Fatalf("error body must have exactly the key \"error\": %s", short(raw))
	}
	var e map[string]any
	if err := json.Unmarshal(env["error"], &e); err != nil {
		tb.Fatalf("\"error\" is not an object: %s", short(raw))
	}
	if len(e) != 2 {
		tb.Fatalf("\"error\" must have exactly code and message: %s", short(raw))
	}
	if got, _ := e["code"].(string); got != code {
		tb.Fatalf("error.code = %q; want %q (body %s)", got, code, short(raw))
	}
	msg, ok := e["message"].(string)
	if !ok || strings.TrimSpace(msg) == "" {
		tb.Fatalf("error.message must be a non-empty string: %s", short(raw))
	}
	return msg
}

// state is everything a request could have written.
type state struct {
	counts    wal.Counts
	tenants   []engine.Tenant
	endpoints map[string][]engine.Endpoint
	jobs      map[string]int
	sources   map[string][]inbound.Source
	// inbound counts each source's logged requests.
	inbound map[string]int
}

func (s *testServer) snapshot(tb testing.TB) state {
	tb.Helper()
	c, err := s.log.Count()
	require_NoError(tb, err)
	st := state{counts: c, tenants: s.eng.ListTenants("", 1000), endpoints: map[string][]engine.Endpoint{}, jobs: map[string]int{},
		sources: map[string][]inbound.Source{}, inbound: map[string]int{}}
	for _, t := range st.tenants {
		eps, err := s.eng.ListEndpoints(t.ID, "", 1000, false)
		require_NoError(tb, err)
		st.endpoints[t.ID] = eps
		js, err := s.eng.ListJobs(t.ID)
		require_NoError(tb, err)
		st.jobs[t.ID] = len(js)
		srcs, err := s.rc.ListSources(t.ID)
		require_NoError(tb, err)
		st.sources[t.ID] = srcs
		for _, src := range srcs {
			for cursor := ""; ; {
				page, next, err := s.rc.ListRequests(t.ID, src.ID, cursor, 1000)
				require_NoError(tb, err)
				st.inbound[src.ID] += len(page)
				if cursor = next; next == "" {
					break
				}
			}
		}
	}
	return st
}

func requireSameState(tb testing.TB, before, after state) {
	tb.Helper()
	if before.counts != after.counts {
		tb.Fatalf("the wal changed: before %+v, after %+v", before.counts, after.counts)
	}
	if !reflect.DeepEqual(before.tenants, after.tenants) {
		tb.Fatalf("the tenants changed:\nbefore %+v\nafter  %+v", before.tenants, after.tenants)
	}
	if !reflect.DeepEqual(before.endpoints, after.endpoints) {
		tb.Fatalf("the endpoints changed:\nbefore %+v\nafter  %+v", before.endpoints, after.endpoints)
	}
	if !reflect.DeepEqual(before.jobs, after.jobs) {
		tb.Fatalf("jobs were created: before %v, after %v", before.jobs, after.jobs)
	}
	if !reflect.DeepEqual(before.sources, after.sources) {
		tb.Fatalf("the sources changed:\nbefore %+v\nafter  %+v", before.sources, after.sources)
	}
	if !reflect.DeepEqual(before.inbound, after.inbound) {
		tb.Fatalf("requests were logged: before %v, after %v", before.inbound, after.inbound)
	}
}

// reject sends a request that must fail with wantStatus and wantCode, checks
// the error body, checks that nothing was written, and returns the message.
func (s *testServer) reject(tb testing.TB, method, path, token, contentType, body string, wantStatus int, wantCode string, extra ...string) string {
	tb.Helper()
	before := s.snapshot(tb)
	status, raw, h := s.doRaw(tb, method, path, token, contentType, body, extra...)
	if status != wantStatus {
		tb.Fatalf("%s %s %s: status %d; want %d (body %s)", method, path, short(body), status, wantStatus, short(raw))
	}
	if ct := h.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		tb.Fatalf("%s %s: error Content-Type %q; want application/json", method, path, ct)
	}
	msg := requireErrorBody(tb, raw, wantCode)
	requireSameState(tb, before, s.snapshot(tb))
	return msg
}

// mustCreateTenant creates tenant id and returns it decoded.
func (s *testServer) mustCreateTenant(tb testing.TB, id string) map[string]any {
	tb.Helper()
	status, raw, _ := s.doRaw(tb, "POST", "/v1/tenants", testToken, "application/json", fmt.Sprintf(`{"id":%q,"name":"Tenant %s"}`, id, id))
	if status != http.StatusCreated {
		tb.Fatalf("create tenant %q: status %d (body %s)", id, status, short(raw))
	}
	return decodeObject(tb, raw)
}

// mustCreateEndpoint creates an endpoint from a JSON body and returns it decoded.
func (s *testServer) mustCreateEndpoint(tb testing.TB, tenant, body string) map[string]any {
	tb.Helper()
	status, raw, _ := s.doRaw(tb, "POST", "/v1/tenants/"+tenant+"/endpoints", testToken, "application/json", body)
	if status != http.StatusCreated {
		tb.Fatalf("create endpoint %s: status %d (body %s)", body, status, short(raw))
	}
	return decodeObject(tb, raw)
}

// rawRequest writes req verbatim on a new connection and returns the status
// line's code, the headers and the body of the reply. It is for requests
// net/http will not send or cannot send without a race, e.g. a Content-Length
// above the server's limit without the body.
func (s *testServer) rawRequest(tb testing.TB, req string) (int, string, http.Header) {
	tb.Helper()
	return rawRequestAt(tb, s.srv.Addr(), req)
}

// rawRequestAt is rawRequest to the listener at addr.
func rawRequestAt(tb testing.TB, addr, req string) (int, string, http.Header) {
	tb.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	require_NoError(tb, err)
	defer conn.Close()
	require_NoError(tb, conn.SetDeadline(time.Now().Add(10*time.Second)))
	_, err = io.WriteString(conn, req)
	require_NoError(tb, err)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	require_NoError(tb, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require_NoError(tb, err)
	return resp.StatusCode, string(b), resp.Header
}

// eventually is the least time a test waits for something that must
// happen before it fails: a wait limit guards against a hang, it is not a
// bound on speed, and a loaded machine (two cores, -race, another suite
// running) can be many times slower than a quiet one.
const eventually = time.Minute

// waitFor polls cond every 10ms until it holds, failing the test after
// timeout or eventually, whichever is longer: timeout says how long cond
// takes on a quiet machine.
func waitFor(tb testing.TB, timeout time.Duration, what string, cond func() bool) {
	tb.Helper()
	limit := max(timeout, eventually)
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out after %s waiting for %s", limit, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func require_NoError(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatalf("unexpected error: %v", err)
	}
}

func require_Equal[T comparable](tb testing.TB, got, want T) {
	tb.Helper()
	if got != want {
		tb.Fatalf("got %v; want %v", got, want)
	}
}

func require_True(tb testing.TB, ok bool, format string, args ...any) {
	tb.Helper()
	if !ok {
		tb.Fatalf(format, args...)
	}
}

// str returns m[key] as a string, failing if it is not one.
func str(tb testing.TB, m map[string]any, key string) string {
	tb.Helper()
	v, ok := m[key].(string)
	if !ok {
		tb.Fatalf("%q is %T (%v); want a string in %v", key, m[key], m[key], m)
	}
	return v
}

// strs returns m[key] as a []string, failing if it is not an array of strings.
func strs(tb testing.TB, m map[string]any, key string) []string {
	tb.Helper()
	arr, ok := m[key].([]any)
	if !ok {
		tb.Fatalf("%q is %T (%v); want an array in %v", key, m[key], m[key], m)
	}
	out := make([]string, len(arr))
	for i, v := range arr {
		if out[i], ok = v.(string); !ok {
			tb.Fatalf("%q[%d] is %T; want a string", key, i, v)
		}
	}
	return out
}

func short(s string) string {
	if len(s) > 300 {
		return s[:300] + fmt.Sprintf("...(%d bytes)", len(s))
	}
	return s
}

// newFirstFailsReceiver is a receiver whose first answer is 503 and every
// other 200: one retried delivery, then successes.
func newFirstFailsReceiver(t *testing.T) *httptest.Server {
	var calls atomic.Int32
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if calls.Add(1) == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	t.Cleanup(rcv.Close)
	return rcv
}
