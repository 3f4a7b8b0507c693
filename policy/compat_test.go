package policy

import (
	"os"
	"strings"
	"testing"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/internal/yamlx"
)

// scenario is one entry of a Tollgate scenario file (§14.1).
type scenario struct {
	name     string
	agent    tollgate.Agent
	intent   tollgate.Intent
	req      tollgate.ToolRequest
	decision tollgate.DecisionType
	policyID string
	contains string
}

// loadScenarios reads a scenario file with Tollgate's defaults: agent
// test-agent/1.0/test-owner, intent test_action/test reason, tool, action
// and resource_type unknown, effect unknown (also for invalid effects),
// no manifest version.
func loadScenarios(t *testing.T, path string) []scenario {
	t.Helper()
	doc, _, err := yamlx.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	root, err := doc.Value(doc.Root)
	if err != nil {
		t.Fatal(err)
	}
	list, _ := get(root, "scenarios").([]any)
	if len(list) == 0 {
		t.Fatalf("%s: no scenarios", path)
	}
	var out []scenario
	for _, item := range list {
		a, in, r, exp := get(item, "agent"), get(item, "intent"), get(item, "tool_request"), get(item, "expected")
		s := scenario{
			name: text(item, "name", "Unnamed scenario"),
			agent: tollgate.Agent{
				ID: text(a, "agent_id", "test-agent"), Version: text(a, "version", "1.0"), Owner: text(a, "owner", "test-owner"),
			},
			intent: tollgate.Intent{Action: text(in, "action", "test_action"), Reason: text(in, "reason", "test reason")},
			req: tollgate.ToolRequest{
				Tool: text(r, "tool", "unknown"), Action: text(r, "action", "unknown"), ResourceType: text(r, "resource_type", "unknown"),
				ManifestVersion: text(r, "manifest_version", ""),
			},
			decision: tollgate.DecisionType(text(exp, "decision", "")),
			policyID: text(exp, "policy_id", ""),
			contains: text(exp, "reason_contains", ""),
		}
		if e, ok := tollgate.ParseEffect(text(r, "effect", "unknown")); ok {
			s.req.Effect = e
		} else {
			s.req.Effect = tollgate.EffectUnknown
		}
		for _, d := range asList(get(a, "delegated_by")) {
			s.agent.DelegatedBy = append(s.agent.DelegatedBy, d.(string))
		}
		s.agent.Metadata, _ = get(a, "metadata").(tollgate.Params)
		s.req.Metadata, _ = get(r, "metadata").(tollgate.Params)
		out = append(out, s)
	}
	return out
}

func get(v any, key string) any {
	m, _ := v.(tollgate.Params)
	x, _ := m.Get(key)
	return x
}

func text(v any, key, def string) string {
	if s, ok := get(v, key).(string); ok {
		return s
	}
	return def
}

func asList(v any) []any { l, _ := v.([]any); return l }

func TestSecurityHardenedScenarios(t *testing.T) {
	p, err := Load("testdata/security_hardened_policy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if p.Version() != "1.0" {
		t.Fatalf("version %q", p.Version())
	}
	scenarios := loadScenarios(t, "testdata/security_hardened_scenarios.yaml")
	if len(scenarios) != 7 {
		t.Fatalf("%d scenarios, want 7", len(scenarios))
	}
	for _, s := range scenarios {
		d := decide(t, p, s.agent, s.intent, s.req)
		if d.Type != s.decision || (s.policyID != "" && d.PolicyID != s.policyID) || !strings.Contains(d.Reason, s.contains) {
			t.Errorf("%s: got %s/%s %q, want %s/%s containing %q", s.name, d.Type, d.PolicyID, d.Reason, s.decision, s.policyID, s.contains)
		}
	}
}

