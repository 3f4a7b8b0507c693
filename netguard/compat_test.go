package netguard

import (
	"strings"
	"testing"

	"github.com/tollgate-go/tollgate"
)

// Tollgate 1.4.0 NetworkGuard behaviours (spec §17, test_defense_in_depth.py
// "NetworkGuard (unit)"), plus the exact §9.3 messages.

var (
	githubAndArxiv  = []string{"https://api.github.com/*", "https://arxiv.org/*"}
	httpAndInternal = []string{"http://*", "*.internal.*"}
)

func mustGuard(t testing.TB, cfg Config) *Guard {
	t.Helper()
	g, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func urlParams(kv ...string) tollgate.Params {
	var p tollgate.Params
	for i := 0; i+1 < len(kv); i += 2 {
		p = append(p, tollgate.Field{Key: kv[i], Value: kv[i+1]})
	}
	return p
}

func descriptions(vs []tollgate.Violation) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = v.Description
	}
	return out
}

func TestCompatDefaultDenyNoLists(t *testing.T) {
	vs := mustGuard(t, Config{Default: "deny"}).Check(urlParams("url", "https://example.com/data"))
	if len(vs) != 1 || !strings.Contains(vs[0].Description, "blocked") {
		t.Fatalf("got %q, want one 'blocked' violation", descriptions(vs))
	}
	want := "Parameter 'url': URL 'https://example.com/data' blocked by network policy (default: deny, no allowlist defined)"
	if vs[0].Description != want || vs[0].Field != "url" {
		t.Errorf("got %+v, want %q on field url", vs[0], want)
	}
}

func TestCompatDefaultAllow(t *testing.T) {
	if vs := mustGuard(t, Config{Default: "allow"}).Check(urlParams("url", "https://example.com/data")); len(vs) != 0 {
		t.Errorf("got %q, want none", descriptions(vs))
	}
}

func TestCompatAllowlistPasses(t *testing.T) {
	g := mustGuard(t, Config{Default: "deny", Allowlist: githubAndArxiv})
	for _, u := range []string{"https://api.github.com/repos/owner/repo", "https://arxiv.org/abs/2301.00001"} {
		if vs := g.Check(urlParams("url", u)); len(vs) != 0 {
			t.Errorf("%s: got %q, want none", u, descriptions(vs))
		}
	}
}

func TestCompatNotInAllowlist(t *testing.T) {
	g := mustGuard(t, Config{Default: "deny", Allowlist: githubAndArxiv[:1]})
	vs := g.Check(urlParams("url", "https://evil.com/steal"))
	want := "Parameter 'url': URL 'https://evil.com/steal' not in network policy allowlist"
	if len(vs) != 1 || vs[0].Description != want {
		t.Errorf("got %q, want [%q]", descriptions(vs), want)
	}
}

func TestCompatAllowlistWithDefaultAllowIsNoop(t *testing.T) {
	g := mustGuard(t, Config{Default: "allow", Allowlist: githubAndArxiv[:1]})
	if vs := g.Check(urlParams("url", "https://evil.com/steal")); len(vs) != 0 {
		t.Errorf("got %q, want none", descriptions(vs))
	}
}

func TestCompatBlocklist(t *testing.T) {
	g := mustGuard(t, Config{Default: "allow", Blocklist: httpAndInternal})
	vs := g.Check(urlParams("url", "http://insecure.com/data"))
	want := "Parameter 'url': URL 'http://insecure.com/data' blocked by network policy (matches 'http://*')"
	if len(vs) != 1 || vs[0].Description != want {
		t.Errorf("got %q, want [%q]", descriptions(vs), want)
	}
	// One block violation per URL even when several patterns match.
	if vs := g.Check(urlParams("url", "http://db.internal.corp/")); len(vs) != 1 {
		t.Errorf("got %q, want exactly one", descriptions(vs))
	}
}

func TestCompatBlocklistWins(t *testing.T) {
	g := mustGuard(t, Config{Default: "deny", Allowlist: []string{"https://*"}, Blocklist: []string{"https://evil.com/*"}})
	vs := g.Check(urlParams("url", "https://evil.com/x"))
	if len(vs) == 0 || !strings.Contains(vs[0].Description, "blocked") {
		t.Errorf("got %q, want a 'blocked' violation", descriptions(vs))
	}
}

func TestCompatBlockAndDefaultDenyBothReported(t *testing.T) {
	g := mustGuard(t, Config{Default: "deny", Blocklist: []string{"https://evil.com/*"}})
	vs := g.Check(urlParams("url", "https://evil.com/x"))
	if len(vs) != 2 || !strings.Contains(vs[0].Description, "matches 'https://evil.com/*'") ||
		!strings.Contains(vs[1].Description, "default: deny") {
		t.Errorf("got %q, want the block then the default-deny violation", descriptions(vs))
	}
}

func TestCompatParamFields(t *testing.T) {
	g := mustGuard(t, Config{Default: "deny", Allowlist: githubAndArxiv[:1], ParamFields: []string{"url", "endpoint"}})
	if vs := g.Check(urlParams("url", "https://evil.com/")); len(vs) != 1 {
		t.Errorf("url: got %q, want one violation", descriptions(vs))
	}
	if vs := g.Check(urlParams("other_field", "https://evil.com/")); len(vs) != 0 {
		t.Errorf("other_field: got %q, want none", descriptions(vs))
	}
}

func TestCompatEmptyParamFieldsChecksEverything(t *testing.T) {
	g := mustGuard(t, Config{Default: "deny", ParamFields: []string{}})
	if vs := g.Check(urlParams("anything", "https://evil.com/")); len(vs) != 1 {
		t.Errorf("got %q, want one violation", descriptions(vs))
	}
}

func TestCompatNonURLParams(t *testing.T) {
	g := mustGuard(t, Config{Default: "deny"})
	p := tollgate.Params{{Key: "name", Value: "test"}, {Key: "count", Value: "5"}}
	if vs := g.Check(p); len(vs) != 0 {
		t.Errorf("got %q, want none", descriptions(vs))
	}
}

func TestCompatDefaultMustBe(t *testing.T) {
	_, err := New(Config{Default: "maybe"})
	if err == nil || !strings.Contains(err.Error(), "default must be 'deny' or 'allow', got 'maybe'") {
		t.Errorf("got %v", err)
	}
}

func TestCompatTwoURLsOneBad(t *testing.T) {
	g := mustGuard(t, Config{Default: "deny", Allowlist: githubAndArxiv[:1]})
	vs := g.Check(urlParams("source", "https://api.github.com/repos", "target", "https://evil.com/upload"))
	if len(vs) != 1 || vs[0].Field != "target" || !strings.Contains(vs[0].Description, "'target'") {
		t.Errorf("got %+v, want one violation naming target", vs)
	}
}
