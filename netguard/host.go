package netguard

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"golang.org/x/net/idna"
)

// normaliseHost turns the host part of an authority into the form every
// check compares: lower-case ASCII, IP literals in canonical form. It
// follows the WHATWG URL host parser (what browsers, Node's fetch and most
// HTTP stacks' inet_aton do) so that a spelling one client would send to
// 127.0.0.1 is also seen as 127.0.0.1 here:
//
//   - percent-escapes are decoded once ("127.0.0.%31");
//   - non-ASCII hosts go through IDNA (full-width "１２７．０．０．１");
//   - a host whose last label is a number is an IPv4 address in inet_aton
//     syntax: 1 to 4 parts, each decimal, 0x-hex or 0-octal, the last part
//     filling the remaining bytes ("2130706433", "0x7f.1", "0177.0.0.1",
//     "127.1"); if it does not parse, the host is refused rather than
//     treated as a name;
//   - bracketed hosts are IPv6; IPv4-mapped addresses are unmapped and zone
//     ids dropped.
//
// Domain names lose one trailing dot ("localhost." is localhost). Anything
// outside letters, digits, '-', '_' and '.' is refused: names with other
// characters cannot be looked up, and refusing them removes room for
// parsers to disagree.
func normaliseHost(h string, bracketed bool) (string, netip.Addr, error) {
	if strings.IndexByte(h, '%') >= 0 {
		dec, err := percentDecode(h)
		if err != nil {
			return "", netip.Addr{}, err
		}
		h = dec
	}
	if bracketed {
		return normaliseIPv6(h)
	}
	if !isASCII(h) {
		a, err := idna.Lookup.ToASCII(h)
		if err != nil {
			return "", netip.Addr{}, fmt.Errorf("invalid international host name %q", clip(h))
		}
		h = a
	}
	h = lowerASCII(h)
	for i := 0; i < len(h); i++ {
		if !isHostByte(h[i]) {
			return "", netip.Addr{}, fmt.Errorf("invalid character %q in host", h[i])
		}
	}
	if endsInNumber(h) {
		ip, ok := parseIPv4(h)
		if !ok {
			return "", netip.Addr{}, fmt.Errorf("invalid IPv4 address %q", clip(h))
		}
		return ip.String(), ip, nil
	}
	h = strings.TrimSuffix(h, ".")
	if strings.HasPrefix(h, ".") || strings.HasSuffix(h, ".") || strings.Contains(h, "..") {
		return "", netip.Addr{}, fmt.Errorf("empty label in host %q", clip(h))
	}
	return h, netip.Addr{}, nil
}

func normaliseIPv6(h string) (string, netip.Addr, error) {
	ip, err := netip.ParseAddr(h)
	if err != nil || !ip.Is6() {
		return "", netip.Addr{}, fmt.Errorf("invalid IPv6 address [%s]", clip(h))
	}
	ip = ip.WithZone("").Unmap()
	return ip.String(), ip, nil
}

func isHostByte(c byte) bool {
	return 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_'
}

// endsInNumber is the WHATWG "ends in a number" test: the last label
// (ignoring one trailing dot) is all digits or 0x followed by hex digits.
func endsInNumber(h string) bool {
	h = strings.TrimSuffix(h, ".")
	last := h[strings.LastIndexByte(h, '.')+1:]
	if last == "" {
		return false
	}
	if allDigits(last) {
		return true
	}
	if len(last) >= 2 && last[0] == '0' && last[1] == 'x' {
		for i := 2; i < len(last); i++ {
			if !isHex(last[i]) {
				return false
			}
		}
		return true
	}
	return false
}

// parseIPv4 is the WHATWG IPv4 parser (inet_aton syntax).
func parseIPv4(h string) (netip.Addr, bool) {
	h = strings.TrimSuffix(h, ".")
	parts := strings.Split(h, ".")
	if len(parts) > 4 {
		return netip.Addr{}, false
	}
	nums := make([]uint64, len(parts))
	for i, p := range parts {
		n, ok := parseIPv4Number(p)
		if !ok {
			return netip.Addr{}, false
		}
		nums[i] = n
	}
	last := len(nums) - 1
	for _, n := range nums[:last] {
		if n > 255 {
			return netip.Addr{}, false
		}
	}
	if nums[last] >= 1<<(8*(5-len(nums))) {
		return netip.Addr{}, false
	}
	v := nums[last]
	for i, n := range nums[:last] {
		v += n << (8 * (3 - i))
	}
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), true
}

func parseIPv4Number(p string) (uint64, bool) {
	if p == "" {
		return 0, false
	}
	base := 10
	switch {
	case len(p) >= 2 && p[0] == '0' && p[1] == 'x':
		p, base = p[2:], 16
		if p == "" {
			return 0, true // "0x" is zero, as in WHATWG
		}
	case len(p) >= 2 && p[0] == '0':
		p, base = p[1:], 8
	}
	// Bound the length so huge inputs fail fast instead of overflowing.
	if len(p) > 32 {
		return 0, false
	}
	n, err := strconv.ParseUint(p, base, 64)
	if err != nil {
		return 0, false
	}
	return n, true
}

var errBadEscape = errors.New("invalid percent-escape")

// percentDecode decodes every %XX escape; a '%' not followed by two hex
// digits is an error (clients disagree about what it means).
func percentDecode(s string) (string, error) {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b.WriteByte(s[i])
			continue
		}
		if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
			return "", errBadEscape
		}
		b.WriteByte(unhex(s[i+1])<<4 | unhex(s[i+2]))
		i += 2
	}
	return b.String(), nil
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// lowerASCII lower-cases ASCII letters, without allocating when there are
// none.
func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			return strings.ToLower(s)
		}
	}
	return s
}

// clip shortens text quoted in error messages: the whole value is already
// in the violation, once is enough.
func clip(s string) string {
	const max = 64
	if len(s) <= max {
		return s
	}
	return s[:max] + "..."
}
