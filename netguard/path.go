package netguard

import "strings"

// normalisePath makes the path part comparable by patterns without changing
// what a server sees: for special schemes '\' becomes '/' (WHATWG does
// this), escapes of unreserved characters are decoded (RFC 3986 §6.2.2.2,
// so "%2e%2e" is ".."), and "." and ".." segments are resolved (§5.2.4), so
// "/repos/../admin" cannot pass an allowlist for "/repos/*". Other escapes
// are kept as written. An empty path is "/".
func normalisePath(p string, special bool) string {
	if special && strings.IndexByte(p, '\\') >= 0 {
		p = strings.ReplaceAll(p, `\`, "/")
	}
	if strings.IndexByte(p, '%') >= 0 {
		p = decodeUnreserved(p)
	}
	if p == "" {
		return "/"
	}
	if p[0] != '/' {
		p = "/" + p
	}
	if strings.Contains(p, "/.") {
		p = removeDotSegments(p)
	}
	return p
}

func decodeUnreserved(p string) string {
	var b strings.Builder
	b.Grow(len(p))
	for i := 0; i < len(p); i++ {
		if p[i] == '%' && i+2 < len(p) && isHex(p[i+1]) && isHex(p[i+2]) {
			if c := unhex(p[i+1])<<4 | unhex(p[i+2]); isUnreserved(c) {
				b.WriteByte(c)
				i += 2
				continue
			}
		}
		b.WriteByte(p[i])
	}
	return b.String()
}

func isUnreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

// removeDotSegments resolves "." and ".." segments of an absolute path; ".."
// never climbs above the root.
func removeDotSegments(p string) string {
	segs := strings.Split(p[1:], "/")
	out := make([]string, 0, len(segs))
	for i, s := range segs {
		last := i == len(segs)-1
		switch s {
		case ".":
			if last {
				out = append(out, "")
			}
		case "..":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
			if last {
				out = append(out, "")
			}
		default:
			out = append(out, s)
		}
	}
	return "/" + strings.Join(out, "/")
}
