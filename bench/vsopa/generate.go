package vsopa

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"

	"github.com/tollgate-go/tollgate"
)

// Vocabulary shared by generated rules and random calls, kept small so
// that random calls hit many rules, and first-match order matters.
const (
	tools    = 37 // "tool:0" … "tool:36"
	actions  = 7  // "act:0" … "act:6"
	target   = "api:fetch"
	numRules = 3 // target rules at the end of every generated policy
)

var (
	effects    = []string{"read", "write", "delete", "notify"}
	decisions  = []string{"DENY", "ASK", "ALLOW"}
	delegators = []string{"orchestrator", "ci", "evil"}
)

// Generate returns n ≥ 3 rules shaped like package policy's own
// benchmark: rules for other tools (which an index skips), one tool-less
// rule in ten (which every tool must try), and last the three rules of
// the benchmark's tool, of which the call from BenchCall matches the last.
// Conditions vary with the rule's position so that every kind in the
// subset appears.
func Generate(n int) []Rule {
	if n < numRules {
		panic(fmt.Sprintf("vsopa: Generate(%d): want at least %d rules", n, numRules))
	}
	out := make([]Rule, 0, n)
	for i := range n - numRules {
		r := Rule{
			ID: fmt.Sprintf("r%d", i), Decision: decisions[i%len(decisions)],
			Reason: fmt.Sprintf("rule %d", i), MaxDepth: -1,
		}
		if i%10 == 0 {
			// Tool-less: names an action the benchmark call never has.
			r.Action = fmt.Sprintf("act:%d", i/10%actions)
			switch i / 10 % 3 {
			case 0:
				r.When = []Cond{{"risk_score", ">", 0.5}}
			case 1:
				r.DenyDelegated = true
			}
		} else {
			r.Tool = fmt.Sprintf("tool:%d", i%tools)
			r.Effect = effects[i%len(effects)]
			vary(&r, i)
		}
		out = append(out, r)
	}
	return append(out,
		Rule{ID: "target_delegated", Tool: target, Effect: "read", Allowed: []string{"ci"}, MaxDepth: -1, Decision: "ALLOW", Reason: "ci may fetch"},
		Rule{ID: "target_risky", Tool: target, Effect: "read", When: []Cond{{"risk_score", ">=", 0.8}}, MaxDepth: -1, Decision: "DENY", Reason: "too risky"},
		Rule{ID: "target", Tool: target, Effect: "read", MaxDepth: 2, When: []Cond{{"tier", "==", "gold"}}, Decision: "ALLOW", Reason: "gold tier"},
	)
}

// vary adds conditions to a tool rule, a different mix by position.
func vary(r *Rule, i int) {
	switch i % 9 {
	case 1:
		r.Action = fmt.Sprintf("act:%d", i%actions)
	case 2:
		r.AgentID = "agent-b"
	case 3:
		r.Blocked = []string{"evil"}
	case 4:
		r.Allowed = []string{"orchestrator", "ci"}
		r.MaxDepth = 2
	case 5:
		r.IntentAction = "deploy"
	case 6:
		r.When = []Cond{{"tier", "!=", "silver"}}
	case 7:
		r.When = []Cond{{"risk_score", "<", 0.5}, {"tier", "==", "gold"}}
	case 8:
		r.ResourceType = "file"
		r.DenyDelegated = true
	}
}

// Call is one call to decide.
type Call struct {
	Agent   tollgate.Agent
	Intent  tollgate.Intent
	Request tollgate.ToolRequest
}

// BenchCall is the benchmark's call: a delegated fetch that every
// generated policy decides with its last rule, "target".
func BenchCall() Call {
	return Call{
		Agent:  tollgate.Agent{ID: "worker", Version: "1.0", Owner: "team", DelegatedBy: []string{"orchestrator"}},
		Intent: tollgate.Intent{Action: "fetch", Reason: "benchmark"},
		Request: tollgate.ToolRequest{
			Tool: target, Action: "get", ResourceType: "url", Effect: tollgate.EffectRead, ManifestVersion: "1.0.0",
			Metadata: tollgate.Params{{Key: "risk_score", Value: json.Number("0.2")}, {Key: "tier", Value: "gold"}},
		},
	}
}

// RandomCalls returns n calls drawn from the generator's vocabulary, plus
// values outside it (unknown effects, text where a number is compared,
// missing metadata, no manifest version), deterministic for a seed.
func RandomCalls(seed uint64, n int) []Call {
	rnd := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	pick := func(xs ...string) string { return xs[rnd.IntN(len(xs))] }
	out := make([]Call, n)
	for i := range out {
		tool := target
		if rnd.IntN(4) > 0 {
			tool = fmt.Sprintf("tool:%d", rnd.IntN(tools+3)) // a few tools no rule names
		}
		action := "get"
		if rnd.IntN(2) == 0 {
			action = fmt.Sprintf("act:%d", rnd.IntN(actions))
		}
		var chain []string
		for range rnd.IntN(4) {
			chain = append(chain, pick(delegators...))
		}
		var meta tollgate.Params
		switch rnd.IntN(5) {
		case 0: // absent
		case 1:
			meta.Set("risk_score", "high") // text where a number is ordered
		default:
			meta.Set("risk_score", json.Number(pick("0.1", "0.5", "0.8", "0.95", "1")))
		}
		switch rnd.IntN(4) {
		case 0: // absent
		case 1:
			meta.Set("tier", json.Number("3"))
		default:
			meta.Set("tier", pick("gold", "silver"))
		}
		out[i] = Call{
			Agent:  tollgate.Agent{ID: pick("agent-a", "agent-b", "worker"), Version: "1.0", Owner: "team", DelegatedBy: chain},
			Intent: tollgate.Intent{Action: pick("fetch", "write", "deploy"), Reason: "random"},
			Request: tollgate.ToolRequest{
				Tool: tool, Action: action, ResourceType: pick("url", "file", ""),
				Effect:          tollgate.Effect(pick("read", "write", "delete", "notify", "read", "write", "unknown", "Read")),
				ManifestVersion: pick("1.0.0", "1.0.0", "1.0.0", ""),
				Metadata:        meta,
			},
		}
	}
	return out
}
