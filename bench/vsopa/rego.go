package vsopa

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/tollgate-go/tollgate/policy"
)

// Rego modules decide in package tollgate; the query is always Query.
const Query = "data.tollgate.decision"

// decisionRules turns the first matching rule index (the set `match`) into
// Tollgate's decision, with Tollgate's wording: unknown effects are denied
// before any rule, ALLOW without a manifest version becomes ASK, and no
// match is DENY. Both Rego forms share it.
var decisionRules = fmt.Sprintf(`
effects := {"read", "write", "delete", "notify"}

decision := {"type": "DENY", "reason": %s, "policy_id": ""} if {
	not effects[input.tool_request.effect]
} else := {"type": "ASK", "reason": %s, "policy_id": ""} if {
	count(match) > 0
	meta[min(match)].decision == "ALLOW"
	input.tool_request.manifest_version == ""
} else := {"type": r.decision, "reason": r.reason, "policy_id": r.id} if {
	count(match) > 0
	r := meta[min(match)]
} else := {"type": "DENY", "reason": %s, "policy_id": ""}

any_in(chain, set) if {
	some d in chain
	d in set
}
`, strconv.Quote(policy.ReasonUnknownEffect), strconv.Quote(policy.ReasonUntrusted), strconv.Quote(policy.ReasonNoMatch))

// RegoIndexed writes the policy as one generated partial-set rule per
// Tollgate rule, each contributing its index to `match` when its body
// holds; the decision takes the smallest. Equality tests against input are
// what OPA's rule index keys on, so only rules for the request's tool,
// action and effect are evaluated: OPA's fastest form for this policy.
func RegoIndexed(rules []Rule) string {
	var b strings.Builder
	b.WriteString("package tollgate\n")
	b.WriteString(decisionRules)
	b.WriteString("\nmeta := [\n")
	for i := range rules {
		fmt.Fprintf(&b, "\t{\"id\": %s, \"decision\": %s, \"reason\": %s},\n",
			strconv.Quote(rules[i].ID), strconv.Quote(rules[i].Decision), strconv.Quote(rules[i].Reason))
	}
	b.WriteString("]\n")
	for i := range rules {
		fmt.Fprintf(&b, "\nmatch contains %d if {\n", i)
		for _, line := range rules[i].regoBody() {
			b.WriteString("\t" + line + "\n")
		}
		b.WriteString("}\n")
	}
	return b.String()
}

// regoBody is the rule's conditions as Rego expressions, in Tollgate's
// order. A rule with no conditions gets `true` (Rego bodies cannot be
// empty).
func (r *Rule) regoBody() []string {
	var out []string
	eq := func(ref, want string) {
		if want != "" {
			out = append(out, ref+" == "+strconv.Quote(want))
		}
	}
	eq("input.tool_request.tool", r.Tool)
	eq("input.tool_request.action", r.Action)
	eq("input.tool_request.resource_type", r.ResourceType)
	eq("input.tool_request.effect", r.Effect)
	eq("input.agent.agent_id", r.AgentID)
	if r.DenyDelegated {
		out = append(out, "count(input.agent.delegated_by) == 0")
	}
	if r.MaxDepth >= 0 {
		out = append(out, "count(input.agent.delegated_by) <= "+strconv.Itoa(r.MaxDepth))
	}
	if r.Allowed != nil {
		out = append(out, "any_in(input.agent.delegated_by, "+literal(r.Allowed)+")")
	}
	if r.Blocked != nil {
		out = append(out, "not any_in(input.agent.delegated_by, "+literal(r.Blocked)+")")
	}
	eq("input.intent.action", r.IntentAction)
	for _, c := range r.When {
		got := "input.tool_request.metadata[" + strconv.Quote(c.Key) + "]"
		want := literal(c.Value)
		switch c.Op {
		case "==":
			out = append(out, got+" == "+want)
		case "!=":
			// Python: an absent key (None) is != any value.
			out = append(out, "not "+got+" == "+want)
		default:
			// Python refuses to order values of different types (the
			// rule then does not match); Rego would order them.
			out = append(out, sameType(got, c.Value), got+" "+c.Op+" "+want)
		}
	}
	if len(out) == 0 {
		out = append(out, "true")
	}
	return out
}

