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

// embeddings are the ways an IPv6 address carries an IPv4 address that a
// translator, tunnel or the kernel delivers to, so the IPv6 address means
// that IPv4 host: each is checked like the IPv4 address inside it.
// (IPv4-mapped ::ffff:a.b.c.d is unmapped before any check.)
var embeddings = []struct {
	prefix netip.Prefix // the invalid zero Prefix: any address (see ISATAP)
	v4     func(b *[16]byte) ([4]byte, bool)
}{
	{netip.MustParsePrefix("::/96"), at(12)},           // IPv4-compatible ::a.b.c.d (RFC 4291, deprecated)
	{netip.MustParsePrefix("::ffff:0:0:0/96"), at(12)}, // IPv4-translated ::ffff:0:a.b.c.d (SIIT, RFC 2765)
	{netip.MustParsePrefix("64:ff9b::/96"), at(12)},    // NAT64 well-known prefix (RFC 6052)
	// NAT64 local-use prefix (RFC 8215): the operator picks the prefix
	// length inside it, so every RFC 6052 layout that fits is checked.
	// (The /96 layout is checked whatever the other bits say.)
	{netip.MustParsePrefix("64:ff9b:1::/48"), rfc6052(48)},
	{netip.MustParsePrefix("64:ff9b:1::/48"), rfc6052(56)},
	{netip.MustParsePrefix("64:ff9b:1::/48"), rfc6052(64)},
	{netip.MustParsePrefix("64:ff9b:1::/48"), at(12)},
	{netip.MustParsePrefix("2002::/16"), at(2)}, // 6to4 (RFC 3056)
	// Teredo (RFC 4380): the server's address as is, the client's with
	// every bit flipped.
	{netip.MustParsePrefix("2001::/32"), at(4)},
	{netip.MustParsePrefix("2001::/32"), func(b *[16]byte) ([4]byte, bool) {
		return [4]byte{^b[12], ^b[13], ^b[14], ^b[15]}, true
	}},
	// ISATAP (RFC 5214): any prefix, interface id 0:5efe:a.b.c.d or
	// 200:5efe:a.b.c.d (the u/l and group bits may be set).
	{netip.Prefix{}, func(b *[16]byte) ([4]byte, bool) {
		return [4]byte(b[12:16]), b[8]&^3 == 0 && b[9] == 0 && b[10] == 0x5e && b[11] == 0xfe
	}},
}

// at reads the IPv4 address at byte offset off.
func at(off int) func(b *[16]byte) ([4]byte, bool) {
	return func(b *[16]byte) ([4]byte, bool) { return [4]byte(b[off : off+4]), true }
}

// rfc6052 reads the IPv4 address of an RFC 6052 NAT64 address with the
// given prefix length (48, 56 or 64): bits 64-71 are skipped. The layout
// applies only when those bits and the suffix after the IPv4 address are
// zero, as RFC 6052 requires; otherwise a /96 address such as
// 64:ff9b:1::808:808 would also read as 0.0.0.0.
func rfc6052(prefixLen int) func(b *[16]byte) ([4]byte, bool) {
	return func(b *[16]byte) ([4]byte, bool) {
		var v4 [4]byte
		j := prefixLen / 8
		for i := range v4 {
			if j == 8 {
				j++
			}
			v4[i] = b[j]
			j++
		}
		for ; j < 16; j++ {
			if b[j] != 0 {
				return v4, false
			}
		}
		return v4, b[8] == 0
	}
}

// eachEmbeddedIPv4 calls fn with every IPv4 address that ip carries (see
// embeddings) until fn returns false.
func eachEmbeddedIPv4(ip netip.Addr, fn func(v4 netip.Addr) bool) {
	if !ip.Is6() || ip.Is4In6() {
		return
	}
	b := ip.As16()
	for _, e := range embeddings {
		if e.prefix.IsValid() && !e.prefix.Contains(ip) {
			continue
		}
		if v4, ok := e.v4(&b); ok && !fn(netip.AddrFrom4(v4)) {
			return
		}
	}
}

// specialAddr reports whether ip is in the built-in block. addr is the
// address that matched: ip itself or the IPv4 address embedded in it.
func specialAddr(ip netip.Addr) (what string, addr netip.Addr, ok bool) {
	ip = ip.WithZone("").Unmap()
	if what, ok := specialRange4or6(ip); ok {
		return what, ip, true
	}
	eachEmbeddedIPv4(ip, func(v4 netip.Addr) bool {
		what, ok = specialRange4or6(v4)
		addr = v4
		return !ok
	})
	if !ok {
		return "", netip.Addr{}, false
	}
	return what, addr, true
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
