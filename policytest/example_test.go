package policytest_test

import (
	"fmt"
	"os"
	"time"

	"github.com/tollgate-go/tollgate/policy"
	"github.com/tollgate-go/tollgate/policytest"
)

func Example() {
	pol, err := policy.Parse("policy.yaml", []byte(`
version: "1.0"
rules:
  - id: allow_reads
    effect: read
    decision: ALLOW
    reason: Read operations are safe
  - id: deny_default
    decision: DENY
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	scenarios, err := policytest.ParseScenarios("scenarios.yaml", []byte(`
scenarios:
  - name: reads are allowed
    tool_request: {tool: "api:fetch", effect: read, manifest_version: "1.0.0"}
    expected: {decision: ALLOW, policy_id: allow_reads}
  - name: writes are denied
    tool_request: {tool: "api:write", effect: write}
    expected: {decision: ASK}
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	// A fixed clock makes the reported duration reproducible.
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	res := policytest.Run(pol, scenarios, policytest.WithClock(func() time.Time { return now }))
	_ = policytest.Text{}.Report(os.Stdout, res)
	fmt.Println("all passed:", res.AllPassed())
	// Output:
	//
	// ============================================================
	//   Policy Test Results: 1/2 passed
	// ============================================================
	//   [PASS] reads are allowed
	//   [FAIL] writes are denied
	//          Decision: expected 'ASK', got 'DENY'
	// ------------------------------------------------------------
	//   1 FAILED (0.0ms)
	//
	// all passed: false
}

func ExampleParseCall() {
	call, err := policytest.ParseCall("call.json", []byte(`{
  "agent": {"agent_id": "worker", "delegated_by": ["orchestrator"]},
  "tool_request": {"tool": "api:write_file", "params": {"size": 1e3}}
}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	size, _ := call.Request.Params.Get("size")
	fmt.Println(call.Agent.ID, call.Agent.Version, call.Agent.DelegatedBy, call.Request.Tool, call.Request.Effect, size)
	// Output: worker 1.0 [orchestrator] api:write_file unknown 1000.0
}
