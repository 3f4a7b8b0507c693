package policytest

import (
	"encoding/json"
	"iter"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/internal/yamlx"
)

// decoder turns YAML nodes straight into Scenarios and Calls, without
// building an intermediate value tree (only params and metadata, which are
// free-form, go through yamlx.Document.Value).
type decoder struct {
	doc *yamlx.Document
	// strict turns what Tollgate silently accepts into errors: unknown keys
	// and effects that are not one of the five.
	strict bool
}

// Keys each section accepts, in the order messages list them.
var (
	scenarioKeys = []string{"name", "description", "agent", "intent", "tool_request", "expected"}
	agentKeys    = []string{"agent_id", "version", "owner", "metadata", "delegated_by"}
	intentKeys   = []string{"action", "reason", "confidence", "metadata"}
	requestKeys  = []string{"tool", "action", "resource_type", "effect", "params", "metadata", "manifest_version"}
	expectedKeys = []string{"decision", "reason_contains", "policy_id"}
)

// scenario decodes item i of the scenarios list. Messages name the scenario
// as Tollgate does: by its name, or "Scenario i" (0-based) without one.
func (d *decoder) scenario(n *yaml.Node, i int) (Scenario, error) {
	if yamlx.IsNull(n) || deref(n).Kind != yaml.MappingNode {
		_, err := d.doc.Mapping(n, "Scenario "+strconv.Itoa(i))
		return Scenario{}, err
	}
	s := Scenario{Call: DefaultCall(), File: d.doc.File, Line: n.Line}
	label := who{index: i}
	var err error
	for p := range pairs(n) {
		if p.Key == "name" {
			if s.Name, err = d.text(p.ValueNode, label, "name"); err != nil {
				return Scenario{}, err
			}
			label.name = s.Name
		}
	}
	var expected *yaml.Node
	for p := range pairs(n) {
		switch p.Key {
		case "name", "description":
		case "expected":
			expected = p.ValueNode
		default:
			if err := d.section(&s.Call, p, label, scenarioKeys); err != nil {
				return Scenario{}, err
			}
		}
	}
	if expected == nil {
		return Scenario{}, d.doc.Errorf(n, "%s is missing 'expected' key", label)
	}
	s.Expected, err = d.expectation(expected, label)
	return s, err
}

// who names what is being decoded, as Tollgate's messages do: a scenario by
// its name or, without one, as "Scenario i" (0-based). The text is only
// built for an error.
type who struct {
	name  string
	index int // -1 for a call
}

func (w who) String() string {
	switch {
	case w.index < 0:
		return "the call"
	case w.name != "":
		return "Scenario '" + w.name + "'"
	}
	return "Scenario 'Scenario " + strconv.Itoa(w.index) + "'"
}

// call decodes a single call (`tollgate check --call`): the scenario shape,
// with name, description and expected accepted and ignored so that a
// scenario can be pasted as it is.
func (d *decoder) call(n *yaml.Node) (Call, error) {
	if _, err := d.doc.Mapping(n, "the call"); err != nil {
		return Call{}, err
	}
	c := DefaultCall()
	for p := range pairs(n) {
		switch p.Key {
		case "name", "description", "expected":
		default:
			if err := d.section(&c, p, who{index: -1}, scenarioKeys); err != nil {
				return Call{}, err
			}
		}
	}
	return c, nil
}

// section decodes the agent, intent or tool_request section p into c.
func (d *decoder) section(c *Call, p yamlx.Pair, label who, allowed []string) error {
	switch p.Key {
	case "agent":
		return d.agent(p.ValueNode, label, &c.Agent)
	case "intent":
		return d.intent(p.ValueNode, label, &c.Intent)
	case "tool_request":
		return d.request(p.ValueNode, label, &c.Request)
	}
	return d.unknown(p, label, "", allowed)
}

