package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// binPath is the hookline binary built once by TestMain: the end-to-end tests
// run the real program, as a user would, and kill it for real.
var binPath string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "hookline-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binPath = filepath.Join(dir, "hookline")
	out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "cannot build hookline: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

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

// waitFor polls cond until it holds or timeout passes.
func require_True(t testing.TB, ok bool, format string, args ...any) {
	t.Helper()
	if !ok {
		t.Fatalf(format, args...)
	}
}

// eventually is the least time waitFor waits before it fails: a wait limit
// guards against a hang, it is not a bound on speed, and a loaded machine
// can be many times slower than a quiet one.
const eventually = time.Minute

// waitFor polls cond until it holds, failing the test after timeout or
// eventually, whichever is longer: timeout says how long cond takes on a
// quiet machine.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	limit := max(timeout, eventually)
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", limit, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// lockedBuffer collects a process's output for failure messages.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// proc is a running hookline process.
type proc struct {
	t      testing.TB
	cmd    *exec.Cmd
	addr   string // host:port the server listens on
	output *lockedBuffer
	lines  chan string // stdout lines (sink)
	exited chan struct{}
	err    error
}

// startServer runs `hookline serve` on a free loopback port with data in dir.
func startServer(t testing.TB, dir string, extra ...string) *proc {
	t.Helper()
	args := append([]string{"serve", "--listen", "127.0.0.1:0", "--data", dir, "--allow-net", "127.0.0.0/8"}, extra...)
	p := startProc(t, args, nil)
	// The start-up log line names the bound address.
	waitFor(t, 20*time.Second, "server start-up line", func() bool {
		out := p.output.String()
		if i := strings.Index(out, "listen=http://"); i >= 0 {
			rest := out[i+len("listen=http://"):]
			p.addr = strings.Fields(rest)[0]
			return true
		}
		select {
		case <-p.exited:
			t.Fatalf("server exited during start-up: %v\n%s", p.err, out)
		default:
		}
		return false
	})
	waitFor(t, 10*time.Second, "readyz", func() bool {
		resp, err := http.Get("http://" + p.addr + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	return p
}

func startProc(t testing.TB, args []string, env []string) *proc {
	t.Helper()
	p := &proc{t: t, output: &lockedBuffer{}, lines: make(chan string, 1024), exited: make(chan struct{})}
	p.cmd = exec.Command(binPath, args...)
	p.cmd.Env = append(os.Environ(), "HOOKLINE_ADMIN_TOKEN=")
	p.cmd.Env = append(p.cmd.Env, env...)
	p.cmd.Stderr = p.output
	stdout, err := p.cmd.StdoutPipe()
	require_NoError(t, err)
	require_NoError(t, p.cmd.Start())
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintln(p.output, line)
			select {
			case p.lines <- line:
			default:
			}
		}
	}()
	go func() {
		p.err = p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			_ = p.cmd.Process.Kill()
			<-p.exited
		}
		if t.Failed() {
			t.Logf("output of %v:\n%s", args, p.output.String())
		}
	})
	return p
}

// kill9 kills the process without letting it clean up.
func (p *proc) kill9() {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.exited
}

// stop sends SIGTERM and waits for a clean exit.
func (p *proc) stop() {
	p.t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(30 * time.Second):
		p.t.Fatalf("process did not exit within 30s of SIGTERM\n%s", p.output.String())
	}
	if p.err != nil {
		p.t.Fatalf("process exited with %v\n%s", p.err, p.output.String())
	}
}

// api is a client of a server's REST API.
type api struct {
	base  string
	token string
	c     *http.Client
}

func newAPI(addr, token string) *api {
	return &api{
		base:  "http://" + addr,
		token: token,
		c: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
			MaxIdleConnsPerHost: 64,
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		}},
	}
}

// do sends a request and decodes a JSON answer into out (when not nil).
func (a *api) do(method, path, contentType string, body []byte, out any) (int, error) {
	req, err := http.NewRequest(method, a.base+path, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+a.token)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := a.c.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, err
	}
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			return resp.StatusCode, fmt.Errorf("cannot decode %s %s answer %q: %w", method, path, b, err)
		}
	}
	return resp.StatusCode, nil
}

func (a *api) mustDo(t testing.TB, method, path string, body any, wantStatus int, out any) {
	t.Helper()
	b, err := json.Marshal(body)
	require_NoError(t, err)
	status, err := a.do(method, path, "application/json", b, out)
	require_NoError(t, err)
	if status != wantStatus {
		t.Fatalf("%s %s: status %d; want %d", method, path, status, wantStatus)
	}
}

type endpointCreated struct {
	ID     string `json:"id"`
	Secret string `json:"secret"`
}

func (a *api) createEndpoint(t testing.TB, tenant, url string, types []string) endpointCreated {
	t.Helper()
	var ep endpointCreated
	a.mustDo(t, "POST", "/v1/tenants/"+tenant+"/endpoints", map[string]any{"url": url, "event_types": types}, 201, &ep)
	if !strings.HasPrefix(ep.ID, "ep_") || !strings.HasPrefix(ep.Secret, "whsec_") {
		t.Fatalf("endpoint create returned %+v", ep)
	}
	return ep
}
