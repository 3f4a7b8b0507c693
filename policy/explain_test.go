package policy

import (
	"strings"
	"testing"

	"github.com/tollgate-go/tollgate"
)

func TestExplainMisses(t *testing.T) {
	p := mustParse(t, `rules:
  - {id: writes, effect: write, decision: ALLOW}
  - {id: tool, tool: db, decision: ALLOW}
  - {id: num, tool: 5, decision: ALLOW}
  - {id: direct_only, agent: {deny_delegated: true}, decision: ALLOW}
  - {id: shallow, agent: {max_delegation_depth: 0}, decision: ALLOW}
  - {id: trusted, agent: {allowed_delegators: [ci]}, decision: ALLOW}
  - {id: blocked, agent: {blocked_delegators: [orchestrator]}, decision: ALLOW}
  - {id: env, agent: {environment: prod}, decision: ALLOW}
  - {id: ver, agent: {version: 1.0}, decision: ALLOW}
  - {id: session, intent: {session_id: s1}, decision: ALLOW}
  - {id: risk, when: {risk_score: {">=": 0.8}}, decision: DENY}
  - {id: typed, when: {x: {">": 1}}, decision: DENY}
  - {id: missing, when: {y: {"<": 1}}, decision: DENY}
  - {id: vip, when: {is_vip: true}, decision: DENY}
  - {id: last, decision: ALLOW}
`)
	r := withMeta(t, trusted("api", tollgate.EffectRead), `{"risk_score": 0.2, "x": "abc"}`)
	r.ManifestVersion = ""
	e := p.Explain(delegated("orchestrator"), anIntent, r)
	want := []string{
		`effect: want "write", got "read"`,
		`tool: want "db", got "api"`,
		`tool: want the number 5, which never equals text; got "api"`,
		`agent.deny_delegated: agent is delegated (chain [orchestrator])`,
		`agent.max_delegation_depth: depth 1 > 0 (chain [orchestrator])`,
		`agent.allowed_delegators: no agent in chain [orchestrator] is in [ci]`,
		`agent.blocked_delegators: chain [orchestrator] contains a blocked agent from [orchestrator]`,
		`agent.environment: want "prod", got nothing (agent metadata has no "environment")`,
		`agent.version: want the number 1.0, which never equals text; got "1.0"`,
		`intent.session_id: want "s1", got nothing (intent metadata has no "session_id")`,
		`when.risk_score: >= 0.8 failed (got 0.2)`,
		`when.x: cannot compare string with number`,
		`when.y: < 1 failed (key missing)`,
		`when.is_vip: want true, got nothing (key missing)`,
	}
	if len(e.Misses) != len(want) {
		t.Fatalf("misses:\n%s", e)
	}
	for i, w := range want {
		if e.Misses[i].Why != w || e.Misses[i].Rule.Index != i || e.Misses[i].Rule.Line != i+2 {
			t.Errorf("miss %d = %+v, want %q", i, e.Misses[i], w)
		}
	}
	if e.Matched == nil || e.Matched.ID != "last" || e.Matched.Index != 14 || e.Decision.Type != tollgate.Ask || !strings.Contains(e.Note, "ALLOW becomes ASK") {
		t.Fatalf("explanation:\n%s", e)
	}
	s := e.String()
	for _, w := range []string{"ASK: " + ReasonUntrusted, `matched rule 14 "last" (line 16)`, `skipped rule 0 "writes" (line 2): effect: want "write"`} {
		if !strings.Contains(s, w) {
			t.Errorf("String() lacks %q:\n%s", w, s)
		}
	}
}

func TestExplainOtherMisses(t *testing.T) {
	p := mustParse(t, `rules:
  - {id: a, action: get, decision: DENY}
  - {id: r, resource_type: file, decision: DENY}
  - {id: trusted, agent: {allowed_delegators: [ci]}, decision: DENY}
  - {id: owner, agent: {owner: team-a}, decision: DENY}
  - {id: intent, intent: {action: write}, decision: DENY}
  - {id: env, agent: {role: admin}, decision: DENY}
  - {id: ne, when: {k: {"!=": "v"}}, decision: DENY}
  - {id: eq, when: {k: 1}, decision: DENY}
`)
	a := direct
	a.Metadata = tollgate.Params{{Key: "role", Value: "viewer"}}
	e := p.Explain(a, anIntent, withMeta(t, trusted("t", tollgate.EffectRead), `{"k": "v"}`))
	want := []string{
		`action: want "get", got "run"`,
		`resource_type: want "file", got "thing"`,
		`agent.allowed_delegators: agent is not delegated (the key only matches delegated agents)`,
		`agent.owner: want "team-a", got "test-owner"`,
		`intent.action: want "write", got "test_action"`,
		`agent.role: want "admin", got "viewer" (agent metadata)`,
		`when.k: != "v" failed (got "v")`,
		`when.k: want 1, got "v"`,
	}
	if e.Matched != nil || e.Decision.Reason != ReasonNoMatch || e.Note != "no rule matched" || len(e.Misses) != len(want) {
		t.Fatalf("explanation:\n%s", e)
	}
	for i, w := range want {
		if e.Misses[i].Why != w {
			t.Errorf("miss %d = %q, want %q", i, e.Misses[i].Why, w)
		}
	}
}

func TestExplainUnknownEffect(t *testing.T) {
	p := mustParse(t, "rules:\n  - {decision: ALLOW}\n")
	e := p.Explain(direct, anIntent, trusted("t", "READ"))
	if e.Decision.Reason != ReasonUnknownEffect || e.Matched != nil || len(e.Misses) != 0 || !strings.Contains(e.Note, `"READ"`) {
		t.Fatalf("%+v", e)
	}
}
