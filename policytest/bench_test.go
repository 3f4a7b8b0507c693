package policytest

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/tollgate-go/tollgate/internal/yamlx"
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

// BenchmarkParseScenarios100k is the parsing part of the run.
func BenchmarkParseScenarios100k(b *testing.B) {
	data := genScenarios(100_000)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseScenarios("s.yaml", data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRun100k is the evaluation part of the run.
func BenchmarkRun100k(b *testing.B) {
	p, err := policy.Load("testdata/policy.yaml")
	if err != nil {
		b.Fatal(err)
	}
	s, err := ParseScenarios("s.yaml", genScenarios(100_000))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if r := Run(p, s); r.Failed != 0 {
			b.Fatalf("%d failed", r.Failed)
		}
	}
}

// BenchmarkPieceYAML compares the fast parser with yaml.v3 (through yamlx)
// on one piece of a generated scenario file.
func BenchmarkPieceYAML(b *testing.B) {
	data := genScenarios(1000)
	b.Run("fast", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		var arena nodeArena
		for b.Loop() {
			if _, ok := parseFastYAML(data, 1, &arena); !ok {
				b.Fatal("refused")
			}
			arena.Reset()
		}
	})
	b.Run("yaml.v3", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := yamlx.ParseLimited("s.yaml", data, MaxFileSize); err != nil {
				b.Fatal(err)
			}
		}
	})
}
