package registry

import (
	"encoding/json"

	"go.yaml.in/yaml/v3"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/internal/yamlx"
)

// Tool is one manifest entry. It is shared by every caller of Resolve and
// must not be modified.
type Tool struct {
	Key          string
	Effect       tollgate.Effect // EffectUnknown when the entry has none
	ResourceType string          // "unknown" when the entry has none
	// AskMode is how an ASK for this tool waits for a human (ask_mode:
	// blocking or deferred); empty means the policy rule's or the Tower's
	// default.
	AskMode tollgate.AskMode
	// ApprovalsRequired is how many distinct people must approve an ASK
	// for this tool (approvals_required); 0 means the policy rule's or one.
	// The Tower takes the larger of the tool's and the rule's.
	ApprovalsRequired int

	schema      *compiledSchema // nil: any params are accepted
	constraints *constraints    // nil: no constraints
}

// parseTool returns nil for an empty entry, which Tollgate treats as absent.
func parseTool(doc *yamlx.Document, entry yamlx.Pair) (*Tool, error) {
	n := entry.ValueNode
	if yamlx.IsNull(n) || n.Kind != yaml.MappingNode {
		return nil, doc.Errorf(n, "Tool entry '%s' must be a dictionary. Got %s; give at least an effect, e.g. {effect: read, resource_type: file}", entry.Key, yamlx.Describe(n))
	}
	fields, err := doc.Mapping(n, "tool entry "+entry.Key)
	if err != nil {
		return nil, err
	}
	if len(fields) == 0 {
		return nil, nil
	}
	t := &Tool{Key: entry.Key, Effect: tollgate.EffectUnknown, ResourceType: "unknown"}
	for _, f := range fields {
		switch f.Key {
		case "effect":
			err = t.parseEffect(doc, f.ValueNode)
		case "resource_type":
			err = t.parseResourceType(doc, f.ValueNode)
		case "ask_mode":
			t.AskMode, err = askMode(doc, f.ValueNode)
		case "approvals_required":
			t.ApprovalsRequired, err = approvalsRequired(doc, f.ValueNode)
		case "params_schema":
			t.schema, err = compileSchema(doc, f.ValueNode)
		case "constraints":
			t.constraints, err = parseConstraints(doc, f.ValueNode)
		case "description":
			// Documentation for people; nothing to check.
		default:
			err = doc.Errorf(f.KeyNode, "unknown key %q in tool '%s': allowed keys are effect, resource_type, params_schema, constraints, ask_mode, approvals_required and description (Tollgate ignored unknown keys, so a misspelt params_schema or constraints silently disabled the check)", f.Key, entry.Key)
		}
		if err != nil {
			return nil, err
		}
	}
	return t, nil
}

func (t *Tool) parseEffect(doc *yamlx.Document, n *yaml.Node) error {
	v, err := doc.Value(n)
	if err != nil {
		return err
	}
	if s, ok := v.(string); ok {
		if e, ok := tollgate.ParseEffect(s); ok {
			t.Effect = e
			return nil
		}
	}
	return doc.Errorf(n, "Invalid effect '%s' for tool '%s'. Use one of read, write, delete, notify, unknown (lower-case).", pyStr(v), t.Key)
}

// parseResourceType keeps Tollgate's default: a missing or empty resource
// type is "unknown".
func (t *Tool) parseResourceType(doc *yamlx.Document, n *yaml.Node) error {
	if yamlx.IsNull(n) {
		return nil
	}
	s, err := text(doc, n, "resource_type")
	if s != "" {
		t.ResourceType = s
	}
	return err
}

// text returns the value of n, which must be a string.
func text(doc *yamlx.Document, n *yaml.Node, key string) (string, error) {
	v, err := doc.Value(n)
	if err != nil {
		return "", err
	}
	s, ok := v.(string)
	if !ok {
		return "", doc.Errorf(n, "%s must be text, got %s; quote the value", key, yamlx.Describe(n))
	}
	return s, nil
}

// ValidateParams checks params against the tool's params_schema. It returns
// nil when the tool has no schema or params are valid.
func (t *Tool) ValidateParams(params tollgate.Params) []tollgate.Violation {
	if t == nil || t.schema == nil {
		return nil
	}
	return t.schema.validate(params)
}

func askMode(doc *yamlx.Document, n *yaml.Node) (tollgate.AskMode, error) {
	s, err := text(doc, n, "ask_mode")
	if err != nil {
		return "", err
	}
	m, ok := tollgate.ParseAskMode(s)
	if !ok {
		return "", doc.Errorf(n, "ask_mode must be %q or %q, got %q", tollgate.AskBlocking, tollgate.AskDeferred, s)
	}
	return m, nil
}

// approvalsRequired reads approvals_required: a whole number from 1 to
// tollgate.MaxApprovalsRequired.
func approvalsRequired(doc *yamlx.Document, n *yaml.Node) (int, error) {
	v, err := doc.Value(n)
	if err != nil {
		return 0, err
	}
	if s, ok := v.(json.Number); ok {
		if r, valid := tollgate.ParseApprovalsRequired(string(s)); valid {
			return r, nil
		}
	}
	return 0, doc.Errorf(n, "approvals_required must be a whole number from 1 to %d, got %s", tollgate.MaxApprovalsRequired, yamlx.Describe(n))
}
