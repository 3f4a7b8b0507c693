package vsopa

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/open-policy-agent/opa/v1/rego"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/policy"
	"github.com/tollgate-go/tollgate/policytest"
)

const hardened = "../testdata/security_hardened/"

// engines compiles rules for package policy and both Rego forms.
type engines struct {
	ours          *policy.Policy
	indexed, data *OPA
}

func compileAll(tb testing.TB, rules []Rule) engines {
	tb.Helper()
	ours, err := policy.Parse("generated.yaml", YAML("bench", rules))
	if err != nil {
		tb.Fatal(err)
	}
	e := engines{ours: ours}
	if e.indexed, err = Prepare(context.Background(), RegoIndexed(rules)); err != nil {
		tb.Fatal(err)
	}
	if e.data, err = Prepare(context.Background(), RegoData(rules)); err != nil {
		tb.Fatal(err)
	}
	return e
}

// agree decides every call with all three engines and fails on the first
// difference; it returns how often each decision and rule id occurred.
func agree(t *testing.T, e engines, calls []Call) map[string]int {
	t.Helper()
	seen := make(map[string]int)
	for i, c := range calls {
		want := FromDecision(e.ours.Evaluate(c.Agent, c.Intent, c.Request))
		for name, o := range map[string]*OPA{"indexed": e.indexed, "data": e.data} {
			got, err := o.Decide(context.Background(), c.Agent, c.Intent, c.Request)
			if err != nil {
				t.Fatalf("call %d: %s: %v", i, name, err)
			}
			if got != want {
				t.Fatalf("call %d (%+v): Rego %s decided %+v, package policy %+v", i, c, name, got, want)
			}
		}
		seen[string(want.Type)]++
		seen["id:"+want.PolicyID]++
	}
	return seen
}

func TestGeneratedPoliciesDecideAlike(t *testing.T) {
	// OPA's data form tries all 1,000 rules per call (≈ 10 ms): fewer
	// calls there keep the test fast.
	for _, tc := range []struct{ rules, calls, ids int }{{10, 1500, 6}, {1000, 400, 50}} {
		t.Run(fmt.Sprintf("rules=%d", tc.rules), func(t *testing.T) {
			e := compileAll(t, Generate(tc.rules))
			calls := append(RandomCalls(uint64(tc.rules), tc.calls), BenchCall())
			seen := agree(t, e, calls)
			// The calls must exercise the policy, not just its default.
			for _, d := range []string{"ALLOW", "ASK", "DENY", "id:target", "id:target_risky", "id:target_delegated", "id:"} {
				if seen[d] == 0 {
					t.Errorf("no call decided %q; decisions seen: %v", d, seen)
				}
			}
			if ids := countIDs(seen); ids < tc.ids {
				t.Errorf("only %d distinct rules decided; want at least %d", ids, tc.ids)
			}
		})
	}
}

func countIDs(seen map[string]int) int {
	n := 0
	for k := range seen {
		if len(k) > 3 && k[:3] == "id:" {
			n++
		}
	}
	return n
}

// TestSecurityHardenedDecidesAlike translates Tollgate 1.4.0's
// security_hardened policy to Rego and checks all three engines on its
// scenario file (against the file's expectations too) and on random calls.
func TestSecurityHardenedDecidesAlike(t *testing.T) {
	data, err := os.ReadFile(hardened + "policy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	rules, err := ParseYAML(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(rules) != 7 {
		t.Fatalf("read %d rules, want 7", len(rules))
	}
	e := compileAll(t, rules)
	if ours, err := policy.Parse("policy.yaml", data); err != nil {
		t.Fatal(err)
	} else {
		e.ours = ours // the original file, not our rendering of it
	}
	scenarios, err := policytest.LoadScenarios(hardened + "test_scenarios.yaml")
	if err != nil {
		t.Fatal(err)
	}
	calls := make([]Call, 0, len(scenarios))
	for _, s := range scenarios {
		d := e.ours.Evaluate(s.Agent, s.Intent, s.Request)
		if d.Type != s.Expected.Decision || (s.Expected.PolicyID != "" && d.PolicyID != s.Expected.PolicyID) {
			t.Errorf("scenario %q: decided %s by %q, the file expects %s by %q", s.Name, d.Type, d.PolicyID, s.Expected.Decision, s.Expected.PolicyID)
		}
		calls = append(calls, Call{s.Agent, s.Intent, s.Request})
	}
	seen := agree(t, e, append(calls, RandomCalls(7, 500)...))
	// deny_default is unreachable: rules 1-6 cover every effect that
	// reaches the rules.
	for _, r := range rules[:len(rules)-1] {
		if seen["id:"+r.ID] == 0 {
			t.Errorf("no call decided by rule %q; decisions seen: %v", r.ID, seen)
		}
	}
}

func TestParseYAMLRefusesWhatIsOutsideTheSubset(t *testing.T) {
	for _, src := range []string{
		"rules:\n  - {decision: ALLOW, metadata: {a: 1}}\n",
		"rules:\n  - {decision: ALLOW, when: {flag: true}}\n",
		"rules:\n  - {decision: ALLOW, when: {n: {\"~\": 1}}}\n",
		"rules:\n  - {decision: ALLOW, agent: {role: admin}}\n",
		"rules:\n  - {decision: ALLOW, when: {n: {\">\": .inf}}}\n",
		"rules:\n  - {decision: ALLOW, when: {n: .nan}}\n",
	} {
		if rules, err := ParseYAML([]byte(src)); err == nil {
			t.Errorf("ParseYAML(%q) = %+v, want an error", src, rules)
		}
	}
}

// BenchmarkPolicyVsOPA times one decision of the benchmark call: package
// policy, then OPA with the indexed and the data Rego forms, each with the
// input built per call from Go values (what an embedder pays) and, for
// OPA, with the input converted to AST once (evaluation alone).
func BenchmarkPolicyVsOPA(b *testing.B) {
	ctx := context.Background()
	c := BenchCall()
	for _, n := range []int{10, 1000} {
		e := compileAll(b, Generate(n))
		b.Run(fmt.Sprintf("rules=%d/engine=tollgate", n), func(b *testing.B) {
			if d := e.ours.Evaluate(c.Agent, c.Intent, c.Request); d.PolicyID != "target" {
				b.Fatalf("decided %+v", d)
			}
			b.ReportAllocs()
			for b.Loop() {
				e.ours.Evaluate(c.Agent, c.Intent, c.Request)
			}
		})
		for name, o := range map[string]*OPA{"opa-indexed": e.indexed, "opa-data": e.data} {
			b.Run(fmt.Sprintf("rules=%d/engine=%s/input=go", n, name), func(b *testing.B) {
				benchOPA(b, func() (Result, error) { return o.Decide(ctx, c.Agent, c.Intent, c.Request) })
			})
			in, err := InputValue(c.Agent, c.Intent, c.Request)
			if err != nil {
				b.Fatal(err)
			}
			b.Run(fmt.Sprintf("rules=%d/engine=%s/input=ast", n, name), func(b *testing.B) {
				benchOPA(b, func() (Result, error) { return o.Eval(ctx, rego.EvalParsedInput(in)) })
			})
		}
	}
}

func benchOPA(b *testing.B, decide func() (Result, error)) {
	if r, err := decide(); err != nil || r.PolicyID != "target" || r.Type != tollgate.Allow {
		b.Fatalf("decided %+v, %v", r, err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := decide(); err != nil {
			b.Fatal(err)
		}
	}
}
