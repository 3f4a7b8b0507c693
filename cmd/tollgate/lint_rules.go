package main

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/internal/pycompat"
	"github.com/tollgate-go/tollgate/internal/yamlx"
	"github.com/tollgate-go/tollgate/policy"
	"github.com/tollgate-go/tollgate/registry"
)

// toolFacts is what a manifest says about one tool.
type toolFacts struct {
	key          string
	effect       tollgate.Effect
	resourceType string
	params       []string // params_schema property names
}

// manifestInfo is a loaded manifest plus the parameter names lint needs,
// read from its YAML (the registry does not expose schemas).
type manifestInfo struct {
	tools map[string]toolFacts
	order []string
}

func newManifestInfo(doc *yamlx.Document, m *registry.Manifest) *manifestInfo {
	params := schemaProperties(doc)
	info := &manifestInfo{tools: make(map[string]toolFacts)}
	for _, key := range m.Tools() {
		t, ok := m.Resolve(key)
		if !ok {
			continue // an empty entry: unknown to the gateway
		}
		info.tools[key] = toolFacts{key: key, effect: t.Effect, resourceType: t.ResourceType, params: params[key]}
		info.order = append(info.order, key)
	}
	return info
}

// schemaProperties maps tool keys to their params_schema property names.
// The manifest has loaded, so its shape is known to be right; anything
// unexpected is skipped.
func schemaProperties(doc *yamlx.Document) map[string][]string {
	out := make(map[string][]string)
	tools := child(doc, doc.Root, "tools")
	if tools == nil {
		return out
	}
	entries, _ := doc.Mapping(tools, "tools")
	for _, e := range entries {
		props := child(doc, child(doc, e.ValueNode, "params_schema"), "properties")
		if props == nil {
			continue
		}
		pairs, _ := doc.Mapping(props, "properties")
		for _, p := range pairs {
			out[e.Key] = append(out[e.Key], p.Key)
		}
	}
	return out
}

// child returns the value under key of a mapping node, or nil.
func child(doc *yamlx.Document, n *yaml.Node, key string) *yaml.Node {
	if n == nil || yamlx.IsNull(n) {
		return nil
	}
	pairs, err := doc.Mapping(n, key)
	if err != nil {
		return nil
	}
	for _, p := range pairs {
		if p.Key == key {
			return p.ValueNode
		}
	}
	return nil
}

// condition is one thing a rule requires: a key path and its YAML value.
type condition struct {
	path  string // "tool", "agent.agent_id", "when.risk"
	value any
	node  *yaml.Node // the key node, for positions
}

// Rule keys that are conditions; the others (id, decision, reason,
// metadata) only shape the decision.
var (
	scalarConditions  = []string{"tool", "action", "resource_type", "effect"}
	sectionConditions = []string{"agent", "intent", "when"}
)

// ruleConditions reads the conditions of each rule node in order.
func ruleConditions(doc *yamlx.Document) [][]condition {
	rules := child(doc, doc.Root, "rules")
	if rules == nil {
		return nil
	}
	items, err := doc.Sequence(rules, "rules")
	if err != nil {
		return nil
	}
	out := make([][]condition, len(items))
	for i, item := range items {
		pairs, _ := doc.Mapping(item, "rule")
		for _, p := range pairs {
			switch {
			case slices.Contains(scalarConditions, p.Key):
				v, _ := doc.Value(p.ValueNode)
				out[i] = append(out[i], condition{p.Key, v, p.KeyNode})
			case slices.Contains(sectionConditions, p.Key):
				sub, _ := doc.Mapping(p.ValueNode, p.Key)
				for _, s := range sub {
					v, _ := doc.Value(s.ValueNode)
					out[i] = append(out[i], condition{p.Key + "." + s.Key, v, s.KeyNode})
				}
			}
		}
	}
	return out
}

// subset reports whether every condition of a is also a condition of b,
// with a Python-equal value: then every call b matches, a matches too.
func subset(a, b []condition) bool {
	for _, ca := range a {
		if !slices.ContainsFunc(b, func(cb condition) bool {
			return cb.path == ca.path && pycompat.Equal(ca.value, cb.value)
		}) {
			return false
		}
	}
	return true
}

// lintRules runs the rule checks of one loaded policy.
func lintRules(doc *yamlx.Document, p *policy.Policy, manifests []*manifestInfo) []finding {
	rules := p.Rules()
	conds := ruleConditions(doc)
	if len(conds) != len(rules) {
		return nil // cannot happen for a policy that loaded
	}
	var out []finding
	at := func(r policy.RuleInfo, check, format string, args ...any) {
		out = append(out, finding{File: doc.File, Line: r.Line, Column: r.Column, Severity: sevWarning, Check: check, Message: fmt.Sprintf(format, args...)})
	}
	for j, r := range rules {
		for i := range j {
			if subset(conds[i], conds[j]) {
				at(r, "shadowed", "%s can never match: %s comes first and matches every call it matches (its conditions are a subset); remove this rule or move it above", ruleName(r), ruleName(rules[i]))
				break
			}
		}
		if len(manifests) > 0 {
			out = append(out, manifestChecks(doc.File, r, conds[j], manifests)...)
		}
	}
	return out
}

