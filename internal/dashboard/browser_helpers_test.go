package dashboard_test

import (
	"bytes"
	"context"
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
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// The browser tests run the real binary (built once by TestMain) with
// real receivers on 127.0.0.1, and drive the dashboard in headless
// Chromium. Chromium is required: `make test` installs it (apt-get, as
// root) or says how; a test never skips for want of it.

const adminToken = "dashboard-test-admin-token-0123456789abcdef"

var (
	binPath      string
	chromiumPath string
	artifactsDir string
)

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	chromiumPath = findChromium()
	if chromiumPath == "" {
		fmt.Fprintln(os.Stderr, "The dashboard's browser tests need Chromium and found none (looked at $HOOKLINE_CHROMIUM, chromium, chromium-browser, google-chrome).\n"+
			"Install it: `make test` does so with apt-get when run as root; otherwise run `sudo apt-get install chromium` (Debian/Ubuntu) or set HOOKLINE_CHROMIUM to a Chrome or Chromium binary.")
		return 1
	}
	dir, err := os.MkdirTemp("", "hookline-dashboard-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	binPath = filepath.Join(dir, "hookline")
	if out, err := exec.Command("go", "build", "-o", binPath, "hookline/cmd/hookline").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "cannot build hookline: %v\n%s", err, out)
		return 1
	}
	artifactsDir = os.Getenv("HOOKLINE_ARTIFACTS")
	if artifactsDir == "" {
		artifactsDir = filepath.Join("..", "..", "build", "screenshots")
	}
	if err := os.MkdirAll(artifactsDir, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

func findChromium() string {
	if p := os.Getenv("HOOKLINE_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// server is a running `hookline serve`.
type server struct {
	base string // http://127.0.0.1:port
	cmd  *exec.Cmd
	out  *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startServer runs hookline serve on a free loopback port, with data in a
// temporary directory; extra are more flags. It returns once /readyz
// answers.
func startServer(t *testing.T, extra ...string) *server {
	t.Helper()
	args := append([]string{"serve", "--listen", "127.0.0.1:0", "--data", t.TempDir(), "--allow-net", "127.0.0.0/8", "--admin-token", adminToken}, extra...)
	s := &server{cmd: exec.Command(binPath, args...), out: &syncBuffer{}}
	s.cmd.Env = append(os.Environ(), "HOOKLINE_ADMIN_TOKEN=")
	s.cmd.Stdout, s.cmd.Stderr = s.out, s.out
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = s.cmd.Process.Kill()
		_ = s.cmd.Wait()
		if t.Failed() {
			t.Logf("server output:\n%s", s.out.String())
		}
	})
	waitFor(t, 30*time.Second, "the server's start-up line", func() bool {
		out := s.out.String()
		i := strings.Index(out, "listen=http://")
		if i < 0 {
			return false
		}
		s.base = strings.Fields(out[i+len("listen="):])[0]
		return true
	})
	waitFor(t, 30*time.Second, "readyz", func() bool {
		resp, err := http.Get(s.base + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	return s
}

// api calls the server's API with token ("" for the admin token) and
// decodes the answer into out when given; it fails the test on a status
// other than want.
func (s *server) api(t *testing.T, method, path, token string, body any, want int, out any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, s.base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token == "" {
		token = adminToken
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("%s %s: status %d, want %d: %s", method, path, resp.StatusCode, want, raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, path, err, raw)
		}
	}
}

// receiver is a webhook receiver on 127.0.0.1 answering status (200
// unless set), keeping what it got.
type receiver struct {
	URL    string
	mu     sync.Mutex
	status int
	got    []received
}

type received struct {
	Method, Path string
	Header       http.Header
	Body         []byte
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{status: 200}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.got = append(r.got, received{req.Method, req.URL.Path, req.Header.Clone(), body})
		status := r.status
		r.mu.Unlock()
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(status)
		fmt.Fprintf(w, "receiver answered %d", status)
	})}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	r.URL = "http://" + ln.Addr().String()
	return r
}

func (r *receiver) setStatus(s int) {
	r.mu.Lock()
	r.status = s
	r.mu.Unlock()
}

func (r *receiver) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.got)
}

func (r *receiver) requests() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.got...)
}

// browser is one headless Chromium tab. Every JavaScript exception and
// console error on its pages (a CSP violation included) fails the test.
type browser struct {
	t   *testing.T
	ctx context.Context
	mu  sync.Mutex
	js  []string
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath),
		chromedp.NoSandbox,
		chromedp.WindowSize(1280, 900),
		chromedp.Flag("disable-dev-shm-usage", true),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	b := &browser{t: t}
	ctx, cancel := chromedp.NewContext(actx, chromedp.WithListener(func(ev any) {
		switch e := ev.(type) {
		case *runtime.EventExceptionThrown:
			b.mu.Lock()
			b.js = append(b.js, "exception: "+(&chromedp.ExceptionError{ExceptionDetails: e.ExceptionDetails}).Error())
			b.mu.Unlock()
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.ConsoleAPICalledTypeError {
				var parts []string
				for _, a := range e.Args {
					parts = append(parts, string(a.Value)+a.Description)
				}
				b.mu.Lock()
				b.js = append(b.js, "console.error: "+strings.Join(parts, " "))
				b.mu.Unlock()
			}
		}
	}))
	b.ctx = ctx
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("cannot start Chromium (%s): %v", chromiumPath, err)
	}
	t.Cleanup(func() {
		b.mu.Lock()
		errs := append([]string(nil), b.js...)
		b.mu.Unlock()
		cancel()
		cancelAlloc()
		for _, e := range errs {
			t.Errorf("in the page: %s", e)
		}
	})
	return b
}

