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

// findSeeds are the forms FindURLs must see through; testdata/fuzz holds
// more.
var findSeeds = []string{
	"url:http://169.254.169.254/", "URL:http://127.0.0.1/", "<URL:http://127.0.0.1/>", "<http://x.com/>",
	"jar:http://h/x.jar!/", "jar:url:http://10.0.0.1/x.jar!/", " \x00<URL: jar:URL:HTTP://H.com/> \n", "url:https:evil.com",
	"see http://a.com/x, and (http://b.com/y).", "“http://a.com/x”", "https://a.com/?next=http://127.0.0.1/",
	`https:\\evil.com\x`, `text http:\/\/127.0.0.1\/a`, "fetch //169.254.169.254/latest", `\\fileserver\share`,
	`u=\/\/localhost`, "//evil.com\\@good.com/", `{"u":"http:\/\/169.254.169.254\/","k":["\u0068ttp://10.0.0.2/"]}`,
	`{"v":"{\"w\":\"//10.0.0.1/\"}"}`, `"url:http://127.0.0.1/"`, "http://[::ffff:0:a9fe:a9fe]/", "http://[64:ff9b:1:a9fe:a9:fe00::]/",
	"http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/", "http://[2001:db8::5efe:7f00:1]/", "http://[2002:7f00:1::]/",
	"a://a://a://a://", "// TODO: fix", "10:30 and/or 1/2", "Use the https:// prefix", "[x](http://h/A_(b))", "",
}

// FuzzFindURLs checks that FindURLs never panics, that every URL it
// reports is well-formed and parses again from its normal form, and that a
// URL written with a plain scheme:// between spaces is found whatever text
// surrounds it.
func FuzzFindURLs(f *testing.F) {
	for _, s := range append(findSeeds, urlSeeds...) {
		f.Add(s, "")
	}
	f.Add("see", "now")
	f.Add(`{"a":"`, `"}`)
	f.Add(`"`, `"`)
	f.Add("url:", ">")
	f.Fuzz(func(t *testing.T, before, after string) {
		FindURLs(before, func(text string, u *URL, err error) {
			if (u == nil) == (err == nil) {
				t.Fatalf("%q: u %v with err %v", text, u, err)
			}
			if err != nil {
				return
			}
			if u.Scheme == "" {
				checkURLInvariants(t, &URL{Scheme: "http", Host: u.Host, Port: u.Port, Path: u.Path, IP: u.IP})
			} else {
				checkURLInvariants(t, u)
			}
			again, err := Parse(u.String())
			if u.Scheme == "" {
				again, err = Parse("http:" + u.String())
			}
			if err != nil || again.Host != u.Host || again.IP != u.IP {
				t.Fatalf("%q in %q: normal form %q reads as %+v, %v", text, before, u.String(), again, err)
			}
		})
		s := before + " http://example.com/p " + after
		ok := false
		FindURLs(s, func(_ string, u *URL, err error) {
			ok = ok || err == nil && u.Scheme == "http" && u.Host == "example.com" || errors.Is(err, errTooManyURLs)
		})
		if !ok {
			t.Fatalf("http://example.com/p not found in %q", s)
		}
	})
}
