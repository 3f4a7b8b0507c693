package policy

import (
	"slices"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/internal/pycompat"
)

// rule is one compiled policy rule. Fields read while matching come first
// so that a rule that fails early touches little memory.
type rule struct {
	resourceType value
	agentAttrs   []attr // agent_id, version, owner, environment, role, in file order
	delegation   delegation
	intentAttrs  []attr // action, reason, session_id, in file order
	when         []condition

	// Checked by the index, and again by Explain.
	tool, action, effect value

	decision tollgate.DecisionType
	reason   string
	id       string
	metadata tollgate.Params // shared by every Decision the rule produces
	askMode  tollgate.AskMode
	// approvalsRequired is the rule's approvals_required (0: not set).
	approvalsRequired int

	index     int
	line, col int
	keys      []string
}

// value is the expected value of a condition compared with Python equality
// against a request field. Tollgate compares the YAML-typed value, so a
// number or boolean never equals a text field: `version: 1.0` is the float
// 1.0 and never matches the agent version "1.0".
type value struct {
	set    bool   // the key is present (absent means any value)
	isText bool   // want is a string
	text   string // want, when it is a string
	want   any    // the YAML value (Params model)
}

func newValue(v any) value {
	s, ok := v.(string)
	return value{set: true, isText: ok, text: s, want: v}
}

// holds reports whether a text field equals the expected value.
func (v *value) holds(got string) bool { return !v.set || (v.isText && v.text == got) }

// String renders the value for RuleInfo: text as is, other values as Python
// prints them.
func (v *value) String() string {
	switch {
	case !v.set:
		return ""
	case v.isText:
		return v.text
	}
	return pycompat.Repr(v.want)
}

// source says where an agent: or intent: attribute is read from.
type source uint8

const (
	fromAgentID source = iota
	fromAgentVersion
	fromAgentOwner
	fromAgentMetadata // environment, role: Tollgate read missing attributes (never set)
	fromIntentAction
	fromIntentReason
	fromIntentMetadata // session_id
)

// isText reports whether the source is a text field (not metadata).
func (s source) isText() bool { return s != fromAgentMetadata && s != fromIntentMetadata }

// attr is one `agent:` or `intent:` equality condition.
type attr struct {
	key  string
	from source
	want value
}

func (a *attr) got(ag *tollgate.Agent, in *tollgate.Intent) (v any, text string, isText bool) {
	switch a.from {
	case fromAgentID:
		return nil, ag.ID, true
	case fromAgentVersion:
		return nil, ag.Version, true
	case fromAgentOwner:
		return nil, ag.Owner, true
	case fromIntentAction:
		return nil, in.Action, true
	case fromIntentReason:
		return nil, in.Reason, true
	case fromAgentMetadata:
		v, _ = ag.Metadata.Get(a.key)
	default:
		v, _ = in.Metadata.Get(a.key)
	}
	return v, "", false
}

func (a *attr) holds(ag *tollgate.Agent, in *tollgate.Intent) bool {
	v, text, isText := a.got(ag, in)
	if isText {
		return a.want.holds(text)
	}
	return pycompat.Equal(v, a.want.want)
}

// delegation holds the four delegation keys of `agent:`. They are filters:
// each can only stop the rule from matching, never make it match.
type delegation struct {
	denyDelegated bool
	maxDepth      int // negative: no limit
	allowed       []string
	hasAllowed    bool
	blocked       []string
	hasBlocked    bool
}

// check identifies the condition that stopped a rule from matching.
type check uint8

const (
	matched check = iota
	checkTool
	checkAction
	checkResourceType
	checkEffect
	checkAgentAttr
	checkDenyDelegated
	checkMaxDepth
	checkAllowedDelegators
	checkBlockedDelegators
	checkIntentAttr
	checkWhen
)

// miss is why a rule did not match: the failed check and, for lists of
// conditions, which one (item) and which operator inside it (op).
type miss struct {
	check    check
	item, op int
}

// never reports whether a condition on a text field holds a value that is
// not text (a number, a boolean, null), so the rule can never match.
func (r *rule) never() bool {
	for _, v := range []*value{&r.tool, &r.action, &r.resourceType, &r.effect} {
		if v.set && !v.isText {
			return true
		}
	}
	for _, as := range [][]attr{r.agentAttrs, r.intentAttrs} {
		for i := range as {
			if as[i].from.isText() && as[i].want.set && !as[i].want.isText {
				return true
			}
		}
	}
	return false
}

// match tests the rule's conditions in Tollgate's order. indexed skips
// tool, effect and action, which the index has already checked.
func (r *rule) match(ag *tollgate.Agent, in *tollgate.Intent, req *tollgate.ToolRequest, indexed bool) miss {
	if !indexed && !r.tool.holds(req.Tool) {
		return miss{check: checkTool}
	}
	if !indexed && !r.action.holds(req.Action) {
		return miss{check: checkAction}
	}
	if !r.resourceType.holds(req.ResourceType) {
		return miss{check: checkResourceType}
	}
	if !indexed && !r.effect.holds(string(req.Effect)) {
		return miss{check: checkEffect}
	}
	for i := range r.agentAttrs {
		if !r.agentAttrs[i].holds(ag, in) {
			return miss{check: checkAgentAttr, item: i}
		}
	}
	if c := r.delegation.filter(ag); c != matched {
		return miss{check: c}
	}
	for i := range r.intentAttrs {
		if !r.intentAttrs[i].holds(ag, in) {
			return miss{check: checkIntentAttr, item: i}
		}
	}
	for i := range r.when {
		if op, ok := r.when[i].holds(req.Metadata); !ok {
			return miss{check: checkWhen, item: i, op: op}
		}
	}
	return miss{}
}

// filter applies the delegation keys in Tollgate's order.
func (d *delegation) filter(ag *tollgate.Agent) check {
	delegated := ag.IsDelegated()
	if d.denyDelegated && delegated {
		return checkDenyDelegated
	}
	if d.maxDepth >= 0 && ag.Depth() > d.maxDepth {
		return checkMaxDepth
	}
	if d.hasAllowed && (!delegated || !anyIn(ag.DelegatedBy, d.allowed)) {
		return checkAllowedDelegators
	}
	if d.hasBlocked && delegated && anyIn(ag.DelegatedBy, d.blocked) {
		return checkBlockedDelegators
	}
	return matched
}

// anyIn reports whether any element of chain is in set.
func anyIn(chain, set []string) bool {
	for _, c := range chain {
		if slices.Contains(set, c) {
			return true
		}
	}
	return false
}

// decide turns a matching rule into a Decision. A rule's ALLOW needs the
// tool's effect and resource type to come from a trusted manifest; without
// a manifest version it becomes ASK, without the rule's id or metadata.
func (p *Policy) decide(r *rule, req *tollgate.ToolRequest) tollgate.Decision {
	if r.decision == tollgate.Allow && req.ManifestVersion == "" {
		return tollgate.Decision{Type: tollgate.Ask, Reason: ReasonUntrusted, PolicyVersion: p.version}
	}
	return tollgate.Decision{
		Type:          r.decision,
		Reason:        r.reason,
		PolicyID:      r.id,
		PolicyVersion: p.version,
		Metadata:      r.metadata,
		AskMode:       r.askMode,

		ApprovalsRequired: r.approvalsRequired,
	}
}