func ruleName(r policy.RuleInfo) string {
	s := "rule " + strconv.Itoa(r.Index)
	if r.ID != "" {
		s += " " + strconv.Quote(r.ID)
	}
	return s + " (line " + strconv.Itoa(r.Line) + ")"
}

// manifestChecks compares a rule with what the manifests say about tools.
func manifestChecks(file string, r policy.RuleInfo, conds []condition, manifests []*manifestInfo) []finding {
	var out []finding
	warn := func(line, col int, check, format string, args ...any) {
		out = append(out, finding{File: file, Line: line, Column: col, Severity: sevWarning, Check: check, Message: fmt.Sprintf(format, args...)})
	}
	hasTool, hasEffect, hasRT := slices.Contains(r.Keys, "tool"), slices.Contains(r.Keys, "effect"), slices.Contains(r.Keys, "resource_type")
	if hasEffect && r.Effect == string(tollgate.EffectUnknown) {
		return nil // the policy loader already warns
	}

	var candidates []toolFacts
	if hasTool {
		candidates = lookupTool(manifests, r.Tool)
		if len(candidates) == 0 {
			if r.Decision == tollgate.Allow {
				warn(r.Line, r.Column, "allow-downgraded", "%s allows tool %q, which no manifest lists: its calls carry no trusted metadata, so Tollgate 1.4.0 downgrades this ALLOW to ASK, and this gateway denies them as unknown tools; add the tool to the manifest", ruleName(r), r.Tool)
			} else {
				warn(r.Line, r.Column, "never-matches", "%s can never match: tool %q is in no manifest, and the gateway denies unknown tools before consulting the rules", ruleName(r), r.Tool)
			}
			return out
		}
	} else {
		candidates = allTools(manifests)
	}

	var matching []toolFacts
	for _, t := range candidates {
		if t.effect != tollgate.EffectUnknown &&
			(!hasEffect || string(t.effect) == r.Effect) &&
			(!hasRT || t.resourceType == r.ResourceType) {
			matching = append(matching, t)
		}
	}
	if len(matching) == 0 {
		warn(r.Line, r.Column, "never-matches", "%s can never match: %s", ruleName(r), whyNoTool(r, hasTool, hasEffect, hasRT, candidates))
		return out
	}

	for _, c := range conds {
		key, ok := strings.CutPrefix(c.path, "when.")
		if !ok {
			continue
		}
		for _, t := range matching {
			if slices.Contains(t.params, key) {
				warn(c.node.Line, c.node.Column, "when-param", "%s: when: key %q is a parameter of tool %q, but when: reads the call's metadata (set by the caller), not its parameters; constrain the parameter in the manifest (params_schema, constraints) instead", ruleName(r), key, t.key)
				break
			}
		}
	}
	return out
}

// whyNoTool explains why no manifest tool fits the rule.
func whyNoTool(r policy.RuleInfo, hasTool, hasEffect, hasRT bool, candidates []toolFacts) string {
	if hasTool {
		t := candidates[0]
		if t.effect == tollgate.EffectUnknown {
			return fmt.Sprintf("tool %q has no effect in the manifest (unknown), so its calls are denied before the rules are consulted", r.Tool)
		}
		return fmt.Sprintf("the manifest gives tool %q effect %q and resource_type %q, and the gateway takes them from the manifest, but the rule wants %s", r.Tool, t.effect, t.resourceType, wants(r, hasEffect, hasRT))
	}
	return "no tool in the manifest has " + wants(r, hasEffect, hasRT) + ", and the gateway takes effects and resource types from the manifest"
}

func wants(r policy.RuleInfo, hasEffect, hasRT bool) string {
	var parts []string
	if hasEffect {
		parts = append(parts, fmt.Sprintf("effect %q", r.Effect))
	}
	if hasRT {
		parts = append(parts, fmt.Sprintf("resource_type %q", r.ResourceType))
	}
	if len(parts) == 0 {
		return "a known effect"
	}
	return strings.Join(parts, " and ")
}

func lookupTool(manifests []*manifestInfo, key string) []toolFacts {
	var out []toolFacts
	for _, m := range manifests {
		if t, ok := m.tools[key]; ok {
			out = append(out, t)
		}
	}
	return out
}

func allTools(manifests []*manifestInfo) []toolFacts {
	var out []toolFacts
	for _, m := range manifests {
		for _, k := range m.order {
			out = append(out, m.tools[k])
		}
	}
	return out
}
