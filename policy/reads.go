package policy

import "github.com/tollgate-go/tollgate"

// The request fields a rule reads, named as Explain names them. Tooling
// that holds an incomplete record of a call (a redacted audit log) uses
// them to tell a decision that could not depend on a missing value from
// one that could.
const (
	FieldTool            = "tool"
	FieldAction          = "action"
	FieldResourceType    = "resource_type"
	FieldEffect          = "effect"
	FieldManifestVersion = "manifest_version" // an ALLOW needs it set
	FieldDelegatedBy     = "agent.delegated_by"
)

// reads lists the fields r's conditions read, in the order match tests
// them: tool, action, resource_type, effect, agent.<key> (agent_id,
// version, owner, environment, role), agent.delegated_by (any delegation
// key), intent.<key> (action, reason, session_id), when.<metadata key>,
// and manifest_version for an ALLOW rule.
func (r *rule) reads() []string {
	var out []string
	for _, f := range []struct {
		v    *value
		name string
	}{{&r.tool, FieldTool}, {&r.action, FieldAction}, {&r.resourceType, FieldResourceType}, {&r.effect, FieldEffect}} {
		if f.v.set {
			out = append(out, f.name)
		}
	}
	for i := range r.agentAttrs {
		out = append(out, "agent."+r.agentAttrs[i].key)
	}
	if d := &r.delegation; d.denyDelegated || d.maxDepth >= 0 || d.hasAllowed || d.hasBlocked {
		out = append(out, FieldDelegatedBy)
	}
	for i := range r.intentAttrs {
		out = append(out, "intent."+r.intentAttrs[i].key)
	}
	for i := range r.when {
		out = append(out, "when."+r.when[i].key)
	}
	if r.decision == tollgate.Allow {
		out = append(out, FieldManifestVersion)
	}
	return out
}

// field names the field the failed check m read.
func (r *rule) field(m miss) string {
	switch m.check {
	case checkTool:
		return FieldTool
	case checkAction:
		return FieldAction
	case checkResourceType:
		return FieldResourceType
	case checkEffect:
		return FieldEffect
	case checkAgentAttr:
		return "agent." + r.agentAttrs[m.item].key
	case checkIntentAttr:
		return "intent." + r.intentAttrs[m.item].key
	case checkDenyDelegated, checkMaxDepth, checkAllowedDelegators, checkBlockedDelegators:
		return FieldDelegatedBy
	}
	return "when." + r.when[m.item].key
}
