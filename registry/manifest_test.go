package registry_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/registry"
)

func TestLoadCompatFixtures(t *testing.T) {
	tests := []struct {
		path     string
		tool     string
		effect   tollgate.Effect
		resource string
	}{
		{"testdata/mcp_minimal/manifest.yaml", "mcp:file_server.read_file", tollgate.EffectRead, "file"},
		{"testdata/mcp_minimal/manifest.yaml", "mcp:file_server.write_file", tollgate.EffectWrite, "file"},
		{"testdata/strands_minimal/manifest.yaml", "strands:get_weather", tollgate.EffectRead, "weather"},
		{"testdata/strands_minimal/manifest.yaml", "strands:set_temp", tollgate.EffectWrite, "device"},
		{"testdata/mock_tickets/manifest.yaml", "langchain:list_stale_tickets", tollgate.EffectRead, "ticket_list"},
		{"testdata/mock_tickets/manifest.yaml", "langchain:close_ticket", tollgate.EffectWrite, "ticket"},
		{"testdata/security_hardened/manifest.yaml", "api:fetch_data", tollgate.EffectRead, "data"},
		{"testdata/security_hardened/manifest.yaml", "api:write_file", tollgate.EffectWrite, "file"},
		{"testdata/security_hardened/manifest.yaml", "api:delete_resource", tollgate.EffectDelete, "resource"},
		{"testdata/security_hardened/manifest.yaml", "api:send_notification", tollgate.EffectNotify, "notification"},
	}
	for _, tt := range tests {
		m, err := registry.Load(tt.path)
		if err != nil {
			t.Fatalf("Load(%s): %v", tt.path, err)
		}
		if m.Version() != "1.0.0" {
			t.Errorf("%s: Version() = %q, want 1.0.0", tt.path, m.Version())
		}
		tool, ok := m.Resolve(tt.tool)
		if !ok || tool.Key != tt.tool || tool.Effect != tt.effect || tool.ResourceType != tt.resource {
			t.Errorf("%s: Resolve(%q) = %+v, %v; want %s/%s", tt.path, tt.tool, tool, ok, tt.effect, tt.resource)
		}
	}
}

// tests/test_registry_v1.py
func TestRegistryResolve(t *testing.T) {
	m := mustParse(t, `version: "1.0.0"
tools:
  "mcp:server.tool":
    effect: write
    resource_type: disk
`)
	if m.Version() != "1.0.0" {
		t.Errorf("Version() = %q", m.Version())
	}
	tool, ok := m.Resolve("mcp:server.tool")
	if !ok || tool.Effect != tollgate.EffectWrite || tool.ResourceType != "disk" {
		t.Errorf("Resolve = %+v, %v; want write/disk", tool, ok)
	}
	if tool, ok := m.Resolve("mcp:server.unknown"); ok || tool != nil {
		t.Errorf("Resolve(unknown) = %+v, %v; want nil, false", tool, ok)
	}
}

func TestResolveRules(t *testing.T) {
	m := mustParse(t, `tools:
  empty: {}
  bare:
    description: no effect given
  "Api:Read":
    effect: read
    resource_type: ""
`)
	if _, ok := m.Resolve("empty"); ok {
		t.Error("an empty entry resolved; Tollgate treats it as unknown")
	}
	bare, ok := m.Resolve("bare")
	if !ok || bare.Effect != tollgate.EffectUnknown || bare.ResourceType != "unknown" {
		t.Errorf("entry without effect = %+v, %v; want unknown/unknown and found", bare, ok)
	}
	if _, ok := m.Resolve("api:read"); ok {
		t.Error("lookup is case-insensitive; want exact")
	}
	if tool, ok := m.Resolve("Api:Read"); !ok || tool.ResourceType != "unknown" {
		t.Errorf("empty resource_type = %+v, want unknown", tool)
	}
	if got, want := m.Tools(), []string{"Api:Read", "bare", "empty"}; !slices.Equal(got, want) {
		t.Errorf("Tools() = %q, want %q", got, want)
	}
	m.Tools()[0] = "changed"
	if m.Tools()[0] != "Api:Read" {
		t.Error("Tools() exposes the manifest's own slice")
	}
	var nilManifest *registry.Manifest
	if _, ok := nilManifest.Resolve("x"); ok {
		t.Error("nil manifest resolved a tool")
	}
}

