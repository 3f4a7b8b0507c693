package policytest

import (
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/internal/yamlx"
)

// MaxFileSize is the largest scenario file LoadScenarios reads. Generated
// suites of 100,000 scenarios fit; policies and manifests keep yamlx's
// smaller limit.
const MaxFileSize = 32 << 20

// MaxCallSize is the largest call ParseCall reads.
const MaxCallSize = 1 << 20

// LoadOption configures LoadScenarios and ParseScenarios.
type LoadOption func(*decoder)

// WithStrict refuses what Tollgate silently accepts in a scenario file:
// keys it does not know (a typo such as `tool_requets:` would otherwise test
// the default request), an effect that is not one of the five (`READ` would
// otherwise become unknown) and a file with no scenarios at all.
func WithStrict() LoadOption { return func(d *decoder) { d.strict = true } }

// LoadScenarios reads and validates the scenario file at path (at most
// MaxFileSize bytes). Errors keep Tollgate's wording and add file:line:column.
func LoadScenarios(path string, opts ...LoadOption) ([]Scenario, error) {
	data, err := yamlx.ReadLimited(path, MaxFileSize)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("Scenarios file not found: %s", path)
	}
	if err != nil {
		return nil, err
	}
	return ParseScenarios(path, data, opts...)
}

// ParseScenarios validates a scenario file held in memory; name is the file
// name used in messages.
//
// The format is Tollgate's: a top-level `scenarios:` list; each scenario has
// an optional name and description, optional agent, intent and tool_request
// sections (absent keys take Tollgate's defaults, see DefaultCall) and a
// required `expected:` with a decision (ALLOW, ASK or DENY) and optionally
// reason_contains and policy_id. Scalars are read as the text written, so an
// unquoted `version: 1.0` is "1.0". Unlike Tollgate, a value of the wrong
// shape (a list where text belongs, say) is an error here rather than a
// failure when the scenario runs.
func ParseScenarios(name string, data []byte, opts ...LoadOption) ([]Scenario, error) {
	d := &decoder{}
	for _, o := range opts {
		o(d)
	}
	if s, ok, err := parseParallel(name, data, d.strict); ok {
		return s, err
	}
	doc, err := yamlx.ParseLimited(name, data, MaxFileSize)
	if err != nil {
		return nil, err
	}
	d.doc = doc
	return d.file()
}

// file decodes a whole scenario document.
func (d *decoder) file() ([]Scenario, error) {
	list, err := d.topLevel()
	if err != nil {
		return nil, err
	}
	if yamlx.IsNull(list) || list.Kind != yaml.SequenceNode {
		return nil, d.doc.Errorf(list, "'scenarios' must be a list of scenarios, got %s", yamlx.Describe(list))
	}
	if d.strict && len(list.Content) == 0 {
		return nil, d.doc.Errorf(list, "'scenarios' is empty; strict mode wants at least one scenario")
	}
	out := make([]Scenario, len(list.Content))
	if err := d.scenarios(out, list.Content, 0); err != nil {
		return nil, err
	}
	return out, nil
}

// topLevel returns the value of the `scenarios:` key, checking the keys
// around it in strict mode.
func (d *decoder) topLevel() (*yaml.Node, error) {
	missing := fmt.Errorf("Scenarios file must contain a 'scenarios' key: %s", d.doc.File)
	root := d.doc.Root
	if root == nil || deref(root).Kind != yaml.MappingNode {
		return nil, missing
	}
	pairs, err := d.doc.Mapping(root, "the scenarios file")
	if err != nil {
		return nil, err
	}
	var list *yaml.Node
	for _, p := range pairs {
		switch {
		case p.Key == "scenarios":
			list = p.ValueNode
		case d.strict:
			return nil, d.doc.Errorf(p.KeyNode, "unknown top-level key %q; a scenario file has only `scenarios:`", p.Key)
		}
	}
	if list == nil {
		return nil, missing
	}
	return list, nil
}

// scenarios decodes items into dst (of the same length); the first item is
// scenario number first.
func (d *decoder) scenarios(dst []Scenario, items []*yaml.Node, first int) error {
	for i, item := range items {
		s, err := d.scenario(item, first+i)
		if err != nil {
			return err
		}
		dst[i] = s
	}
	return nil
}

// ParseCall reads one call in the scenario shape — agent, intent and
// tool_request, each optional with Tollgate's defaults — from YAML or JSON.
// name, description and expected are accepted and ignored, so a scenario can
// be pasted as it is; any other unknown key, or an effect that is not one of
// the five, is an error.
//
// JSON input keeps JSON's number rules: 1e3 is the number 1000 (in YAML 1.1,
// as PyYAML reads it, 1e3 is text).
func ParseCall(name string, data []byte) (Call, error) {
	if len(strings.TrimSpace(string(data))) == 0 {
		return Call{}, fmt.Errorf("%s: the call is empty; want a mapping with agent, intent and tool_request", name)
	}
	doc, err := yamlx.ParseLimited(name, data, MaxCallSize)
	if err != nil {
		return Call{}, err
	}
	if _, err := tollgate.DecodeJSON(data); err == nil {
		jsonNumbers(doc.Root)
	}
	d := &decoder{doc: doc, strict: true}
	return d.call(doc.Root)
}

// jsonNumbers rewrites JSON numbers that YAML 1.1 would read as text (an
// exponent without a dot or sign, such as 1e3) into a spelling it reads as
// the same float. It only runs on input that decoded as JSON, which has no
// aliases and no plain scalars other than numbers, true, false and null.
func jsonNumbers(n *yaml.Node) {
	if n == nil {
		return
	}
	if n.Kind == yaml.ScalarNode && n.Style == 0 {
		if _, isText := yamlx.Resolve(n.Value).(string); isText {
			if f, err := strconv.ParseFloat(n.Value, 64); err == nil {
				n.Value = yamlFloat(f)
			}
		}
		return
	}
	for _, c := range n.Content {
		jsonNumbers(c)
	}
}

// yamlFloat spells f so that YAML 1.1 reads it back as a float: the mantissa
// always has a dot and the exponent a sign (1.0e+03).
func yamlFloat(f float64) string {
	s := strconv.FormatFloat(f, 'e', -1, 64)
	mantissa, exp, _ := strings.Cut(s, "e")
	if !strings.Contains(mantissa, ".") {
		mantissa += ".0"
	}
	return mantissa + "e" + exp
}
