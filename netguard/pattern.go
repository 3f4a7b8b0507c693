package netguard

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"unicode"
)

// Pattern is a compiled URL pattern. Patterns are Tollgate fnmatch globs
// (`*`, `?`, `[abc]`, `[!a]`; see Appendix A.3 of the spec) but are
// compared per component of a parsed URL instead of over the whole text:
//
//	scheme://host[:port][/path]   e.g. https://*.example.com/*
//	host[:port][/path]            e.g. *.internal.*  (any scheme)
//
// The components are compared as follows.
//
//   - Scheme and host ignore case. A host glob only ever sees the host, so
//     `*` cannot reach into the path: https://*.example.com/* does not
//     match https://evil.com/.example.com/, and *.example.com does not
//     match example.com.evil.net.
//   - A literal host (no glob characters) is normalised like a URL host,
//     so http://0x7f.1/ and http://127.0.0.1/ are the same pattern. IPv6
//     literals are written in brackets: http://[::1]/*. Host globs are
//     matched against the normalised host (IPv4 as a dotted quad).
//   - No port means any port; a port may be a glob (https://h:8*).
//   - No path means any path. Otherwise the path glob is matched against
//     URL.Path (path and query), case-sensitively, and `*` crosses '/', as
//     Tollgate users expect of https://api.github.com/*.
//
// A Pattern is immutable and safe for concurrent use.
type Pattern struct {
	text   string
	scheme *glob // nil: any scheme
	host   *glob
	port   *glob // nil: any port
	path   *glob // nil: any path
}

// CompilePattern compiles a URL pattern; see Pattern for the syntax.
func CompilePattern(p string) (*Pattern, error) {
	pat, err := compilePattern(p)
	if err != nil {
		return nil, fmt.Errorf("invalid URL pattern %q: %w", p, err)
	}
	return pat, nil
}

func compilePattern(p string) (*Pattern, error) {
	if p == "" {
		return nil, errors.New("empty pattern (use * to match every URL)")
	}
	if trimURL(p) != p {
		return nil, errors.New("leading or trailing white space")
	}
	for _, r := range p {
		if unicode.IsControl(r) || unicode.IsSpace(r) {
			return nil, fmt.Errorf("contains %q; percent-encode it", r)
		}
	}
	switch {
	case strings.ContainsRune(p, '#'):
		return nil, errors.New("contains '#': fragments are never sent, so they cannot be matched")
	case strings.ContainsRune(p, '\\'):
		return nil, errors.New(`contains '\': write '/' (URLs are compared with '\' turned into '/')`)
	}
	pat := &Pattern{text: p}
	rest := p
	schemeLiteral := ""
	if i := strings.Index(p, "://"); i >= 0 {
		s := p[:i]
		if s == "" {
			return nil, errors.New("empty scheme (write *:// for any scheme)")
		}
		for j := 0; j < len(s); j++ {
			if c := s[j]; !isAlpha(c) && !('0' <= c && c <= '9') && !strings.ContainsRune("+-.*?[]!", rune(c)) {
				return nil, fmt.Errorf("invalid character %q in scheme", c)
			}
		}
		pat.scheme = compileGlob(s, true)
		if !pat.scheme.hasMeta() {
			schemeLiteral = pat.scheme.lit
		}
		rest = p[i+3:]
	}
	hostport, path := rest, ""
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		hostport, path = rest[:i], rest[i:]
	}
	if strings.ContainsRune(hostport, '@') {
		return nil, errors.New("contains userinfo ('@'); userinfo is ignored when matching, so leave it out")
	}
	host, port, err := splitPatternHostPort(hostport)
	if err != nil {
		return nil, err
	}
	if pat.host, err = compileHostGlob(host, schemeLiteral); err != nil {
		return nil, err
	}
	if port != "" {
		if pat.port, err = compilePortGlob(port); err != nil {
			return nil, err
		}
	}
	if path != "" {
		pat.path = compileGlob(path, false)
	}
	return pat, nil
}

// splitPatternHostPort splits host[:port], where host may be [IPv6].
func splitPatternHostPort(hp string) (host, port string, err error) {
	if strings.HasPrefix(hp, "[") {
		if end := strings.IndexByte(hp, ']'); end > 0 && strings.Contains(hp[1:end], ":") {
			host, port = hp[:end+1], hp[end+1:]
			if port != "" && port[0] != ':' {
				return "", "", fmt.Errorf("unexpected %q after IPv6 address", port)
			}
			if port != "" {
				port = port[1:]
				if port == "" {
					return "", "", errors.New("empty port after ':'")
				}
			}
			return host, port, nil
		}
	}
	i := strings.LastIndexByte(hp, ':')
	if i < 0 {
		return hp, "", nil
	}
	if hp[i+1:] == "" {
		return "", "", errors.New("empty port after ':'")
	}
	return hp[:i], hp[i+1:], nil
}

