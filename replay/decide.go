package replay

import (
	"fmt"
	"slices"
	"strings"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/policy"
	"github.com/tollgate-go/tollgate/registry"
)

// replay fills c with the replay of the call whose first record is rec.
func (r *Replayer) replay(rec *record, c *Call) error {
	old, err := recorded(rec)
	if err != nil {
		return err
	}
	*c = Call{
		Line: rec.line, Seq: rec.Seq, CorrelationID: rec.CorrelationID,
		Agent: rec.Agent.ID, Tool: rec.ToolRequest.Tool, Old: old,
	}
	if why := r.skip(old, tollgate.Reason(rec.ReasonCode)); why != "" {
		c.Status, c.Why = Skipped, why
		return nil
	}
	in, tool, err := r.input(rec)
	if err != nil {
		return err
	}
	v, why := r.decide(&in, tool)
	switch {
	case why != "":
		c.Status, c.Why = Undetermined, why
	case v.Decision != old.Decision:
		c.Status, c.New = Changed, v
	default:
		c.Status, c.New = Unchanged, v
	}
	return nil
}

// input is the call as the candidate sees it: the agent as recorded (it
// was verified when the call was made), and with a manifest the tool's
// trusted metadata from it, as tower resolves it. Of the metadata objects
// only those the candidate reads are decoded, and the params only when a
// stage reads them.
func (r *Replayer) input(rec *record) (in input, tool *registry.Tool, err error) {
	a, i, t := &rec.Agent, &rec.Intent, &rec.ToolRequest
	in = input{
		agent:  tollgate.Agent{ID: a.ID, Version: a.Version, Owner: a.Owner, DelegatedBy: a.DelegatedBy},
		intent: tollgate.Intent{Action: i.Action, Reason: i.Reason},
		req: tollgate.ToolRequest{Tool: t.Tool, Action: t.Action, ResourceType: t.ResourceType,
			Effect: tollgate.Effect(t.Effect), ManifestVersion: t.ManifestVersion},
	}
	for _, o := range []struct {
		need bool
		raw  []byte
		what string
		dst  *tollgate.Params
	}{
		{r.agentMeta, a.Metadata, "agent.metadata", &in.agent.Metadata},
		{r.intentMeta, i.Metadata, "intent.metadata", &in.intent.Metadata},
		{r.toolMeta, t.Metadata, "tool_request.metadata", &in.req.Metadata},
		{r.guard != nil || r.manifest != nil, t.Params, "tool_request.params", &in.req.Params},
	} {
		if o.need {
			if *o.dst, err = object(o.raw, o.what, rec.line); err != nil {
				return input{}, nil, err
			}
		}
	}
	if r.manifest == nil {
		return in, nil, nil
	}
	in.resolved = true
	in.req.Effect, in.req.ResourceType, in.req.ManifestVersion = tollgate.EffectUnknown, "unknown", ""
	tool, ok := r.manifest.Resolve(in.req.Tool)
	if ok {
		in.req.Effect, in.req.ResourceType, in.req.ManifestVersion = tool.Effect, tool.ResourceType, r.manifest.Version()
	}
	return in, tool, nil
}

