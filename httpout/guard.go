package httpout

import "net/netip"

// Guard decides whether an IP address may be dialed as a webhook target.
//
// An address is allowed when it lies inside an operator allow-listed prefix,
// or when it is an ordinary public unicast address. Everything a webhook
// endpoint could use to reach the operator's own network is refused:
// loopback, unspecified, private, CGNAT, link-local (including the cloud
// metadata address 169.254.169.254), multicast, broadcast, reserved,
// benchmarking and documentation ranges, IPv6 ULA and site-local, and every
// IPv6 address outside global unicast 2000::/3.
//
// IPv6 forms that carry an IPv4 address are judged by that IPv4 address:
// IPv4-mapped ::ffff:a.b.c.d, NAT64 64:ff9b::a.b.c.d and 6to4 2002:aabb:ccdd::.
// Otherwise ::ffff:127.0.0.1 would reach loopback through a dual-stack socket.
//
// A Guard is immutable and safe for concurrent use.
type Guard struct {
	allow []netip.Prefix
}

// NewGuard returns a Guard that allows the given prefixes in addition to
// public unicast addresses. Invalid prefixes are ignored. IPv4-mapped IPv6
// prefixes (::ffff:10.0.0.0/104) are treated as the IPv4 prefix they map,
// because addresses are unmapped before they are matched.
func NewGuard(allow []netip.Prefix) *Guard {
	g := &Guard{}
	for _, p := range allow {
		if !p.IsValid() {
			continue
		}
		if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
		}
		g.allow = append(g.allow, p.Masked())
	}
	return g
}

// Allowed reports whether ip may be dialed.
func (g *Guard) Allowed(ip netip.Addr) bool {
	if !ip.IsValid() {
		return false
	}
	// Zones only select an interface; they do not change which host is
	// reached, and netip.Prefix.Contains never matches a zoned address.
	ip = ip.WithZone("").Unmap()
	for _, p := range g.allow {
		if p.Contains(ip) {
			return true
		}
	}
	if ip.Is4() {
		return !inAny(ip, deniedV4)
	}
	if v4, ok := embeddedIPv4(ip); ok {
		return g.Allowed(v4)
	}
	if !globalUnicastV6.Contains(ip) {
		return false
	}
	return !inAny(ip, deniedV6)
}

func inAny(ip netip.Addr, ps []netip.Prefix) bool {
	for _, p := range ps {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// embeddedIPv4 returns the IPv4 address carried by a NAT64 or 6to4 address.
// Such packets end up at that IPv4 address, so it is what must be judged.
func embeddedIPv4(ip netip.Addr) (netip.Addr, bool) {
	b := ip.As16()
	switch {
	case nat64.Contains(ip):
		return netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]}), true
	case sixToFour.Contains(ip):
		return netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]}), true
	}
	return netip.Addr{}, false
}

var (
	nat64           = netip.MustParsePrefix("64:ff9b::/96")
	sixToFour       = netip.MustParsePrefix("2002::/16")
	globalUnicastV6 = netip.MustParsePrefix("2000::/3")
)

// deniedV4 lists the IPv4 ranges refused unless allow-listed (RFC 6890 and
// its updates).
var deniedV4 = mustPrefixes(
	"0.0.0.0/8",       // "this network", includes the unspecified address
	"10.0.0.0/8",      // private
	"100.64.0.0/10",   // carrier-grade NAT
	"127.0.0.0/8",     // loopback
	"169.254.0.0/16",  // link-local, includes cloud metadata 169.254.169.254
	"172.16.0.0/12",   // private
	"192.0.0.0/24",    // IETF protocol assignments
	"192.0.2.0/24",    // documentation TEST-NET-1
	"192.88.99.0/24",  // deprecated 6to4 relay anycast
	"192.168.0.0/16",  // private
	"198.18.0.0/15",   // benchmarking
	"198.51.100.0/24", // documentation TEST-NET-2
	"203.0.113.0/24",  // documentation TEST-NET-3
	"224.0.0.0/4",     // multicast
	"240.0.0.0/4",     // reserved, includes broadcast 255.255.255.255
)

// deniedV6 lists the ranges inside 2000::/3 that are refused unless
// allow-listed. Everything outside 2000::/3 (::1, ::, fc00::/7, fe80::/10,
// fec0::/10, ff00::/8, ...) is refused by Allowed directly.
var deniedV6 = mustPrefixes(
	"2001::/23",     // IETF protocol assignments, includes Teredo 2001::/32 and benchmarking 2001:2::/48
	"2001:db8::/32", // documentation
	"3fff::/20",     // documentation (RFC 9637)
)

func mustPrefixes(ss ...string) []netip.Prefix {
	ps := make([]netip.Prefix, len(ss))
	for i, s := range ss {
		ps[i] = netip.MustParsePrefix(s)
	}
	return ps
}
