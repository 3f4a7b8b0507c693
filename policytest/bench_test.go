package policytest

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/tollgate-go/tollgate/policy"
)

// genScenarios writes n scenarios in the style of Tollgate's
// security_hardened/test_scenarios.yaml, cycling through its seven cases.
func genScenarios(n int) []byte {
	cases := []string{
		`    agent: {agent_id: "test-agent", version: "1.0", owner: "test-team"}
    intent: {action: "fetch_data", reason: "Testing read access"}
    tool_request: {tool: "api:fetch_data", action: "get", resource_type: "data", effect: "read", manifest_version: "1.0.0"}
    expected: {decision: "ALLOW", policy_id: "allow_reads"}
`,
		`    agent: {agent_id: "test-agent", version: "1.0", owner: "test-team"}
    tool_request: {tool: "api:send_notification", effect: "notify", manifest_version: "1.0.0"}
    expected: {decision: "ALLOW", policy_id: "allow_notify"}
`,
		`    agent: {agent_id: "worker", version: "1.0", owner: "test-team", delegated_by: ["orchestrator"]}
    tool_request: {tool: "api:write_file", effect: "write", manifest_version: "1.0.0"}
    expected: {decision: "ALLOW", policy_id: "allow_trusted_delegation"}
`,
		`    agent: {agent_id: "direct-agent", version: "1.0", owner: "test-team"}
    tool_request: {tool: "api:write_file", effect: "write", manifest_version: "1.0.0"}
    expected: {decision: "ASK", policy_id: "ask_direct_writes"}
`,
		`    agent: {agent_id: "worker", version: "1.0", owner: "test-team", delegated_by: ["unknown-agent"]}
    tool_request: {tool: "api:write_file", effect: "write", manifest_version: "1.0.0"}
    expected: {decision: "DENY", policy_id: "deny_untrusted_delegation"}
`,
		`    agent:
      agent_id: "sub-agent"
      delegated_by: ["orchestrator", "router", "worker"]
    tool_request:
      tool: "api:write_file"
      effect: "write"
      manifest_version: "1.0.0"
    expected:
      decision: "DENY"
      reason_contains: "Untrusted"
`,
		`    tool_request: {tool: "api:unknown", effect: "unknown"}
    expected: {decision: "DENY"}
`,
	}
	var b bytes.Buffer
	b.WriteString("# generated\nscenarios:\n")
	for i := range n {
		fmt.Fprintf(&b, "  - name: \"scenario %d\"\n", i)
		b.WriteString(cases[i%len(cases)])
	}
	return b.Bytes()
}

func BenchmarkTestPolicy100k(b *testing.B) {
	dir := b.TempDir()
	path := filepath.Join(dir, "scenarios.yaml")
	data := genScenarios(100_000)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		p, err := policy.Load("testdata/policy.yaml")
		if err != nil {
			b.Fatal(err)
		}
		s, err := LoadScenarios(path)
		if err != nil {
			b.Fatal(err)
		}
		r := Run(p, s)
		if r.Failed != 0 {
			b.Fatalf("%d failed", r.Failed)
		}
		if err := (Text{}).Report(io.Discard, r); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(data))/(1<<20), "MiB")
}