// decide runs the stages replay covers — policy, network guard, schema,
// constraints — in the gateway's order. why is set, and the verdict
// meaningless, when a lost value could change the outcome.
func (r *Replayer) decide(in *input, tool *registry.Tool) (v Verdict, why string) {
	var d tollgate.Decision
	if in.anyLost() && !r.lostUnread(in) {
		if d, why = r.explain(in); why != "" {
			return Verdict{}, why
		}
	} else {
		d = r.policy.Evaluate(in.agent, in.intent, in.req)
	}
	v = Verdict{Decision: d.Type, Rule: d.PolicyID, Stage: tollgate.StagePolicy, Reason: d.Reason}
	if d.Type == tollgate.Deny {
		return v, ""
	}
	paramsLost := lostValue(in.req.Params)
	if r.guard != nil {
		if paramsLost {
			return Verdict{}, "the network guard reads every param, and the log holds some redacted or cut"
		}
		if vs := r.guard.Check(in.req.Params); len(vs) > 0 {
			return refused(tollgate.StageNetwork, "Network policy violation: ", vs), ""
		}
	}
	if tool == nil {
		return v, ""
	}
	if paramsLost {
		return Verdict{}, fmt.Sprintf("the manifest's schema and constraints for %q read its params, and the log holds some redacted or cut", tool.Key)
	}
	if vs := tool.ValidateParams(in.req.Params); len(vs) > 0 {
		return refused(tollgate.StageSchema, "Parameter validation failed: ", vs), ""
	}
	if vs := tool.CheckConstraints(in.req.Params); len(vs) > 0 {
		return refused(tollgate.StageConstraints, "Constraint violation: ", vs), ""
	}
	return v, ""
}

// explain decides a call some of whose fields are lost, soundly: every
// rule tried before the one that matched must have failed on a field that
// is not lost, and the rule that matched must read none that is. Otherwise
// the real value might have made another rule decide, and why says which
// rule reads which field.
func (r *Replayer) explain(in *input) (tollgate.Decision, string) {
	e := r.policy.Explain(in.agent, in.intent, in.req)
	if in.lostField(policy.FieldEffect) {
		// Every call's effect is read: an unknown one is denied before
		// any rule.
		return e.Decision, "the effect decides whether any rule applies, and the log holds it redacted or cut"
	}
	for _, m := range e.Misses {
		if in.lostField(m.Field) {
			return e.Decision, fmt.Sprintf("%s did not match on %s, which the log holds redacted or cut", m.Rule, m.Field)
		}
	}
	if e.Matched != nil {
		for _, f := range r.rules[e.Matched.Index].Reads {
			if in.lostField(f) {
				return e.Decision, fmt.Sprintf("%s matched reading %s, which the log holds redacted or cut", e.Matched, f)
			}
		}
	}
	return e.Decision, ""
}

// lostUnread reports, cheaply, that no lost field can matter: every rule
// that reads one also names a tool, action, resource type or effect the
// call does not have (and does not lose), so it cannot match whatever the
// lost values were. Most calls with a redacted session id meet only such
// rules; the others go through explain.
func (r *Replayer) lostUnread(in *input) bool {
	if in.lostField(policy.FieldEffect) {
		return false
	}
	for i := range r.rules {
		info := &r.rules[i]
		if slices.ContainsFunc(info.Reads, in.lostField) && !r.cannotMatch(info, in) {
			return false
		}
	}
	return true
}

// cannotMatch reports whether rule's tool, action, resource type or effect
// differs from the call's, which is not lost. (RuleInfo spells a non-text
// YAML value as Python prints it; a rule holding one never matches, and
// calling it possible here only sends the call through explain.)
func (r *Replayer) cannotMatch(rule *policy.RuleInfo, in *input) bool {
	for _, k := range [...]struct{ key, want, got string }{
		{policy.FieldTool, rule.Tool, in.req.Tool},
		{policy.FieldAction, rule.Action, in.req.Action},
		{policy.FieldResourceType, rule.ResourceType, in.req.ResourceType},
		{policy.FieldEffect, rule.Effect, string(in.req.Effect)},
	} {
		if slices.Contains(rule.Keys, k.key) && !in.lostField(k.key) && k.want != k.got {
			return true
		}
	}
	return false
}

// refused is a stage's refusal after the policy: a DENY without a rule, as
// the gateway records it.
func refused(stage tollgate.Stage, prefix string, vs []tollgate.Violation) Verdict {
	parts := make([]string, len(vs))
	for i := range vs {
		parts[i] = vs[i].Description
	}
	return Verdict{Decision: tollgate.Deny, Stage: stage, Reason: prefix + strings.Join(parts, "; ")}
}
