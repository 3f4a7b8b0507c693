package policy

import (
	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/internal/pycompat"
)

// operator is a `when:` comparison operator.
type operator uint8

const (
	opEq operator = iota
	opNe
	opGt
	opGe
	opLt
	opLe
)

// operators maps the YAML spelling to the operator; any other spelling is a
// load error (Tollgate ignored it, which made the condition pass).
var operators = map[string]operator{"==": opEq, "!=": opNe, ">": opGt, ">=": opGe, "<": opLt, "<=": opLe}

var operatorNames = [...]string{opEq: "==", opNe: "!=", opGt: ">", opGe: ">=", opLt: "<", opLe: "<="}

func (o operator) String() string { return operatorNames[o] }

// condition is one `when:` entry, tested against the top-level key of
// ToolRequest.Metadata (absent reads as null).
type condition struct {
	key string
	// equal is set when the YAML value is a scalar or list: the metadata
	// value must be Python-equal to want.
	equal bool
	want  any
	// ops are the entries of a mapping value; all must hold. An empty
	// mapping always holds, even for an absent key.
	ops []comparison
}

type comparison struct {
	op     operator
	target any
}

// holds reports whether the condition holds; when it does not and the
// condition is a mapping, op is the index of the failed comparison.
func (c *condition) holds(meta tollgate.Params) (op int, ok bool) {
	got, _ := meta.Get(c.key)
	if c.equal {
		return 0, pycompat.Equal(got, c.want)
	}
	for i := range c.ops {
		if !c.ops[i].holds(got) {
			return i, false
		}
	}
	return 0, true
}

// holds applies one comparison. Ordering a null value is false, as in
// Tollgate. Ordering values Python cannot order (text against a number)
// is false too: Tollgate raised TypeError there and aborted the call
// unaudited; here the rule simply does not match.
func (c *comparison) holds(got any) bool {
	switch c.op {
	case opEq:
		return pycompat.Equal(got, c.target)
	case opNe:
		return !pycompat.Equal(got, c.target)
	}
	if got == nil {
		return false
	}
	cmp, ok := pycompat.Compare(got, c.target)
	if !ok {
		return false
	}
	switch c.op {
	case opGt:
		return cmp > 0
	case opGe:
		return cmp >= 0
	case opLt:
		return cmp < 0
	}
	return cmp <= 0
}