// run runs chromedp actions, failing the test on an error.
func (b *browser) run(actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 60*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.shot("failure-" + b.t.Name())
		b.t.Fatalf("browser: %v", err)
	}
}

// eval evaluates a JavaScript expression for its effect.
func (b *browser) eval(expr string) {
	b.t.Helper()
	evalJS[any](b, expr)
}

// evalJS evaluates a JavaScript expression and returns its value.
func evalJS[T any](b *browser, expr string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 60*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		b.shot("failure-" + b.t.Name())
		b.t.Fatalf("browser: %s: %v", expr, err)
	}
	return v
}

// waitJS waits until the JavaScript expression is true.
func (b *browser) waitJS(what, expr string) {
	b.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool]("!!("+expr+")"))
		cancel()
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			b.shot("failure-" + b.t.Name())
			text, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText.slice(0, 3000) : ""`))
			b.t.Fatalf("waited 30s for %s (%s): %v\npage text:\n%s", what, expr, err, text)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitText waits until the page's text (of the elements matching css)
// holds text.
func (b *browser) waitText(css, text string) {
	b.t.Helper()
	b.waitJS(fmt.Sprintf("%q in %s", text, css), fmt.Sprintf(`[...document.querySelectorAll(%q)].some(e => e.innerText.includes(%q))`, css, text))
}

// click clicks the first element matching css whose text holds text
// ("" for any), once it exists and is enabled.
func (b *browser) click(css, text string) {
	b.t.Helper()
	find := fmt.Sprintf(`[...document.querySelectorAll(%q)].find(e => e.innerText.includes(%q) && !e.disabled)`, css, text)
	b.waitJS(fmt.Sprintf("%s %q to click", css, text), find)
	b.eval(`(()=>{const e=` + find + `; e.scrollIntoView({block:"center"}); e.click(); return true})()`)
}

// fill types value into the input matching css (replacing its value) the
// way a user does, so the page sees input events.
func (b *browser) fill(css, value string) {
	b.t.Helper()
	b.waitJS(css+" to fill", fmt.Sprintf(`document.querySelector(%q)`, css))
	b.eval(fmt.Sprintf(`(()=>{const e=document.querySelector(%q); e.focus(); e.value=""; return true})()`, css))
	b.run(chromedp.SendKeys(chromedp.CSS(css), value))
}

// setValue sets a control's value (a select, a date, a long textarea)
// and sends the input and change events a user's choice would.
func (b *browser) setValue(css, value string) {
	b.t.Helper()
	b.waitJS(css+" to set", fmt.Sprintf(`document.querySelector(%q)`, css))
	b.eval(fmt.Sprintf(`(()=>{const e=document.querySelector(%q); const p=Object.getPrototypeOf(e); const d=Object.getOwnPropertyDescriptor(p,"value"); d.set.call(e,%q);
		e.dispatchEvent(new Event("input",{bubbles:true})); e.dispatchEvent(new Event("change",{bubbles:true})); return true})()`, css, value))
}

// open navigates to the server's path and waits for the app to settle:
// the sign-in form, a signed-in layout, or the portal's ended page (the
// app has asked /v1/me by then, so a route set next is not raced).
func (b *browser) open(s *server, path string) {
	b.t.Helper()
	b.run(chromedp.Navigate(s.base + path))
	b.waitJS("the app", `document.querySelector("#app .layout, #app .signin")`)
}

// signIn opens the operator view and signs in with the admin token.
func (b *browser) signIn(s *server) {
	b.t.Helper()
	b.open(s, "/")
	b.fill("#token", adminToken)
	b.click("button[type=submit]", "Sign in")
	b.waitText("h1", "Tenants")
}

// go_ sets the app's hash route (#/...), as a click on a link would.
func (b *browser) go_(hash string) {
	b.t.Helper()
	b.eval(fmt.Sprintf(`location.hash=%q`, hash))
}

// shot saves a PNG of the whole page under the artefacts directory.
func (b *browser) shot(name string) {
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Logf("cannot take screenshot %s: %v", name, err)
		return
	}
	name = strings.NewReplacer("/", "-", " ", "_").Replace(name)
	p := filepath.Join(artifactsDir, name+".png")
	if err := os.WriteFile(p, png, 0o644); err != nil {
		b.t.Logf("cannot save screenshot %s: %v", p, err)
	}
}

// timing appends a measurement to the artefacts directory's timings.txt
// (numbers for the issue; nothing asserts a wall-clock bound).
func timing(t *testing.T, what string, d time.Duration) {
	t.Logf("timing: %s: %s", what, d)
	f, err := os.OpenFile(filepath.Join(artifactsDir, "timings.txt"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return
	}
	defer f.Close()
	fmt.Fprintf(f, "%s\t%s\t%s\n", time.Now().UTC().Format(time.RFC3339), what, d)
}

func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %s for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// writeConfig writes a config file holding text and returns its path.
func writeConfig(t *testing.T, text string) string {
	p := filepath.Join(t.TempDir(), "hookline.yaml")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
