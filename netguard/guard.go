package netguard

import (
	"errors"
	"fmt"
	"net/netip"
	"syscall"

	"github.com/tollgate-go/tollgate"
)

// Config configures a Guard. The zero Config denies every URL.
type Config struct {
	// Default is "deny" (also when empty) or "allow". In deny mode a URL
	// must match the allowlist; in allow mode only block-listed and
	// built-in-blocked URLs are refused.
	Default string
	// Allowlist and Blocklist are URL patterns (see Pattern). The
	// blocklist always wins. An empty allowlist means "no allowlist".
	Allowlist, Blocklist []string
	// ParamFields limits the check to these top-level parameters (and
	// everything nested in them). Nil or empty checks every parameter:
	// Tollgate reads an empty param_fields_to_check as "all", and so do we.
	ParamFields []string
	// AllowPrivate lifts the built-in block for these CIDRs ("10.0.0.0/8"),
	// IP addresses (any spelling) and host names or host globs
	// ("*.localhost"). The allowlist/blocklist/default still apply.
	AllowPrivate []string
}

// Guard checks the URLs in tool-call parameters against a network policy.
// It is immutable after New and safe for concurrent use.
type Guard struct {
	deny   bool
	allow  []*Pattern
	block  []*Pattern
	exempt []*Pattern // allowlist patterns that name a host literally
	fields map[string]bool
	allowPrivate
}

// ErrBlocked is wrapped by DialControl's errors.
var ErrBlocked = errors.New("blocked by network policy")

// New compiles cfg. It fails on an unknown default, an invalid pattern or
// an invalid AllowPrivate entry.
func New(cfg Config) (*Guard, error) {
	g := &Guard{}
	switch cfg.Default {
	case "", "deny":
		g.deny = true
	case "allow":
	default:
		return nil, fmt.Errorf("netguard: default must be 'deny' or 'allow', got '%s'", cfg.Default)
	}
	var err error
	if g.allow, err = compileList("allowlist", cfg.Allowlist); err != nil {
		return nil, err
	}
	if g.block, err = compileList("blocklist", cfg.Blocklist); err != nil {
		return nil, err
	}
	for _, p := range g.allow {
		if p.literalHost() {
			g.exempt = append(g.exempt, p)
		}
	}
	if len(cfg.ParamFields) > 0 {
		g.fields = make(map[string]bool, len(cfg.ParamFields))
		for _, f := range cfg.ParamFields {
			g.fields[f] = true
		}
	}
	for i, e := range cfg.AllowPrivate {
		if err := g.allowPrivate.add(e); err != nil {
			return nil, fmt.Errorf("netguard: allow_private[%d]: %w", i, err)
		}
	}
	return g, nil
}

func compileList(name string, pats []string) ([]*Pattern, error) {
	out := make([]*Pattern, 0, len(pats))
	for i, s := range pats {
		p, err := CompilePattern(s)
		if err != nil {
			return nil, fmt.Errorf("netguard: %s[%d]: %w", name, i, err)
		}
		out = append(out, p)
	}
	return out, nil
}

// Check returns one violation per problem with a URL in params, in
// document order; nil when there is none. Every string value at any depth
// is inspected (only under ParamFields when set), and every URL FindURLs
// finds in it is checked: the string as a whole once unwrapped ("url:",
// "<URL:...>", "jar:"), each scheme:// and //host inside it (prose, query
// strings), and the strings of a JSON document it holds. So in deny mode a
// string passes only if every URL in it is allowed. Per URL, in order:
//
//  1. malformed (looks like a URL but cannot be read safely): blocked;
//  2. the first matching blocklist pattern (Pattern.Blocks):
//     "blocked by network policy (matches '{pattern}')";
//  3. the built-in block (loopback, private, link-local, unspecified,
//     CGNAT, cloud metadata, localhost names, and those IPv4 addresses
//     inside IPv6 ones), unless exempted by AllowPrivate or by an
//     allowlist pattern that names the host or IP literally and matches:
//     "blocked by network policy ({why} {addr})";
//  4. as Tollgate: with an allowlist, no match in deny mode gives
//     "not in network policy allowlist"; without one, deny mode gives
//     "blocked by network policy (default: deny, no allowlist defined)".
//
// The URL in a message is the whole string when the string is the URL,
// else the part of it that is. Host names are not resolved; see
// DialControl.
func (g *Guard) Check(params tollgate.Params) []tollgate.Violation {
	var out []tollgate.Violation
	var buf []byte // path of nested values; top-level strings need none
	visit := func(path []byte, s string) { g.checkString(location{path: path}, s, &out) }
	tooDeep := func(path []byte) {
		out = append(out, tollgate.Violation{Field: string(path), Description: fmt.Sprintf(
			"Parameter '%s': value nested deeper than %d levels was not inspected by network policy", path, tollgate.MaxDepth)})
	}
	for _, f := range params {
		if g.fields != nil && !g.fields[f.Key] {
			continue
		}
		if s, ok := f.Value.(string); ok {
			g.checkString(location{key: f.Key}, s, &out)
			continue
		}
		buf = append(buf[:0], f.Key...)
		walkValue(f.Value, buf, 1, visit, tooDeep)
	}
	return out
}

