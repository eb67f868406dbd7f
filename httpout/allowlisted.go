package httpout

import (
	"context"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"time"
)

// allowListedLookupTimeout bounds the name lookup of AllowListed: an
// endpoint change waits for it, and a name that does not resolve in time is
// simply not exempt.
const allowListedLookupTimeout = 2 * time.Second

// AllowListed reports whether raw, a URL CheckURL accepted, reaches only
// networks the operator allow-listed (NewGuard's prefixes, not the public
// addresses every Guard allows): an IP literal inside one, a localhost
// name when loopback is inside one, or a DNS name whose every address is.
// The engine exempts such URLs from a require_https policy, so an
// operator's own loopback or private receivers can stay on plain http.
// It resolves names, so it is not for a hot path.
func (g *Guard) AllowListed(ctx context.Context, raw string) bool {
	if len(g.allow) == 0 {
		return false
	}
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	host := strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
	if host == "" {
		return false
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		return inAny(ip.WithZone("").Unmap(), g.allow)
	}
	if isLocalhostName(host) {
		return inAny(loopbackV4, g.allow)
	}
	ctx, cancel := context.WithTimeout(ctx, allowListedLookupTimeout)
	defer cancel()
	ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil || len(ips) == 0 {
		return false
	}
	for _, ip := range ips {
		if !inAny(ip.WithZone("").Unmap(), g.allow) {
			return false
		}
	}
	return true
}
