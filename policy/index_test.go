package policy

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/tollgate-go/tollgate"
)

// Rule pieces the differential tests draw from. Tools, actions and effects
// overlap with the requests' so that tool rules, tool-less rules and misses
// interleave; `tool: 5` and `action: 5` are never-matching conditions (the
// rule is in no list), and the filters cover agent, intent and when:
// conditions, typed values included.
var (
	genTools    = []string{"", "a", "b", "c", "5"}
	genActions  = []string{"", "x", "y", "5"}
	genEffects  = []string{"", "read", "write", "delete", "notify"}
	genDecision = []string{"ALLOW", "ASK", "DENY"}
	genFilters  = []string{
		"", "agent: {deny_delegated: true}", "agent: {allowed_delegators: [boss]}", "agent: {max_delegation_depth: 1}",
		"agent: {version: 1.0}", `agent: {version: "1.0"}`, "intent: {action: other}", "when: {tier: gold}", `when: {n: {">": 1}}`,
	}
)

// genPolicy turns each 4 bytes of data into one rule (tool, action,
// effect, then filter and decision), so that any byte string, a fuzzer's
// or a random one, is a valid policy.
func genPolicy(data []byte) string {
	if len(data) < 4 {
		return "rules: []\n"
	}
	pick := func(list []string, b byte) string { return list[int(b)%len(list)] }
	var src strings.Builder
	src.WriteString("rules:\n")
	for i := 0; i+4 <= len(data); i += 4 {
		b := data[i : i+4]
		keys := []string{fmt.Sprintf("id: r%d", i/4), "decision: " + pick(genDecision, b[3])}
		for _, kv := range [][2]string{{"tool", pick(genTools, b[0])}, {"action", pick(genActions, b[1])}, {"effect", pick(genEffects, b[2])}} {
			if kv[1] != "" {
				keys = append(keys, kv[0]+": "+kv[1])
			}
		}
		if f := pick(genFilters, b[3]/3); f != "" {
			keys = append(keys, f)
		}
		src.WriteString("  - {" + strings.Join(keys, ", ") + "}\n")
	}
	return src.String()
}

// checkIndexAgainstLinearScan compiles the policy data encodes and checks
// that the indexed Evaluate decides every request exactly as Explain, which
// tries every rule in file order without the index.
func checkIndexAgainstLinearScan(t *testing.T, data []byte) {
	t.Helper()
	src := genPolicy(data)
	p := mustParse(t, src)
	agents := []tollgate.Agent{direct, delegated("boss"), delegated("boss", "x")}
	metas := []tollgate.Params{nil, {{Key: "tier", Value: "gold"}, {Key: "n", Value: json.Number("1")}}, {{Key: "n", Value: json.Number("3")}}}
	for _, tool := range []string{"a", "b", "c", "d"} {
		for _, action := range []string{"x", "y", "z"} {
			for _, effect := range append(effects[:], tollgate.EffectUnknown) {
				for _, agent := range agents {
					for _, meta := range metas {
						req := tollgate.ToolRequest{Tool: tool, Action: action, Effect: effect, ManifestVersion: "1", Metadata: meta}
						got, want := p.Evaluate(agent, anIntent, req), p.Explain(agent, anIntent, req).Decision
						if !sameDecision(got, want) {
							t.Fatalf("policy:\n%s\nrequest %+v, chain %v: indexed %s/%q, linear scan %s/%q",
								src, req, agent.DelegatedBy, got.Type, got.PolicyID, want.Type, want.PolicyID)
						}
					}
				}
			}
		}
	}
}

// FuzzIndexMatchesLinearScan checks the rule index (a tool's own list
// merged with the tool-less list while evaluating) against a linear scan
// of all rules: the index must never change a decision.
func FuzzIndexMatchesLinearScan(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0, 0, 0, 2})                         // one catch-all DENY
	f.Add([]byte{1, 1, 0, 0, 0, 1, 0, 2, 2, 0, 0, 0}) // tool rule, tool-less rule, other tool
	f.Add([]byte{4, 0, 0, 0, 1, 3, 1, 0, 0, 0, 0, 2}) // never-matching rules first
	f.Fuzz(checkIndexAgainstLinearScan)
}

// TestIndexMatchesLinearScan runs the differential check on random policies
// of up to 40 rules on every test run, not only when fuzzing.
func TestIndexMatchesLinearScan(t *testing.T) {
	rng := rand.New(rand.NewPCG(10, 4))
	n := 200
	if testing.Short() {
		n = 20
	}
	for range n {
		data := make([]byte, 4*rng.IntN(41))
		for i := range data {
			data[i] = byte(rng.Uint32())
		}
		checkIndexAgainstLinearScan(t, data)
	}
}

// A tool-less rule keeps its place between a tool's own rules: the tool's
// list and the shared list are merged in file order, not one after the
// other.
func TestToollessRulesKeepFileOrder(t *testing.T) {
	p := mustParse(t, `rules:
  - {id: own_first, tool: t, action: one, decision: ALLOW}
  - {id: any_middle, action: two, decision: DENY}
  - {id: own_last, tool: t, decision: ASK}
  - {id: any_last, decision: DENY}
`)
	for action, want := range map[string]string{"one": "own_first", "two": "any_middle", "three": "own_last"} {
		req := trusted("t", tollgate.EffectRead)
		req.Action = action
		if d := decide(t, p, direct, anIntent, req); d.PolicyID != want {
			t.Errorf("action %s: decided by %q, want %q", action, d.PolicyID, want)
		}
	}
	req := trusted("other", tollgate.EffectRead)
	req.Action = "one"
	wantDecision(t, decide(t, p, direct, anIntent, req), tollgate.Deny, "any_last")
}

// Compiling is linear in rules: tool-less rules are listed once, however
// many tools other rules name (they used to be copied into every tool's
// list, 9,000 tools × 1,000 rules × 4 effects for a 10,000-rule file).
func TestToollessRulesAreNotCopiedPerTool(t *testing.T) {
	p := mustParse(t, string(largePolicySource(10_000)))
	listed := 0
	for _, list := range p.index.byTool {
		for _, slot := range list {
			listed += len(slot)
		}
	}
	for _, slot := range p.index.other {
		listed += len(slot)
	}
	// Each rule is listed at most once per effect.
	if max := 4 * len(p.rules); listed > max {
		t.Fatalf("%d index entries for %d rules, want at most %d", listed, len(p.rules), max)
	}
}