func sameType(ref string, v any) string {
	if _, ok := v.(string); ok {
		return "is_string(" + ref + ")"
	}
	return "is_number(" + ref + ")"
}

// RegoData writes the policy as data: the rules are one ordered array and
// a single generic Rego rule tests each of them against the input. This is
// how a policy is usually shipped to OPA (a bundle's data.json with a fixed
// module); OPA's rule index cannot help, so every rule is tried.
func RegoData(rules []Rule) string {
	var b strings.Builder
	b.WriteString("package tollgate\n")
	b.WriteString(decisionRules)
	b.WriteString(dataMatcher)
	b.WriteString("\nmeta := [\n")
	for i := range rules {
		b.WriteString("\t" + literal(rules[i].data()) + ",\n")
	}
	b.WriteString("]\n")
	return b.String()
}

// data is the rule as a JSON object; absent keys are left out.
func (r *Rule) data() map[string]any {
	m := map[string]any{"id": r.ID, "decision": r.Decision, "reason": r.Reason}
	set := func(k, v string) {
		if v != "" {
			m[k] = v
		}
	}
	set("tool", r.Tool)
	set("action", r.Action)
	set("resource_type", r.ResourceType)
	set("effect", r.Effect)
	set("agent_id", r.AgentID)
	set("intent_action", r.IntentAction)
	if r.DenyDelegated {
		m["deny_delegated"] = true
	}
	if r.MaxDepth >= 0 {
		m["max_depth"] = r.MaxDepth
	}
	if r.Allowed != nil {
		m["allowed"] = r.Allowed
	}
	if r.Blocked != nil {
		m["blocked"] = r.Blocked
	}
	when := make([]map[string]any, 0, len(r.When))
	for _, c := range r.When {
		when = append(when, map[string]any{"key": c.Key, "op": c.Op, "value": c.Value})
	}
	m["when"] = when
	return m
}

// dataMatcher is RegoData's generic rule: the same conditions as
// regoBody, read from the rule object.
const dataMatcher = `
match contains i if {
	some i, r in meta
	text_ok(r, "tool", input.tool_request.tool)
	text_ok(r, "action", input.tool_request.action)
	text_ok(r, "resource_type", input.tool_request.resource_type)
	text_ok(r, "effect", input.tool_request.effect)
	text_ok(r, "agent_id", input.agent.agent_id)
	not deny_delegated_fails(r)
	not depth_fails(r)
	not allowed_fails(r)
	not blocked_fails(r)
	text_ok(r, "intent_action", input.intent.action)
	every c in r.when {
		cond_ok(c)
	}
}

text_ok(r, k, _) if not k in object.keys(r)

text_ok(r, k, got) if r[k] == got

deny_delegated_fails(r) if {
	r.deny_delegated
	count(input.agent.delegated_by) > 0
}

depth_fails(r) if count(input.agent.delegated_by) > r.max_depth

allowed_fails(r) if {
	"allowed" in object.keys(r)
	not any_in(input.agent.delegated_by, r.allowed)
}

blocked_fails(r) if any_in(input.agent.delegated_by, r.blocked)

cond_ok(c) if {
	c.op == "=="
	input.tool_request.metadata[c.key] == c.value
}

cond_ok(c) if {
	c.op == "!="
	not input.tool_request.metadata[c.key] == c.value
}

cond_ok(c) if {
	x := input.tool_request.metadata[c.key]
	type_name(x) == type_name(c.value)
	ordered(c.op, x, c.value)
}

ordered(">", a, b) if a > b

ordered(">=", a, b) if a >= b

ordered("<", a, b) if a < b

ordered("<=", a, b) if a <= b
`
