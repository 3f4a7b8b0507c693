package netguard

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
)

var urlSeeds = []string{
	"https://api.github.com/repos?x=1#f", "HTTPS://API.GitHub.COM", "  http://x.com/a/../b ",
	"http://2130706433/", "http://0x7f.1/", "http://0177.0.0.1/", "http://127.1/", "http://[::1]:8080/",
	"http://[::ffff:127.0.0.1]/", "http://[fe80::1%25eth0]/", "https://api.github.com@evil.com/",
	`https:\\evil.com`, "https:evil.com", "file:///etc/passwd", "file://localhost/x", "gopher://h:70/_",
	"http://１２７．０．０．１/", "http://127.0.0.%31/", `http://a.com\@b.com/`, "http://a@b@c/",
	"mailto:x@y", "http://example.123/", "http://x.com:0080/", "foo://", "http://x/%2e%2e/%%32e",
	"http://MÜNCHEN.de/", "http://[64:ff9b::7f00:1]/", "ws://h\t.com/", "",
}

func FuzzParseURL(f *testing.F) {
	for _, s := range urlSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := Parse(s)
		u2, ok := ParseURL(s)
		if (err == nil) != ok {
			t.Fatalf("Parse and ParseURL disagree on %q: %v vs %v", s, err, ok)
		}
		if err != nil {
			if u != nil || u2 != nil {
				t.Fatalf("error %v with a URL", err)
			}
			return
		}
		checkURLInvariants(t, u)
		// The normalised form parses to the same scheme, host, port and IP.
		again, err := Parse(u.String())
		if err != nil {
			t.Fatalf("%q: String() %q does not parse: %v", s, u.String(), err)
		}
		if again.Scheme != u.Scheme || again.Host != u.Host || again.Port != u.Port || again.IP != u.IP {
			t.Fatalf("%q: reparse of %q gives %+v, want %+v", s, u.String(), again, u)
		}
		// A pattern spelling out the URL matches it.
		if text := u.String(); !strings.ContainsAny(text, "*?[") {
			if p, err := CompilePattern(text); err == nil && !p.Match(u) {
				t.Fatalf("pattern %q does not match %q", text, s)
			}
		}
	})
}

func checkURLInvariants(t *testing.T, u *URL) {
	t.Helper()
	if u.Scheme == "" || u.Scheme != strings.ToLower(u.Scheme) {
		t.Fatalf("scheme %q not lower-case", u.Scheme)
	}
	if u.Host != strings.ToLower(u.Host) {
		t.Fatalf("host %q not lower-case", u.Host)
	}
	if !strings.HasPrefix(u.Path, "/") || strings.ContainsRune(u.Path, '#') {
		t.Fatalf("path %q", u.Path)
	}
	if u.Port != "" && (!allDigits(u.Port) || len(u.Port) > 1 && u.Port[0] == '0' || len(u.Port) > 5) {
		t.Fatalf("port %q", u.Port)
	}
	if u.IP.IsValid() {
		if u.IP.String() != u.Host || u.IP.Is4In6() || u.IP.Zone() != "" {
			t.Fatalf("IP %v vs host %q", u.IP, u.Host)
		}
	} else {
		if _, err := netip.ParseAddr(u.Host); err == nil {
			t.Fatalf("host %q is an IP but IP is unset", u.Host)
		}
		for i := 0; i < len(u.Host); i++ {
			if !isHostByte(u.Host[i]) {
				t.Fatalf("host %q has %q", u.Host, u.Host[i])
			}
		}
	}
}

func FuzzCompilePattern(f *testing.F) {
	for _, p := range []string{
		"https://api.github.com/*", "http://*", "*.internal.*", "https://*.example.com/*", "*",
		"*://evil.com", "http?://h.com:8*/a?b=[0-9]", "https://[::1]:443/", "file:///etc/*",
		"https://[!ab]x.com/", "[", "https://h.com:/", "HTTPS://0x7f.1/*", "https://u@h/", "a:b:c",
	} {
		f.Add(p, "https://api.github.com/repos/x")
	}
	f.Add("*.internal.*", "gopher://db.internal.corp/")
	f.Add("http://127.0.0.1/*", "http://0x7f.1/x")
	f.Fuzz(func(t *testing.T, pat, rawURL string) {
		p, err := CompilePattern(pat)
		if err != nil {
			if p != nil || !strings.Contains(err.Error(), "invalid URL pattern") {
				t.Fatalf("CompilePattern(%q) = %v, %v", pat, p, err)
			}
			return
		}
		if p.String() != pat {
			t.Fatalf("String() = %q, want %q", p.String(), pat)
		}
		u, err := Parse(rawURL)
		if err != nil {
			if !errors.Is(err, ErrNotURL) && u != nil {
				t.Fatal("URL with error")
			}
			return
		}
		if p.Match(u) != p.Match(u) {
			t.Fatal("Match is not deterministic")
		}
		// "*" matches everything; a scheme-less pattern ignores the scheme.
		if star, _ := CompilePattern("*"); !star.Match(u) {
			t.Fatalf("* does not match %q", rawURL)
		}
	})
}
