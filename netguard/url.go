package netguard

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"unicode"
)

// URL is a parsed, normalised absolute URL. Patterns and the guard compare
// these fields, never the raw text.
type URL struct {
	Raw string // the original text
	// Scheme is lower-case. It is empty for a scheme-relative reference
	// ("//host/path") found by FindURLs, which a client resolves against
	// the page it came from: see Pattern.Match and Pattern.Blocks.
	Scheme string
	// Host is lower-case; IP literals are canonical (IPv4 dotted quad,
	// IPv6 without brackets or zone, IPv4-mapped IPv6 unmapped); domain
	// names lose one trailing dot. Empty only for schemes that allow it
	// (file:///etc/passwd).
	Host string
	// Port is the explicit port without leading zeros, or the scheme's
	// default (http 80, https 443, ...), or "" when neither is known (or
	// the reference is scheme-relative).
	Port string
	// Path is the path plus "?" and the query when the URL has one; the
	// fragment is dropped (it is never sent). Dot segments are resolved,
	// escapes of unreserved characters decoded and, for special schemes,
	// '\' turned into '/'. An empty path is "/".
	Path string
	// IP is valid when Host is an IP literal, in any spelling.
	IP netip.Addr
}

// ErrNotURL is returned by Parse for text that does not have the shape of
// an absolute URL with an authority.
var ErrNotURL = errors.New("not an absolute URL")

// Errors for authorities that parsers split in different places: RFC
// parsers (Python, curl) and WHATWG parsers (browsers, Node) read
// "a.com\@b.com" and "a@b@c" as different hosts.
var (
	errBackslashInAuthority = errors.New("backslash in authority")
	errManyAt               = errors.New("more than one '@' in authority")
)

// errEmptyHost is kept apart so the finder can tell "http://" in prose
// (nothing to connect to) from a URL that parsers read differently.
var errEmptyHost = errors.New("empty host")

// defaultPort is the port a client uses when the URL names none.
func defaultPort(scheme string) string {
	switch scheme {
	case "http", "ws":
		return "80"
	case "https", "wss":
		return "443"
	case "ftp":
		return "21"
	case "ftps":
		return "990"
	case "gopher":
		return "70"
	case "ssh", "sftp":
		return "22"
	case "telnet":
		return "23"
	case "ldap":
		return "389"
	case "ldaps":
		return "636"
	case "smtp":
		return "25"
	case "imap":
		return "143"
	case "pop3":
		return "110"
	case "redis":
		return "6379"
	case "mysql":
		return "3306"
	case "postgres", "postgresql":
		return "5432"
	case "mongodb":
		return "27017"
	case "dict":
		return "2628"
	case "tftp":
		return "69"
	}
	return ""
}

// isSpecial reports whether scheme is a WHATWG "special" scheme: those
// treat '\' like '/', and http(s)/ws(s)/ftp need no "//" after the colon.
func isSpecial(scheme string) bool {
	switch scheme {
	case "http", "https", "ws", "wss", "ftp", "file":
		return true
	}
	return false
}

// ParseURL parses s as an absolute URL (see Parse). ok is false when s is
// not a URL or is malformed.
func ParseURL(s string) (*URL, bool) {
	u, err := Parse(s)
	return u, err == nil
}

// Parse parses s as an absolute URL. It returns ErrNotURL when s does not
// look like one, and another error when it does but cannot be read safely
// (bad port, bad IP literal, invalid host characters, backslash or several
// '@' in the authority). The guard blocks the second kind: clients disagree
// about what such URLs mean.
//
// What counts as a URL, after trimming surrounding whitespace and control
// characters and deleting tabs and newlines (as browsers and Python do):
// `scheme://authority...` for any scheme; for http, https, ws, wss and ftp
// also `scheme:` followed by any number of '/' or '\' (browsers read
// "https:\\evil.com" and "https:evil.com" as https://evil.com/); and
// `file:` followed by '/' or '\'. Userinfo is skipped. No DNS is done.
func Parse(s string) (*URL, error) {
	u := new(URL)
	if err := parseInto(s, u); err != nil {
		return nil, err
	}
	return u, nil
}

var stripTabsNewlines = strings.NewReplacer("\t", "", "\n", "", "\r", "")

func parseInto(raw string, u *URL) error {
	s := trimURL(raw)
	if strings.IndexByte(s, '\t') >= 0 || strings.IndexByte(s, '\n') >= 0 || strings.IndexByte(s, '\r') >= 0 {
		s = stripTabsNewlines.Replace(s)
	}
	scheme, rest, ok := cutScheme(s)
	if !ok {
		return ErrNotURL
	}
	special := isSpecial(scheme)
	var hasAuthority bool
	switch {
	case scheme == "file":
		n := countSlashes(rest)
		if n == 0 {
			return ErrNotURL
		}
		hasAuthority = n >= 2
		if hasAuthority {
			rest = rest[2:]
		}
	case special:
		rest = rest[countSlashes(rest):]
		hasAuthority = true
	default:
		if !strings.HasPrefix(rest, "//") {
			return ErrNotURL
		}
		rest, hasAuthority = rest[2:], true
	}
	*u = URL{Raw: raw, Scheme: scheme}
	return u.parseRest(rest, hasAuthority, special, false)
}

// parseRelative parses a scheme-relative reference ("//host/path") whose
// leading slashes are already cut off, as a client resolving it against a
// web page would: with special-scheme rules. A backslash ends the
// authority only when backslashEnds is set (the reference was written with
// backslashes only, "\\host\share", which no parser reads differently);
// otherwise it is refused as in absolute URLs. Scheme and, without an
// explicit port, Port are left empty for the caller to fill in.
func parseRelative(raw, rest string, backslashEnds bool, u *URL) error {
	*u = URL{Raw: raw}
	return u.parseRest(rest, true, true, backslashEnds)
}