// compileHostGlob compiles the host part. A literal host is normalised as
// a URL host would be; a glob may only use host characters besides the
// glob syntax.
func compileHostGlob(h, scheme string) (*glob, error) {
	if h == "" {
		if scheme == "" || isSpecial(scheme) && scheme != "file" {
			return nil, errors.New("empty host (write * for any host)")
		}
		return compileGlob("", false), nil
	}
	if strings.HasPrefix(h, "[") && strings.HasSuffix(h, "]") && strings.Contains(h, ":") {
		norm, _, err := normaliseHost(h[1:len(h)-1], true)
		if err != nil {
			return nil, fmt.Errorf("%v (IPv6 patterns must be literal addresses)", err)
		}
		return compileGlob(norm, false), nil
	}
	g := compileGlob(h, true)
	if !g.hasMeta() {
		norm, _, err := normaliseHost(h, false)
		if err != nil {
			return nil, err
		}
		if norm == "" {
			return nil, errors.New("empty host (write * for any host)")
		}
		return compileGlob(norm, false), nil
	}
	if strings.HasSuffix(h, ".") {
		return nil, errors.New("host glob ends with '.'; hosts are compared without their trailing dot")
	}
	for _, t := range g.toks {
		if t.kind != tokLit {
			continue
		}
		switch {
		case !isASCII(t.lit):
			return nil, fmt.Errorf("non-ASCII %q in a host glob; write the name in punycode (xn--...)", t.lit)
		case !isHostByte(t.lit[0]):
			return nil, fmt.Errorf("invalid character %q in host", t.lit[0])
		}
	}
	return g, nil
}

// compilePortGlob compiles a port: digits (leading zeros dropped) or a glob.
func compilePortGlob(p string) (*glob, error) {
	if allDigits(p) {
		n, err := normalisePort(p)
		if err != nil {
			return nil, err
		}
		return compileGlob(n, false), nil
	}
	g := compileGlob(p, false)
	for _, t := range g.toks {
		if t.kind == tokLit && !allDigits(t.lit) {
			return nil, fmt.Errorf("invalid port %q", p)
		}
	}
	return g, nil
}

// Match reports whether u matches the pattern; use it for rules that
// allow. A scheme-relative u (empty Scheme) matches only if it matches as
// http and as https, the schemes a client could resolve it with. A nil
// Pattern or URL matches nothing.
func (p *Pattern) Match(u *URL) bool {
	if p == nil || u == nil {
		return false
	}
	if u.Scheme == "" {
		return p.matchAs(u, "http") && p.matchAs(u, "https")
	}
	return p.matchAs(u, u.Scheme)
}

// Blocks reports whether a rule that blocks with this pattern applies to
// u: u matches under any reading a client could act on. A scheme-relative
// u matches as http or as https, and a URL whose host is an IPv6 address
// carrying an IPv4 address (NAT64, 6to4, Teredo, ISATAP, IPv4-compatible
// or -translated; see DialControl) also matches when it matches with that
// IPv4 address as its host. Match does not do the latter: an allowlisted
// IPv4 address does not allow every IPv6 address that embeds it, since
// most of those are routed by whoever owns the IPv6 prefix.
func (p *Pattern) Blocks(u *URL) bool {
	if p == nil || u == nil {
		return false
	}
	if u.Scheme == "" {
		if p.matchAs(u, "http") || p.matchAs(u, "https") {
			return true
		}
	} else if p.matchAs(u, u.Scheme) {
		return true
	}
	found := false
	eachEmbeddedIPv4(u.IP, func(v4 netip.Addr) bool {
		v := *u
		v.IP, v.Host = v4, v4.String()
		found = p.Blocks(&v)
		return !found
	})
	return found
}

// matchAs matches u read with the given scheme (and its default port when
// u has none).
func (p *Pattern) matchAs(u *URL, scheme string) bool {
	port := u.Port
	if port == "" {
		port = defaultPort(scheme)
	}
	return (p.scheme == nil || p.scheme.match(scheme)) &&
		p.host.match(u.Host) &&
		(p.port == nil || p.port.match(port)) &&
		(p.path == nil || p.path.match(u.Path))
}

// String returns the pattern as written.
func (p *Pattern) String() string { return p.text }

// literalHost reports whether the pattern names one host (or IP) exactly,
// with no glob characters in the host part.
func (p *Pattern) literalHost() bool { return !p.host.hasMeta() && p.host.lit != "" }
