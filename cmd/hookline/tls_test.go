package main

import (
	"crypto/tls"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"hookline/internal/testcert"
)

// jsonLogs are the JSON log lines of p's output whose msg starts with
// prefix; every line of the output must be JSON.
func jsonLogs(t testing.TB, p *proc, prefix string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(p.output.String()), "\n") {
		if line == "" {
			continue
		}
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line is not JSON (--log-format json): %q", line)
		}
		if msg, _ := rec["msg"].(string); strings.HasPrefix(msg, prefix) {
			out = append(out, rec)
		}
	}
	return out
}

// servedName is the common name of the certificate a new connection to
// addr is given.
func servedName(t testing.TB, addr string) string {
	t.Helper()
	conn, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true})
	require_NoError(t, err)
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0].Subject.CommonName
}

// TestServeTLSAndSIGHUP: the binary serves HTTPS with the tls section's
// certificate, logs JSON with --log-format json (its start-up line naming
// the https address and no secret), and on SIGHUP serves a renewed
// certificate; a renewal it cannot load is logged and the old certificate
// stays.
func TestServeTLSAndSIGHUP(t *testing.T) {
	certDir := t.TempDir()
	pair, err := testcert.Write(certDir, "first")
	require_NoError(t, err)
	cfg := filepath.Join(t.TempDir(), "hookline.yaml")
	require_NoError(t, os.WriteFile(cfg, []byte("tls:\n  cert_file: "+pair.CertFile+"\n  key_file: "+pair.KeyFile+"\n  min_version: \"1.2\"\n"), 0o600))
	p := startProc(t, []string{"serve", "--config", cfg, "--listen", "127.0.0.1:0", "--data", t.TempDir(),
		"--admin-token", testAdminToken, "--log-format", "json"}, nil)
	var started map[string]any
	waitFor(t, 20*time.Second, "start-up line", func() bool {
		if recs := jsonLogs(t, p, "hookline started"); len(recs) > 0 {
			started = recs[0]
			return true
		}
		select {
		case <-p.exited:
			t.Fatalf("server exited during start-up: %v\n%s", p.err, p.output.String())
		default:
		}
		return false
	})
	listen, _ := started["listen"].(string)
	require_True(t, strings.HasPrefix(listen, "https://127.0.0.1:"), "start-up line listen %q; want https://", listen)
	require_Equal(t, started["tls_min_version"], any("1.2"))
	require_True(t, !strings.Contains(p.output.String(), testAdminToken), "the log holds the admin token")
	addr := strings.TrimPrefix(listen, "https://")

	client := func(pair testcert.Pair) *http.Client {
		return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
			TLSClientConfig: &tls.Config{RootCAs: pair.Pool()}, DisableKeepAlives: true}}
	}
	waitFor(t, 10*time.Second, "readyz over https", func() bool {
		resp, err := client(pair).Get("https://" + addr + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	if resp, err := http.Get("http://" + addr + "/readyz"); err == nil {
		resp.Body.Close()
		t.Fatalf("plain HTTP on the TLS listener answered %d", resp.StatusCode)
	}

	renewed, err := testcert.Write(certDir, "second")
	require_NoError(t, err)
	require_NoError(t, p.cmd.Process.Signal(syscall.SIGHUP))
	waitFor(t, eventually, "reload log line", func() bool { return len(jsonLogs(t, p, "SIGHUP: TLS certificate reloaded")) == 1 })
	require_Equal(t, servedName(t, addr), "second")
	resp, err := client(renewed).Get("https://" + addr + "/healthz")
	require_NoError(t, err)
	resp.Body.Close()

	require_NoError(t, os.WriteFile(renewed.KeyFile, []byte("not a key"), 0o600))
	require_NoError(t, p.cmd.Process.Signal(syscall.SIGHUP))
	waitFor(t, eventually, "reload failure log line", func() bool { return len(jsonLogs(t, p, "SIGHUP: TLS certificate not reloaded")) == 1 })
	failed := jsonLogs(t, p, "SIGHUP: TLS certificate not reloaded")[0]
	require_True(t, failed["level"] == "ERROR" && strings.Contains(failed["err"].(string), "tls.key_file"), "reload failure line %v", failed)
	require_Equal(t, servedName(t, addr), "second")
	p.stop()
}

// TestServeRejectsBadTLSAndLogFlags: a certificate that cannot be loaded
// stops the start naming the key; a bad --log-format or tls.min_version is
// refused naming the option.
func TestServeRejectsBadTLSAndLogFlags(t *testing.T) {
	dir := t.TempDir()
	write := func(body string) string {
		path := filepath.Join(dir, "c.yaml")
		require_NoError(t, os.WriteFile(path, []byte(body), 0o600))
		return path
	}
	f := func(want string, args ...string) {
		t.Helper()
		serveFails(t, want, append([]string{"--admin-token", testAdminToken}, args...))
	}
	f(`log_format is "xml"; it must be text or json (flag --log-format)`, "--log-format", "xml")
	f(`tls.min_version is "1.1"`, "--config", write("tls:\n  cert_file: a.pem\n  key_file: b.pem\n  min_version: \"1.1\"\n"))
	f(`cannot load the TLS certificate (tls.cert_file "`+filepath.Join(dir, "missing.pem"), "--config",
		write("tls:\n  cert_file: "+filepath.Join(dir, "missing.pem")+"\n  key_file: "+filepath.Join(dir, "missing.pem")+"\n"))
}
