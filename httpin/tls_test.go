package httpin_test

import (
	"crypto/tls"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hookline/httpin"
	"hookline/internal/testcert"
)

// httpsClient trusts p's certificate alone and speaks TLS versions from
// minV to maxV (0: the latest).
func httpsClient(p testcert.Pair, minV, maxV uint16) *http.Client {
	cfg := &tls.Config{RootCAs: p.Pool(), MinVersion: minV, MaxVersion: maxV}
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: cfg, DisableKeepAlives: true}}
}

// servedCert is the certificate a new TLS connection to addr is given.
func servedCert(tb testing.TB, addr string) string {
	tb.Helper()
	conn, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true})
	require_NoError(tb, err)
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0].Subject.CommonName
}

// TestTLSListener: with a certificate the listener serves HTTPS over
// HTTP/1.1 (the API works, ALPN picks http/1.1 though h2 is offered), and a
// plain HTTP request gets no answer; the minimum version is enforced.
func TestTLSListener(t *testing.T) {
	dir := t.TempDir()
	pair, err := testcert.Write(dir, "first")
	require_NoError(t, err)
	s := newTestServerHTTP(t, func(o *httpin.Options) {
		o.TLSCertFile, o.TLSKeyFile = pair.CertFile, pair.KeyFile
	})
	require_True(t, s.srv.TLS(), "TLS() is false with a certificate")
	base := "https://" + s.srv.Addr()

	c := httpsClient(pair, tls.VersionTLS12, 0)
	req, err := http.NewRequest("POST", base+"/v1/tenants", strings.NewReader(`{"id":"acme"}`))
	require_NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+testToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	require_NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require_Equal(t, resp.StatusCode, 201)
	require_True(t, strings.Contains(string(body), `"acme"`), "body %s", body)
	require_Equal(t, resp.Proto, "HTTP/1.1")

	// A client offering h2 first is given HTTP/1.1.
	conn, err := tls.Dial("tcp", s.srv.Addr(), &tls.Config{RootCAs: pair.Pool(), NextProtos: []string{"h2", "http/1.1"}})
	require_NoError(t, err)
	require_Equal(t, conn.ConnectionState().NegotiatedProtocol, "http/1.1")
	conn.Close()

	// Plain HTTP on the TLS listener: no HTTP answer, the handshake fails.
	resp, err = http.Get("http://" + s.srv.Addr() + "/healthz")
	if err == nil {
		resp.Body.Close()
		t.Fatalf("plain HTTP on the TLS listener answered %d", resp.StatusCode)
	}

	// The default minimum is TLS 1.2: a TLS 1.1 client is refused.
	_, err = httpsClient(pair, tls.VersionTLS10, tls.VersionTLS11).Get(base + "/healthz")
	require_True(t, err != nil, "a TLS 1.1 client was served")
}

// TestTLSMinVersion13: tls.min_version 1.3 refuses a TLS 1.2 client and
// serves a TLS 1.3 one.
func TestTLSMinVersion13(t *testing.T) {
	pair, err := testcert.Write(t.TempDir(), "v13")
	require_NoError(t, err)
	s := newTestServerHTTP(t, func(o *httpin.Options) {
		o.TLSCertFile, o.TLSKeyFile, o.TLSMinVersion = pair.CertFile, pair.KeyFile, "1.3"
	})
	base := "https://" + s.srv.Addr()
	_, err = httpsClient(pair, tls.VersionTLS12, tls.VersionTLS12).Get(base + "/healthz")
	require_True(t, err != nil && strings.Contains(err.Error(), "protocol version"), "a TLS 1.2 client: err %v; want a protocol version alert", err)
	resp, err := httpsClient(pair, tls.VersionTLS13, tls.VersionTLS13).Get(base + "/healthz")
	require_NoError(t, err)
	resp.Body.Close()
	require_Equal(t, resp.StatusCode, 200)
	require_Equal(t, resp.TLS.Version, uint16(tls.VersionTLS13))
}

