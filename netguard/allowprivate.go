package netguard

import (
	"fmt"
	"net/netip"
	"strings"
)

// allowPrivate holds the compiled Config.AllowPrivate entries.
type allowPrivate struct {
	prefixes []netip.Prefix
	hosts    []*glob
}

// add compiles one entry: a CIDR, an IP address in any spelling, or a host
// name or host glob.
func (a *allowPrivate) add(e string) error {
	if p, err := netip.ParsePrefix(e); err == nil {
		a.prefixes = append(a.prefixes, p.Masked())
		return nil
	}
	bare := e
	if strings.HasPrefix(e, "[") && strings.HasSuffix(e, "]") {
		bare = e[1 : len(e)-1]
	}
	if ip, err := netip.ParseAddr(bare); err == nil {
		ip = ip.WithZone("").Unmap()
		a.prefixes = append(a.prefixes, netip.PrefixFrom(ip, ip.BitLen()))
		return nil
	}
	if strings.ContainsAny(e, "/:@") {
		return fmt.Errorf("%q is not a CIDR, IP address or host name", e)
	}
	g, err := compileHostGlob(e, "")
	if err != nil {
		return fmt.Errorf("%q is not a CIDR, IP address or host name: %w", e, err)
	}
	if !g.hasMeta() {
		if ip, err := netip.ParseAddr(g.lit); err == nil {
			a.prefixes = append(a.prefixes, netip.PrefixFrom(ip, ip.BitLen()))
			return nil
		}
	}
	a.hosts = append(a.hosts, g)
	return nil
}

func (a *allowPrivate) allowsAddr(ip netip.Addr) bool {
	for _, p := range a.prefixes {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

func (a *allowPrivate) allowsHost(host string) bool {
	for _, g := range a.hosts {
		if g.match(host) {
			return true
		}
	}
	return false
}
