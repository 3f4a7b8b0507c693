package netguard

import (
	"net/netip"
	"strings"
)

// specialRange is one range of the built-in block.
type specialRange struct {
	prefix netip.Prefix
	what   string
}

// specialRanges are addresses an agent's tool call has no business
// reaching, blocked even when the policy default is "allow". More specific
// ranges come first so the message names the most useful category.
var specialRanges = []specialRange{
	{netip.MustParsePrefix("169.254.169.254/32"), "cloud metadata address"}, // AWS, GCP, Azure, OCI
	{netip.MustParsePrefix("100.100.100.200/32"), "cloud metadata address"}, // Alibaba
	{netip.MustParsePrefix("fd00:ec2::254/128"), "cloud metadata address"},  // AWS IPv6
	{netip.MustParsePrefix("0.0.0.0/8"), "unspecified address"},             // Linux connects 0.0.0.0 to the local host
	{netip.MustParsePrefix("127.0.0.0/8"), "loopback address"},
	{netip.MustParsePrefix("10.0.0.0/8"), "private address"},
	{netip.MustParsePrefix("172.16.0.0/12"), "private address"},
	{netip.MustParsePrefix("192.168.0.0/16"), "private address"},
	{netip.MustParsePrefix("169.254.0.0/16"), "link-local address"},
	{netip.MustParsePrefix("100.64.0.0/10"), "carrier-grade NAT address"},
	{netip.MustParsePrefix("::/128"), "unspecified address"},
	{netip.MustParsePrefix("::1/128"), "loopback address"},
	{netip.MustParsePrefix("fc00::/7"), "private address"}, // unique local addresses
	{netip.MustParsePrefix("fe80::/10"), "link-local address"},
}

// embeddings are IPv6 ranges that carry an IPv4 address a gateway or the
// kernel may deliver to: IPv4-compatible ::a.b.c.d, NAT64 and 6to4. off is
// the byte offset of the IPv4 address.
var embeddings = []struct {
	prefix netip.Prefix
	off    int
}{
	{netip.MustParsePrefix("::/96"), 12},
	{netip.MustParsePrefix("64:ff9b::/96"), 12},
	{netip.MustParsePrefix("64:ff9b:1::/48"), 12},
	{netip.MustParsePrefix("2002::/16"), 2},
}

// specialAddr reports whether ip is in the built-in block. addr is the
// address that matched: ip itself or the IPv4 address embedded in it.
func specialAddr(ip netip.Addr) (what string, addr netip.Addr, ok bool) {
	ip = ip.WithZone("").Unmap()
	if what, ok := specialRange4or6(ip); ok {
		return what, ip, true
	}
	if ip.Is6() {
		b := ip.As16()
		for _, e := range embeddings {
			if e.prefix.Contains(ip) {
				v4 := netip.AddrFrom4([4]byte(b[e.off : e.off+4]))
				if what, ok := specialRange4or6(v4); ok {
					return what, v4, true
				}
			}
		}
	}
	return "", netip.Addr{}, false
}

func specialRange4or6(ip netip.Addr) (string, bool) {
	for _, r := range specialRanges {
		if r.prefix.Contains(ip) {
			return r.what, true
		}
	}
	return "", false
}

// specialName reports whether a host name is in the built-in block: names
// that always mean this machine or the cloud metadata service, no DNS
// needed to know that.
func specialName(host string) (string, bool) {
	switch {
	case host == "localhost", strings.HasSuffix(host, ".localhost"),
		host == "ip6-localhost", host == "ip6-loopback": // Debian's /etc/hosts
		return "local host name", true
	case host == "metadata.google.internal":
		return "cloud metadata host name", true
	}
	return "", false
}

// specialHost explains why u's host is in the built-in block.
func specialHost(u *URL) (string, bool) {
	if u.IP.IsValid() {
		what, addr, ok := specialAddr(u.IP)
		if !ok {
			return "", false
		}
		if addr != u.IP {
			return what + " " + addr.String() + " embedded in " + u.IP.String(), true
		}
		return what + " " + addr.String(), true
	}
	what, ok := specialName(u.Host)
	if !ok {
		return "", false
	}
	return what + " " + u.Host, true
}
