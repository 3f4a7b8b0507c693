package policy

import (
	"testing"

	"github.com/tollgate-go/tollgate"
)

// mustParse compiles src or fails the test.
func mustParse(t testing.TB, src string) *Policy {
	t.Helper()
	p, err := Parse("policy.yaml", []byte(src))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return p
}

// direct is a non-delegated agent; delegated(chain...) one with a chain.
var direct = tollgate.Agent{ID: "test-agent", Version: "1.0", Owner: "test-owner"}

func delegated(chain ...string) tollgate.Agent {
	a := direct
	a.ID = "worker"
	a.DelegatedBy = chain
	return a
}

var anIntent = tollgate.Intent{Action: "test_action", Reason: "test reason"}

// trusted is a request whose metadata came from a manifest.
func trusted(tool string, effect tollgate.Effect) tollgate.ToolRequest {
	return tollgate.ToolRequest{Tool: tool, Action: "run", ResourceType: "thing", Effect: effect, ManifestVersion: "1.0.0"}
}

// withMeta returns r with metadata parsed from JSON.
func withMeta(t testing.TB, r tollgate.ToolRequest, js string) tollgate.ToolRequest {
	t.Helper()
	m, err := tollgate.ParseParams([]byte(js))
	if err != nil {
		t.Fatal(err)
	}
	r.Metadata = m
	return r
}

// decide evaluates and checks Explain agrees, so every test of a decision
// also tests that Explain reaches it.
func decide(t testing.TB, p *Policy, a tollgate.Agent, in tollgate.Intent, r tollgate.ToolRequest) tollgate.Decision {
	t.Helper()
	d := p.Evaluate(a, in, r)
	if e := p.Explain(a, in, r); !sameDecision(e.Decision, d) {
		t.Fatalf("Explain decided %+v, Evaluate %+v", e.Decision, d)
	}
	return d
}

func sameDecision(a, b tollgate.Decision) bool {
	return a.Type == b.Type && a.Reason == b.Reason && a.PolicyID == b.PolicyID &&
		a.PolicyVersion == b.PolicyVersion && len(a.Metadata) == len(b.Metadata)
}

func wantDecision(t testing.TB, got tollgate.Decision, typ tollgate.DecisionType, id string) {
	t.Helper()
	if got.Type != typ || got.PolicyID != id {
		t.Fatalf("got %s/%q (%s), want %s/%q", got.Type, got.PolicyID, got.Reason, typ, id)
	}
}
