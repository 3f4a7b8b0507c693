package registry_test

import (
	"strings"
	"testing"

	"github.com/tollgate-go/tollgate"
)

// Constraints in tests/test_security_hardening.py, plus the holes of §18.6
// that this package closes.
func TestCheckConstraints(t *testing.T) {
	const src = `tools:
  allow:
    constraints:
      allowed_url_patterns: ["https://api.github.com/*", "https://arxiv.org/*"]
  block:
    constraints:
      blocked_url_patterns: ["http://*", "*.internal.*"]
  both:
    constraints:
      allowed_url_patterns: ["https://*.example.com/*"]
      blocked_url_patterns: ["http://*"]
  table:
    constraints:
      param_constraints:
        table: {allowed_values: [users, orders]}
        limit: {allowed_values: [1, 10]}
        path: {pattern: "/safe/"}
        none: {allowed_values: []}
  nothing:
    constraints: {}
`
	m := mustParse(t, src)
	tests := []struct {
		tool, params string
		want         []string
	}{
		{"allow", `{"url": "https://evil.com/steal"}`, []string{"url | Parameter 'url': URL 'https://evil.com/steal' does not match any allowed URL pattern"}},
		{"allow", `{"url": "https://api.github.com/repos"}`, nil},
		{"allow", `{"url": "https://arxiv.org/abs/1"}`, nil},
		{"block", `{"url": "http://insecure.com/data"}`, []string{"url | Parameter 'url': URL 'http://insecure.com/data' matches blocked pattern 'http://*'"}},
		{"block", `{"url": "https://db.internal.corp/x"}`, []string{"url | Parameter 'url': URL 'https://db.internal.corp/x' matches blocked pattern '*.internal.*'"}},
		{"block", `{"url": "https://ok.com/"}`, nil},
		// Both kinds, in Tollgate's order: blocked first.
		{"both", `{"u": "http://evil.com/"}`, []string{
			"u | Parameter 'u': URL 'http://evil.com/' matches blocked pattern 'http://*'",
			"u | Parameter 'u': URL 'http://evil.com/' does not match any allowed URL pattern",
		}},
		// fnmatch let * cross '/': https://*.example.com/* matched this.
		{"both", `{"u": "https://evil.com/.example.com/"}`, []string{"u | Parameter 'u': URL 'https://evil.com/.example.com/' does not match any allowed URL pattern"}},
		{"both", `{"u": "https://api.example.com/v1"}`, nil},
		// Tollgate saw only top-level, lower-case http(s) strings.
		{"both", `{"opts": {"hooks": ["https://api.example.com/ok", "https://evil.com/x"]}}`, []string{"opts.hooks[1] | Parameter 'opts.hooks[1]': URL 'https://evil.com/x' does not match any allowed URL pattern"}},
		{"both", `{"u": "HTTPS://evil.com/"}`, []string{"u | Parameter 'u': URL 'HTTPS://evil.com/' does not match any allowed URL pattern"}},
		{"both", `{"u": " https://evil.com/"}`, []string{"u | Parameter 'u': URL ' https://evil.com/' does not match any allowed URL pattern"}},
		{"both", `{"u": "ftp://files.example.org/x"}`, []string{"u | Parameter 'u': URL 'ftp://files.example.org/x' does not match any allowed URL pattern"}},
		{"both", `{"name": "example", "count": 3, "note": "see https docs"}`, nil},
		{"table", `{"table": "admin_secrets"}`, []string{"table | Parameter 'table': value 'admin_secrets' not in allowed_values ['users', 'orders']"}},
		{"table", `{"table": "users"}`, nil},
		{"table", `{"limit": true}`, nil}, // Python: True == 1
		{"table", `{"limit": 10.0}`, nil},
		{"table", `{"limit": 5}`, []string{"limit | Parameter 'limit': value 5 not in allowed_values [1, 10]"}},
		{"table", `{"path": "/data/safe/x"}`, nil}, // unanchored search, as in Tollgate
		{"table", `{"path": "/etc/passwd"}`, []string{"path | Parameter 'path': value does not match pattern '/safe/'"}},
		{"table", `{"path": 42}`, []string{"path | Parameter 'path': value 42 is not a string, so it cannot match pattern '/safe/'"}},
		{"table", `{"none": "anything"}`, []string{"none | Parameter 'none': value 'anything' not in allowed_values []"}},
		{"table", `{"other": "x"}`, nil}, // constraints do not make parameters required
		{"nothing", `{"url": "http://evil.com"}`, nil},
	}
	for _, tt := range tests {
		tool, ok := m.Resolve(tt.tool)
		if !ok {
			t.Fatalf("no tool %s", tt.tool)
		}
		checkViolations(t, tt.tool+" "+tt.params, tool.CheckConstraints(params(t, tt.params)), tt.want...)
	}
}

