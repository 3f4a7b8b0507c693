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
//   - inspects every string value at any depth (WalkStrings), any scheme;
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
//     literally says otherwise.
//
// No DNS lookups are made: a name that resolves to a private address
// passes Check. Connections should be made through a net.Dialer whose
// Control is Guard.DialControl, which checks the address actually dialled
// (and so also defeats DNS rebinding).
//
// Package registry reuses WalkStrings, Parse and Pattern for manifest URL
// constraints, so both stages read URLs the same way.
package netguard