// TestTLSReload: ReloadTLS serves a renewed certificate to new connections;
// when the new files cannot be loaded it returns the error naming them and
// the listener keeps the certificate it had.
func TestTLSReload(t *testing.T) {
	dir := t.TempDir()
	first, err := testcert.Write(dir, "first")
	require_NoError(t, err)
	s := newTestServerHTTP(t, func(o *httpin.Options) {
		o.TLSCertFile, o.TLSKeyFile = first.CertFile, first.KeyFile
	})
	require_Equal(t, servedCert(t, s.srv.Addr()), "first")

	second, err := testcert.Write(dir, "second")
	require_NoError(t, err)
	notAfter, err := s.srv.ReloadTLS()
	require_NoError(t, err)
	require_True(t, notAfter.Equal(second.Cert.NotAfter), "ReloadTLS returned expiry %v; want %v", notAfter, second.Cert.NotAfter)
	require_Equal(t, servedCert(t, s.srv.Addr()), "second")
	resp, err := httpsClient(second, tls.VersionTLS12, 0).Get("https://" + s.srv.Addr() + "/healthz")
	require_NoError(t, err)
	resp.Body.Close()

	// A broken renewal: a truncated certificate, then a key of another pair.
	require_NoError(t, os.WriteFile(second.CertFile, []byte("-----BEGIN CERTIFICATE-----\nMIIB\n"), 0o600))
	_, err = s.srv.ReloadTLS()
	require_True(t, err != nil && strings.Contains(err.Error(), "tls.cert_file"), "ReloadTLS of a truncated certificate: %v", err)
	require_Equal(t, servedCert(t, s.srv.Addr()), "second")
	other, err := testcert.Write(t.TempDir(), "other")
	require_NoError(t, err)
	b, err := os.ReadFile(other.CertFile)
	require_NoError(t, err)
	require_NoError(t, os.WriteFile(second.CertFile, b, 0o600)) // key.pem stays second's
	_, err = s.srv.ReloadTLS()
	require_True(t, err != nil && strings.Contains(err.Error(), "private key does not match"), "ReloadTLS of a mismatched pair: %v", err)
	require_Equal(t, servedCert(t, s.srv.Addr()), "second")
}

// TestTLSBadFiles: New refuses certificate files it cannot load, naming
// the keys; without TLS, ReloadTLS says there is nothing to reload.
func TestTLSBadFiles(t *testing.T) {
	dir := t.TempDir()
	pair, err := testcert.Write(dir, "x")
	require_NoError(t, err)
	f := func(cert, key, want string) {
		t.Helper()
		opts := httpin.Options{AdminToken: testToken, TLSCertFile: cert, TLSKeyFile: key, NoDashboard: true}
		_, err := httpin.New(nil, nil, nil, opts)
		require_True(t, err != nil && strings.Contains(err.Error(), want), "New with cert %q key %q: %v; want %q", cert, key, err, want)
	}
	f(filepath.Join(dir, "missing.pem"), pair.KeyFile, "cannot load the TLS certificate (tls.cert_file")
	f(pair.CertFile, filepath.Join(dir, "missing.pem"), "no such file")
	f(pair.KeyFile, pair.CertFile, "cannot load the TLS certificate")
	f(pair.CertFile, "", "httpin.Options.TLSKeyFile is \"\"; give both")
	opts := httpin.Options{AdminToken: testToken, TLSCertFile: pair.CertFile, TLSKeyFile: pair.KeyFile, TLSMinVersion: "1.0"}
	_, err = httpin.New(nil, nil, nil, opts)
	require_True(t, err != nil && strings.Contains(err.Error(), `httpin.Options.TLSMinVersion is "1.0"`), "min version 1.0: %v", err)

	s := newTestServer(t)
	status, _, _ := s.do(t, "GET", "/healthz", "", "", "")
	require_Equal(t, status, 200)
	require_True(t, !s.srv.TLS(), "TLS() is true without a certificate")
	_, err = s.srv.ReloadTLS()
	require_True(t, err != nil && strings.Contains(err.Error(), "TLS is not configured"), "ReloadTLS without TLS: %v", err)
}
