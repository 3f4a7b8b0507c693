package policy

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"

	"go.yaml.in/yaml/v3"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/internal/yamlx"
)

// Evaluator decides a tool call. *Policy implements it; tests and embedders
// can substitute their own (Tollgate's tests use fixed-decision mocks).
type Evaluator interface {
	Evaluate(agent tollgate.Agent, intent tollgate.Intent, req tollgate.ToolRequest) tollgate.Decision
}

// EvaluatorFunc adapts a function to an Evaluator.
type EvaluatorFunc func(agent tollgate.Agent, intent tollgate.Intent, req tollgate.ToolRequest) tollgate.Decision

// Evaluate calls f.
func (f EvaluatorFunc) Evaluate(agent tollgate.Agent, intent tollgate.Intent, req tollgate.ToolRequest) tollgate.Decision {
	return f(agent, intent, req)
}

// Policy is a compiled Tollgate policy file. It is immutable after loading
// and safe for concurrent use.
type Policy struct {
	doc      *yamlx.Document
	top      []yamlx.Pair
	version  string
	hash     string
	rules    []rule
	index    index
	warnings []string
}

// Load reads and compiles the policy file at path.
func Load(path string) (*Policy, error) {
	doc, data, err := yamlx.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return compile(doc, data)
}

// Parse compiles policy YAML held in memory. name is the file name used in
// error messages.
func Parse(name string, data []byte) (*Policy, error) {
	doc, err := yamlx.Parse(name, data)
	if err != nil {
		return nil, err
	}
	return compile(doc, data)
}

// Version is the policy version written into every Decision: the text of
// the file's `version:` key (numbers spelt as Python's str() prints them,
// so `version: 1.10` is "1.1"), or the first 8 hex digits of Hash when the
// key is absent.
func (p *Policy) Version() string { return p.version }

// Hash is the hex SHA-256 of the file text with CRLF and CR line ends
// turned into LF, as Tollgate hashes the text it read in Python text mode.
func (p *Policy) Hash() string { return p.hash }

// Section returns a top-level block this package does not interpret
// (rate_limits, network_policy) so that its own parser can read it with
// positioned errors. node is nil when the key is absent, and for the
// blocks this package compiles (rules, version), whose syntax tree is not
// kept; a key written with no value gives a null node.
func (p *Policy) Section(name string) (*yamlx.Document, *yaml.Node) {
	for _, kv := range p.top {
		if kv.Key == name {
			return p.doc, kv.ValueNode
		}
	}
	return p.doc, nil
}

// Warnings lists legal but suspicious things found at load, each as
// "file:line:col: message": conditions that can never match, a numeric
// version, duplicate rule ids. The lint command prints them.
func (p *Policy) Warnings() []string { return append([]string(nil), p.warnings...) }

// RuleInfo describes one rule for tooling such as the lint command.
type RuleInfo struct {
	Index        int // position in the rules list, 0-based
	ID           string
	Line, Column int
	Decision     tollgate.DecisionType
	Reason       string
	// Tool, Action, ResourceType and Effect are the rule's values as text;
	// "" when the key is absent (Keys tells an absent key from an empty one).
	Tool, Action, ResourceType, Effect string
	// Keys are the rule's keys in file order.
	Keys []string
	// Reads are the request fields the rule's conditions read, in the
	// order Evaluate tests them: tool, action, resource_type, effect,
	// agent.KEY, agent.delegated_by (any delegation key), intent.KEY,
	// when.KEY, and manifest_version for an ALLOW rule (without it, ALLOW
	// becomes ASK).
	Reads []string
}

// Rules describes every rule in file order.
func (p *Policy) Rules() []RuleInfo {
	out := make([]RuleInfo, len(p.rules))
	for i := range p.rules {
		r := &p.rules[i]
		out[i] = RuleInfo{
			Index: r.index, ID: r.id, Line: r.line, Column: r.col,
			Decision: r.decision, Reason: r.reason,
			Tool: r.tool.String(), Action: r.action.String(),
			ResourceType: r.resourceType.String(), Effect: r.effect.String(),
			Keys: append([]string(nil), r.keys...), Reads: r.reads(),
		}
	}
	return out
}

// contentHash hashes data as Python hashes the text it read with universal
// newlines: CRLF and lone CR become LF.
func contentHash(data []byte) string {
	if bytes.IndexByte(data, '\r') >= 0 {
		data = bytes.ReplaceAll(data, []byte("\r\n"), []byte("\n"))
		data = bytes.ReplaceAll(data, []byte("\r"), []byte("\n"))
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}