func TestCheckConstraintsMalformedURL(t *testing.T) {
	tool := mustTool(t, "tools:\n  t:\n    constraints:\n      allowed_url_patterns: ['https://a.com/*']\n", "t")
	// Clients split this authority at different places; it cannot be shown
	// to be allowed, so it is refused.
	v := tool.CheckConstraints(params(t, `{"u": "https://a.com\\@evil.com/"}`))
	if len(v) != 1 || v[0].Field != "u" || !strings.Contains(v[0].Description, "cannot be checked against the URL patterns") {
		t.Errorf("malformed URL: %v", v)
	}
}

// URLs hidden in wrappers, text, JSON documents and scheme-relative
// references are held to the tool's URL patterns: every URL in a string
// must be allowed. They used to be taken for plain text.
func TestCheckConstraintsHiddenURLs(t *testing.T) {
	const src = `tools:
  allow:
    constraints:
      allowed_url_patterns: ["https://api.github.com/*"]
  block:
    constraints:
      blocked_url_patterns: ["http://169.254.169.254/*", "8.8.8.8"]
`
	m := mustParse(t, src)
	allow, _ := m.Resolve("allow")
	block, _ := m.Resolve("block")
	for _, s := range []string{
		"url:http://169.254.169.254/latest", "URL:http://127.0.0.1/", "<URL:http://127.0.0.1/>", "<http://evil.com/>",
		"jar:http://evil.com/x.jar!/", "jar:url:http://evil.com/x.jar!/", "url:https:evil.com",
		"see https://api.github.com/a and https://evil.com/b", "https://api.github.com/?next=https://evil.com/",
		`{"u": "https:\/\/evil.com\/"}`, `{"cfg": "{\"u\": \"url:https://evil.com/\"}"}`,
		"//evil.com/x", "//api.github.com/x", // a reference may resolve to http
	} {
		v := allow.CheckConstraints(tollgate.Params{{Key: "q", Value: s}})
		if len(v) == 0 || !strings.Contains(v[len(v)-1].Description, "does not match any allowed URL pattern") {
			t.Errorf("allowed_url_patterns, %q: got %q, want a refusal", s, descriptions(v))
		}
	}
	for _, s := range []string{
		"url:https://api.github.com/x", "<URL:https://api.github.com/>", "see https://api.github.com/a, https://api.github.com/b.",
		`{"u": "https:\/\/api.github.com\/x"}`, "plain text, 10:30, and/or",
	} {
		if v := allow.CheckConstraints(tollgate.Params{{Key: "q", Value: s}}); len(v) != 0 {
			t.Errorf("allowed_url_patterns, %q: got %q, want none", s, descriptions(v))
		}
	}
	for _, s := range []string{
		"url:http://169.254.169.254/x", "<URL:http://169.254.169.254/x>", "jar:http://169.254.169.254/x!/",
		"fetch http://169.254.169.254/latest now", `{"u": "http:\/\/169.254.169.254\/"}`, "//169.254.169.254/x",
		"http://[64:ff9b::808:808]/", "http://[::ffff:0:808:808]/", "http://[2002:808:808::]/",
	} {
		v := block.CheckConstraints(tollgate.Params{{Key: "q", Value: s}})
		if len(v) != 1 || !strings.Contains(v[0].Description, "matches blocked pattern") {
			t.Errorf("blocked_url_patterns, %q: got %q, want one match", s, descriptions(v))
		}
	}
}
