package netguard

import (
	"reflect"
	"strings"
	"testing"

	"github.com/tollgate-go/tollgate/internal/yamlx"
	"go.yaml.in/yaml/v3"
)

// networkPolicyNode returns the value of the top-level network_policy key.
func networkPolicyNode(t *testing.T, doc *yamlx.Document) *yaml.Node {
	t.Helper()
	pairs, err := doc.Mapping(doc.Root, "policy file")
	if err != nil {
		t.Fatal(err)
	}
	for _, kv := range pairs {
		if kv.Key == "network_policy" {
			return kv.ValueNode
		}
	}
	t.Fatal("no network_policy")
	return nil
}

func parseConfigText(t *testing.T, text string) (Config, error) {
	t.Helper()
	doc, err := yamlx.Parse("policy.yaml", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	return ParseConfig(doc, networkPolicyNode(t, doc))
}

// Tollgate §17: from_config with default/allowlist/blocklist/fields behaves
// like the constructor.
func TestParseConfigFile(t *testing.T) {
	doc, _, err := yamlx.ReadFile("testdata/policy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := ParseConfig(doc, networkPolicyNode(t, doc))
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		Default:      "deny",
		Allowlist:    []string{"https://api.github.com/*", "https://arxiv.org/*", "https://*.example.com/*"},
		Blocklist:    []string{"http://*", "*.internal.*"},
		ParamFields:  []string{"url", "endpoint"},
		AllowPrivate: []string{"10.20.0.0/16", "localhost"},
	}
	if !reflect.DeepEqual(cfg, want) {
		t.Fatalf("got %+v\nwant %+v", cfg, want)
	}
	g := mustGuard(t, cfg)
	if vs := g.Check(urlParams("url", "https://api.github.com/repos")); len(vs) != 0 {
		t.Errorf("github: got %q", descriptions(vs))
	}
	vs := g.Check(urlParams("endpoint", "http://insecure.com"))
	if len(vs) == 0 || !strings.Contains(vs[0].Description, "blocked") {
		t.Errorf("insecure: got %q, want blocked", descriptions(vs))
	}
}

func TestParseConfigDefaults(t *testing.T) {
	cfg, err := parseConfigText(t, "network_policy:\n  allowlist:\n  param_fields_to_check: []\n")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Default != "deny" || cfg.Allowlist != nil || len(cfg.ParamFields) != 0 {
		t.Errorf("got %+v, want deny with no lists", cfg)
	}
}

func TestParseConfigErrors(t *testing.T) {
	cases := []struct{ text, want string }{
		{"network_policy:\n  default: maybe\n", "policy.yaml:2:12: default must be 'deny' or 'allow', got \"maybe\""},
		{"network_policy:\n  default: yes\n", "policy.yaml:2:12: default must be"},
		{"network_policy:\n  default:\n", "policy.yaml:2:11: default must be"},
		{"network_policy:\n  defualt: allow\n", "policy.yaml:2:3: unknown key \"defualt\" in network_policy (valid keys: default, allowlist"},
		{"network_policy: [a]\n", "policy.yaml:1:17: network_policy must be a mapping"},
		{"network_policy:\n", "policy.yaml:1:16: network_policy must be a mapping (key: value), got null"},
		{"network_policy:\n  allowlist: https://x.com/*\n", "policy.yaml:2:14: allowlist must be a list"},
		{"network_policy:\n  allowlist:\n    - url: https://x.com/*\n", "policy.yaml:3:7: allowlist[0]: unknown key \"url\" (only 'pattern' is read"},
		{"network_policy:\n  allowlist:\n    - {}\n", "policy.yaml:3:7: allowlist[0]: missing 'pattern' key"},
		{"network_policy:\n  blocklist:\n    - ok.com\n    - pattern: 'https://u@x.com/'\n", "policy.yaml:4:16: blocklist[1]: invalid URL pattern \"https://u@x.com/\": contains userinfo"},
		{"network_policy:\n  blocklist:\n    - 42\n", "policy.yaml:3:7: blocklist[0]: want a URL pattern as a non-empty string, got \"42\""},
		{"network_policy:\n  param_fields_to_check: [url, yes]\n", "policy.yaml:2:32: param_fields_to_check[1]: want a parameter name"},
		{"network_policy:\n  allow_private: [10.0.0.0/8, 'a b']\n", "policy.yaml:2:31: allow_private[1]: \"a b\" is not a CIDR"},
	}
	for _, c := range cases {
		_, err := parseConfigText(t, c.text)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q:\n got %v\nwant %q", c.text, err, c.want)
		}
	}
}
