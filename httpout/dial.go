package httpout

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/valyala/fasthttp"
)

// classError carries the Result.ErrClass of a failure from where it is known
// to Send. Mostly the dialer returns it: only the dialer knows which step
// failed, and a refused address, a resolver error and a TLS handshake error
// can look alike by the time fasthttp hands them back.
type classError struct {
	class string
	err   error
}

func (e *classError) Error() string { return e.err.Error() }
func (e *classError) Unwrap() error { return e.err }

// minAttemptTimeout is the least time one address of a multi-address host gets
// before the next address is tried, unless the whole budget is smaller
// (the same rule as net.Dialer).
const minAttemptTimeout = 2 * time.Second

// dialer resolves, checks and connects. One dialer serves every host of a
// Sender; hostDialer binds it to one fasthttp.HostClient.
//
// How a connection is made:
//
//  1. The host part of addr is turned into candidate IPs: an IP literal is
//     taken as is, localhost names become 127.0.0.1, numeric names in legacy
//     forms are refused, anything else is resolved.
//  2. EVERY candidate must pass Guard.Allowed; one refused address refuses the
//     host, and no connection is attempted. Checking at this point, on the
//     addresses about to be dialed, is what defeats DNS rebinding: the answer
//     CheckURL never saw is the one that is checked.
//  3. The candidates are dialed in turn (IPv4 first) within ConnectTimeout.
//     net.Dialer.Control checks the address once more just before connect(2),
//     so no future change to steps 1-2 can reach a refused address.
//  4. For https the TLS handshake runs here too, so its errors are classified
//     as "tls", and it gets its own ConnectTimeout, cut short by the request
//     deadline.
type dialer struct {
	guard          *Guard
	connectTimeout time.Duration
	// lookup is net.DefaultResolver.LookupNetIP; tests replace it, since
	// they must not send DNS queries anywhere.
	lookup    func(ctx context.Context, network, host string) ([]netip.Addr, error)
	netDialer net.Dialer
}

func newDialer(g *Guard, connectTimeout time.Duration) *dialer {
	d := &dialer{
		guard:          g,
		connectTimeout: connectTimeout,
		lookup:         net.DefaultResolver.LookupNetIP,
	}
	d.netDialer.Control = d.control
	return d
}

// hostDialer returns the fasthttp dial function for one HostClient.
// tlsConfig is nil for plain http.
func (d *dialer) hostDialer(tlsConfig *tls.Config) fasthttp.DialFuncWithTimeout {
	return func(addr string, timeout time.Duration) (net.Conn, error) {
		return d.dial(addr, timeout, tlsConfig)
	}
}