func TestToolExtraKeys(t *testing.T) {
	tool := mustTool(t, `tools:
  t:
    effect: notify
    description: {any: [thing, 1]}
    ask_mode: deferred
`, "t")
	if tool.AskMode != tollgate.AskDeferred || tool.Effect != tollgate.EffectNotify {
		t.Errorf("tool = %+v", tool)
	}
	if _, err := registry.Parse("m.yaml", []byte("tools:\n  t:\n    ask_mode: always\n")); err == nil || !strings.Contains(err.Error(), `m.yaml:3:15: ask_mode must be "blocking" or "deferred", got "always"`) {
		t.Errorf("bad ask_mode: %v", err)
	}
	if tool.ApprovalsRequired != 0 {
		t.Errorf("tool without approvals_required: %+v", tool)
	}
	// No schema and no constraints: nothing to check.
	if v := tool.ValidateParams(params(t, `{"anything": 1}`)); v != nil {
		t.Errorf("ValidateParams without schema = %v", v)
	}
	if v := tool.CheckConstraints(params(t, `{"url": "http://x"}`)); v != nil {
		t.Errorf("CheckConstraints without constraints = %v", v)
	}
}

func TestVersion(t *testing.T) {
	tests := []struct{ src, want string }{
		{"version: \"1.0.0\"\n", "1.0.0"},
		{"version: 1.10\n", "1.1"}, // Python str() of the YAML float
		{"version: 2\n", "2"},
		{"version: 1.0\n", "1.0"},
		{"version: true\n", "True"},
		{"version: yes\n", "True"},
		{"version: 2024-01-01\n", "2024-01-01"},
		{"version: v3\n", "v3"},
		{"", "e3b0c442"}, // SHA-256 of the empty text
		{"tools: {}\n", registry.Hash([]byte("tools: {}\n"))[:8]},
		{"tools: {}\r\n", registry.Hash([]byte("tools: {}\n"))[:8]}, // LF-normalised
		{"tools: {}\r", registry.Hash([]byte("tools: {}\n"))[:8]},
		{"# only a comment\n", registry.Hash([]byte("# only a comment\n"))[:8]},
	}
	for _, tt := range tests {
		m, err := registry.Parse("m.yaml", []byte(tt.src))
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.src, err)
			continue
		}
		if m.Version() != tt.want {
			t.Errorf("Parse(%q).Version() = %q, want %q", tt.src, m.Version(), tt.want)
		}
		if m.Hash() != registry.Hash([]byte(tt.src)) {
			t.Errorf("Parse(%q).Hash() is not the SHA-256 of the raw bytes", tt.src)
		}
	}
}

