package policy

import (
	"slices"
	"testing"

	"github.com/tollgate-go/tollgate"
)

const readsPolicy = `
rules:
  - id: session
    tool: api:x
    action: run
    resource_type: thing
    effect: write
    agent: {agent_id: a, role: admin, max_delegation_depth: 1}
    intent: {session_id: s1, reason: r}
    when: {risk: {">": 1}, env: prod}
    decision: DENY
  - id: delegated
    agent: {blocked_delegators: [evil]}
    effect: read
    decision: ASK
  - id: reads
    effect: read
    decision: ALLOW
`

func TestRuleReads(t *testing.T) {
	p := mustParse(t, readsPolicy)
	want := [][]string{
		{"tool", "action", "resource_type", "effect", "agent.agent_id", "agent.role", "agent.delegated_by",
			"intent.session_id", "intent.reason", "when.risk", "when.env"},
		{"effect", "agent.delegated_by"},
		{"effect", "manifest_version"},
	}
	for i, r := range p.Rules() {
		if !slices.Equal(r.Reads, want[i]) {
			t.Errorf("rule %s reads %q, want %q", r.ID, r.Reads, want[i])
		}
	}
}

func TestExplainMissField(t *testing.T) {
	p := mustParse(t, readsPolicy)
	req := withMeta(t, trusted("api:x", tollgate.EffectWrite), `{"risk": 2, "env": "dev"}`)
	req.Action = "run"
	ag := direct
	ag.ID, ag.Metadata = "a", tollgate.Params{{Key: "role", Value: "admin"}}
	in := anIntent
	in.Reason, in.Metadata = "r", tollgate.Params{{Key: "session_id", Value: "s1"}}
	cases := []struct {
		name  string
		edit  func(*tollgate.Agent, *tollgate.Intent, *tollgate.ToolRequest)
		field string
	}{
		{"when", func(*tollgate.Agent, *tollgate.Intent, *tollgate.ToolRequest) {}, "when.env"},
		{"session", func(_ *tollgate.Agent, in *tollgate.Intent, _ *tollgate.ToolRequest) { in.Metadata = nil }, "intent.session_id"},
		{"chain", func(a *tollgate.Agent, _ *tollgate.Intent, _ *tollgate.ToolRequest) {
			a.DelegatedBy = []string{"x", "y"}
		}, "agent.delegated_by"},
		{"role", func(a *tollgate.Agent, _ *tollgate.Intent, _ *tollgate.ToolRequest) { a.Metadata = nil }, "agent.role"},
		{"tool", func(_ *tollgate.Agent, _ *tollgate.Intent, r *tollgate.ToolRequest) { r.Tool = "api:y" }, "tool"},
	}
	for _, c := range cases {
		a, i, r := ag, in, req
		c.edit(&a, &i, &r)
		e := p.Explain(a, i, r)
		if len(e.Misses) == 0 || e.Misses[0].Field != c.field {
			t.Errorf("%s: misses %+v, want the first on %s", c.name, e.Misses, c.field)
		}
	}
}