// dial connects to addr ("host:port"). timeout is what is left of the
// request's own deadline, or 0 when fasthttp dials on behalf of a waiting
// request without one.
func (d *dialer) dial(addr string, timeout time.Duration, tlsConfig *tls.Config) (net.Conn, error) {
	start := time.Now()
	budget := d.connectTimeout
	if timeout > 0 && timeout < budget {
		budget = timeout
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil || host == "" || port == "" {
		return nil, &classError{class: ErrClassInvalidURL, err: fmt.Errorf("cannot split %q into a host and a port", addr)}
	}
	ips, err := d.resolve(host, start.Add(budget))
	if err != nil {
		return nil, err
	}
	for _, ip := range ips {
		if !d.guard.Allowed(ip) {
			return nil, &classError{class: ErrClassSSRF, err: fmt.Errorf("refusing to connect to %q: address %s is not allowed", host, ip)}
		}
	}
	conn, err := d.connect(ips, port, start.Add(budget))
	if err != nil {
		return nil, err
	}
	if tlsConfig == nil {
		return conn, nil
	}
	hsBudget := d.connectTimeout
	if timeout > 0 {
		if left := timeout - time.Since(start); left < hsBudget {
			hsBudget = left
		}
	}
	return handshake(conn, tlsConfig, time.Now().Add(hsBudget), addr)
}

// resolve returns the candidate addresses for host.
func (d *dialer) resolve(host string, deadline time.Time) ([]netip.Addr, error) {
	name := strings.TrimSuffix(host, ".")
	if ip, err := netip.ParseAddr(name); err == nil {
		return []netip.Addr{ip}, nil
	}
	lower := strings.ToLower(name)
	if isLocalhostName(lower) {
		// RFC 6761: never ask a resolver, whose answer for these names is
		// whatever its configuration says.
		return []netip.Addr{loopbackV4}, nil
	}
	if endsInNumber(lower) {
		// getaddrinfo would read 2130706433 or 127.1 as an IPv4 address;
		// CheckURL refuses these forms, so refuse them here as well.
		return nil, &classError{class: ErrClassSSRF, err: fmt.Errorf("refusing to resolve %q: it is a numeric address in a non-canonical form", host)}
	}
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	ips, err := d.lookup(ctx, "ip", name)
	if err != nil {
		return nil, &classError{class: ErrClassDNS, err: fmt.Errorf("cannot resolve %q: %w", host, err)}
	}
	if len(ips) == 0 {
		return nil, &classError{class: ErrClassDNS, err: fmt.Errorf("cannot resolve %q: no addresses", host)}
	}
	// fasthttp's own dialer uses IPv4 only, since IPv6 is broken on many
	// networks; prefer IPv4 but keep IPv6 so IPv6-only endpoints work.
	slices.SortStableFunc(ips, func(a, b netip.Addr) int {
		return b2i(b.Unmap().Is4()) - b2i(a.Unmap().Is4())
	})
	return ips, nil
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// connect dials ips in order until one accepts, sharing the time until
// deadline between the remaining addresses.
func (d *dialer) connect(ips []netip.Addr, port string, deadline time.Time) (net.Conn, error) {
	var lastErr error
	for i, ip := range ips {
		left := time.Until(deadline)
		if left <= 0 {
			break
		}
		attempt := left / time.Duration(len(ips)-i)
		if attempt < minAttemptTimeout {
			attempt = min(minAttemptTimeout, left)
		}
		nd := d.netDialer
		nd.Deadline = time.Now().Add(attempt)
		addr := net.JoinHostPort(ip.String(), port)
		conn, err := nd.Dial("tcp", addr)
		if err == nil {
			return conn, nil
		}
		lastErr = classifyConnectErr(addr, err)
	}
	if lastErr == nil {
		lastErr = &classError{class: ErrClassTimeout, err: fmt.Errorf("cannot connect to %s: connect timeout exhausted", ips[0])}
	}
	return nil, lastErr
}

func classifyConnectErr(addr string, err error) error {
	var de *classError
	if errors.As(err, &de) {
		return de
	}
	class := ErrClassNetwork
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		class = ErrClassRefused
	case isTimeout(err):
		class = ErrClassTimeout
	}
	return &classError{class: class, err: fmt.Errorf("cannot connect to %s: %w", addr, err)}
}

// control runs just before connect(2) on the exact address being dialed.
func (d *dialer) control(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil || !d.guard.Allowed(ap.Addr()) {
		return &classError{class: ErrClassSSRF, err: fmt.Errorf("refusing to connect to %s (%s): address is not allowed", address, network)}
	}
	return nil
}

func handshake(conn net.Conn, cfg *tls.Config, deadline time.Time, addr string) (net.Conn, error) {
	tc := tls.Client(conn, cfg)
	err := tc.SetDeadline(deadline)
	if err == nil {
		err = tc.Handshake()
	}
	if err == nil {
		err = tc.SetDeadline(time.Time{})
	}
	if err != nil {
		_ = conn.Close()
		class := ErrClassTLS
		if isTimeout(err) {
			class = ErrClassTimeout
		}
		return nil, &classError{class: class, err: fmt.Errorf("TLS handshake with %s failed: %w", addr, err)}
	}
	return tc, nil
}

// isTimeout reports whether err is a timeout. It matches on the Timeout method
// alone, as fasthttp.ErrTimeout has no Temporary method and so is no net.Error.
func isTimeout(err error) bool {
	var te interface{ Timeout() bool }
	return errors.As(err, &te) && te.Timeout()
}

// hostTLSConfig clones base for one host, so certificate verification and SNI
// use the host name from the URL rather than the IP that was dialed.
func hostTLSConfig(base *tls.Config, hostAddr string) *tls.Config {
	cfg := base.Clone()
	if cfg.ServerName == "" {
		host, _, err := net.SplitHostPort(hostAddr)
		if err != nil {
			host = hostAddr
		}
		cfg.ServerName = strings.TrimSuffix(host, ".")
	}
	return cfg
}
