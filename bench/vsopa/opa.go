package vsopa

import (
	"context"
	"fmt"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"

	"github.com/tollgate-go/tollgate"
)

// OPA is a Rego module prepared once (rego.PrepareForEval) and evaluated
// per call, as an embedder of OPA's Go API would.
type OPA struct {
	pq rego.PreparedEvalQuery
}

// Prepare parses and compiles module for Query.
func Prepare(ctx context.Context, module string) (*OPA, error) {
	pq, err := rego.New(rego.Query(Query), rego.Module("policy.rego", module)).PrepareForEval(ctx)
	if err != nil {
		return nil, fmt.Errorf("vsopa: prepare: %w", err)
	}
	return &OPA{pq: pq}, nil
}

// Result is the part of a decision both engines produce.
type Result struct {
	Type     tollgate.DecisionType
	PolicyID string
	Reason   string
}

// FromDecision keeps the compared part of a Tollgate decision.
func FromDecision(d tollgate.Decision) Result {
	return Result{Type: d.Type, PolicyID: d.PolicyID, Reason: d.Reason}
}

// Eval decides input, as built by Input (Go values) or InputValue (AST).
func (o *OPA) Eval(ctx context.Context, opt rego.EvalOption) (Result, error) {
	rs, err := o.pq.Eval(ctx, opt)
	if err != nil {
		return Result{}, err
	}
	if len(rs) != 1 || len(rs[0].Expressions) != 1 {
		return Result{}, fmt.Errorf("vsopa: %s is undefined or ambiguous: %d results", Query, len(rs))
	}
	m, ok := rs[0].Expressions[0].Value.(map[string]any)
	if !ok {
		return Result{}, fmt.Errorf("vsopa: %s is %T, want an object", Query, rs[0].Expressions[0].Value)
	}
	typ, _ := m["type"].(string)
	id, _ := m["policy_id"].(string)
	reason, _ := m["reason"].(string)
	return Result{Type: tollgate.DecisionType(typ), PolicyID: id, Reason: reason}, nil
}

// Decide builds the input and evaluates it: the whole per-call cost of
// asking OPA from Go.
func (o *OPA) Decide(ctx context.Context, agent tollgate.Agent, intent tollgate.Intent, req tollgate.ToolRequest) (Result, error) {
	return o.Eval(ctx, rego.EvalInput(Input(agent, intent, req)))
}

// Input is the OPA input document for a call, in Tollgate's JSON field
// names. Numbers stay json.Number, which OPA reads exactly.
func Input(agent tollgate.Agent, intent tollgate.Intent, req tollgate.ToolRequest) map[string]any {
	chain := make([]any, len(agent.DelegatedBy))
	for i, d := range agent.DelegatedBy {
		chain[i] = d
	}
	return map[string]any{
		"agent": map[string]any{
			"agent_id": agent.ID, "version": agent.Version, "owner": agent.Owner,
			"delegated_by": chain, "metadata": object(agent.Metadata),
		},
		"intent": map[string]any{"action": intent.Action, "reason": intent.Reason, "metadata": object(intent.Metadata)},
		"tool_request": map[string]any{
			"tool": req.Tool, "action": req.Action, "resource_type": req.ResourceType,
			"effect": string(req.Effect), "manifest_version": req.ManifestVersion,
			"params": object(req.Params), "metadata": object(req.Metadata),
		},
	}
}

// InputValue is Input converted to OPA's AST once, for measuring
// evaluation without the per-call conversion.
func InputValue(agent tollgate.Agent, intent tollgate.Intent, req tollgate.ToolRequest) (ast.Value, error) {
	return ast.InterfaceToValue(Input(agent, intent, req))
}

// object converts Params (ordered) to a JSON object, recursively.
func object(p tollgate.Params) map[string]any {
	m := make(map[string]any, len(p))
	for _, f := range p {
		m[f.Key] = plain(f.Value)
	}
	return m
}

func plain(v any) any {
	switch t := v.(type) {
	case tollgate.Params:
		return object(t)
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = plain(e)
		}
		return out
	}
	return v
}
