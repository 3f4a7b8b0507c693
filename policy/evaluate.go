package policy

import "github.com/tollgate-go/tollgate"

// Decision reasons, worded exactly as Tollgate 1.4.0 words them (users and
// scenario files match on them).
const (
	ReasonUnknownEffect = "Unknown tool effect. Safe default applied."
	ReasonUntrusted     = "ALLOW decision requires trusted tool metadata from registry."
	ReasonNoMatch       = "No matching policy rule found. Defaulting to DENY."
	ReasonDefault       = "Rule matched" // a matching rule without reason:
)

// Evaluate decides a call as Tollgate does:
//
//  1. an effect other than read, write, delete or notify is denied without
//     consulting the rules;
//  2. otherwise the first rule whose conditions all hold decides, except
//     that ALLOW without req.ManifestVersion becomes ASK;
//  3. no matching rule is DENY.
//
// It is safe for concurrent use and does not allocate unless a `when:`
// condition compares integers. Decision.Metadata is the rule's own map,
// shared by every decision of that rule: treat it as read-only.
func (p *Policy) Evaluate(agent tollgate.Agent, intent tollgate.Intent, req tollgate.ToolRequest) tollgate.Decision {
	slot, ok := effectSlot(req.Effect)
	if !ok {
		return p.unknownEffect()
	}
	cur := p.index.lookup(req.Tool, slot)
	for run := cur.run(); len(run) > 0; run = cur.run() {
		for i := range run {
			if !run[i].holds(req.Action) {
				continue
			}
			r := &p.rules[run[i].rule]
			if r.match(&agent, &intent, &req, true).check == matched {
				return p.decide(r, &req)
			}
		}
	}
	return p.noMatch()
}

func (p *Policy) unknownEffect() tollgate.Decision {
	return tollgate.Decision{Type: tollgate.Deny, Reason: ReasonUnknownEffect, PolicyVersion: p.version}
}

func (p *Policy) noMatch() tollgate.Decision {
	return tollgate.Decision{Type: tollgate.Deny, Reason: ReasonNoMatch, PolicyVersion: p.version}
}
