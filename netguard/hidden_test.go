package netguard

import (
	"errors"
	"strings"
	"testing"

	"github.com/tollgate-go/tollgate"
)

// URLs hidden in wrappers, text and JSON, which clients fetch but the
// guard used to take for plain text.
var hiddenMetadataURLs = []string{
	"url:http://169.254.169.254/latest/meta-data/",
	"URL:http://169.254.169.254/",
	"<URL:http://169.254.169.254/>",
	"<http://169.254.169.254/>",
	"jar:http://169.254.169.254/x.jar!/",
	"jar:url:http://169.254.169.254/x.jar!/",
	" <URL: url:HTTP://169.254.169.254/> ",
	"url:http:169.254.169.254",
	"see http://169.254.169.254/latest for the token",
	"view-source:http://169.254.169.254/",
	"fetch //169.254.169.254/latest",
	`\\169.254.169.254\share`,
	`{"target": "http:\/\/169.254.169.254\/latest"}`,
	`{"cfg": "{\"u\": \"url:http://169.254.169.254/\"}"}`,
	`body: {"u": "http:\/\/169.254.169.254\/"}`,
	"https://api.github.com/?redirect=http://169.254.169.254/",
}

func TestHiddenURLsDefaultAllow(t *testing.T) {
	g := mustGuard(t, Config{Default: "allow"})
	for _, s := range hiddenMetadataURLs {
		vs := g.Check(urlParams("q", s))
		if len(vs) == 0 || !strings.Contains(vs[0].Description, "blocked by network policy (cloud metadata address 169.254.169.254)") {
			t.Errorf("%q: got %q, want the metadata block", s, descriptions(vs))
		}
	}
	// The blocklist sees hidden URLs too.
	g = mustGuard(t, Config{Default: "allow", Blocklist: []string{"*.evil.com"}})
	for _, s := range []string{"url:https://x.evil.com/", "<URL:https://x.evil.com/>", "jar:https://x.evil.com/a.jar!/", "go https://x.evil.com/ now", "//x.evil.com/"} {
		vs := g.Check(urlParams("q", s))
		if len(vs) != 1 || !strings.Contains(vs[0].Description, "(matches '*.evil.com')") {
			t.Errorf("%q: got %q, want the blocklist match", s, descriptions(vs))
		}
	}
}

func TestHiddenURLsDefaultDeny(t *testing.T) {
	g := mustGuard(t, denyButGithub)
	for _, s := range append(hiddenMetadataURLs,
		"url:https://evil.com/", "<URL:https://evil.com/>", "jar:https://evil.com/x.jar!/",
		"mirror https://api.github.com/a and https://evil.com/b", `{"a": "https://api.github.com/", "b": "https://evil.com/"}`,
		"//evil.com/x", "HTTPS://API.GITHUB.COM@evil.com/",
	) {
		vs := g.Check(urlParams("q", s))
		if !hasDescription(vs, "not in network policy allowlist") {
			t.Errorf("%q: got %q, want it refused", s, descriptions(vs))
		}
	}
	// A string passes only when every URL in it is allowed.
	for _, s := range []string{
		"url:https://api.github.com/repos", "<URL:https://api.github.com/>", "see https://api.github.com/a, https://api.github.com/b.",
		`{"u": "https:\/\/api.github.com\/x"}`, "no URL here: 10:30, and/or", "// a comment",
	} {
		if vs := g.Check(urlParams("q", s)); len(vs) != 0 {
			t.Errorf("%q: got %q, want it allowed", s, descriptions(vs))
		}
	}
	// A scheme-relative reference must be allowed as http and as https.
	both := mustGuard(t, Config{Default: "deny", Allowlist: []string{"*://api.github.com/*"}})
	if vs := both.Check(urlParams("q", "//api.github.com/x")); len(vs) != 0 {
		t.Errorf("scheme-relative, any-scheme pattern: %q", descriptions(vs))
	}
	if vs := g.Check(urlParams("q", "//api.github.com/x")); len(vs) != 1 {
		t.Errorf("scheme-relative, https-only pattern: got %q, want one refusal", descriptions(vs))
	}
}

func hasDescription(vs []tollgate.Violation, want string) bool {
	for _, v := range vs {
		if strings.Contains(v.Description, want) {
			return true
		}
	}
	return false
}

