package policy

import (
	"strings"
	"sync"
	"testing"

	"github.com/tollgate-go/tollgate"
)

// Behaviours from tests/test_policy_v1.py.

func TestAllowNeedsManifestVersion(t *testing.T) {
	p := mustParse(t, "rules:\n  - id: r\n    effect: read\n    decision: ALLOW\n    metadata: {k: v}\n")
	r := trusted("t", tollgate.EffectRead)
	r.ManifestVersion = ""
	d := decide(t, p, direct, anIntent, r)
	wantDecision(t, d, tollgate.Ask, "")
	if !strings.Contains(d.Reason, "trusted") || d.Reason != ReasonUntrusted || len(d.Metadata) != 0 {
		t.Fatalf("downgrade = %+v", d)
	}
	r.ManifestVersion = "1.0.0"
	d = decide(t, p, direct, anIntent, r)
	wantDecision(t, d, tollgate.Allow, "r")
	if len(d.Metadata) != 1 || d.Reason != ReasonDefault {
		t.Fatalf("allow = %+v", d)
	}
}

func TestUnknownEffectDeniedWithoutRules(t *testing.T) {
	for _, src := range []string{"rules: []\n", "rules:\n  - decision: ALLOW\n"} {
		p := mustParse(t, src)
		for _, e := range []tollgate.Effect{tollgate.EffectUnknown, "", "READ", "execute"} {
			d := decide(t, p, direct, anIntent, trusted("t", e))
			wantDecision(t, d, tollgate.Deny, "")
			if d.Reason != ReasonUnknownEffect || d.PolicyVersion != p.Version() {
				t.Fatalf("effect %q: %+v", e, d)
			}
		}
	}
}

func TestWhenEqualityDeny(t *testing.T) {
	p := mustParse(t, "rules:\n  - id: vip\n    when: {is_vip: true}\n    decision: DENY\n")
	d := decide(t, p, direct, anIntent, withMeta(t, trusted("t", tollgate.EffectWrite), `{"is_vip": true}`))
	wantDecision(t, d, tollgate.Deny, "vip")
	// Python equality: true == 1.
	d = decide(t, p, direct, anIntent, withMeta(t, trusted("t", tollgate.EffectWrite), `{"is_vip": 1}`))
	wantDecision(t, d, tollgate.Deny, "vip")
	d = decide(t, p, direct, anIntent, withMeta(t, trusted("t", tollgate.EffectWrite), `{"is_vip": "true"}`))
	wantDecision(t, d, tollgate.Deny, "")
	if d.Reason != ReasonNoMatch {
		t.Fatalf("reason %q", d.Reason)
	}
}

// Behaviours from tests/test_defense_in_depth.py (delegation).

func TestMaxDelegationDepth(t *testing.T) {
	p := mustParse(t, `version: '1.0'
rules:
  - id: allow_shallow
    effect: read
    decision: ALLOW
    agent: {max_delegation_depth: 2}
  - id: deny_deep
    decision: DENY
`)
	r := trusted("api:fetch", tollgate.EffectRead)
	wantDecision(t, decide(t, p, delegated("parent"), anIntent, r), tollgate.Allow, "allow_shallow")
	wantDecision(t, decide(t, p, delegated("root", "mid", "sub"), anIntent, r), tollgate.Deny, "deny_deep")
	wantDecision(t, decide(t, p, direct, anIntent, r), tollgate.Allow, "allow_shallow")
}

func TestAllowedDelegators(t *testing.T) {
	p := mustParse(t, `rules:
  - id: allow_trusted_delegation
    effect: write
    decision: ALLOW
    agent:
      allowed_delegators: ["trusted-orchestrator", "ci-runner"]
  - id: deny_default
    decision: DENY
`)
	r := trusted("db:write", tollgate.EffectWrite)
	wantDecision(t, decide(t, p, delegated("trusted-orchestrator"), anIntent, r), tollgate.Allow, "allow_trusted_delegation")
	wantDecision(t, decide(t, p, delegated("rogue-agent"), anIntent, r), tollgate.Deny, "deny_default")
	// Anywhere in the chain counts, not only the root or the last delegator.
	wantDecision(t, decide(t, p, delegated("a", "ci-runner", "b"), anIntent, r), tollgate.Allow, "allow_trusted_delegation")
	// Direct agents are excluded.
	wantDecision(t, decide(t, p, direct, anIntent, r), tollgate.Deny, "deny_default")
}