// parseRest reads what follows the scheme (and the slashes before an
// authority) into u, whose Raw and Scheme are already set.
func (u *URL) parseRest(rest string, hasAuthority, special, backslashEnds bool) error {
	if hasAuthority {
		end := indexAny3(rest, '/', '?', '#')
		if backslashEnds {
			if i := strings.IndexByte(rest, '\\'); i >= 0 && (end < 0 || i < end) {
				end = i
			}
		}
		if end < 0 {
			end = len(rest)
		}
		if strings.IndexByte(rest[:end], '\\') >= 0 {
			return errBackslashInAuthority
		}
		if err := u.parseAuthority(rest[:end]); err != nil {
			return err
		}
		rest = rest[end:]
	}
	if i := strings.IndexByte(rest, '#'); i >= 0 {
		rest = rest[:i]
	}
	path, query := rest, ""
	if i := strings.IndexByte(rest, '?'); i >= 0 {
		path, query = rest[:i], rest[i:]
	}
	if norm := normalisePath(path, special); norm != path {
		u.Path = norm + query
	} else {
		u.Path = rest // path and query as written: no copy
	}
	if u.Port == "" {
		u.Port = defaultPort(u.Scheme)
	}
	return nil
}

// trimURL removes what WHATWG strips (C0 controls and space) and what
// Python's str.strip() strips (Unicode white space) from both ends.
func trimURL(s string) string {
	if s != "" && isPlainEdge(s[0]) && isPlainEdge(s[len(s)-1]) {
		return s
	}
	return strings.TrimFunc(s, isTrimmed)
}

func isTrimmed(r rune) bool { return r <= ' ' || unicode.IsSpace(r) }

// isPlainEdge reports whether an end byte of a URL certainly needs no trim.
func isPlainEdge(c byte) bool { return ' ' < c && c < 0x7f }

// indexAny3 is strings.IndexAny for three ASCII bytes, without building a
// set on every call.
func indexAny3(s string, a, b, c byte) int {
	for i := 0; i < len(s); i++ {
		if x := s[i]; x == a || x == b || x == c {
			return i
		}
	}
	return -1
}

// cutScheme splits "scheme:rest" and lower-cases the scheme.
func cutScheme(s string) (scheme, rest string, ok bool) {
	if s == "" || !isAlpha(s[0]) {
		return "", "", false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ':':
			return lowerASCII(s[:i]), s[i+1:], true
		case isAlpha(c) || '0' <= c && c <= '9' || c == '+' || c == '-' || c == '.':
		default:
			return "", "", false
		}
	}
	return "", "", false
}

func isAlpha(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

func countSlashes(s string) int {
	n := 0
	for n < len(s) && (s[n] == '/' || s[n] == '\\') {
		n++
	}
	return n
}

// parseAuthority reads [userinfo@]host[:port].
func (u *URL) parseAuthority(a string) error {
	if i := strings.LastIndexByte(a, '@'); i >= 0 {
		if strings.IndexByte(a[:i], '@') >= 0 {
			return errManyAt
		}
		a = a[i+1:]
	}
	host, port := a, ""
	bracketed := strings.HasPrefix(a, "[")
	if bracketed {
		end := strings.IndexByte(a, ']')
		if end < 0 {
			return errors.New("missing ']' after IPv6 address")
		}
		host, port = a[1:end], a[end+1:]
		if port != "" && port[0] != ':' {
			return fmt.Errorf("unexpected %q after IPv6 address", clip(port))
		}
		port = strings.TrimPrefix(port, ":")
	} else if i := strings.LastIndexByte(a, ':'); i >= 0 {
		host, port = a[:i], a[i+1:]
	}
	p, err := normalisePort(port)
	if err != nil {
		return err
	}
	u.Port = p
	h, ip, err := normaliseHost(host, bracketed)
	if err != nil {
		return err
	}
	if u.Scheme == "file" && h == "localhost" {
		h = "" // WHATWG: file://localhost/x is file:///x
	}
	if h == "" && isSpecial(u.Scheme) && u.Scheme != "file" {
		return errEmptyHost
	}
	u.Host, u.IP = h, ip
	return nil
}

// normalisePort validates a decimal port and drops leading zeros; "" stays
// "" (the default port applies).
func normalisePort(p string) (string, error) {
	if p == "" {
		return "", nil
	}
	if !allDigits(p) {
		return "", fmt.Errorf("invalid port %q", clip(p))
	}
	t := strings.TrimLeft(p, "0")
	if t == "" {
		return "0", nil
	}
	if len(t) > 5 || len(t) == 5 && t > "65535" {
		return "", fmt.Errorf("port %s out of range", clip(p))
	}
	return t, nil
}

// String returns the normalised URL: scheme://host[:port]path (//host...
// when scheme-relative), the port only when it is not the scheme's
// default.
func (u *URL) String() string {
	var b strings.Builder
	if u.Scheme != "" {
		b.WriteString(u.Scheme)
		b.WriteByte(':')
	}
	b.WriteString("//")
	if u.IP.Is6() {
		b.WriteByte('[')
		b.WriteString(u.Host)
		b.WriteByte(']')
	} else {
		b.WriteString(u.Host)
	}
	if u.Port != "" && u.Port != defaultPort(u.Scheme) {
		b.WriteByte(':')
		b.WriteString(u.Port)
	}
	b.WriteString(u.Path)
	return b.String()
}