// Every IPv6 form that carries 169.254.169.254 or 127.0.0.1.
var embeddedForms = map[string]string{
	"::ffff:169.254.169.254":               "169.254.169.254", // IPv4-mapped
	"::ffff:0:a9fe:a9fe":                   "169.254.169.254", // IPv4-translated (SIIT)
	"::ffff:0:169.254.169.254":             "169.254.169.254",
	"::169.254.169.254":                    "169.254.169.254", // IPv4-compatible
	"64:ff9b::a9fe:a9fe":                   "169.254.169.254", // NAT64 well-known
	"64:ff9b:1:a9fe:a9:fe00::":             "169.254.169.254", // NAT64 local-use, /48 layout
	"64:ff9b:1:a9:fe:a9fe::":               "169.254.169.254", // /56
	"64:ff9b:1:0:a9:fea9:fe00:0":           "169.254.169.254", // /64
	"64:ff9b:1::a9fe:a9fe":                 "169.254.169.254", // /96
	"2002:a9fe:a9fe::1":                    "169.254.169.254", // 6to4
	"2001:0:a9fe:a9fe::1":                  "169.254.169.254", // Teredo server
	"2001:0:4136:e378:8000:63bf:80ff:fffe": "127.0.0.1",       // Teredo client (XOR-ed)
	"2001:db8::5efe:a9fe:a9fe":             "169.254.169.254", // ISATAP
	"2001:db8::200:5efe:7f00:1":            "127.0.0.1",       // ISATAP, global
}

func TestEmbeddedIPv4Forms(t *testing.T) {
	allow := mustGuard(t, Config{Default: "allow"})
	deny := mustGuard(t, Config{Default: "deny", Allowlist: []string{"http://*"}}) // a glob: exempts nothing
	for ip, v4 := range embeddedForms {
		url := "http://[" + ip + "]/latest"
		for mode, g := range map[string]*Guard{"allow": allow, "deny": deny} {
			vs := g.Check(urlParams("url", url))
			if len(vs) != 1 || !strings.Contains(vs[0].Description, " address "+v4) {
				t.Errorf("%s mode, %s: got %q, want the block of %s", mode, url, descriptions(vs), v4)
			}
		}
		if err := allow.DialControl("tcp", "["+ip+"]:80", nil); !errors.Is(err, ErrBlocked) || !strings.Contains(err.Error(), v4) {
			t.Errorf("DialControl([%s]:80) = %v, want ErrBlocked naming %s", ip, err, v4)
		}
	}
	// The same forms around a public address are not blocked, and
	// AllowPrivate for the IPv4 address lifts the block.
	for _, ip := range []string{"::ffff:0:808:808", "64:ff9b::808:808", "64:ff9b:1::808:808", "2002:808:808::1", "2001:db8::5efe:808:808", "2001:db8::1"} {
		if vs := allow.Check(urlParams("url", "http://["+ip+"]/")); len(vs) != 0 {
			t.Errorf("%s: got %q, want none", ip, descriptions(vs))
		}
	}
	lifted := mustGuard(t, Config{Default: "allow", AllowPrivate: []string{"127.0.0.0/8"}})
	if err := lifted.DialControl("tcp", "[2001:db8::200:5efe:7f00:1]:80", nil); err != nil {
		t.Errorf("AllowPrivate 127/8: %v", err)
	}
}

// A blocklist pattern for an IPv4 address also blocks the IPv6 forms that
// carry it; an allowlist pattern does not allow them (the IPv6 prefix
// decides where most of them go).
func TestEmbeddedIPv4Patterns(t *testing.T) {
	block := mustGuard(t, Config{Default: "allow", Blocklist: []string{"8.8.8.8"}})
	allow := mustGuard(t, Config{Default: "deny", Allowlist: []string{"http://8.8.8.8/*"}})
	for _, ip := range []string{"::ffff:0:808:808", "64:ff9b::808:808", "2002:808:808::", "2001:db8::5efe:808:808", "::8.8.8.8"} {
		url := "http://[" + ip + "]/"
		if vs := block.Check(urlParams("url", url)); len(vs) != 1 || !strings.Contains(vs[0].Description, "(matches '8.8.8.8')") {
			t.Errorf("blocklist, %s: got %q", url, descriptions(vs))
		}
		if vs := allow.Check(urlParams("url", url)); len(vs) != 1 || !strings.Contains(vs[0].Description, "not in network policy allowlist") {
			t.Errorf("allowlist, %s: got %q", url, descriptions(vs))
		}
	}
}
