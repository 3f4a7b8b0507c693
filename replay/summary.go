package replay

import (
	"cmp"
	"slices"

	"github.com/tollgate-go/tollgate"
)

// Summary counts what Run found.
type Summary struct {
	Lines        int // lines read, checkpoints included
	Total        int // calls
	Changed      int
	Undetermined int
	Skipped      int
	// Moves counts changed calls by old and new decision.
	Moves map[Move]int
	// ByRule counts changed calls by tool, the rule that now decides, and
	// move.
	ByRule map[RuleMove]int
}

// Move is a change of decision.
type Move struct{ From, To tollgate.DecisionType }

func (m Move) String() string { return string(m.From) + "→" + string(m.To) }

// RuleMove is a Move of one tool's calls, decided now by Rule (or, with
// Rule empty, by Stage).
type RuleMove struct {
	Tool  string
	Rule  string
	Stage tollgate.Stage
	Move
}

func newSummary() *Summary {
	return &Summary{Moves: map[Move]int{}, ByRule: map[RuleMove]int{}}
}

func (s *Summary) add(c *Call) {
	s.Total++
	switch c.Status {
	case Changed:
		s.Changed++
		m := Move{c.Old.Decision, c.New.Decision}
		s.Moves[m]++
		s.ByRule[RuleMove{Tool: c.Tool, Rule: c.New.Rule, Stage: c.New.Stage, Move: m}]++
	case Undetermined:
		s.Undetermined++
	case Skipped:
		s.Skipped++
	}
}

// SortedMoves lists Moves by count, most first, then by name.
func (s *Summary) SortedMoves() []Count[Move] { return sorted(s.Moves, Move.String) }

// SortedByRule lists ByRule by count, most first, then by tool, rule and
// move.
func (s *Summary) SortedByRule() []Count[RuleMove] {
	return sorted(s.ByRule, func(k RuleMove) string {
		return k.Tool + "\x00" + k.Rule + "\x00" + string(k.Stage) + "\x00" + k.Move.String()
	})
}

// Count is one key of a Summary map with its count.
type Count[K any] struct {
	Key K
	N   int
}

func sorted[K comparable](m map[K]int, name func(K) string) []Count[K] {
	out := make([]Count[K], 0, len(m))
	for k, n := range m {
		out = append(out, Count[K]{k, n})
	}
	slices.SortFunc(out, func(a, b Count[K]) int {
		return cmp.Or(cmp.Compare(b.N, a.N), cmp.Compare(name(a.Key), name(b.Key)))
	})
	return out
}
