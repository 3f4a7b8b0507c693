package netguard

import (
	"strings"
	"testing"
)

func TestPatternMatch(t *testing.T) {
	cases := []struct {
		pat, url string
		want     bool
	}{
		// Tollgate's everyday patterns keep working.
		{"https://api.github.com/*", "https://api.github.com/repos/x/y?page=2", true},
		{"https://api.github.com/*", "https://api.github.com", true}, // path "/" matches "/*"
		{"https://api.github.com/*", "http://api.github.com/repos", false},
		{"https://api.github.com/*", "https://api.github.com.evil.com/", false},
		{"http://*", "http://insecure.com/data", true},
		{"http://*", "http://insecure.com:8080/a/b", true},
		{"http://*", "https://secure.com/", false},
		{"*.internal.*", "http://db.internal.corp/x", true},
		{"*.internal.*", "gopher://db.internal.corp/x", true},
		{"*.internal.*", "https://evil.com/x.internal.y", false}, // the path is not the host
		{"https://*", "https://anything.example/deep/path", true},
		{"*", "ftp://x.com/", true},
		// Case-insensitive scheme and host, case-sensitive path.
		{"HTTPS://API.GITHUB.COM/repos/*", "https://api.github.com/repos/a", true},
		{"https://api.github.com/Repos/*", "https://api.github.com/repos/a", false},
		// Host globs never cross into the path or past the end of the host.
		{"https://*.example.com/*", "https://evil.com/.example.com/", false},
		{"https://*.example.com/*", "https://a.b.example.com/x", true},
		{"https://*.example.com/*", "https://example.com/x", false},
		{"*.example.com", "https://example.com.evil.net/", false},
		{"*.example.com", "https://API.Example.COM./", true},
		{"https://*.example.com/*", "https://api.github.com@evil.com/.example.com/", false},
		// Literal hosts are normalised like URL hosts.
		{"http://0x7f.1/*", "http://127.0.0.1/a", true},
		{"http://127.0.0.1/*", "http://2130706433/a", true},
		{"http://[::1]/*", "http://[0:0::1]/a", true},
		{"http://[::ffff:127.0.0.1]/*", "http://127.1/", true},
		{"http://10.0.0.*/*", "http://10.0.0.7/", true},
		{"http://10.0.0.*/*", "http://0xa000007/", true},
		// Ports: absent = any, explicit = exact (default ports count).
		{"https://h.com/*", "https://h.com:8443/", true},
		{"https://h.com:443/*", "https://h.com/", true},
		{"https://h.com:443/*", "https://h.com:8443/", false},
		{"https://h.com:0443/*", "https://h.com:443/", true},
		{"https://h.com:8*/*", "https://h.com:8443/", true},
		{"https://h.com:8*/*", "https://h.com/", false},
		{"h.com:22", "ssh://h.com/", true},
		// Paths: absent = any; `*` crosses '/'; the query is part of the path.
		{"https://h.com", "https://h.com/a/b", true},
		{"https://h.com/", "https://h.com/a", false},
		{"https://h.com/", "https://h.com", true},
		{"https://h.com/repos/*", "https://h.com/repos/../admin", false},
		{"https://h.com/repos/*", "https://h.com/repos/%2e%2e/admin", false},
		{"https://h.com/a?b=*", "https://h.com/a?b=1", true},
		{"*/admin/*", "https://h.com/admin/x", true},
		// Scheme globs and other schemes.
		{"*://evil.com", "gopher://evil.com/", true},
		{"http?://h.com", "https://h.com/", true},
		{"http?://h.com", "http://h.com/", false},
		{"file:///etc/*", "file:///etc/passwd", true},
		{"file://*", "file:///etc/passwd", true},
		{"ftp://*", "FTP://h.com/", true},
		// Glob classes in hosts.
		{"https://[ab].com/", "https://b.com/", true},
		{"https://[!ab].com/", "https://b.com/", false},
		{"https://h?.com", "https://h1.com/", true},
	}
	for _, c := range cases {
		p, err := CompilePattern(c.pat)
		if err != nil {
			t.Errorf("CompilePattern(%q): %v", c.pat, err)
			continue
		}
		u, ok := ParseURL(c.url)
		if !ok {
			t.Fatalf("ParseURL(%q) failed", c.url)
		}
		if got := p.Match(u); got != c.want {
			t.Errorf("%q.Match(%q) = %v, want %v", c.pat, c.url, got, c.want)
		}
		if p.String() != c.pat {
			t.Errorf("String() = %q, want %q", p.String(), c.pat)
		}
	}
}

func TestPatternMatchNil(t *testing.T) {
	p, err := CompilePattern("*")
	if err != nil {
		t.Fatal(err)
	}
	var nilPat *Pattern
	u, _ := ParseURL("http://x.com/")
	if p.Match(nil) || nilPat.Match(u) {
		t.Error("nil pattern or URL matched")
	}
}

func TestCompilePatternErrors(t *testing.T) {
	cases := map[string]string{
		"":                        "empty pattern",
		" https://x.com/*":        "white space",
		"https://x.com/*\n":       "white space",
		"https://x.com/a b":       "percent-encode",
		"https://x.com/\x00a":     "percent-encode",
		"https://x.com/#frag":     "'#'",
		`https://x.com\*`:         `'\'`,
		"://x.com":                "empty scheme",
		"ht~tp://x.com":           "invalid character '~' in scheme",
		"https://user@x.com/*":    "userinfo",
		"https:///*":              "empty host",
		"/admin/*":                "empty host",
		"https://x.com:/":         "empty port",
		"https://x.com:http/":     "invalid port",
		"https://x.com:70000/":    "out of range",
		"https://[::1]:/":         "empty port",
		"https://[::1]x/":         "after IPv6 address",
		"https://[fe80::*]/":      "IPv6 patterns must be literal",
		"https://ex ample.com":    "percent-encode",
		"https://*.exa$mple.com/": "invalid character '$' in host",
		"https://*.münchen.de/":   "punycode",
		"https://*.internal./":    "trailing dot",
		"https://1.2.3.4.5/":      "invalid IPv4 address",
		"https://a..b/":           "empty label",
		"https://./":              "empty host",
	}
	for in, want := range cases {
		p, err := CompilePattern(in)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("CompilePattern(%q) = %v, %v; want an error containing %q", in, p, err, want)
			continue
		}
		if !strings.Contains(err.Error(), "invalid URL pattern") {
			t.Errorf("error %q does not say it is about a URL pattern", err)
		}
	}
}
