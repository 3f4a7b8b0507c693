package netguard

import (
	"strings"
	"testing"

	"github.com/tollgate-go/tollgate"
)

// tollgate14Violations reproduces Tollgate 1.4.0's NetworkGuard (spec §9.2,
// §9.3) to show that each test below fails on Tollgate's behaviour: only
// top-level strings starting exactly with http:// or https://, fnmatch
// over the whole text, no address checks.
func tollgate14Violations(cfg Config, params tollgate.Params) int {
	n := 0
	for _, f := range params {
		s, ok := f.Value.(string)
		if !ok || !strings.HasPrefix(s, "http://") && !strings.HasPrefix(s, "https://") {
			continue
		}
		for _, p := range cfg.Blocklist {
			if compileGlob(p, false).match(s) {
				n++
				break
			}
		}
		allowed := false
		for _, p := range cfg.Allowlist {
			allowed = allowed || compileGlob(p, false).match(s)
		}
		if cfg.Default != "allow" && !allowed {
			n++
		}
	}
	return n
}

// assertFixed checks that Tollgate lets params through and we do not.
func assertFixed(t *testing.T, cfg Config, params tollgate.Params, want string) {
	t.Helper()
	if n := tollgate14Violations(cfg, params); n != 0 {
		t.Fatalf("Tollgate 1.4.0 already reports %d violations for %v; the test proves nothing", n, params)
	}
	vs := mustGuard(t, cfg).Check(params)
	for _, v := range vs {
		if strings.Contains(v.Description, want) {
			return
		}
	}
	t.Errorf("%v: got %q, want a violation containing %q", params, descriptions(vs), want)
}

var denyButGithub = Config{Default: "deny", Allowlist: []string{"https://api.github.com/*"}}

func TestFixNestedAndListValues(t *testing.T) {
	cases := map[string]string{
		`{"opts": {"url": "https://evil.com/x"}}`:                    "opts.url",
		`{"urls": ["https://api.github.com/", "https://evil.com/"]}`: "urls[1]",
		`{"a": [{"b": [["https://evil.com/"]]}]}`:                    "a[0].b[0][0]",
	}
	for js, path := range cases {
		assertFixed(t, denyButGithub, mustParams(t, js), "Parameter '"+path+"': URL 'https://evil.com/")
	}
}

func TestFixSchemeSpellings(t *testing.T) {
	for _, u := range []string{
		"HTTPS://evil.com/", "Http://evil.com/", " https://evil.com/", "\thttps://evil.com/",
		"\nhttps://evil.com/ ", "https:\\\\evil.com/", "https:evil.com/", "https:/evil.com/",
		"ftp://evil.com/f", "file:///etc/passwd", "gopher://evil.com/_", "ws://evil.com/", "dict://evil.com/",
	} {
		assertFixed(t, denyButGithub, urlParams("url", u), "not in network policy allowlist")
	}
}

func TestFixUserinfo(t *testing.T) {
	// Blocklisted host hidden behind userinfo.
	cfg := Config{Default: "allow", Blocklist: []string{"https://evil.com/*"}}
	assertFixed(t, cfg, urlParams("url", "https://api.github.com@evil.com/"), "matches 'https://evil.com/*'")
	// Allowlisted-looking userinfo in front of another host.
	cfg = Config{Default: "deny", Allowlist: []string{"https://*.github.com/*"}}
	assertFixed(t, cfg, urlParams("url", "https://x.github.com@evil.com/.github.com/"), "not in network policy allowlist")
}

func TestFixHostGlobCrossesPath(t *testing.T) {
	cfg := Config{Default: "deny", Allowlist: []string{"https://*.example.com/*"}}
	assertFixed(t, cfg, urlParams("url", "https://evil.com/.example.com/"), "not in network policy allowlist")
	if vs := mustGuard(t, cfg).Check(urlParams("url", "https://api.example.com/x")); len(vs) != 0 {
		t.Errorf("sub-domain refused: %q", descriptions(vs))
	}
}

func TestFixLoopbackSpellings(t *testing.T) {
	cfg := Config{Default: "allow", Blocklist: []string{"http://127.0.0.1*", "http://localhost*"}}
	for _, host := range []string{
		"2130706433", "0x7f000001", "0x7f.1", "0177.0.0.1", "127.1", "127.000.000.001", "[::ffff:127.0.0.1]",
		"[::ffff:7f00:1]", "127.0.0.%31", "１２７．０．０．１", "user@127.0.0.2", "127.255.255.254:8080",
	} {
		assertFixed(t, cfg, urlParams("url", "http://"+host+"/admin"), "loopback address 127.")
	}
	for _, u := range []string{"http://[::1]/", "http://[0:0:0:0:0:0:0:1]:8080/", "http://[::127.0.0.1]", "http://[64:ff9b::7f00:1]/", "http://[2002:7f00:1::]/"} {
		assertFixed(t, cfg, urlParams("url", u), "loopback address")
	}
	for _, u := range []string{"http://LOCALHOST./", "http://api.localhost/", "http://ip6-localhost/"} {
		assertFixed(t, cfg, urlParams("url", u), "local host name")
	}
}

func TestFixMetadataSpellings(t *testing.T) {
	cfg := Config{Default: "allow", Blocklist: []string{"http://169.254.169.254/*"}}
	for _, host := range []string{
		"169.254.169.254:80", "2852039166", "0xa9fea9fe", "0xA9.0xFE.0xA9.0xFE", "0251.0376.0251.0376",
		"169.254.43518", "169.16689662", "[::ffff:169.254.169.254]", "[::ffff:a9fe:a9fe]", "169.254.169.254.",
	} {
		assertFixed(t, cfg, urlParams("url", "http://"+host+"/latest/meta-data/"), "cloud metadata address 169.254.169.254")
	}
	assertFixed(t, cfg, urlParams("url", "http://[fd00:ec2::254]/latest"), "cloud metadata address fd00:ec2::254")
	assertFixed(t, cfg, urlParams("url", "http://Metadata.Google.Internal/computeMetadata/v1/"), "cloud metadata host name")
}

func TestFixMalformedIsBlockedNotIgnored(t *testing.T) {
	cfg := Config{Default: "allow", Blocklist: []string{"https://evil.com/*"}}
	for _, u := range []string{`https://evil.com\@api.github.com/`, "https://a@b@evil.com/", "https://evil.com:99999/"} {
		vs := mustGuard(t, cfg).Check(urlParams("url", u))
		if len(vs) != 1 || !strings.Contains(vs[0].Description, "blocked by network policy (malformed URL: ") {
			t.Errorf("%s: got %q, want one malformed-URL violation", u, descriptions(vs))
		}
	}
}
