package policy

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/internal/pycompat"
)

// RuleRef identifies a rule in the policy file.
type RuleRef struct {
	Index int // position in the rules list, 0-based
	ID    string
	Line  int
}

func (r RuleRef) String() string {
	s := "rule " + strconv.Itoa(r.Index)
	if r.ID != "" {
		s += " " + strconv.Quote(r.ID)
	}
	return s + " (line " + strconv.Itoa(r.Line) + ")"
}

// Miss is a rule that was tried and did not match, and why.
type Miss struct {
	Rule RuleRef
	Why  string // e.g. `effect: want "write", got "read"`
	// Field is the request field the failed condition read, named as in
	// RuleInfo.Reads (e.g. "effect", "when.risk_score").
	Field string
}

// Explanation says how Evaluate reaches its decision for a call.
type Explanation struct {
	Decision tollgate.Decision
	// Matched is the first rule whose conditions held; nil when no rule
	// matched or the rules were not consulted.
	Matched *RuleRef
	// Misses are the rules before Matched (every rule when none matched),
	// in order, each with the first condition that failed.
	Misses []Miss
	// Note says what decided other than a rule's own decision: an unknown
	// effect, an ALLOW without trusted metadata, no matching rule.
	Note string
}

// String renders the explanation on several lines, the decision first.
func (e Explanation) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s", e.Decision.Type, e.Decision.Reason)
	if e.Matched != nil {
		fmt.Fprintf(&b, "\n  matched %s", e.Matched)
	}
	if e.Note != "" {
		fmt.Fprintf(&b, "\n  note: %s", e.Note)
	}
	for _, m := range e.Misses {
		fmt.Fprintf(&b, "\n  skipped %s: %s", m.Rule, m.Why)
	}
	return b.String()
}

// Explain returns the decision Evaluate makes for the call together with
// the rule that made it and, for every earlier rule, the condition that
// failed. It tries every rule in order (no index), so it is slower than
// Evaluate and meant for tooling and debugging.
func (p *Policy) Explain(agent tollgate.Agent, intent tollgate.Intent, req tollgate.ToolRequest) Explanation {
	if _, ok := effectSlot(req.Effect); !ok {
		return Explanation{
			Decision: p.unknownEffect(),
			Note:     fmt.Sprintf("effect %q is not read, write, delete or notify, so the rules were not consulted", req.Effect),
		}
	}
	var e Explanation
	for i := range p.rules {
		r := &p.rules[i]
		ref := RuleRef{Index: r.index, ID: r.id, Line: r.line}
		m := r.match(&agent, &intent, &req, false)
		if m.check != matched {
			e.Misses = append(e.Misses, Miss{Rule: ref, Why: r.describe(m, &agent, &intent, &req), Field: r.field(m)})
			continue
		}
		e.Decision, e.Matched = p.decide(r, &req), &ref
		if e.Decision.Type != r.decision {
			e.Note = "the rule allows, but the request has no manifest version (tool metadata not from a trusted manifest), so ALLOW becomes ASK"
		}
		return e
	}
	e.Decision, e.Note = p.noMatch(), "no rule matched"
	return e
}

// describe says why the check m failed for this call.
func (r *rule) describe(m miss, ag *tollgate.Agent, in *tollgate.Intent, req *tollgate.ToolRequest) string {
	switch m.check {
	case checkTool:
		return textMiss("tool", &r.tool, req.Tool)
	case checkAction:
		return textMiss("action", &r.action, req.Action)
	case checkResourceType:
		return textMiss("resource_type", &r.resourceType, req.ResourceType)
	case checkEffect:
		return textMiss("effect", &r.effect, string(req.Effect))
	case checkAgentAttr:
		return attrMiss("agent", &r.agentAttrs[m.item], ag, in)
	case checkIntentAttr:
		return attrMiss("intent", &r.intentAttrs[m.item], ag, in)
	case checkDenyDelegated:
		return fmt.Sprintf("agent.deny_delegated: agent is delegated (chain %v)", ag.DelegatedBy)
	case checkMaxDepth:
		return fmt.Sprintf("agent.max_delegation_depth: depth %d > %d (chain %v)", ag.Depth(), r.delegation.maxDepth, ag.DelegatedBy)
	case checkAllowedDelegators:
		if !ag.IsDelegated() {
			return "agent.allowed_delegators: agent is not delegated (the key only matches delegated agents)"
		}
		return fmt.Sprintf("agent.allowed_delegators: no agent in chain %v is in %v", ag.DelegatedBy, r.delegation.allowed)
	case checkBlockedDelegators:
		return fmt.Sprintf("agent.blocked_delegators: chain %v contains a blocked agent from %v", ag.DelegatedBy, r.delegation.blocked)
	}
	return r.when[m.item].describe(m.op, req.Metadata)
}

func textMiss(name string, want *value, got string) string {
	if !want.isText {
		return fmt.Sprintf("%s: want %s, which never equals text; got %q", name, typed(want.want), got)
	}
	return fmt.Sprintf("%s: want %q, got %q", name, want.text, got)
}

func attrMiss(section string, a *attr, ag *tollgate.Agent, in *tollgate.Intent) string {
	name := section + "." + a.key
	v, text, isText := a.got(ag, in)
	if isText {
		return textMiss(name, &a.want, text)
	}
	meta := ag.Metadata
	if a.from == fromIntentMetadata {
		meta = in.Metadata
	}
	if _, ok := meta.Get(a.key); !ok {
		return fmt.Sprintf("%s: want %s, got nothing (%s metadata has no %q)", name, show(a.want.want), section, a.key)
	}
	return fmt.Sprintf("%s: want %s, got %s (%s metadata)", name, show(a.want.want), show(v), section)
}

// describe says why the condition failed; op is the failed comparison.
func (c *condition) describe(op int, meta tollgate.Params) string {
	name := "when." + c.key
	got, present := meta.Get(c.key)
	gotText := show(got)
	if !present {
		gotText = "nothing (key missing)"
	}
	if c.equal {
		return fmt.Sprintf("%s: want %s, got %s", name, show(c.want), gotText)
	}
	cmp := &c.ops[op]
	if got != nil && cmp.op != opEq && cmp.op != opNe && !orderable(got, cmp.target) {
		return fmt.Sprintf("%s: cannot compare %s with %s", name, kindName(got), kindName(cmp.target))
	}
	if !present {
		return fmt.Sprintf("%s: %s %s failed (key missing)", name, cmp.op, show(cmp.target))
	}
	return fmt.Sprintf("%s: %s %s failed (got %s)", name, cmp.op, show(cmp.target), show(got))
}

// orderable reports whether Python can order a and b at all (numbers and
// booleans with each other, text with text, lists with lists).
func orderable(a, b any) bool {
	ka, kb := kindName(a), kindName(b)
	numeric := func(k string) bool { return k == "number" || k == "boolean" }
	return ka == kb && ka != "mapping" && ka != "null" || numeric(ka) && numeric(kb)
}

// show writes a value as JSON for messages.
func show(v any) string { return string(pycompat.Log.AppendJSON(nil, v)) }
