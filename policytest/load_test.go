package policytest

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/tollgate-go/tollgate"
)

func TestDefaultsAreTollgates(t *testing.T) {
	s, err := ParseScenarios("s.yaml", []byte("scenarios:\n  - expected: {decision: DENY}\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := Scenario{
		Call: Call{
			Agent:   tollgate.Agent{ID: "test-agent", Version: "1.0", Owner: "test-owner"},
			Intent:  tollgate.Intent{Action: "test_action", Reason: "test reason"},
			Request: tollgate.ToolRequest{Tool: "unknown", Action: "unknown", ResourceType: "unknown", Effect: tollgate.EffectUnknown},
		},
		Expected: Expectation{Decision: tollgate.Deny},
		File:     "s.yaml",
		Line:     2,
	}
	if len(s) != 1 || !reflect.DeepEqual(s[0], want) {
		t.Fatalf("got %+v\nwant %+v", s, want)
	}
	if got := s[0].displayName(); got != "Unnamed scenario" {
		t.Errorf("display name %q", got)
	}
}

func TestEveryField(t *testing.T) {
	s, err := ParseScenarios("s.yaml", []byte(`scenarios:
  - name: full
    description: ignored
    agent:
      agent_id: worker
      version: 1.0
      owner: team
      metadata: {environment: prod}
      delegated_by: [orchestrator, router]
    intent:
      action: write_data
      reason: nightly
      confidence: 0.9
      metadata: {session_id: s1}
    tool_request:
      tool: "api:write_file"
      action: write
      resource_type: file
      effect: write
      params: {path: /safe/x, size: 10, big: 1.0e+3}
      metadata: {risk: 5}
      manifest_version: null
    expected:
      decision: ASK
      reason_contains: approval
      policy_id: ask_direct_writes
`))
	if err != nil {
		t.Fatal(err)
	}
	c := s[0]
	conf := 0.9
	want := Call{
		Agent: tollgate.Agent{ID: "worker", Version: "1.0", Owner: "team",
			Metadata: tollgate.Params{{Key: "environment", Value: "prod"}}, DelegatedBy: []string{"orchestrator", "router"}},
		Intent: tollgate.Intent{Action: "write_data", Reason: "nightly", Confidence: &conf,
			Metadata: tollgate.Params{{Key: "session_id", Value: "s1"}}},
		Request: tollgate.ToolRequest{Tool: "api:write_file", Action: "write", ResourceType: "file", Effect: tollgate.EffectWrite,
			Params:   tollgate.Params{{Key: "path", Value: "/safe/x"}, {Key: "size", Value: json.Number("10")}, {Key: "big", Value: json.Number("1000.0")}},
			Metadata: tollgate.Params{{Key: "risk", Value: json.Number("5")}}},
	}
	if !reflect.DeepEqual(c.Call, want) {
		t.Fatalf("call\n got %+v\nwant %+v", c.Call, want)
	}
	if c.Name != "full" || c.Expected != (Expectation{Decision: tollgate.Ask, ReasonContains: "approval", PolicyID: "ask_direct_writes"}) {
		t.Fatalf("scenario %+v", c)
	}
}

// Tollgate turns an effect it does not know into unknown; strict refuses it.
func TestInvalidEffect(t *testing.T) {
	data := []byte("scenarios:\n  - tool_request: {effect: READ}\n    expected: {decision: DENY}\n")
	s, err := ParseScenarios("s.yaml", data)
	if err != nil || s[0].Request.Effect != tollgate.EffectUnknown {
		t.Fatalf("lenient: %v %+v", err, s)
	}
	_, err = ParseScenarios("s.yaml", data, WithStrict())
	if err == nil || !strings.Contains(err.Error(), `s.yaml:2:28: Scenario 'Scenario 0': tool_request.effect "READ" is not an effect`) {
		t.Fatalf("strict: %v", err)
	}
}

func TestUnknownKeysIgnoredUnlessStrict(t *testing.T) {
	data := []byte("top: 1\nscenarios:\n  - tool_requets: {}\n    agent: {agentid: x}\n    expected: {decision: DENY, reson: x}\n")
	if _, err := ParseScenarios("s.yaml", data); err != nil {
		t.Fatalf("lenient: %v", err)
	}
}

func TestLoadErrors(t *testing.T) {
	deep := "scenarios:\n  - expected: {decision: DENY}\n    tool_request: {params: " + strings.Repeat("[", 80) + strings.Repeat("]", 80) + "}\n"
	bomb := "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\ng: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\nscenarios: []\n"
	tests := []struct {
		name, data string
		strict     bool
		want       string
	}{
		{"empty", "", false, "Scenarios file must contain a 'scenarios' key: s.yaml"},
		{"comment only", "# nothing\n", false, "Scenarios file must contain a 'scenarios' key: s.yaml"},
		{"no key", "other: 1\n", false, "Scenarios file must contain a 'scenarios' key: s.yaml"},
		{"list root", "- a\n", false, "Scenarios file must contain a 'scenarios' key: s.yaml"},
		{"null list", "scenarios:\n", false, "s.yaml:1:11: 'scenarios' must be a list of scenarios, got null"},
		{"map list", "scenarios: {a: 1}\n", false, "s.yaml:1:12: 'scenarios' must be a list of scenarios, got a mapping"},
		{"scalar item", "scenarios: [1]\n", false, `s.yaml:1:13: Scenario 0 must be a mapping (key: value), got "1"`},
		{"no expected", "scenarios:\n  - name: x\n", false, "s.yaml:2:5: Scenario 'x' is missing 'expected' key"},
		{"no expected unnamed", "scenarios:\n  - {expected: {decision: DENY}}\n  - {agent: {}}\n", false, "s.yaml:3:5: Scenario 'Scenario 1' is missing 'expected' key"},
		{"no decision", "scenarios:\n  - {name: x, expected: {policy_id: a}}\n", false, "s.yaml:2:25: Scenario 'x' expected section must include 'decision'"},
		{"invalid decision", "scenarios:\n  - {name: x, expected: {decision: allow}}\n", false, "s.yaml:2:36: Scenario 'x' has invalid expected decision: 'allow'"},
		{"null decision", "scenarios:\n  - {name: x, expected: {decision: null}}\n", false, "Scenario 'x' has invalid expected decision: 'None'"},
		{"list decision", "scenarios:\n  - {name: x, expected: {decision: [ALLOW]}}\n", false, "Scenario 'x' has invalid expected decision: ''"},
		{"null expected", "scenarios:\n  - {name: x, expected: }\n", false, "Scenario 'x' expected section must include 'decision' (expected must be a mapping, got null)"},
		{"agent list", "scenarios:\n  - {name: x, agent: [a], expected: {decision: DENY}}\n", false, "s.yaml:2:22: Scenario 'x': agent must be a mapping (key: value), got a list"},
		{"delegated_by text", "scenarios:\n  - {name: x, agent: {delegated_by: root}, expected: {decision: DENY}}\n", false, "Scenario 'x': agent.delegated_by must be a list, got \"root\""},
		{"delegated_by nested", "scenarios:\n  - {name: x, agent: {delegated_by: [[a]]}, expected: {decision: DENY}}\n", false, "Scenario 'x': agent.delegated_by[0] must be text, got a list"},
		{"agent_id map", "scenarios:\n  - {name: x, agent: {agent_id: {a: 1}}, expected: {decision: DENY}}\n", false, "Scenario 'x': agent.agent_id must be text, got a mapping"},
		{"name map", "scenarios:\n  - {name: {a: 1}, expected: {decision: DENY}}\n", false, "Scenario 'Scenario 0': name must be text, got a mapping"},
		{"confidence text", "scenarios:\n  - {name: x, intent: {confidence: high}, expected: {decision: DENY}}\n", false, `Scenario 'x': intent.confidence must be a number or null, got "high"`},
		{"params list", "scenarios:\n  - {name: x, tool_request: {params: [1]}, expected: {decision: DENY}}\n", false, "Scenario 'x': tool_request.params must be a mapping (key: value), got a list"},
		{"metadata text", "scenarios:\n  - {name: x, tool_request: {metadata: hi}, expected: {decision: DENY}}\n", false, "Scenario 'x': tool_request.metadata must be a mapping"},
		{"strict unknown scenario key", "scenarios:\n  - {name: x, tool_requets: {}, expected: {decision: DENY}}\n", true, `s.yaml:2:15: Scenario 'x': unknown key "tool_requets"; scenario keys are name, description, agent, intent, tool_request, expected`},
		{"strict unknown agent key", "scenarios:\n  - {name: x, agent: {agentid: a}, expected: {decision: DENY}}\n", true, `Scenario 'x': unknown key "agent.agentid"; the agent keys are agent_id, version, owner, metadata, delegated_by`},
		{"strict unknown expected key", "scenarios:\n  - {name: x, expected: {decision: DENY, reson: a}}\n", true, `unknown key "expected.reson"`},
		{"strict unknown top key", "scenario: []\nscenarios: []\n", true, `s.yaml:1:1: unknown top-level key "scenario"`},
		{"strict empty", "scenarios: []\n", true, "s.yaml:1:12: 'scenarios' is empty; strict mode wants at least one scenario"},
		{"syntax", "scenarios:\n  - name: [x\n", false, "s.yaml:1: YAML syntax error"},
		{"tab indent", "scenarios:\n\t- name: x\n", false, "YAML syntax error"},
		{"binary", "scenarios:\x00\xff\n", false, "s.yaml: not UTF-8 text (binary file?)"},
		{"nul", "scenarios: \x00\n", false, "contains a NUL byte"},
		{"deep", deep, false, "nesting deeper than 64 levels"},
		{"alias bomb", bomb, false, "too many nodes (alias bomb?)"},
		{"duplicate key", "scenarios: []\nscenarios: []\n", false, `s.yaml:2:1: duplicate key "scenarios"`},
		{"custom tag", "scenarios:\n  - {name: x, tool_request: {params: {a: !foo 1}}, expected: {decision: DENY}}\n", false, "YAML tag !foo is not supported"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var opts []LoadOption
			if tt.strict {
				opts = append(opts, WithStrict())
			}
			_, err := ParseScenarios("s.yaml", []byte(tt.data), opts...)
			if err == nil {
				t.Fatalf("no error, want %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q\nwant it to contain %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error spans lines: %q", err)
			}
		})
	}
}

