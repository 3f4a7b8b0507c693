package yamlx

import (
	"encoding/json"
	"math"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/internal/pycompat"
)

// YAML 1.1 resolvers, as PyYAML's SafeLoader defines them.
var (
	boolRe  = regexp.MustCompile(`^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$`)
	intRe   = regexp.MustCompile(`^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$`)
	floatRe = regexp.MustCompile(`^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9_]+(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$`)
	nullRe  = regexp.MustCompile(`^(?:~|null|Null|NULL|)$`)
)

// Value converts n into the tollgate.Params value model, resolving plain
// scalars with PyYAML's YAML 1.1 rules. Mapping keys must be scalars; their
// text is the key.
func (d *Document) Value(n *yaml.Node) (any, error) {
	if n == nil {
		return nil, nil
	}
	switch n.Kind {
	case yaml.AliasNode:
		return d.Value(n.Alias)
	case yaml.ScalarNode:
		return d.scalar(n)
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			v, err := d.Value(c)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case yaml.MappingNode:
		out := make(tollgate.Params, 0, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := resolveAlias(n.Content[i])
			if k.Kind != yaml.ScalarNode {
				return nil, d.Errorf(k, "mapping keys must be plain text")
			}
			v, err := d.Value(n.Content[i+1])
			if err != nil {
				return nil, err
			}
			out = append(out, tollgate.Field{Key: k.Value, Value: v})
		}
		return out, nil
	}
	return nil, d.Errorf(n, "unsupported YAML node")
}

func resolveAlias(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

func (d *Document) scalar(n *yaml.Node) (any, error) {
	if n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
		return n.Value, nil
	}
	if n.Style&yaml.TaggedStyle == 0 {
		// yaml.v3 resolved the tag with YAML 1.2 rules; PyYAML uses 1.1.
		return Resolve(n.Value), nil
	}
	switch n.Tag {
	case "!!str", "!!binary", "!!timestamp":
		return n.Value, nil
	case "!!null":
		return nil, nil
	case "!!bool", "!!int", "!!float":
		if v := Resolve(n.Value); v != nil && v != n.Value {
			return v, nil
		}
		return nil, d.Errorf(n, "%q is not a valid %s", n.Value, n.Tag)
	}
	return nil, d.Errorf(n, "YAML tag %s is not supported; remove it", n.Tag)
}

// Resolve applies PyYAML's implicit resolvers to a plain scalar's text.
func Resolve(s string) any {
	switch {
	case nullRe.MatchString(s):
		return nil
	case boolRe.MatchString(s):
		switch s[0] {
		case 'y', 'Y', 't', 'T':
			return true
		case 'o', 'O':
			return s == "on" || s == "On" || s == "ON"
		}
		return false
	case intRe.MatchString(s):
		if v, ok := parseInt11(s); ok {
			return v
		}
	case floatRe.MatchString(s):
		if v, ok := parseFloat11(s); ok {
			return v
		}
	}
	return s
}

func parseInt11(s string) (json.Number, bool) {
	s = strings.ReplaceAll(s, "_", "")
	neg := false
	switch s[0] {
	case '-':
		neg, s = true, s[1:]
	case '+':
		s = s[1:]
	}
	var v int64
	var err error
	switch {
	case strings.Contains(s, ":"):
		for _, part := range strings.Split(s, ":") {
			p, e := strconv.ParseInt(part, 10, 64)
			if e != nil {
				return "", false
			}
			v = v*60 + p
		}
	case strings.HasPrefix(s, "0b"):
		v, err = strconv.ParseInt(s[2:], 2, 64)
	case strings.HasPrefix(s, "0x"):
		v, err = strconv.ParseInt(s[2:], 16, 64)
	case len(s) > 1 && s[0] == '0':
		v, err = strconv.ParseInt(s[1:], 8, 64)
	default:
		// Decimal: keep the exact digits, however large.
		if neg && s != "0" {
			s = "-" + s
		}
		return json.Number(s), true
	}
	if err != nil {
		return "", false
	}
	if neg {
		v = -v
	}
	return json.Number(strconv.FormatInt(v, 10)), true
}

func parseFloat11(s string) (json.Number, bool) {
	s = strings.ReplaceAll(s, "_", "")
	lower := strings.ToLower(s)
	switch {
	case strings.HasSuffix(lower, ".inf"):
		if s[0] == '-' {
			return json.Number(pycompat.FormatFloat(math.Inf(-1))), true
		}
		return json.Number(pycompat.FormatFloat(math.Inf(1))), true
	case lower == ".nan":
		return json.Number(pycompat.FormatFloat(math.NaN())), true
	case strings.Contains(s, ":"):
		neg := s[0] == '-'
		s = strings.TrimLeft(s, "+-")
		parts := strings.Split(s, ":")
		var v float64
		for _, part := range parts {
			p, err := strconv.ParseFloat(part, 64)
			if err != nil {
				return "", false
			}
			v = v*60 + p
		}
		if neg {
			v = -v
		}
		return json.Number(pycompat.FormatFloat(v)), true
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return "", false
	}
	return json.Number(pycompat.FormatFloat(f)), true
}

// Text returns the text of a scalar node after alias resolution; ok is false
// for mappings, sequences and null.
func Text(n *yaml.Node) (string, bool) {
	n = resolveAlias(n)
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		return "", false
	}
	return n.Value, true
}

// Pair is one key/value of a mapping node.
type Pair struct {
	Key                string
	KeyNode, ValueNode *yaml.Node
}

// Mapping returns the pairs of a mapping node in document order, or an error
// naming what was found instead. what describes the node for the message
// ("the policy file", "rule 3").
func (d *Document) Mapping(n *yaml.Node, what string) ([]Pair, error) {
	if n == nil {
		return nil, &Error{File: d.File, Msg: what + " is empty; want a mapping"}
	}
	n = resolveAlias(n)
	if n.Kind != yaml.MappingNode {
		return nil, d.Errorf(n, "%s must be a mapping (key: value), got %s", what, Describe(n))
	}
	out := make([]Pair, 0, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := resolveAlias(n.Content[i])
		out = append(out, Pair{Key: k.Value, KeyNode: k, ValueNode: resolveAlias(n.Content[i+1])})
	}
	return out, nil
}

// Sequence returns the items of a sequence node.
func (d *Document) Sequence(n *yaml.Node, what string) ([]*yaml.Node, error) {
	n = resolveAlias(n)
	if n.Kind != yaml.SequenceNode {
		return nil, d.Errorf(n, "%s must be a list, got %s", what, Describe(n))
	}
	out := make([]*yaml.Node, len(n.Content))
	for i, c := range n.Content {
		out[i] = resolveAlias(c)
	}
	return out, nil
}

// IsNull reports whether n is a YAML null (absent value, ~ or null).
func IsNull(n *yaml.Node) bool {
	if n == nil {
		return true
	}
	n = resolveAlias(n)
	if n.Kind != yaml.ScalarNode {
		return false
	}
	if n.Tag == "!!null" {
		return true
	}
	return n.Style == 0 && nullRe.MatchString(n.Value)
}

// Describe names a node's kind for error messages.
func Describe(n *yaml.Node) string {
	n = resolveAlias(n)
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	if IsNull(n) {
		return "null"
	}
	return strconv.Quote(n.Value)
}
