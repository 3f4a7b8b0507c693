package main

import (
	"fmt"
	"os"
	"strings"
)

// Running the shipped Tollgate example in CI: exit code 0 means every
// scenario passed.
func Example_testPolicy() {
	code := run([]string{"test-policy", "testdata/policy.yaml", "--scenarios", "testdata/failing_scenarios.yaml", "-q"}, nil, os.Stdout, os.Stdout)
	fmt.Println("exit", code)
	// Output:
	//   [FAIL] ALLOW without manifest_version becomes ASK
	//          Decision: expected 'ALLOW', got 'ASK'
	//   [FAIL] Wrong rule and reason
	//          Reason: expected to contain 'approval', got 'Untrusted or deep delegation chain'
	//          Policy ID: expected 'ask_direct_writes', got 'deny_untrusted_delegation'
	//
	// 2/4 passed, 2 failed
	// exit 1
}

// Asking what the gateway would do with a call, and why.
func Example_check() {
	call := `{"agent": {"agent_id": "worker", "delegated_by": ["stranger"]},
	          "tool_request": {"tool": "api:write_file", "params": {"path": "/safe/a", "content": "b"}}}`
	code := run([]string{"check", "--policy", "testdata/policy.yaml", "--manifest", "testdata/manifest.yaml", "--call", "-"},
		strings.NewReader(call), os.Stdout, os.Stdout)
	fmt.Println("exit", code)
	// Output:
	// decision:       DENY
	// stage:          policy
	// reason_code:    POLICY_DENIED
	// reason:         Untrusted or deep delegation chain
	// message:        Tool call denied: Untrusted or deep delegation chain
	// policy_id:      deny_untrusted_delegation
	// policy_version: 1.0
	// tool:           api:write_file (effect write, resource_type file, manifest_version 1.0.0)
	// agent:          worker (delegated by stranger)
	// exit 4
}