func TestTooLarge(t *testing.T) {
	data := make([]byte, MaxFileSize+1)
	_, err := ParseScenarios("s.yaml", data)
	if err == nil || !strings.Contains(err.Error(), "larger than the 33554432-byte limit") {
		t.Fatalf("error %v", err)
	}
	path := filepath.Join(t.TempDir(), "big.yaml")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadScenarios(path); err == nil || !strings.Contains(err.Error(), "larger than the 33554432-byte limit") {
		t.Fatalf("error %v", err)
	}
}

func TestLoadScenariosFileErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := LoadScenarios(filepath.Join(dir, "missing.yaml")); err == nil || err.Error() != "Scenarios file not found: "+filepath.Join(dir, "missing.yaml") {
		t.Errorf("missing: %v", err)
	}
	if _, err := LoadScenarios(dir); err == nil || !strings.Contains(err.Error(), "is a directory") {
		t.Errorf("directory: %v", err)
	}
	s, err := LoadScenarios("testdata/test_scenarios.yaml")
	if err != nil || len(s) != 7 || s[0].File != "testdata/test_scenarios.yaml" || s[0].Line != 15 {
		t.Fatalf("compat file: %v, %d scenarios", err, len(s))
	}
}

func TestParseCall(t *testing.T) {
	t.Run("yaml defaults", func(t *testing.T) {
		c, err := ParseCall("c.yaml", []byte("tool_request: {tool: api:x}\n"))
		if err != nil {
			t.Fatal(err)
		}
		want := DefaultCall()
		want.Request.Tool = "api:x"
		if !reflect.DeepEqual(c, want) {
			t.Fatalf("got %+v", c)
		}
	})
	t.Run("a pasted scenario", func(t *testing.T) {
		if _, err := ParseCall("c.yaml", []byte("name: n\ndescription: d\nexpected: {decision: ALLOW}\nagent: {agent_id: a}\n")); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("json numbers keep JSON meaning", func(t *testing.T) {
		c, err := ParseCall("c.json", []byte(`{"tool_request": {"params": {"a": 1e3, "b": 2E-2, "c": 5, "d": "1e3", "e": 1.5}}, "intent": {"confidence": 1e-1}}`))
		if err != nil {
			t.Fatal(err)
		}
		want := tollgate.Params{{Key: "a", Value: json.Number("1000.0")}, {Key: "b", Value: json.Number("0.02")}, {Key: "c", Value: json.Number("5")}, {Key: "d", Value: "1e3"}, {Key: "e", Value: json.Number("1.5")}}
		if !reflect.DeepEqual(c.Request.Params, want) || c.Intent.Confidence == nil || *c.Intent.Confidence != 0.1 {
			t.Fatalf("params %v confidence %v", c.Request.Params, c.Intent.Confidence)
		}
	})
	t.Run("yaml 1e3 stays text", func(t *testing.T) {
		c, err := ParseCall("c.yaml", []byte("tool_request: {params: {a: 1e3}}\n"))
		if err != nil {
			t.Fatal(err)
		}
		if v, _ := c.Request.Params.Get("a"); v != "1e3" {
			t.Fatalf("a = %#v", v)
		}
	})
	for _, tt := range []struct{ name, data, want string }{
		{"empty", " \n", "c.yaml: the call is empty"},
		{"list", "- a\n", "the call must be a mapping (key: value), got a list"},
		{"unknown key", "tool_requests: {}\n", `c.yaml:1:1: the call: unknown key "tool_requests"`},
		{"unknown nested key", "tool_request: {tol: x}\n", `unknown key "tool_request.tol"`},
		{"bad effect", "tool_request: {effect: Read}\n", `tool_request.effect "Read" is not an effect`},
		{"syntax", "{a: [}\n", "YAML syntax error"},
		{"binary", "\xff\xfe", "not UTF-8"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseCall("c.yaml", []byte(tt.data))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
		})
	}
	if _, err := ParseCall("c.yaml", make([]byte, MaxCallSize+1)); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("oversized call: %v", err)
	}
}