func TestBlockedDelegators(t *testing.T) {
	p := mustParse(t, `rules:
  - id: allow_writes
    effect: write
    decision: ALLOW
    agent: {blocked_delegators: [compromised-agent]}
  - id: deny_default
    decision: DENY
`)
	r := trusted("db:write", tollgate.EffectWrite)
	wantDecision(t, decide(t, p, delegated("safe-agent"), anIntent, r), tollgate.Allow, "allow_writes")
	wantDecision(t, decide(t, p, delegated("root", "compromised-agent"), anIntent, r), tollgate.Deny, "deny_default")
	wantDecision(t, decide(t, p, direct, anIntent, r), tollgate.Allow, "allow_writes")
}

func TestDirectAgentExcludedByAllowedDelegators(t *testing.T) {
	p := mustParse(t, `rules:
  - id: allow_trusted_delegated_writes
    effect: write
    decision: ALLOW
    agent: {allowed_delegators: [trusted-orchestrator]}
  - id: allow_direct_writes
    effect: write
    decision: ALLOW
  - id: deny_default
    decision: DENY
`)
	r := trusted("db:write", tollgate.EffectWrite)
	wantDecision(t, decide(t, p, direct, anIntent, r), tollgate.Allow, "allow_direct_writes")
	wantDecision(t, decide(t, p, delegated("trusted-orchestrator"), anIntent, r), tollgate.Allow, "allow_trusted_delegated_writes")
	wantDecision(t, decide(t, p, delegated("unknown-agent"), anIntent, r), tollgate.Allow, "allow_direct_writes")
}

// The delegation keys are filters: a DENY rule carrying one denies the
// agents the filter lets through, not the ones it names (the trap the
// README examples fall into).
func TestDelegationKeysAreFilters(t *testing.T) {
	p := mustParse(t, `rules:
  - id: deny_delegated_writes
    effect: write
    decision: DENY
    agent: {deny_delegated: true}
  - id: readme_deny_deep
    effect: delete
    decision: DENY
    agent: {max_delegation_depth: 2}
  - id: block_compromised
    effect: read
    decision: DENY
    agent: {blocked_delegators: [compromised]}
  - id: allow_all
    decision: ALLOW
`)
	cases := []struct {
		agent  tollgate.Agent
		effect tollgate.Effect
		want   string
	}{
		{delegated("orchestrator"), tollgate.EffectWrite, "allow_all"},
		{direct, tollgate.EffectWrite, "deny_delegated_writes"},
		{direct, tollgate.EffectDelete, "readme_deny_deep"},
		{delegated("a", "b"), tollgate.EffectDelete, "readme_deny_deep"},
		{delegated("a", "b", "c"), tollgate.EffectDelete, "allow_all"},
		{direct, tollgate.EffectRead, "block_compromised"},
		{delegated("compromised"), tollgate.EffectRead, "allow_all"},
	}
	for _, c := range cases {
		d := decide(t, p, c.agent, anIntent, trusted("t", c.effect))
		if d.PolicyID != c.want {
			t.Errorf("%v %s: got %s, want %s", c.agent.DelegatedBy, c.effect, d.PolicyID, c.want)
		}
	}
}

func TestDenyDelegatedFalseAndNullFiltersAreOff(t *testing.T) {
	p := mustParse(t, `rules:
  - id: a
    decision: ALLOW
    agent: {deny_delegated: false, max_delegation_depth: ~, allowed_delegators: ~, blocked_delegators: null}
`)
	wantDecision(t, decide(t, p, delegated("x", "y", "z"), anIntent, trusted("t", tollgate.EffectRead)), tollgate.Allow, "a")
}

