package policy

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/tollgate-go/tollgate"
)

// benchPolicy builds n rules: mostly rules for other tools (which the index
// skips), one tool-less rule in ten that the target tool must still try
// and fail, and near the end the target's own non-matching and matching
// rules, so the match comes last among its candidates.
func benchPolicy(b *testing.B, n int) *Policy {
	var src strings.Builder
	src.WriteString("version: bench\nrules:\n")
	for i := range n - 3 {
		switch {
		case i%10 == 0:
			fmt.Fprintf(&src, "  - {id: any_%d, action: other_%d, decision: DENY}\n", i, i)
		default:
			fmt.Fprintf(&src, "  - {id: tool_%d, tool: \"tool:%d\", effect: write, decision: ALLOW}\n", i, i)
		}
	}
	src.WriteString("  - {id: target_delegated, tool: \"api:fetch\", effect: read, agent: {allowed_delegators: [ci]}, decision: ALLOW}\n")
	src.WriteString("  - {id: target_risky, tool: \"api:fetch\", effect: read, when: {risk_score: {\">=\": 0.8}}, decision: DENY}\n")
	src.WriteString("  - {id: target, tool: \"api:fetch\", effect: read, agent: {max_delegation_depth: 2}, when: {tier: gold}, decision: ALLOW}\n")
	return mustParse(b, src.String())
}

func BenchmarkPolicyEvaluate(b *testing.B) {
	for _, n := range []int{10, 1000} {
		b.Run(fmt.Sprintf("rules=%d", n), func(b *testing.B) {
			p := benchPolicy(b, n)
			req := tollgate.ToolRequest{
				Tool: "api:fetch", Action: "get", ResourceType: "url", Effect: tollgate.EffectRead, ManifestVersion: "1.0.0",
				Metadata: tollgate.Params{{Key: "risk_score", Value: json.Number("0.2")}, {Key: "tier", Value: "gold"}},
			}
			agent := delegated("orchestrator")
			if d := p.Evaluate(agent, anIntent, req); d.PolicyID != "target" {
				b.Fatalf("decided %+v", d)
			}
			b.ReportAllocs()
			for b.Loop() {
				p.Evaluate(agent, anIntent, req)
			}
		})
	}
}

func BenchmarkPolicyExplain(b *testing.B) {
	p := benchPolicy(b, 100)
	req := trusted("api:fetch", tollgate.EffectRead)
	b.ReportAllocs()
	for b.Loop() {
		p.Explain(direct, anIntent, req)
	}
}

func BenchmarkPolicyLoad(b *testing.B) {
	var src strings.Builder
	src.WriteString("rules:\n")
	for i := range 1000 {
		fmt.Fprintf(&src, "  - {id: r%d, tool: \"t:%d\", effect: read, when: {n: {\">\": %d}}, decision: ALLOW}\n", i, i%50, i)
	}
	data := []byte(src.String())
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse("bench.yaml", data); err != nil {
			b.Fatal(err)
		}
	}
}
