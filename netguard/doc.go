// Package netguard is Tollgate's network guard: it finds the URLs in a
// tool call's parameters and checks them against a network policy
// (default deny/allow, allowlist, blocklist), plus a built-in block of
// loopback, private, link-local and cloud-metadata addresses.
//
// Tollgate 1.4.0 (spec §9) only looked at top-level string parameters that
// start exactly with "http://" or "https://" and fnmatched patterns over
// the whole URL text, so nested values, "HTTPS://", " http://", ftp:// and
// friends, userinfo tricks (https://api.github.com@evil.com/), path tricks
// (https://evil.com/.example.com/ matching https://*.example.com/*) and
// alternative IP spellings (http://0x7f.1/) all got through (§18.6). This
// package keeps Tollgate's configuration and violation messages but:
//
//   - inspects every string value at any depth (WalkStrings), any scheme,
//     and every URL in it (FindURLs): the string as a whole once the
//     wrappers clients strip are removed ("url:", "URL:", "<URL:...>",
//     "<...>", "jar:...!/", nested), each "scheme://" anywhere in it
//     (prose, another URL's query, "view-source:"; "\\" and JSON's "\/"
//     count as slashes), scheme-relative "//host/" references, and the
//     strings of a JSON document the string holds. In default deny a string
//     passes only if every URL in it is allowed;
//   - parses URLs the way browsers and inet_aton do (ParseURL): scheme and
//     host lower-cased, surrounding white space trimmed, userinfo skipped,
//     IP literals in every spelling normalised; URLs that parsers could
//     read differently (backslash or two '@' in the authority, bad port or
//     IP) are blocked as malformed rather than ignored;
//   - matches patterns per component (Pattern): a host glob never sees the
//     path, and a pattern without "://" is a host pattern;
//   - blocks loopback, private, link-local, unspecified, CGNAT and cloud
//     metadata addresses and localhost names even in default-allow mode,
//     unless Config.AllowPrivate or an allowlist pattern naming that host
//     literally says otherwise;
//   - treats an IPv6 address that carries an IPv4 address like that IPv4
//     address, in Check and DialControl: IPv4-mapped ::ffff:a.b.c.d,
//     IPv4-translated ::ffff:0:a.b.c.d, IPv4-compatible ::a.b.c.d, NAT64
//     64:ff9b::/96 and 64:ff9b:1::/48, 6to4 2002::/16, Teredo 2001::/32
//     (server, and client with its bits flipped) and ISATAP ...:5efe:a.b.c.d.
//     Blocklist patterns naming an IPv4 address block these forms too
//     (Pattern.Blocks); allowlist patterns do not allow them.
//
// Finding URLs in text is a heuristic: it finds what a client or a URL
// extractor would fetch from ordinary text (a URL with a scheme, or a
// reference that names a host), not every string some program could turn
// into a URL (percent-encoded or base64 URLs, "example.com" with no
// scheme or slashes, host and port in separate parameters). Check such
// parameters with a schema or param_constraints.
//
// No DNS lookups are made: a name that resolves to a private address
// (127.0.0.1.nip.io) passes Check. Connections should be made through a
// net.Dialer whose Control is Guard.DialControl, which checks the address
// actually dialled (and so also defeats DNS rebinding).
//
// Package registry reuses WalkStrings, FindURLs and Pattern for manifest
// URL constraints, so both stages read URLs the same way.
package netguard