func (d *decoder) agent(n *yaml.Node, label who, a *tollgate.Agent) error {
	if err := d.isMapping(n, label, "agent"); err != nil {
		return err
	}
	var err error
	for p := range pairs(n) {
		v := p.ValueNode
		switch p.Key {
		case "agent_id":
			a.ID, err = d.text(v, label, "agent.agent_id")
		case "version":
			a.Version, err = d.text(v, label, "agent.version")
		case "owner":
			a.Owner, err = d.text(v, label, "agent.owner")
		case "metadata":
			a.Metadata, err = d.object(v, label, "agent.metadata")
		case "delegated_by":
			a.DelegatedBy, err = d.texts(v, label, "agent.delegated_by")
		default:
			err = d.unknown(p, label, "agent.", agentKeys)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (d *decoder) intent(n *yaml.Node, label who, in *tollgate.Intent) error {
	if err := d.isMapping(n, label, "intent"); err != nil {
		return err
	}
	var err error
	for p := range pairs(n) {
		v := p.ValueNode
		switch p.Key {
		case "action":
			in.Action, err = d.text(v, label, "intent.action")
		case "reason":
			in.Reason, err = d.text(v, label, "intent.reason")
		case "confidence":
			in.Confidence, err = d.number(v, label, "intent.confidence")
		case "metadata":
			in.Metadata, err = d.object(v, label, "intent.metadata")
		default:
			err = d.unknown(p, label, "intent.", intentKeys)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (d *decoder) request(n *yaml.Node, label who, r *tollgate.ToolRequest) error {
	if err := d.isMapping(n, label, "tool_request"); err != nil {
		return err
	}
	var err error
	for p := range pairs(n) {
		v := p.ValueNode
		switch p.Key {
		case "tool":
			r.Tool, err = d.text(v, label, "tool_request.tool")
		case "action":
			r.Action, err = d.text(v, label, "tool_request.action")
		case "resource_type":
			r.ResourceType, err = d.text(v, label, "tool_request.resource_type")
		case "effect":
			r.Effect, err = d.effect(v, label)
		case "params":
			r.Params, err = d.object(v, label, "tool_request.params")
		case "metadata":
			r.Metadata, err = d.object(v, label, "tool_request.metadata")
		case "manifest_version":
			r.ManifestVersion, err = d.text(v, label, "tool_request.manifest_version")
		default:
			err = d.unknown(p, label, "tool_request.", requestKeys)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// effect reads tool_request.effect. Tollgate turns anything that is not one
// of the five lower-case effects (READ, a typo, null) into unknown, which the
// policy denies; strict mode refuses it instead.
func (d *decoder) effect(n *yaml.Node, label who) (tollgate.Effect, error) {
	s, err := d.text(n, label, "tool_request.effect")
	if err != nil {
		return "", err
	}
	e, ok := tollgate.ParseEffect(s)
	if !ok && d.strict {
		return "", d.doc.Errorf(n, "%s: tool_request.effect %q is not an effect; use read, write, delete, notify or unknown (lower case)", label, s)
	}
	return e, nil
}

func (d *decoder) expectation(n *yaml.Node, label who) (Expectation, error) {
	if yamlx.IsNull(n) || deref(n).Kind != yaml.MappingNode {
		return Expectation{}, d.doc.Errorf(n, "%s expected section must include 'decision' (expected must be a mapping, got %s)", label, yamlx.Describe(n))
	}
	var e Expectation
	var decision *yaml.Node
	var err error
	for p := range pairs(n) {
		v := p.ValueNode
		switch p.Key {
		case "decision":
			decision = v
		case "reason_contains":
			e.ReasonContains, err = d.text(v, label, "expected.reason_contains")
		case "policy_id":
			e.PolicyID, err = d.text(v, label, "expected.policy_id")
		default:
			err = d.unknown(p, label, "expected.", expectedKeys)
		}
		if err != nil {
			return Expectation{}, err
		}
	}
	if decision == nil {
		return Expectation{}, d.doc.Errorf(n, "%s expected section must include 'decision'", label)
	}
	text, ok := yamlx.Text(decision)
	if yamlx.IsNull(decision) {
		text, ok = "None", false // as Python prints the null Tollgate rejects
	}
	dt, valid := tollgate.ParseDecisionType(text)
	if !ok || !valid {
		return Expectation{}, d.doc.Errorf(decision, "%s has invalid expected decision: '%s' (want ALLOW, ASK or DENY)", label, text)
	}
	e.Decision = dt
	return e, nil
}

// isMapping checks that a section is a mapping or null (an empty section).
func (d *decoder) isMapping(n *yaml.Node, label who, field string) error {
	if yamlx.IsNull(n) || deref(n).Kind == yaml.MappingNode {
		return nil
	}
	return d.doc.Errorf(n, "%s: %s must be a mapping (key: value), got %s", label, field, yamlx.Describe(n))
}

// pairs yields the entries of a mapping node, aliases resolved, as
// yamlx.Document.Mapping does but without building a slice: decoding
// 100,000 scenarios visits half a million mappings. A null node yields
// nothing.
func pairs(n *yaml.Node) iter.Seq[yamlx.Pair] {
	return func(yield func(yamlx.Pair) bool) {
		n := deref(n)
		if n.Kind != yaml.MappingNode {
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := deref(n.Content[i])
			if !yield(yamlx.Pair{Key: k.Value, KeyNode: k, ValueNode: deref(n.Content[i+1])}) {
				return
			}
		}
	}
}

// text reads a scalar as the text written: `version: 1.0` is "1.0". Null is
// "" (Tollgate's None).
func (d *decoder) text(n *yaml.Node, label who, field string) (string, error) {
	if yamlx.IsNull(n) {
		return "", nil
	}
	s, ok := yamlx.Text(n)
	if !ok {
		return "", d.doc.Errorf(n, "%s: %s must be text, got %s", label, field, yamlx.Describe(n))
	}
	return s, nil
}

// texts reads a list of scalars; null is an empty list.
func (d *decoder) texts(n *yaml.Node, label who, field string) ([]string, error) {
	if yamlx.IsNull(n) {
		return nil, nil
	}
	if deref(n).Kind != yaml.SequenceNode {
		return nil, d.doc.Errorf(n, "%s: %s must be a list, got %s", label, field, yamlx.Describe(n))
	}
	items, err := d.doc.Sequence(n, field)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(items))
	for i, item := range items {
		if yamlx.IsNull(item) {
			continue
		}
		s, ok := yamlx.Text(item)
		if !ok {
			return nil, d.doc.Errorf(item, "%s: %s[%d] must be text, got %s", label, field, i, yamlx.Describe(item))
		}
		out[i] = s
	}
	return out, nil
}

// object reads free-form params or metadata; null is empty.
func (d *decoder) object(n *yaml.Node, label who, field string) (tollgate.Params, error) {
	if yamlx.IsNull(n) {
		return nil, nil
	}
	if deref(n).Kind != yaml.MappingNode {
		return nil, d.doc.Errorf(n, "%s: %s must be a mapping (key: value), got %s", label, field, yamlx.Describe(n))
	}
	v, err := d.doc.Value(n)
	if err != nil {
		return nil, err
	}
	return v.(tollgate.Params), nil // a mapping node always gives Params
}

// number reads an optional number (intent.confidence).
func (d *decoder) number(n *yaml.Node, label who, field string) (*float64, error) {
	if yamlx.IsNull(n) {
		return nil, nil
	}
	v, err := d.doc.Value(n)
	if err != nil {
		return nil, err
	}
	if num, ok := v.(json.Number); ok {
		if f, err := strconv.ParseFloat(string(num), 64); err == nil {
			return &f, nil
		}
	}
	return nil, d.doc.Errorf(n, "%s: %s must be a number or null, got %s", label, field, yamlx.Describe(n))
}

// unknown handles a key the section does not define: ignored, as Tollgate
// does, unless strict.
func (d *decoder) unknown(p yamlx.Pair, label who, prefix string, allowed []string) error {
	if !d.strict {
		return nil
	}
	return d.doc.Errorf(p.KeyNode, "%s: unknown key %q; %s keys are %s", label, prefix+p.Key, sectionName(prefix), strings.Join(allowed, ", "))
}

func sectionName(prefix string) string {
	if prefix == "" {
		return "scenario"
	}
	return "the " + strings.TrimSuffix(prefix, ".")
}

func deref(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}