func TestMaxDelegationDepthZero(t *testing.T) {
	p := mustParse(t, "rules:\n  - id: a\n    decision: ASK\n    agent: {max_delegation_depth: 0}\n")
	wantDecision(t, decide(t, p, direct, anIntent, trusted("t", tollgate.EffectRead)), tollgate.Ask, "a")
	wantDecision(t, decide(t, p, delegated("x"), anIntent, trusted("t", tollgate.EffectRead)), tollgate.Deny, "")
}

func TestEmptyAllowedDelegatorsNeverMatches(t *testing.T) {
	p := mustParse(t, "rules:\n  - id: a\n    decision: ASK\n    agent: {allowed_delegators: []}\n")
	wantDecision(t, decide(t, p, delegated("x"), anIntent, trusted("t", tollgate.EffectRead)), tollgate.Deny, "")
	if len(p.Warnings()) != 1 {
		t.Fatalf("warnings %q", p.Warnings())
	}
}

// PolicyTestRunner behaviours that exercise the evaluator.

func TestAgentIDCondition(t *testing.T) {
	p := mustParse(t, "rules:\n  - id: a1\n    agent: {agent_id: agent-1}\n    decision: ALLOW\n  - id: deny\n    decision: DENY\n")
	a := direct
	a.ID = "agent-1"
	wantDecision(t, decide(t, p, a, anIntent, trusted("t", tollgate.EffectRead)), tollgate.Allow, "a1")
	a.ID = "agent-2"
	wantDecision(t, decide(t, p, a, anIntent, trusted("t", tollgate.EffectRead)), tollgate.Deny, "deny")
}

func TestRiskScoreWhen(t *testing.T) {
	p := mustParse(t, `rules:
  - id: high_risk_deny
    when: {risk_score: {">=": 0.8}}
    decision: DENY
  - id: allow_read
    effect: read
    decision: ALLOW
`)
	wantDecision(t, decide(t, p, direct, anIntent, withMeta(t, trusted("t", tollgate.EffectRead), `{"risk_score": 0.9}`)), tollgate.Deny, "high_risk_deny")
	wantDecision(t, decide(t, p, direct, anIntent, withMeta(t, trusted("t", tollgate.EffectRead), `{"risk_score": 0.2}`)), tollgate.Allow, "allow_read")
	wantDecision(t, decide(t, p, direct, anIntent, withMeta(t, trusted("t", tollgate.EffectRead), `{"risk_score": 0.8}`)), tollgate.Deny, "high_risk_deny")
	// Missing key: ordering null is false.
	wantDecision(t, decide(t, p, direct, anIntent, trusted("t", tollgate.EffectRead)), tollgate.Allow, "allow_read")
}

// Rule matching semantics (§3.2–3.5).

func TestFirstMatchWinsAndDefaults(t *testing.T) {
	p := mustParse(t, `version: "2.0"
rules:
  - id: first
    tool: t
    decision: ASK
  - id: second
    tool: t
    decision: DENY
    reason: never reached
`)
	d := decide(t, p, direct, anIntent, trusted("t", tollgate.EffectWrite))
	wantDecision(t, d, tollgate.Ask, "first")
	if d.Reason != "Rule matched" || d.PolicyVersion != "2.0" {
		t.Fatalf("%+v", d)
	}
	d = decide(t, p, direct, anIntent, trusted("other", tollgate.EffectWrite))
	if d.Type != tollgate.Deny || d.Reason != "No matching policy rule found. Defaulting to DENY." || d.PolicyID != "" || d.PolicyVersion != "2.0" {
		t.Fatalf("%+v", d)
	}
}

