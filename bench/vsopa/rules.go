package vsopa

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Rule is one policy rule in the subset of Tollgate's format that both
// engines express with the same meaning. Empty strings and nil slices mean
// the key is absent (matches anything).
type Rule struct {
	ID, Decision, Reason               string
	Tool, Action, ResourceType, Effect string
	AgentID                            string
	DenyDelegated                      bool
	MaxDepth                           int // negative: no limit
	Allowed, Blocked                   []string
	IntentAction                       string
	When                               []Cond
}

// Cond is one `when:` comparison of a request metadata key. Value is a
// string or a number (int or float64): the subset where Python's and
// Rego's equality and ordering agree (Python's True == 1 does not hold in
// Rego, so booleans are left out).
type Cond struct {
	Key, Op string
	Value   any
}

// ops are the when: operators, as Tollgate spells them.
var ops = []string{"==", "!=", ">", ">=", "<", "<="}

// YAML renders the rules as a Tollgate policy file, one flow mapping per
// rule. Text is written as JSON strings, which YAML reads back unchanged.
func YAML(version string, rules []Rule) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "version: %s\nrules:\n", strconv.Quote(version))
	for i := range rules {
		r := &rules[i]
		var kv []string
		add := func(k, v string) {
			if v != "" {
				kv = append(kv, k+": "+strconv.Quote(v))
			}
		}
		add("id", r.ID)
		add("tool", r.Tool)
		add("action", r.Action)
		add("resource_type", r.ResourceType)
		add("effect", r.Effect)
		if agent := r.agentYAML(); agent != "" {
			kv = append(kv, "agent: {"+agent+"}")
		}
		if r.IntentAction != "" {
			kv = append(kv, "intent: {action: "+strconv.Quote(r.IntentAction)+"}")
		}
		if len(r.When) > 0 {
			var conds []string
			for _, c := range r.When {
				conds = append(conds, fmt.Sprintf("%s: {%s: %s}", strconv.Quote(c.Key), strconv.Quote(c.Op), literal(c.Value)))
			}
			kv = append(kv, "when: {"+strings.Join(conds, ", ")+"}")
		}
		add("decision", r.Decision)
		add("reason", r.Reason)
		fmt.Fprintf(&b, "  - {%s}\n", strings.Join(kv, ", "))
	}
	return b.Bytes()
}

func (r *Rule) agentYAML() string {
	var kv []string
	if r.AgentID != "" {
		kv = append(kv, "agent_id: "+strconv.Quote(r.AgentID))
	}
	if r.DenyDelegated {
		kv = append(kv, "deny_delegated: true")
	}
	if r.MaxDepth >= 0 {
		kv = append(kv, "max_delegation_depth: "+strconv.Itoa(r.MaxDepth))
	}
	if r.Allowed != nil {
		kv = append(kv, "allowed_delegators: "+literal(r.Allowed))
	}
	if r.Blocked != nil {
		kv = append(kv, "blocked_delegators: "+literal(r.Blocked))
	}
	return strings.Join(kv, ", ")
}

// literal writes v as JSON, which is valid in both YAML and Rego.
func literal(v any) string {
	out, err := json.Marshal(v)
	if err != nil { // only strings, numbers and string lists reach here
		panic(fmt.Sprintf("vsopa: literal %#v: %v", v, err))
	}
	return string(out)
}

// yamlRule mirrors a Tollgate rule for the keys this subset supports;
// decoding with KnownFields refuses any other key, so a policy outside the
// subset is an error rather than a silently different Rego module.
type yamlRule struct {
	ID           string `yaml:"id"`
	Decision     string `yaml:"decision"`
	Reason       string `yaml:"reason"`
	Tool         string `yaml:"tool"`
	Action       string `yaml:"action"`
	ResourceType string `yaml:"resource_type"`
	Effect       string `yaml:"effect"`
	Agent        struct {
		AgentID       string   `yaml:"agent_id"`
		DenyDelegated bool     `yaml:"deny_delegated"`
		MaxDepth      *int     `yaml:"max_delegation_depth"`
		Allowed       []string `yaml:"allowed_delegators"`
		Blocked       []string `yaml:"blocked_delegators"`
	} `yaml:"agent"`
	Intent struct {
		Action string `yaml:"action"`
	} `yaml:"intent"`
	When map[string]yaml.Node `yaml:"when"`
}

// ParseYAML reads a Tollgate policy written in the subset (the
// security_hardened example is). Rate limits and network policy are
// ignored: they are not part of the decision.
func ParseYAML(data []byte) ([]Rule, error) {
	var doc struct {
		Version       string     `yaml:"version"`
		Rules         []yamlRule `yaml:"rules"`
		RateLimits    yaml.Node  `yaml:"rate_limits"`
		NetworkPolicy yaml.Node  `yaml:"network_policy"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("vsopa: policy outside the supported subset: %w", err)
	}
	out := make([]Rule, 0, len(doc.Rules))
	for i, y := range doc.Rules {
		r := Rule{
			ID: y.ID, Decision: y.Decision, Reason: y.Reason,
			Tool: y.Tool, Action: y.Action, ResourceType: y.ResourceType, Effect: y.Effect,
			AgentID: y.Agent.AgentID, DenyDelegated: y.Agent.DenyDelegated, MaxDepth: -1,
			Allowed: y.Agent.Allowed, Blocked: y.Agent.Blocked, IntentAction: y.Intent.Action,
		}
		if r.Reason == "" {
			r.Reason = "Rule matched" // Tollgate's default
		}
		if y.Agent.MaxDepth != nil {
			r.MaxDepth = *y.Agent.MaxDepth
		}
		for _, key := range sortedKeys(y.When) {
			conds, err := parseWhen(key, y.When[key])
			if err != nil {
				return nil, fmt.Errorf("vsopa: rule %d: when.%s: %w", i, key, err)
			}
			r.When = append(r.When, conds...)
		}
		out = append(out, r)
	}
	return out, nil
}

func sortedKeys(m map[string]yaml.Node) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// parseWhen reads one when: entry: a scalar (equality) or a mapping of
// operators.
func parseWhen(key string, n yaml.Node) ([]Cond, error) {
	if n.Kind == yaml.ScalarNode {
		v, err := scalar(&n)
		return []Cond{{key, "==", v}}, err
	}
	var m map[string]yaml.Node
	if err := n.Decode(&m); err != nil {
		return nil, err
	}
	var out []Cond
	for _, op := range sortedKeys(m) {
		if !slices.Contains(ops, op) {
			return nil, fmt.Errorf("unknown operator %q", op)
		}
		v := m[op]
		val, err := scalar(&v)
		if err != nil {
			return nil, err
		}
		out = append(out, Cond{key, op, val})
	}
	return out, nil
}

// scalar reads a when: value: text or a number, nothing else.
func scalar(n *yaml.Node) (any, error) {
	switch n.Tag {
	case "!!str":
		return n.Value, nil
	case "!!int":
		return strconv.Atoi(n.Value)
	case "!!float":
		// JSON and Rego have no infinity or NaN.
		if f, err := strconv.ParseFloat(n.Value, 64); err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
			return f, nil
		}
	}
	return nil, fmt.Errorf("value %q (%s) is outside the subset: want text or a finite number", n.Value, n.Tag)
}