// TestParseErrors checks that every refused manifest says what is wrong,
// where (file:line:col) and how to fix it.
func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, src string
		want      []string // substrings, the first being the position
	}{
		{"root is a list", "- a\n", []string{"m.yaml:1:1:", "must be a mapping"}},
		{"yaml syntax", "tools: [\n", []string{"m.yaml:", "YAML syntax error"}},
		{"duplicate key", "tools: {}\ntools: {}\n", []string{"m.yaml:2:1:", "duplicate key"}},
		{"unknown top-level key", "version: '1'\nvesion: 2\n", []string{"m.yaml:2:1:", `unknown top-level key "vesion"`, `"version" and "tools"`}},
		{"tools null", "tools:\n", []string{"m.yaml:1:7:", "Manifest 'tools' must be a dictionary."}},
		{"tools list", "tools: [a]\n", []string{"m.yaml:1:8:", "Manifest 'tools' must be a dictionary."}},
		{"tool key not text", "tools:\n  ? [a, b]\n  : {effect: read}\n", []string{"m.yaml:2:5:", "a tool key must be text"}},
		{"entry null", "tools:\n  a:\n", []string{"m.yaml:2:5:", "Tool entry 'a' must be a dictionary."}},
		{"entry text", "tools:\n  a: read\n", []string{"m.yaml:2:6:", "Tool entry 'a' must be a dictionary.", "effect"}},
		{"invalid effect", "tools:\n  a:\n    effect: READ\n", []string{"m.yaml:3:13:", "Invalid effect 'READ' for tool 'a'.", "lower-case"}},
		{"effect not text", "tools:\n  a:\n    effect: 1.5\n", []string{"m.yaml:3:13:", "Invalid effect '1.5' for tool 'a'."}},
		{"unknown tool key", "tools:\n  a:\n    effect: read\n    param_schema: {}\n", []string{"m.yaml:4:5:", `unknown key "param_schema" in tool 'a'`, "params_schema"}},
		{"resource_type not text", "tools:\n  a:\n    resource_type: [x]\n", []string{"m.yaml:3:20:", "resource_type must be text"}},
		{"version null", "version:\ntools: {}\n", []string{"m.yaml:1:9:", "version must be a non-empty text"}},
		{"version empty", "version: ''\n", []string{"m.yaml:1:10:", "version must be a non-empty text"}},
		{"version list", "version: [1]\n", []string{"m.yaml:1:10:", "version must be a non-empty text"}},
		{"schema not a mapping", "tools:\n  a:\n    params_schema: [x]\n", []string{"m.yaml:3:20:", "params_schema must be a mapping"}},
		{"schema unknown type", "tools:\n  a:\n    params_schema:\n      type: object\n      properties:\n        n: {type: strng}\n", []string{"m.yaml:6:19:", "params_schema/properties/n/type", `type "strng" is not a JSON Schema type: use string, integer`}},
		{"schema unknown type in list", "tools:\n  a:\n    params_schema: {type: [string, nul]}\n", []string{"m.yaml:3:27:", `type "nul" is not a JSON Schema type`}},
		{"schema error inside a list", "tools:\n  a:\n    params_schema:\n      allOf:\n        - {type: object}\n        - {minLength: -1}\n", []string{"m.yaml:6:23:", "params_schema/allOf/1/minLength"}},
		{"first of several schema errors", "tools:\n  a:\n    params_schema:\n      minItems: x\n      maxItems: y\n      minLength: z\n      maxLength: w\n", []string{"m.yaml:4:17:", "params_schema/minItems"}},
		{"schema bad keyword value", "tools:\n  a:\n    params_schema:\n      required: path\n", []string{"m.yaml:4:17:", "params_schema/required", "want array"}},
		{"schema exponent as text", "tools:\n  a:\n    params_schema:\n      maximum: 1e6\n", []string{"m.yaml:4:16:", "params_schema/maximum", "YAML 1.1 reads 1e6 as text"}},
		{"schema infinity", "tools:\n  a:\n    params_schema:\n      minimum: -.inf\n", []string{"m.yaml:4:16:", "not a finite number"}},
		{"schema look-ahead", "tools:\n  a:\n    params_schema:\n      properties:\n        p: {pattern: '^(?!/etc)'}\n", []string{"m.yaml:5:22:", "params_schema/properties/p/pattern", "RE2", "look-ahead"}},
		{"schema back-reference", "tools:\n  a:\n    params_schema:\n      patternProperties:\n        '(a)\\1': {}\n", []string{"m.yaml:", "back-references"}},
		{"schema draft-04 patternProperties", "tools:\n  a:\n    params_schema:\n      $schema: http://json-schema.org/draft-04/schema#\n      patternProperties: {'(?=a)': {}}\n", []string{"m.yaml:5:26:", "params_schema/patternProperties", "look-ahead"}},
		{"schema missing anchor", "tools:\n  a:\n    params_schema:\n      items: {$ref: '#nope'}\n", []string{"m.yaml:4:21:", `"#nope" names an anchor`}},
		{"schema remote ref", "tools:\n  a:\n    params_schema:\n      properties:\n        p: {$ref: 'https://evil.example/s.json'}\n", []string{"m.yaml:5:19:", "https://evil.example/s.json", "never loaded from files or the network"}},
		{"schema file ref", "tools:\n  a:\n    params_schema:\n      $ref: other.yaml#/x\n", []string{"m.yaml:4:13:", `reference "other.yaml#/x" points outside`, "never loaded"}},
		{"schema missing definition", "tools:\n  a:\n    params_schema:\n      items: {$ref: '#/definitions/nope'}\n", []string{"m.yaml:4:21:", `"#/definitions/nope" points to nothing`}},
		{"schema ref cycle", "tools:\n  a:\n    params_schema:\n      $ref: '#/definitions/a'\n      definitions: {a: {$ref: '#/definitions/b'}, b: {$ref: '#/definitions/a'}}\n", []string{"m.yaml:4:7:", "reference cycle", "break the cycle"}},
		{"schema unknown draft", "tools:\n  a:\n    params_schema:\n      $schema: https://example.com/my-draft\n", []string{"m.yaml:4:16:", "$schema", "draft-07"}},
		{"constraints not a mapping", "tools:\n  a:\n    constraints: [x]\n", []string{"m.yaml:3:18:", "constraints must be a mapping"}},
		{"unknown constraint", "tools:\n  a:\n    constraints:\n      allowed_urls: [x]\n", []string{"m.yaml:4:7:", `unknown constraint "allowed_urls"`, "allowed_url_patterns"}},
		{"url patterns not a list", "tools:\n  a:\n    constraints:\n      blocked_url_patterns: 'http://*'\n", []string{"m.yaml:4:29:", "must be a list"}},
		{"url pattern not text", "tools:\n  a:\n    constraints:\n      blocked_url_patterns: [{a: b}]\n", []string{"m.yaml:4:30:", "must be text"}},
		{"bad url pattern", "tools:\n  a:\n    constraints:\n      allowed_url_patterns: ['https://ok/*', '']\n", []string{"m.yaml:4:46:", "empty pattern", "scheme://host"}},
		{"param constraints not a mapping", "tools:\n  a:\n    constraints:\n      param_constraints: [table]\n", []string{"m.yaml:4:26:", "param_constraints must be a mapping"}},
		{"unknown param constraint", "tools:\n  a:\n    constraints:\n      param_constraints:\n        table: {allowed: [a]}\n", []string{"m.yaml:5:17:", `unknown parameter constraint "allowed" for 'table'`}},
		{"allowed_values not a list", "tools:\n  a:\n    constraints:\n      param_constraints:\n        table: {allowed_values: users}\n", []string{"m.yaml:5:33:", "allowed_values must be a list"}},
		{"param pattern python syntax", "tools:\n  a:\n    constraints:\n      param_constraints:\n        path: {pattern: '(?<=/)etc'}\n", []string{"m.yaml:5:25:", "param_constraints for 'path'", "look-behind"}},
		{"param pattern not text", "tools:\n  a:\n    constraints:\n      param_constraints:\n        n: {pattern: 5}\n", []string{"m.yaml:5:22:", "pattern must be text"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := registry.Parse("m.yaml", []byte(tt.src))
			if err == nil {
				t.Fatalf("Parse succeeded (%v tools); want an error", m.Tools())
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, tt.want[0]) {
				t.Errorf("error %q does not start with position %q", msg, tt.want[0])
			}
			for _, w := range tt.want[1:] {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not contain %q", msg, w)
				}
			}
		})
	}
}

func TestToolApprovalsRequired(t *testing.T) {
	tool := mustTool(t, "tools:\n  t:\n    effect: delete\n    approvals_required: 3\n", "t")
	if tool.ApprovalsRequired != 3 {
		t.Errorf("ApprovalsRequired = %d, want 3", tool.ApprovalsRequired)
	}
	for value, want := range map[string]string{
		"0":    "m.yaml:3:25: approvals_required must be a whole number from 1 to 10, got",
		"11":   "approvals_required must be a whole number from 1 to 10",
		"-1":   "approvals_required must be a whole number from 1 to 10",
		"2.5":  "approvals_required must be a whole number from 1 to 10",
		"'2'":  "approvals_required must be a whole number from 1 to 10",
		"yes":  "approvals_required must be a whole number from 1 to 10",
		"[2]":  "approvals_required must be a whole number from 1 to 10",
		"null": "approvals_required must be a whole number from 1 to 10",
	} {
		_, err := registry.Parse("m.yaml", []byte("tools:\n  t:\n    approvals_required: "+value+"\n"))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("approvals_required: %s: err = %v, want %q", value, err, want)
		}
	}
}