func TestExactCaseSensitiveMatching(t *testing.T) {
	p := mustParse(t, `rules:
  - {id: tool, tool: "mcp:server.read", decision: ASK}
  - {id: action, action: Get, decision: ASK}
  - {id: resource, resource_type: file, decision: ASK}
`)
	for _, tool := range []string{"MCP:server.read", "mcp:*", "mcp:server", "mcp:server.read2"} {
		r := trusted(tool, tollgate.EffectRead)
		if d := decide(t, p, direct, anIntent, r); d.Type != tollgate.Deny {
			t.Errorf("tool %q matched %s", tool, d.PolicyID)
		}
	}
	wantDecision(t, decide(t, p, direct, anIntent, trusted("mcp:server.read", tollgate.EffectRead)), tollgate.Ask, "tool")
	r := trusted("x", tollgate.EffectRead)
	r.Action = "Get"
	wantDecision(t, decide(t, p, direct, anIntent, r), tollgate.Ask, "action")
	r.Action, r.ResourceType = "get", "file"
	wantDecision(t, decide(t, p, direct, anIntent, r), tollgate.Ask, "resource")
}

func TestYAMLTypedValuesNeverEqualText(t *testing.T) {
	p := mustParse(t, `rules:
  - {id: float_version, agent: {version: 1.0}, decision: ASK}
  - {id: text_version, agent: {version: "1.0"}, decision: DENY}
`)
	wantDecision(t, decide(t, p, direct, anIntent, trusted("t", tollgate.EffectRead)), tollgate.Deny, "text_version")
	if w := p.Warnings(); len(w) != 1 || !strings.Contains(w[0], "the number 1.0") || !strings.Contains(w[0], "policy.yaml:2:") {
		t.Fatalf("warnings %q", w)
	}
}

func TestWhenOperators(t *testing.T) {
	p := mustParse(t, `rules:
  - id: r
    decision: DENY
    when:
      n: {">": 1, "<=": 10}
      s: {"!=": "bad"}
      e: {}
      l: [1, 2]
`)
	cases := []struct {
		meta string
		hit  bool
	}{
		{`{"n": 5, "l": [1, 2]}`, true},               // s missing: != holds; e missing: {} holds
		{`{"n": 10, "l": [1.0, 2], "s": "ok"}`, true}, // 1.0 == 1
		{`{"n": 1, "l": [1, 2]}`, false},              // > 1 fails
		{`{"n": 11, "l": [1, 2]}`, false},
		{`{"n": 5, "l": [1, 2], "s": "bad"}`, false},
		{`{"n": 5, "l": [2, 1]}`, false},
		{`{"n": null, "l": [1, 2]}`, false}, // ordering null is false
		{`{"l": [1, 2]}`, false},            // missing key reads as null
		{`{"n": "5", "l": [1, 2]}`, false},  // text vs number: no match, no panic
		{`{"n": true, "l": [1, 2]}`, false}, // True > 1 is false
		{`{"n": 2.5, "l": [1, 2]}`, true},
	}
	for _, c := range cases {
		d := decide(t, p, direct, anIntent, withMeta(t, trusted("t", tollgate.EffectRead), c.meta))
		if got := d.PolicyID == "r"; got != c.hit {
			t.Errorf("%s: matched=%v, want %v", c.meta, got, c.hit)
		}
	}
}

func TestWhenEqualityOperatorsAndNull(t *testing.T) {
	p := mustParse(t, `rules:
  - {id: eq, decision: ASK, when: {k: {"==": "a"}}}
  - {id: null_eq, decision: DENY, when: {k: ~}}
`)
	r := trusted("t", tollgate.EffectRead)
	wantDecision(t, decide(t, p, direct, anIntent, withMeta(t, r, `{"k": "a"}`)), tollgate.Ask, "eq")
	wantDecision(t, decide(t, p, direct, anIntent, r), tollgate.Deny, "null_eq") // absent == null
	wantDecision(t, decide(t, p, direct, anIntent, withMeta(t, r, `{"k": "b"}`)), tollgate.Deny, "")
}

