package policy_test

import (
	"encoding/json"
	"fmt"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/policy"
)

const examplePolicy = `version: "1.0"
rules:
  - id: allow_trusted_delegation
    effect: write
    agent:
      allowed_delegators: [orchestrator]   # a filter: skips direct agents and other chains
    decision: ALLOW
  - id: high_risk
    when: {risk_score: {">=": 0.8}}
    decision: DENY
    reason: Risk too high
  - id: ask_writes
    effect: write
    decision: ASK
`

func Example() {
	p, err := policy.Parse("policy.yaml", []byte(examplePolicy))
	if err != nil {
		fmt.Println(err)
		return
	}
	req := tollgate.ToolRequest{
		Tool: "db:write", Action: "insert", ResourceType: "row", Effect: tollgate.EffectWrite,
		ManifestVersion: "1.0.0", // effect and resource type came from the manifest
		Metadata:        tollgate.Params{{Key: "risk_score", Value: json.Number("0.9")}},
	}
	intent := tollgate.Intent{Action: "save", Reason: "user asked"}

	worker := tollgate.Agent{ID: "worker", Version: "1.0", Owner: "team", DelegatedBy: []string{"orchestrator"}}
	d := p.Evaluate(worker, intent, req)
	fmt.Println(d.Type, d.PolicyID)

	direct := tollgate.Agent{ID: "cli", Version: "1.0", Owner: "team"}
	d = p.Evaluate(direct, intent, req)
	fmt.Println(d.Type, d.PolicyID, d.Reason)

	fmt.Println(p.Explain(direct, intent, req))
	// Output:
	// ALLOW allow_trusted_delegation
	// DENY high_risk Risk too high
	// DENY: Risk too high
	//   matched rule 1 "high_risk" (line 8)
	//   skipped rule 0 "allow_trusted_delegation" (line 3): agent.allowed_delegators: agent is not delegated (the key only matches delegated agents)
}

func ExampleParse_errors() {
	_, err := policy.Parse("policy.yaml", []byte("rules:\n  - id: reads\n    efect: read\n    decision: ALLOW\n"))
	fmt.Println(err)
	// Output:
	// policy.yaml:3:5: rule at index 0: unknown key "efect" (did you mean "effect"?); allowed: id, decision, reason, metadata, ask_mode, approvals_required, tool, action, resource_type, effect, agent, intent, when (Tollgate 1.4.0 silently ignored it)
}
