package policy

import (
	"cmp"
	"slices"

	"github.com/tollgate-go/tollgate"
)

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
// tool or effect. Rules that can never match (a condition on a text field
// with a number, say) are in no list.
//
// Rules naming no tool apply to every tool; they are listed once, in
// other, and never copied into each tool's list (copying made memory and
// load time grow with tools × tool-less rules). A call tries the merge of
// its tool's list and other, in file order (see cursor).
type index struct {
	byTool map[string]*candidates // rules naming the tool
	other  candidates             // rules naming no tool
}

func buildIndex(rules []rule) index {
	ix := index{byTool: make(map[string]*candidates)}
	for i := range rules {
		r := &rules[i]
		if r.never() {
			continue
		}
		list := &ix.other
		if r.tool.set {
			if list = ix.byTool[r.tool.text]; list == nil {
				list = new(candidates)
				ix.byTool[r.tool.text] = list
			}
		}
		c := candidate{rule: int32(i), hasAction: r.action.set, action: r.action.text}
		for slot, e := range effects {
			if r.effect.holds(string(e)) {
				list[slot] = append(list[slot], c)
			}
		}
	}
	return ix
}

// lookup returns a cursor over the rules to try, in file order, for a tool
// and effect slot.
func (ix *index) lookup(tool string, slot int) cursor {
	cur := cursor{other: ix.other[slot]}
	if own, ok := ix.byTool[tool]; ok {
		cur.own = own[slot]
	}
	return cur
}

// cursor walks two candidate lists, each in rule order, as one list in
// rule order: the merge is done while evaluating, so it costs nothing to
// build or store.
type cursor struct {
	own, other []candidate
}

// run returns the next candidates to try: the longest stretch of one list
// that comes before the other list's next candidate, so that evaluation
// loops over plain slices and compares across lists once per stretch. It
// returns an empty slice when both lists are done.
func (c *cursor) run() []candidate {
	from, next := &c.own, c.other
	if len(*from) == 0 || len(next) > 0 && next[0].rule < (*from)[0].rule {
		from, next = &c.other, c.own
	}
	n := len(*from)
	if len(next) > 0 {
		// Rule indexes are distinct across the lists: never found.
		n, _ = slices.BinarySearchFunc(*from, next[0].rule, func(c candidate, rule int32) int { return cmp.Compare(c.rule, rule) })
	}
	run := (*from)[:n]
	*from = (*from)[n:]
	return run
}