// location is a value's path: a top-level key, or a path buffer that is
// only turned into a string when a violation needs it.
type location struct {
	key  string
	path []byte
}

func (l location) String() string {
	if l.path != nil {
		return string(l.path)
	}
	return l.key
}

func (g *Guard) checkString(loc location, s string, out *[]tollgate.Violation) {
	var u URL
	findURLs(s, &u, func(text string, err error) { g.checkURL(loc, text, &u, err, out) })
}

// checkURL checks one URL found in a string; text is how it appears there.
func (g *Guard) checkURL(loc location, text string, u *URL, err error, out *[]tollgate.Violation) {
	if err != nil {
		addViolation(out, loc, text, "blocked by network policy (malformed URL: "+err.Error()+")")
		return
	}
	for _, p := range g.block {
		if p.Blocks(u) {
			addViolation(out, loc, text, "blocked by network policy (matches '"+p.text+"')")
			break
		}
	}
	if why, ok := specialHost(u); ok && !g.exempted(u) {
		addViolation(out, loc, text, "blocked by network policy ("+why+")")
	}
	switch {
	case len(g.allow) > 0:
		if g.deny && !matchAny(g.allow, u) {
			addViolation(out, loc, text, "not in network policy allowlist")
		}
	case g.deny:
		addViolation(out, loc, text, "blocked by network policy (default: deny, no allowlist defined)")
	}
}

func addViolation(out *[]tollgate.Violation, loc location, url, what string) {
	p := loc.String()
	*out = append(*out, tollgate.Violation{Field: p, Description: "Parameter '" + p + "': URL '" + url + "' " + what})
}

func matchAny(pats []*Pattern, u *URL) bool {
	for _, p := range pats {
		if p.Match(u) {
			return true
		}
	}
	return false
}

// exempted reports whether the built-in block is lifted for u.
func (g *Guard) exempted(u *URL) bool {
	if u.IP.IsValid() {
		if _, addr, _ := specialAddr(u.IP); g.allowsAddr(u.IP) || g.allowsAddr(addr) {
			return true
		}
	} else if g.allowsHost(u.Host) {
		return true
	}
	return matchAny(g.exempt, u)
}

// DialControl is a net.Dialer Control function that refuses connections
// to built-in-blocked addresses not lifted by AllowPrivate, including IPv6
// addresses that carry a blocked IPv4 address (NAT64, 6to4, Teredo,
// ISATAP, IPv4-mapped, -translated and -compatible):
//
//	d := &net.Dialer{Control: guard.DialControl}
//
// Check cannot see where a host name resolves (no DNS is done at check
// time, and an answer could change before the tool connects: DNS
// rebinding), so tools that fetch URLs should dial through this. It checks
// the address actually connected to; allowlist exemptions by host name do
// not apply here, so list such hosts' addresses in AllowPrivate.
func (g *Guard) DialControl(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("netguard: dial %s %s: %w (cannot read address: %v)", network, address, ErrBlocked, err)
	}
	ip := ap.Addr().WithZone("").Unmap()
	if what, addr, ok := specialAddr(ip); ok && !g.allowsAddr(ip) && !g.allowsAddr(addr) {
		return fmt.Errorf("netguard: dial %s %s: %w (%s %s)", network, address, ErrBlocked, what, addr)
	}
	return nil
}
