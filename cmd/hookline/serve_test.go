package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// testAdminToken is an admin token of the least length allowed (32 bytes).
const testAdminToken = "0123456789abcdef0123456789abcdef"

// serveFails runs serve with args (and env) and requires it to exit
// non-zero with an error containing want.
func serveFails(t *testing.T, want string, args []string, env ...string) {
	t.Helper()
	p := startProc(t, append([]string{"serve", "--listen", "127.0.0.1:0", "--data", t.TempDir()}, args...), env)
	select {
	case <-p.exited:
	case <-time.After(20 * time.Second):
		t.Fatalf("serve %v did not exit", args)
	}
	if p.err == nil || !strings.Contains(p.output.String(), want) {
		t.Fatalf("serve %v: exit %v, output %q; want an error containing %q", args, p.err, p.output.String(), want)
	}
}

// TestServeRejectsBadFlags: the binary exits non-zero with a clear message.
func TestServeRejectsBadFlags(t *testing.T) {
	f := func(want string, args ...string) {
		t.Helper()
		serveFails(t, want, append([]string{"--admin-token", testAdminToken}, args...))
	}
	f("retry schedule delay 2", "--retry-schedule", "5s,soon")
	f("allow-net", "--allow-net", "nope")
	f("cannot listen", "--listen", "256.0.0.1:1")
	f("takes no arguments", "extra")
}

// TestAdminTokenFile: --admin-token-file reads the token from a file (its
// trailing newline trimmed), so it never shows in the process's arguments;
// a file other users could read or write, an empty or multi-line one, and a
// short token are refused, as is a short token from any other source.
func TestAdminTokenFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string, mode os.FileMode) string {
		t.Helper()
		path := filepath.Join(dir, name)
		require_NoError(t, os.WriteFile(path, []byte(content), mode))
		require_NoError(t, os.Chmod(path, mode)) // whatever the umask
		return path
	}
	token := testAdminToken + "-from-a-file"
	path := write("token", token+"\n", 0o600)
	srv := startServer(t, t.TempDir(), "--admin-token-file", path)
	a := newAPI(srv.addr, token)
	a.mustDo(t, "POST", "/v1/tenants", map[string]any{"id": "acme"}, 201, nil)
	cmdline, err := os.ReadFile("/proc/" + strconv.Itoa(srv.cmd.Process.Pid) + "/cmdline")
	if err == nil {
		require_True(t, !strings.Contains(string(cmdline), token), "the token shows in the command line: %q", cmdline)
	}
	srv.stop()
	// Group-readable is allowed (a secret mounted for a service's group).
	srv = startServer(t, t.TempDir(), "--admin-token-file", write("crlf", token+"\r\n", 0o640))
	newAPI(srv.addr, token).mustDo(t, "GET", "/v1/tenants", nil, 200, nil)
	srv.stop()

	f := func(want string, args ...string) {
		t.Helper()
		serveFails(t, want, args)
	}
	f("insecure_token_file", "--admin-token-file", write("world-readable", token, 0o644))
	f("insecure_token_file", "--admin-token-file", write("world-writable", token, 0o602))
	f("invalid_token_file", "--admin-token-file", write("empty", "\n", 0o600))
	f("invalid_token_file", "--admin-token-file", write("two-lines", token+"\n"+token+"\n", 0o600))
	f("cannot read admin token file", "--admin-token-file", filepath.Join(dir, "missing"))
	f("weak_secret", "--admin-token-file", write("short", "0123456789abcdef\n", 0o600))
	f("at least 32 bytes", "--admin-token-file", write("short31", testAdminToken[1:], 0o600))
	f("not both", "--admin-token", testAdminToken, "--admin-token-file", path)
	f("weak_secret", "--admin-token", "x")
	serveFails(t, "weak_secret", nil, "HOOKLINE_ADMIN_TOKEN=0123456789abcdef")
	cfg := filepath.Join(dir, "both.yaml")
	require_NoError(t, os.WriteFile(cfg, []byte("admin_token: "+testAdminToken+"\nadmin_token_file: "+path+"\n"), 0o600))
	f("admin_token and admin_token_file are both set", "--config", cfg)
	// A flag replaces the file's token, whichever form each takes.
	srv = startServer(t, t.TempDir(), "--config", cfg, "--admin-token-file", path)
	newAPI(srv.addr, token).mustDo(t, "GET", "/v1/tenants", nil, 200, nil)
	srv.stop()
	file := filepath.Join(dir, "file.yaml")
	require_NoError(t, os.WriteFile(file, []byte("admin_token_file: "+path+"\n"), 0o600))
	srv = startServer(t, t.TempDir(), "--config", file)
	newAPI(srv.addr, token).mustDo(t, "GET", "/v1/tenants", nil, 200, nil)
	srv.stop()
	srv = startServer(t, t.TempDir(), "--config", file, "--admin-token", testAdminToken)
	newAPI(srv.addr, testAdminToken).mustDo(t, "GET", "/v1/tenants", nil, 200, nil)
	srv.stop()
}

// TestLoopback: the start-up warning about an open /metrics is for
// addresses other machines can reach.
func TestLoopback(t *testing.T) {
	f := func(addr string, want bool) {
		t.Helper()
		require_Equal(t, loopback(addr), want)
	}
	f("127.0.0.1:8080", true)
	f("127.0.0.2:8080", true)
	f("[::1]:8080", true)
	f("0.0.0.0:8080", false)
	f("[::]:8080", false)
	f("10.0.0.5:8080", false)
	f("nonsense", false)
}