// Unknown ordering across types aborted Tollgate's evaluation with a
// TypeError; here the rule does not match and evaluation continues.
func TestIncomparableTypesDoNotMatch(t *testing.T) {
	p := mustParse(t, `rules:
  - {id: cmp, decision: DENY, when: {x: {">": 5}}}
  - {id: cmp_list, decision: DENY, when: {x: {"<": [1]}}}
  - {id: cmp_map, decision: DENY, when: {x: {"<=": {a: 1}}}}
  - {id: fallback, decision: ASK}
`)
	for _, meta := range []string{`{"x": "abc"}`, `{"x": {"a": 1}}`, `{"x": [1, "a"]}`} {
		d := decide(t, p, direct, anIntent, withMeta(t, trusted("t", tollgate.EffectRead), meta))
		wantDecision(t, d, tollgate.Ask, "fallback")
	}
}

// Tollgate ignored agent.owner; here it is compared.
func TestAgentOwnerIsCompared(t *testing.T) {
	p := mustParse(t, "rules:\n  - {id: team_a, agent: {owner: team-a}, decision: ALLOW}\n")
	a := direct
	a.Owner = "team-b"
	wantDecision(t, decide(t, p, a, anIntent, trusted("t", tollgate.EffectRead)), tollgate.Deny, "")
	a.Owner = "team-a"
	wantDecision(t, decide(t, p, a, anIntent, trusted("t", tollgate.EffectRead)), tollgate.Allow, "team_a")
}

// Tollgate read environment, role and session_id from attributes that do
// not exist, so they never matched a value; here they come from metadata.
func TestEnvironmentRoleSessionFromMetadata(t *testing.T) {
	p := mustParse(t, `rules:
  - {id: prod_admin, agent: {environment: prod, role: admin}, intent: {session_id: s-1}, decision: ASK}
  - {id: no_env, agent: {environment: ~}, decision: DENY}
`)
	a := direct
	a.Metadata = tollgate.Params{{Key: "environment", Value: "prod"}, {Key: "role", Value: "admin"}}
	in := anIntent
	in.Metadata = tollgate.Params{{Key: "session_id", Value: "s-1"}}
	wantDecision(t, decide(t, p, a, in, trusted("t", tollgate.EffectRead)), tollgate.Ask, "prod_admin")
	in.Metadata = nil
	wantDecision(t, decide(t, p, a, in, trusted("t", tollgate.EffectRead)), tollgate.Deny, "")
	// An absent key reads as null, which a null expectation matches.
	wantDecision(t, decide(t, p, direct, in, trusted("t", tollgate.EffectRead)), tollgate.Deny, "no_env")
}

func TestIntentConditions(t *testing.T) {
	p := mustParse(t, "rules:\n  - {id: i, intent: {action: fetch, reason: why}, decision: ASK}\n")
	in := tollgate.Intent{Action: "fetch", Reason: "why"}
	wantDecision(t, decide(t, p, direct, in, trusted("t", tollgate.EffectRead)), tollgate.Ask, "i")
	in.Reason = "Why"
	wantDecision(t, decide(t, p, direct, in, trusted("t", tollgate.EffectRead)), tollgate.Deny, "")
}

func TestEvaluatorFunc(t *testing.T) {
	var ev Evaluator = EvaluatorFunc(func(tollgate.Agent, tollgate.Intent, tollgate.ToolRequest) tollgate.Decision {
		return tollgate.Decision{Type: tollgate.Ask, Reason: "Mock ASK", PolicyVersion: "test"}
	})
	if d := ev.Evaluate(direct, anIntent, trusted("t", tollgate.EffectRead)); d.Type != tollgate.Ask || d.Reason != "Mock ASK" {
		t.Fatalf("%+v", d)
	}
	ev = mustParse(t, "rules: []\n") // *Policy is an Evaluator
	if d := ev.Evaluate(direct, anIntent, trusted("t", tollgate.EffectRead)); d.Type != tollgate.Deny {
		t.Fatalf("%+v", d)
	}
}

func TestRulesAbsentDeniesEverything(t *testing.T) {
	p := mustParse(t, "version: x\n")
	wantDecision(t, decide(t, p, direct, anIntent, trusted("t", tollgate.EffectRead)), tollgate.Deny, "")
}

