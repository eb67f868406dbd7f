package httpin

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"sync/atomic"
	"time"
)

// TLS versions Options.TLSMinVersion accepts, by their names.
var tlsVersions = map[string]uint16{"1.2": tls.VersionTLS12, "1.3": tls.VersionTLS13}

// certStore holds the listener's certificate. The TLS config reads it at
// each handshake (GetCertificate), so ReloadTLS swaps it for the
// connections that follow while those open keep theirs.
type certStore struct {
	certFile, keyFile string
	cur               atomic.Pointer[tls.Certificate]
}

// load reads the key pair from its files and, when they are valid, makes it
// the one served; on error the one served stays.
func (c *certStore) load() (*tls.Certificate, error) {
	cert, err := tls.LoadX509KeyPair(c.certFile, c.keyFile)
	if err != nil {
		return nil, fmt.Errorf("cannot load the TLS certificate (tls.cert_file %q, tls.key_file %q): %w", c.certFile, c.keyFile, err)
	}
	if cert.Leaf == nil {
		if cert.Leaf, err = x509.ParseCertificate(cert.Certificate[0]); err != nil {
			return nil, fmt.Errorf("cannot parse the TLS certificate (tls.cert_file %q): %w", c.certFile, err)
		}
	}
	c.cur.Store(&cert)
	return &cert, nil
}

func (c *certStore) get(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return c.cur.Load(), nil
}

// tlsConfig is the listener's TLS configuration: the minimum version the
// operator chose and HTTP/1.1 alone, the one protocol fasthttp speaks, so a
// client offering h2 in ALPN falls back to it.
func (c *certStore) tlsConfig(minVersion uint16) *tls.Config {
	return &tls.Config{
		MinVersion:     minVersion,
		GetCertificate: c.get,
		NextProtos:     []string{"http/1.1"},
	}
}

// TLS reports whether the main listener serves HTTPS.
func (s *Server) TLS() bool { return s.certs != nil }

// ReloadTLS reads the certificate and key files again and serves the new
// pair to the connections that follow. When they cannot be loaded it
// returns the error and the listener keeps the pair it had. It returns the
// new certificate's expiry, for the log.
func (s *Server) ReloadTLS() (notAfter time.Time, err error) {
	if s.certs == nil {
		return time.Time{}, errors.New("TLS is not configured (tls.cert_file and tls.key_file)")
	}
	cert, err := s.certs.load()
	if err != nil {
		return time.Time{}, err
	}
	return cert.Leaf.NotAfter, nil
}

// listenTLS wraps ln in TLS when the options name a certificate.
func (s *Server) listenTLS(ln net.Listener) net.Listener {
	if s.certs == nil {
		return ln
	}
	return tls.NewListener(ln, s.certs.tlsConfig(tlsVersions[s.opts.TLSMinVersion]))
}
