package policy

import "github.com/tollgate-go/tollgate"

// effects are the effects rules are consulted for; any other effect
// (unknown, empty, misspelt) is decided before the rules.
var effects = [...]tollgate.Effect{tollgate.EffectRead, tollgate.EffectWrite, tollgate.EffectDelete, tollgate.EffectNotify}

// effectSlot returns the index of e in effects.
func effectSlot(e tollgate.Effect) (int, bool) {
	switch e {
	case tollgate.EffectRead:
		return 0, true
	case tollgate.EffectWrite:
		return 1, true
	case tollgate.EffectDelete:
		return 2, true
	case tollgate.EffectNotify:
		return 3, true
	}
	return 0, false
}

// candidate is a rule to try. Its action condition is copied inline so
// that skipping rules for other actions stays within one contiguous array
// instead of touching each rule.
type candidate struct {
	rule      int32
	hasAction bool
	action    string
}

// holds reports whether the candidate's action condition holds.
func (c *candidate) holds(action string) bool { return !c.hasAction || c.action == action }

// candidates are the rules to try in file order, one list per effect slot.
type candidates [len(effects)][]candidate

// index lists, for each (tool, effect), the rules whose tool and effect
// conditions hold, so evaluation never visits a rule that names another
// tool or effect. Tools no rule names share the other list (rules without
// a tool condition). Rules that can never match (a condition on a text
// field with a number, say) are in no list.
type index struct {
	byTool map[string]*candidates
	other  candidates
}

func buildIndex(rules []rule) index {
	ix := index{byTool: make(map[string]*candidates)}
	named := make(map[string]*candidates) // rules naming each tool
	for i := range rules {
		r := &rules[i]
		if r.never() {
			continue
		}
		c := candidate{rule: int32(i), hasAction: r.action.set, action: r.action.text}
		for slot, e := range effects {
			if !r.effect.holds(string(e)) {
				continue
			}
			if !r.tool.set {
				ix.other[slot] = append(ix.other[slot], c)
				continue
			}
			own := named[r.tool.text]
			if own == nil {
				own = new(candidates)
				named[r.tool.text] = own
			}
			own[slot] = append(own[slot], c)
		}
	}
	for tool, own := range named {
		merged := new(candidates)
		for slot := range effects {
			merged[slot] = mergeByRule(ix.other[slot], own[slot])
		}
		ix.byTool[tool] = merged
	}
	return ix
}

// lookup returns the rules to try, in order, for a tool and effect slot.
func (ix *index) lookup(tool string, slot int) []candidate {
	if c, ok := ix.byTool[tool]; ok {
		return c[slot]
	}
	return ix.other[slot]
}

// mergeByRule merges two lists ordered by rule index into a new one.
func mergeByRule(a, b []candidate) []candidate {
	out := make([]candidate, 0, len(a)+len(b))
	for len(a) > 0 && len(b) > 0 {
		if a[0].rule < b[0].rule {
			out, a = append(out, a[0]), a[1:]
		} else {
			out, b = append(out, b[0]), b[1:]
		}
	}
	out = append(out, a...)
	return append(out, b...)
}