func TestConcurrentEvaluate(t *testing.T) {
	p := mustParse(t, "rules:\n  - {id: a, tool: t, effect: read, decision: ALLOW}\n  - {id: d, decision: DENY}\n")
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				tool := "t"
				if (g+i)%2 == 1 {
					tool = "u"
				}
				d := p.Evaluate(direct, anIntent, trusted(tool, tollgate.EffectRead))
				if (tool == "t") != (d.PolicyID == "a") {
					t.Errorf("tool %s decided %s", tool, d.PolicyID)
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestAskModeExtension(t *testing.T) {
	p, err := Parse("p.yaml", []byte("rules:\n  - {effect: delete, decision: ASK, ask_mode: deferred}\n  - {effect: write, decision: ASK}\n"))
	if err != nil {
		t.Fatal(err)
	}
	d := p.Evaluate(tollgate.Agent{}, tollgate.Intent{}, tollgate.ToolRequest{Effect: tollgate.EffectDelete, ManifestVersion: "1"})
	if d.Type != tollgate.Ask || d.AskMode != tollgate.AskDeferred {
		t.Errorf("decision = %+v", d)
	}
	if d := p.Evaluate(tollgate.Agent{}, tollgate.Intent{}, tollgate.ToolRequest{Effect: tollgate.EffectWrite, ManifestVersion: "1"}); d.AskMode != "" {
		t.Errorf("rule without ask_mode: %+v", d)
	}
	for src, want := range map[string]string{
		"rules:\n  - {decision: ASK, ask_mode: later}\n":     `p.yaml:2:31: rule at index 0: ask_mode must be "blocking" or "deferred", got "later"`,
		"rules:\n  - {decision: DENY, ask_mode: deferred}\n": "ask_mode applies only to decision: ASK",
	} {
		if _, err := Parse("p.yaml", []byte(src)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Parse(%q) err = %v, want %q", src, err, want)
		}
	}
}

func TestApprovalsRequiredExtension(t *testing.T) {
	p, err := Parse("p.yaml", []byte("rules:\n  - {effect: delete, decision: ASK, approvals_required: 2}\n  - {effect: write, decision: ASK}\n"))
	if err != nil {
		t.Fatal(err)
	}
	d := p.Evaluate(tollgate.Agent{}, tollgate.Intent{}, tollgate.ToolRequest{Effect: tollgate.EffectDelete, ManifestVersion: "1"})
	if d.Type != tollgate.Ask || d.ApprovalsRequired != 2 {
		t.Errorf("decision = %+v, want ASK needing 2 approvals", d)
	}
	if d := p.Evaluate(tollgate.Agent{}, tollgate.Intent{}, tollgate.ToolRequest{Effect: tollgate.EffectWrite, ManifestVersion: "1"}); d.ApprovalsRequired != 0 {
		t.Errorf("rule without approvals_required: %+v", d)
	}
	for src, want := range map[string]string{
		"rules:\n  - {decision: ASK, approvals_required: 0}\n":     "p.yaml:2:41: rule at index 0: approvals_required must be a whole number from 1 to 10, got the number 0",
		"rules:\n  - {decision: ASK, approvals_required: 11}\n":    "approvals_required must be a whole number from 1 to 10, got the number 11",
		"rules:\n  - {decision: ASK, approvals_required: -2}\n":    "approvals_required must be a whole number from 1 to 10",
		"rules:\n  - {decision: ASK, approvals_required: 2.0}\n":   "approvals_required must be a whole number from 1 to 10, got the number 2.0",
		"rules:\n  - {decision: ASK, approvals_required: \"2\"}\n": "approvals_required must be a whole number from 1 to 10, got the string '2'",
		"rules:\n  - {decision: ASK, approvals_required: true}\n":  "approvals_required must be a whole number from 1 to 10, got the boolean True",
		"rules:\n  - {decision: ASK, approvals_required: [2]}\n":   "approvals_required must be a single value",
		"rules:\n  - {decision: ALLOW, approvals_required: 2}\n":   "approvals_required applies only to decision: ASK",
	} {
		if _, err := Parse("p.yaml", []byte(src)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Parse(%q) err = %v, want %q", src, err, want)
		}
	}
}
