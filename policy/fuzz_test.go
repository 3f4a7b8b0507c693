package policy

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/tollgate-go/tollgate"
)

// FuzzParse feeds arbitrary YAML to Parse: it must never panic, and a
// policy that loads must decide the same way through Evaluate and Explain.
func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*.yaml")
	for _, path := range seeds {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range []string{
		"",
		"rules:\n",
		"rules:\n  - {decision: DENY, when: {x: {\">=\": 1, \"!=\": [1]}}}\n",
		"rules:\n  - {decision: ALLOW, agent: {allowed_delegators: [a], max_delegation_depth: 99999999999999999999}}\n",
		"version: 1.10\nrules: [{decision: ASK, tool: &t x, action: *t}]\n",
		"rules:\n  - {decision: ASK, ask_mode: deferred, approvals_required: 0x2}\n",
	} {
		f.Add([]byte(s))
	}
	meta := tollgate.Params{{Key: "x", Value: "a"}, {Key: "risk_score", Value: nil}}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse("fuzz.yaml", data)
		if err != nil {
			return
		}
		_ = p.Rules()
		_ = p.Warnings()
		for _, e := range []tollgate.Effect{tollgate.EffectRead, tollgate.EffectWrite, tollgate.EffectUnknown} {
			r := trusted("x", e)
			r.Metadata = meta
			for _, a := range []tollgate.Agent{direct, delegated("a", "b")} {
				d := p.Evaluate(a, anIntent, r)
				if x := p.Explain(a, anIntent, r); !sameDecision(d, x.Decision) {
					t.Fatalf("Evaluate %+v, Explain %+v", d, x.Decision)
				}
			}
		}
	})
}