func TestDefaultPolicyWhenRules(t *testing.T) {
	p, err := Load("testdata/default.yaml")
	if err != nil {
		t.Fatal(err)
	}
	lc := func(action string, effect tollgate.Effect, meta string) tollgate.ToolRequest {
		r := tollgate.ToolRequest{Tool: "langchain", Action: action, ResourceType: "ticket", Effect: effect, ManifestVersion: "1.0.0"}
		return withMeta(t, r, meta)
	}
	cases := []struct {
		req  tollgate.ToolRequest
		want tollgate.DecisionType
		id   string
	}{
		{lc("close_ticket", tollgate.EffectWrite, `{"is_vip": true, "ticket_age_days": 120}`), tollgate.Deny, "deny_vip_deletion"},
		{lc("close_ticket", tollgate.EffectWrite, `{"is_vip": false, "ticket_age_days": 120}`), tollgate.Ask, "ask_stale_ticket_closure"},
		{lc("close_ticket", tollgate.EffectWrite, `{"ticket_age_days": 90}`), tollgate.Ask, "ask_stale_ticket_closure"},
		{lc("close_ticket", tollgate.EffectWrite, `{"ticket_age_days": 89.5}`), tollgate.Deny, ""},
		{lc("close_ticket", tollgate.EffectWrite, `{}`), tollgate.Deny, ""},
		{lc("list_stale_tickets", tollgate.EffectRead, `{}`), tollgate.Allow, "allow_list_stale"},
		{lc("list_stale_tickets", tollgate.EffectWrite, `{}`), tollgate.Deny, ""},
	}
	for _, c := range cases {
		d := decide(t, p, direct, anIntent, c.req)
		if d.Type != c.want || d.PolicyID != c.id || d.PolicyVersion != "1.0.0" {
			t.Errorf("%s %s: got %s/%s (%s)", c.req.Action, c.req.Metadata, d.Type, d.PolicyID, d.PolicyVersion)
		}
	}
}

func TestContentHashVersion(t *testing.T) {
	p, err := Load("testdata/mcp_minimal_policy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if p.Version() != "45e9d1ad" || !strings.HasPrefix(p.Hash(), "45e9d1ad") || len(p.Hash()) != 64 {
		t.Fatalf("version %q hash %q", p.Version(), p.Hash())
	}
	lf, err := os.ReadFile("testdata/mcp_minimal_policy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// Python reads text with universal newlines: CRLF and CR hash like LF.
	for name, data := range map[string]string{
		"crlf": strings.ReplaceAll(string(lf), "\n", "\r\n"),
		"cr":   strings.ReplaceAll(string(lf), "\n", "\r"),
	} {
		q, err := Parse(name, []byte(data))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if q.Version() != "45e9d1ad" {
			t.Errorf("%s: version %q", name, q.Version())
		}
	}
	// Any change to the text changes the version.
	if q := mustParse(t, string(lf)+"\n"); q.Version() == "45e9d1ad" {
		t.Fatal("hash ignores content")
	}
	d := decide(t, p, direct, anIntent, trusted("mcp", tollgate.EffectRead))
	if d.PolicyVersion != "45e9d1ad" {
		t.Fatalf("decision version %q", d.PolicyVersion)
	}
}

func TestVersionText(t *testing.T) {
	cases := map[string]string{
		`version: "1.0"`:      "1.0",
		`version: 1.0`:        "1.0",
		`version: 1.10`:       "1.1",
		`version: 1`:          "1",
		`version: yes`:        "True",
		`version: 2024-01-01`: "2024-01-01",
		`version: v2`:         "v2",
	}
	for src, want := range cases {
		p := mustParse(t, src+"\nrules: []\n")
		if p.Version() != want {
			t.Errorf("%s: version %q, want %q", src, p.Version(), want)
		}
	}
	if w := mustParse(t, "version: 1.10\n").Warnings(); len(w) != 1 || !strings.Contains(w[0], `recorded as "1.1"`) {
		t.Fatalf("warnings %q", w)
	}
}
