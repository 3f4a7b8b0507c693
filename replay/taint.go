package replay

import (
	"strings"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/audit"
	"github.com/tollgate-go/tollgate/policy"
)

// truncatedMark starts every mark the audit sink leaves where it bounded a
// record: a cut string ("… [TRUNCATED: N bytes, sha256:…]"), a collapsed
// object ({"[TRUNCATED]": "N keys, M bytes"}) and a collapsed delegation
// chain ("[TRUNCATED] N agents").
const truncatedMark = "[TRUNCATED"

// lost reports whether s is not the value the call had: redacted (whole or
// in part) or cut by the audit sink. A value that merely contains one of
// the marks is taken as lost too: that mistake costs an undetermined
// call, never a wrong verdict.
func lost(s string) bool {
	return strings.Contains(s, audit.Redacted) || strings.Contains(s, truncatedMark)
}

// lostValue reports whether any string in v, keys included, is lost.
func lostValue(v any) bool {
	switch t := v.(type) {
	case string:
		return lost(t)
	case tollgate.Params:
		for _, f := range t {
			if lost(f.Key) || lostValue(f.Value) {
				return true
			}
		}
	case []any:
		for _, e := range t {
			if lostValue(e) {
				return true
			}
		}
	}
	return false
}

// lostKey reports whether the value of key in p may not be the call's: it
// is lost, or some key of p is (a collapsed object, a cut key), so key's
// real value may be anything, absence included.
func lostKey(p tollgate.Params, key string) bool {
	for _, f := range p {
		if lost(f.Key) || f.Key == key && lostValue(f.Value) {
			return true
		}
	}
	return false
}

// input is what the candidate sees of one call, and which of its fields the
// log holds redacted or cut.
type input struct {
	agent  tollgate.Agent
	intent tollgate.Intent
	req    tollgate.ToolRequest
	// resolved: effect, resource type and manifest version came from the
	// manifest, keyed by the tool, so they are lost exactly when it is.
	resolved bool
}

// anyLost reports whether any field the policy can read is lost; most
// calls have none, and are decided without asking which.
func (in *input) anyLost() bool {
	a, i, r := &in.agent, &in.intent, &in.req
	for _, s := range [...]string{a.ID, a.Version, a.Owner, i.Action, i.Reason, r.Tool, r.Action, r.ResourceType, string(r.Effect)} {
		if lost(s) {
			return true
		}
	}
	for _, id := range a.DelegatedBy {
		if lost(id) {
			return true
		}
	}
	return lostValue(a.Metadata) || lostValue(i.Metadata) || lostValue(r.Metadata)
}

// lostField reports whether the policy field (policy.RuleInfo.Reads) is
// lost. A field this version does not know is taken as lost if anything
// is.
func (in *input) lostField(field string) bool {
	a, i, r := &in.agent, &in.intent, &in.req
	switch field {
	case policy.FieldTool:
		return lost(r.Tool)
	case policy.FieldAction:
		return lost(r.Action)
	case policy.FieldResourceType:
		return in.resolved && lost(r.Tool) || !in.resolved && lost(r.ResourceType)
	case policy.FieldEffect:
		return in.resolved && lost(r.Tool) || !in.resolved && lost(string(r.Effect))
	case policy.FieldManifestVersion:
		// The policy reads only whether it is empty, which a cut value
		// (never empty, as the original was not) does not change.
		return in.resolved && lost(r.Tool)
	case policy.FieldDelegatedBy:
		for _, id := range a.DelegatedBy {
			if lost(id) {
				return true
			}
		}
		return false
	case "agent.agent_id":
		return lost(a.ID)
	case "agent.version":
		return lost(a.Version)
	case "agent.owner":
		return lost(a.Owner)
	case "intent.action":
		return lost(i.Action)
	case "intent.reason":
		return lost(i.Reason)
	}
	switch section, key, _ := strings.Cut(field, "."); section {
	case "agent":
		return lostKey(a.Metadata, key)
	case "intent":
		return lostKey(i.Metadata, key)
	case "when":
		return lostKey(r.Metadata, key)
	}
	return in.anyLost()
}
