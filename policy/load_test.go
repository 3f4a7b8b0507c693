package policy

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/internal/yamlx"
)

// Each case is a file Tollgate 1.4.0 loads (or crashes on) and this
// package refuses. want are substrings of the error, the first being the
// position.
func TestLoadErrors(t *testing.T) {
	cases := []struct {
		name, src string
		want      []string
	}{
		{"empty file", "", []string{"policy.yaml: policy file is empty"}},
		{"comments only", "# nothing\n", []string{"policy file is empty"}},
		{"not a mapping", "- a\n", []string{"policy.yaml:1:1:", "must be a mapping"}},
		{"rules null", "rules:\n", []string{"policy.yaml:1:1:", "rules is empty (null)", "rules: []"}},
		{"rules not a list", "rules: {id: a}\n", []string{"policy.yaml:1:8:", "rules must be a list"}},
		{"unknown top-level key", "version: x\nrule: []\n", []string{"policy.yaml:2:1:", `unknown top-level key "rule"`, `did you mean "rules"?`}},
		{"typo efect", "rules:\n  - id: a\n    efect: read\n    decision: ALLOW\n", []string{"policy.yaml:3:5:", `rule at index 0: unknown key "efect"`, `did you mean "effect"?`}},
		{"missing decision", "rules:\n  - id: a\n  - id: b\n    tool: t\n", []string{"policy.yaml:3:5:", "Rule at index 1 is missing 'decision' key"}},
		{"invalid decision", "rules:\n  - decision: allow\n", []string{"policy.yaml:2:15:", "Invalid decision 'allow' in rule at index 0", "upper-case"}},
		{"decision boolean", "rules:\n  - decision: yes\n", []string{"Invalid decision 'True' in rule at index 0"}},
		{"decision null", "rules:\n  - decision:\n", []string{"Invalid decision 'None' in rule at index 0"}},
		{"rule not a mapping", "rules:\n  - ALLOW\n", []string{"policy.yaml:2:5:", "rule at index 0 must be a mapping"}},
		{"unknown agent key", "rules:\n  - decision: DENY\n    agent: {team: x}\n", []string{"policy.yaml:3:13:", `rule at index 0: agent: unknown key "team"`, "owner"}},
		{"unknown intent key", "rules:\n  - decision: DENY\n    intent: {sesion_id: x}\n", []string{`rule at index 0: intent: unknown key "sesion_id"`, `did you mean "session_id"?`}},
		{"unknown when operator", "rules:\n  - decision: DENY\n    when: {x: {in: [a]}}\n", []string{"policy.yaml:3:16:", `rule at index 0: when.x: unknown operator "in"`, "==, !=, >, >=, <, <="}},
		{"tool list", "rules:\n  - decision: DENY\n    tool: [a, b]\n", []string{"policy.yaml:3:11:", "tool must be a single value, got a list", "one rule per value"}},
		{"effect uppercase", "rules:\n  - decision: DENY\n    effect: WRITE\n", []string{"policy.yaml:3:13:", "unknown effect 'WRITE'", `did you mean "write"?`}},
		{"effect number", "rules:\n  - decision: DENY\n    effect: 1\n", []string{"unknown effect 1"}},
		{"allowed_delegators string", "rules:\n  - decision: ALLOW\n    agent: {allowed_delegators: x}\n", []string{"policy.yaml:3:33:", "allowed_delegators must be a list of agent ids", "write [x]"}},
		{"blocked_delegators number", "rules:\n  - decision: ALLOW\n    agent: {blocked_delegators: [1]}\n", []string{"blocked_delegators entries must be agent ids", "quote it"}},
		{"deny_delegated text", "rules:\n  - decision: ALLOW\n    agent: {deny_delegated: \"false\"}\n", []string{"deny_delegated must be true or false"}},
		{"max depth negative", "rules:\n  - decision: ALLOW\n    agent: {max_delegation_depth: -1}\n", []string{"max_delegation_depth must be a whole number, 0 or more"}},
		{"max depth float", "rules:\n  - decision: ALLOW\n    agent: {max_delegation_depth: 1.5}\n", []string{"max_delegation_depth must be a whole number"}},
		{"max depth text", "rules:\n  - decision: ALLOW\n    agent: {max_delegation_depth: two}\n", []string{"max_delegation_depth must be a whole number"}},
		{"agent null", "rules:\n  - decision: ALLOW\n    agent:\n", []string{"agent must be a mapping", "got null"}},
		{"when list", "rules:\n  - decision: ALLOW\n    when: [a]\n", []string{"when must be a mapping"}},
		{"when key boolean", "rules:\n  - decision: DENY\n    when: {on: 1}\n", []string{"key on is read by YAML as a boolean", `quote it ("on")`}},
		{"metadata list", "rules:\n  - decision: DENY\n    metadata: [a]\n", []string{"metadata must be a mapping"}},
		{"reason null", "rules:\n  - decision: DENY\n    reason:\n", []string{"reason is empty"}},
		{"id mapping", "rules:\n  - decision: DENY\n    id: {a: 1}\n", []string{"id must be a single value, got a mapping"}},
		{"version null", "version:\nrules: []\n", []string{"policy.yaml:1:1:", "version is empty"}},
		{"environment list", "rules:\n  - decision: DENY\n    agent: {environment: [a]}\n", []string{"environment must be a single value"}},
		{"custom tag decision", "rules:\n  - decision: !foo DENY\n", []string{"policy.yaml:2:15:", "tag !foo"}},
		{"custom tag tool", "rules:\n  - {decision: DENY, tool: !foo x}\n", []string{"tag !foo"}},
		{"custom tag metadata", "rules:\n  - {decision: DENY, metadata: {a: !foo x}}\n", []string{"tag !foo"}},
		{"custom tag when key", "rules:\n  - {decision: DENY, when: {!foo k: 1}}\n", []string{"tag !foo"}},
		{"custom tag when value", "rules:\n  - {decision: DENY, when: {k: !foo 1}}\n", []string{"tag !foo"}},
		{"custom tag operator target", "rules:\n  - {decision: DENY, when: {k: {\">\": !foo 1}}}\n", []string{"tag !foo"}},
		{"custom tag delegator", "rules:\n  - {decision: DENY, agent: {allowed_delegators: [!foo a]}}\n", []string{"tag !foo"}},
		{"intent list", "rules:\n  - {decision: DENY, intent: [a]}\n", []string{"intent must be a mapping"}},
		{"version list", "version: [1]\nrules: []\n", []string{"policy.yaml:1:10:", "version must be a single value, got a list"}},
		{"version empty text", "version: ''\nrules: []\n", []string{"version is empty"}},
		{"yaml syntax", "rules: [\n", []string{"YAML syntax error"}},
		{"duplicate key", "rules: []\nrules: []\n", []string{"duplicate key"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := Parse("policy.yaml", []byte(c.src))
			if err == nil {
				t.Fatalf("loaded %d rules, want an error", len(p.rules))
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestLoadReportsEveryError(t *testing.T) {
	_, err := Parse("p.yaml", []byte("rules:\n  - decision: allow\n  - efect: read\n    decision: DENY\n  - id: x\n"))
	if err == nil {
		t.Fatal("no error")
	}
	var ye *yamlx.Error
	if !errors.As(err, &ye) || ye.Line != 2 {
		t.Fatalf("first positioned error %+v", ye)
	}
	for _, w := range []string{"p.yaml:2:15: Invalid decision", "p.yaml:3:5: rule at index 1: unknown key", "p.yaml:5:5: Rule at index 2 is missing"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("%q missing %q", err, w)
		}
	}
}

func TestLoadFile(t *testing.T) {
	dir := t.TempDir()
	if _, err := Load(filepath.Join(dir, "missing.yaml")); err == nil || !strings.Contains(err.Error(), "missing.yaml") {
		t.Fatalf("missing file: %v", err)
	}
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "directory") {
		t.Fatalf("directory: %v", err)
	}
	path := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(path, []byte("rules:\n  - tool: x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path); err == nil || !strings.HasPrefix(err.Error(), path+":2:5:") {
		t.Fatalf("error not positioned in the file: %v", err)
	}
}

func TestSection(t *testing.T) {
	p := mustParse(t, `rules: []
rate_limits:
  - {agent_id: "*", tool: "*", max_calls: 5, window_seconds: 60}
network_policy:
`)
	doc, n := p.Section("rate_limits")
	if n == nil || doc == nil || len(n.Content) != 1 || n.Line != 3 || doc.File != "policy.yaml" {
		t.Fatalf("rate_limits node %+v", n)
	}
	if _, n := p.Section("network_policy"); n == nil || !yamlx.IsNull(n) {
		t.Fatalf("network_policy: want a null node, got %+v", n)
	}
	if _, n := p.Section("absent"); n != nil {
		t.Fatalf("absent section: %+v", n)
	}
}

// A loaded policy keeps the sections Section serves, not the rules' syntax
// tree; a section may still use an anchor defined in the rules.
func TestSectionKeepsOnlySections(t *testing.T) {
	p := mustParse(t, `version: "1"
rules:
  - {decision: DENY, tool: &t "mcp:files"}
rate_limits:
  - {tool: *t, max_calls: 5, window_seconds: 60}
`)
	if _, n := p.Section("rules"); n != nil {
		t.Fatalf("rules section still held: %+v", n)
	}
	doc, n := p.Section("rate_limits")
	if n == nil || len(doc.Root.Content) != 2 || doc.Root.Content[1] != n {
		t.Fatalf("document kept %d nodes at the top, want rate_limits only", len(doc.Root.Content))
	}
	v, err := doc.Value(n)
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(v); !strings.Contains(got, "mcp:files") {
		t.Fatalf("alias into the rules not resolved: %s", got)
	}
}

func TestRulesInfo(t *testing.T) {
	p := mustParse(t, `rules:
  - id: a
    tool: t
    action: act
    resource_type: file
    effect: write
    decision: ASK
    reason: why
  - decision: DENY
    tool: 5
`)
	rs := p.Rules()
	want0 := RuleInfo{Index: 0, ID: "a", Line: 2, Column: 5, Decision: tollgate.Ask, Reason: "why",
		Tool: "t", Action: "act", ResourceType: "file", Effect: "write",
		Keys: []string{"id", "tool", "action", "resource_type", "effect", "decision", "reason"}}
	if len(rs) != 2 || rs[0].Tool != want0.Tool || rs[0].Line != 2 || rs[0].Column != 5 || rs[0].Effect != "write" ||
		rs[0].Reason != "why" || strings.Join(rs[0].Keys, ",") != strings.Join(want0.Keys, ",") || rs[0].Decision != tollgate.Ask {
		t.Fatalf("rules %+v", rs)
	}
	if rs[1].Tool != "5" || rs[1].Reason != ReasonDefault || rs[1].ID != "" || rs[1].Index != 1 {
		t.Fatalf("rule 1 %+v", rs[1])
	}
	// Returned slices are copies.
	rs[0].Keys[0] = "changed"
	if p.Rules()[0].Keys[0] != "id" {
		t.Fatal("Rules exposes internal state")
	}
}

func TestWarnings(t *testing.T) {
	p := mustParse(t, `version: 2
rules:
  - {id: a, decision: DENY, tool: 5}
  - {id: a, decision: DENY, effect: unknown}
  - {id: b, decision: DENY, intent: {action: true}}
  - {id: c, decision: DENY, resource_type: ~}
`)
	w := p.Warnings()
	want := []string{"version 2", "tool is the number 5", `id "a" is also used`, "effect unknown never matches", "action is the boolean True", "resource_type is empty (null)"}
	if len(w) != len(want) {
		t.Fatalf("warnings %q", w)
	}
	for i := range want {
		if !strings.Contains(w[i], want[i]) || !strings.HasPrefix(w[i], "policy.yaml:") {
			t.Errorf("warning %d = %q, want %q", i, w[i], want[i])
		}
	}
}

func TestIDAndReasonScalarsUsePythonStr(t *testing.T) {
	p := mustParse(t, "rules:\n  - {id: 7, reason: 1.50, decision: DENY}\n")
	d := decide(t, p, direct, anIntent, trusted("t", tollgate.EffectRead))
	if d.PolicyID != "7" || d.Reason != "1.5" {
		t.Fatalf("%+v", d)
	}
}
