package ratelimit

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/internal/pycompat"
	"github.com/tollgate-go/tollgate/internal/yamlx"
)

// ParseRules reads the `rate_limits:` list of a policy file: node is the
// value under that key (nil when the key is absent, which means no limits).
//
// Each item takes Tollgate's keys: agent_id (default "*"), tool (default
// "*"), effect (default any), max_calls and window_seconds (both required).
// Unlike Tollgate, which silently disabled a rule with a misspelt effect and
// crashed on a missing key at construction, every mistake is a load error
// naming file:line:col and how to fix it: unknown keys, a missing or
// negative max_calls, a missing or non-positive window_seconds, an effect
// that is not one of the five (effects are lower-case), and non-text ids.
//
// The rules returned are always accepted by NewSlidingWindow.
func ParseRules(doc *yamlx.Document, node *yaml.Node) ([]Rule, error) {
	if node == nil {
		return nil, nil
	}
	if yamlx.IsNull(node) {
		return nil, doc.Errorf(node, "rate_limits is empty; list rules under it, or write `rate_limits: []` for no limits")
	}
	items, err := doc.Sequence(node, "rate_limits")
	if err != nil {
		return nil, err
	}
	rules := make([]Rule, 0, len(items))
	for i, item := range items {
		r, err := parseRule(doc, item, fmt.Sprintf("rate limit rule %d", i+1))
		if err != nil {
			return nil, err
		}
		rules = append(rules, r)
	}
	return rules, nil
}

func parseRule(doc *yamlx.Document, node *yaml.Node, what string) (Rule, error) {
	pairs, err := doc.Mapping(node, what)
	if err != nil {
		return Rule{}, err
	}
	r := Rule{AgentID: "*", Tool: "*"}
	var haveMax, haveWindow bool
	for _, p := range pairs {
		v := p.ValueNode
		switch p.Key {
		case "agent_id":
			r.AgentID, err = text(doc, v, what, "agent_id", `"*" for any agent`)
		case "tool":
			r.Tool, err = text(doc, v, what, "tool", `"*" for any tool or "prefix*" for a family of tools`)
		case "effect":
			r.Effect, err = effect(doc, v, what)
		case "max_calls":
			r.MaxCalls, err = maxCalls(doc, v, what)
			haveMax = true
		case "window_seconds":
			r.Window, r.parsed.text, err = window(doc, v, what)
			r.parsed.window = r.Window
			haveWindow = true
		default:
			err = doc.Errorf(p.KeyNode, "%s: unknown key %q; a rate limit rule takes agent_id, tool, effect, max_calls and window_seconds", what, p.Key)
		}
		if err != nil {
			return Rule{}, err
		}
	}
	switch {
	case !haveMax:
		return Rule{}, doc.Errorf(node, "%s has no max_calls; add `max_calls: N` (calls allowed per window)", what)
	case !haveWindow:
		return Rule{}, doc.Errorf(node, "%s has no window_seconds; add `window_seconds: N` (length of the sliding window in seconds)", what)
	}
	return r, nil
}

// text reads a non-empty string. A plain scalar YAML would read as a number,
// boolean or null is refused: Tollgate compared it with the (string) agent id
// or tool name, so the rule silently never matched.
func text(doc *yamlx.Document, n *yaml.Node, what, key, anyHint string) (string, error) {
	v, err := doc.Value(n)
	if err != nil {
		return "", err
	}
	s, ok := v.(string)
	switch {
	case !ok && n.Kind == yaml.ScalarNode && !yamlx.IsNull(n):
		return "", doc.Errorf(n, "%s: %s must be text, got %s; quote it (%q) if that is the name", what, key, pycompat.Repr(v), n.Value)
	case !ok:
		return "", doc.Errorf(n, "%s: %s must be text, got %s; use %s", what, key, yamlx.Describe(n), anyHint)
	case s == "":
		return "", doc.Errorf(n, "%s: %s is empty; use %s", what, key, anyHint)
	}
	return s, nil
}

func effect(doc *yamlx.Document, n *yaml.Node, what string) (tollgate.Effect, error) {
	if yamlx.IsNull(n) {
		return "", nil
	}
	s, err := text(doc, n, what, "effect", `"*" for any effect`)
	if err != nil {
		return "", err
	}
	if s == "*" {
		return "", nil
	}
	e, ok := tollgate.ParseEffect(s)
	if !ok {
		return "", doc.Errorf(n, "%s: %s", what, effectProblem(s))
	}
	return e, nil
}

// number reads a YAML number (not a boolean, not quoted text).
func number(doc *yamlx.Document, n *yaml.Node, what, key string) (json.Number, error) {
	v, err := doc.Value(n)
	if err != nil {
		return "", err
	}
	num, ok := v.(json.Number)
	switch {
	case ok:
		return num, nil
	case n.Kind == yaml.ScalarNode && n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0:
		return "", doc.Errorf(n, "%s: %s must be a number, got the text %q; remove the quotes", what, key, n.Value)
	case n.Kind == yaml.ScalarNode && !yamlx.IsNull(n):
		return "", doc.Errorf(n, "%s: %s must be a number, got %s", what, key, pycompat.Repr(v))
	}
	return "", doc.Errorf(n, "%s: %s must be a number, got %s", what, key, yamlx.Describe(n))
}

func maxCalls(doc *yamlx.Document, n *yaml.Node, what string) (int, error) {
	num, err := number(doc, n, what, "max_calls")
	if err != nil {
		return 0, err
	}
	if pycompat.IsFloat(num) {
		return 0, doc.Errorf(n, "%s: max_calls must be a whole number, got %s", what, pycompat.FormatNumber(num))
	}
	v, err := strconv.ParseInt(string(num), 10, 64)
	if err != nil { // out of int64 range
		v = math.MaxInt64
		if num[0] == '-' {
			v = math.MinInt64
		}
	}
	if msg := maxCallsProblem(v); msg != "" {
		return 0, doc.Errorf(n, "%s: %s", what, msg)
	}
	return int(v), nil
}

// window reads window_seconds, returning the duration and the number as
// Python prints it (for the refusal reason).
func window(doc *yamlx.Document, n *yaml.Node, what string) (time.Duration, string, error) {
	num, err := number(doc, n, what, "window_seconds")
	if err != nil {
		return 0, "", err
	}
	label := pycompat.FormatNumber(num)
	secs, err := strconv.ParseFloat(label, 64)
	if err != nil && !isRange(err) {
		secs = math.NaN() // nan, inf: refused below
	}
	ns := math.Round(secs * float64(time.Second))
	switch {
	case math.IsNaN(secs) || secs <= 0:
		return 0, "", doc.Errorf(n, "%s: window_seconds must be > 0, got %s", what, label)
	case ns > float64(MaxWindow):
		return 0, "", doc.Errorf(n, "%s: window_seconds %s is too long; %s", what, label, maxWindowHint)
	case ns < 1:
		return 0, "", doc.Errorf(n, "%s: window_seconds %s is shorter than a nanosecond", what, label)
	}
	return time.Duration(ns), label, nil
}

func isRange(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}
