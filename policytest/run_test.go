package policytest

import (
	"reflect"
	"testing"
	"time"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/policy"
	"github.com/tollgate-go/tollgate/registry"
)

// fixed returns a policy.Evaluator that always decides d and records the
// requests it saw.
func fixed(d tollgate.Decision, seen *[]tollgate.ToolRequest) policy.Evaluator {
	return policy.EvaluatorFunc(func(_ tollgate.Agent, _ tollgate.Intent, req tollgate.ToolRequest) tollgate.Decision {
		if seen != nil {
			*seen = append(*seen, req)
		}
		return d
	})
}

// ticking is a clock that advances by step on every reading.
func ticking(step time.Duration) func() time.Time {
	now := time.Date(2026, 2, 5, 0, 0, 0, 0, time.UTC)
	return func() time.Time {
		now = now.Add(step)
		return now
	}
}

func TestComparisons(t *testing.T) {
	deny := tollgate.Decision{Type: tollgate.Deny, Reason: "No matching policy rule found. Defaulting to DENY."}
	rule := tollgate.Decision{Type: tollgate.Ask, Reason: "Write requires human approval", PolicyID: "ask_writes"}
	tests := []struct {
		name string
		got  tollgate.Decision
		want Expectation
		errs []string
	}{
		{"decision only", rule, Expectation{Decision: tollgate.Ask}, nil},
		{"all match", rule, Expectation{Decision: tollgate.Ask, ReasonContains: "approval", PolicyID: "ask_writes"}, nil},
		{"decision differs", rule, Expectation{Decision: tollgate.Allow}, []string{"Decision: expected 'ALLOW', got 'ASK'"}},
		{"reason differs", rule, Expectation{Decision: tollgate.Ask, ReasonContains: "Approval"},
			[]string{"Reason: expected to contain 'Approval', got 'Write requires human approval'"}},
		{"policy id differs", rule, Expectation{Decision: tollgate.Ask, PolicyID: "other"}, []string{"Policy ID: expected 'other', got 'ask_writes'"}},
		{"no policy id prints None", deny, Expectation{Decision: tollgate.Deny, PolicyID: "deny_default"}, []string{"Policy ID: expected 'deny_default', got 'None'"}},
		{"every error in order", deny, Expectation{Decision: tollgate.Allow, ReasonContains: "x", PolicyID: "p"}, []string{
			"Decision: expected 'ALLOW', got 'DENY'",
			"Reason: expected to contain 'x', got 'No matching policy rule found. Defaulting to DENY.'",
			"Policy ID: expected 'p', got 'None'",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := Run(fixed(tt.got, nil), []Scenario{{Name: "s", Call: DefaultCall(), Expected: tt.want}})
			sr := res.Scenarios[0]
			if !reflect.DeepEqual(sr.Errors, tt.errs) || sr.Passed != (len(tt.errs) == 0) {
				t.Fatalf("errors %q passed %v, want %q", sr.Errors, sr.Passed, tt.errs)
			}
			if res.Passed+res.Failed != 1 || res.AllPassed() != sr.Passed {
				t.Fatalf("counts %+v", res)
			}
		})
	}
}

// A panicking evaluator fails its scenario with Tollgate's "Exception:"
// error and the run goes on.
func TestPanicIsAnError(t *testing.T) {
	calls := 0
	ev := policy.EvaluatorFunc(func(tollgate.Agent, tollgate.Intent, tollgate.ToolRequest) tollgate.Decision {
		calls++
		if calls == 1 {
			panic("boom")
		}
		return tollgate.Decision{Type: tollgate.Deny}
	})
	s := []Scenario{{Expected: Expectation{Decision: tollgate.Deny}}, {Expected: Expectation{Decision: tollgate.Deny}}}
	res := Run(ev, s)
	if res.Passed != 1 || res.Failed != 1 || res.AllPassed() {
		t.Fatalf("counts %+v", res)
	}
	sr := res.Scenarios[0]
	if sr.Actual.Type != DecisionError || sr.Actual.Reason != "boom" || !reflect.DeepEqual(sr.Errors, []string{"Exception: boom"}) {
		t.Fatalf("result %+v", sr)
	}
	if sr.Name != UnnamedScenario {
		t.Errorf("name %q", sr.Name)
	}
}

func TestWithManifestUsesTrustedMetadata(t *testing.T) {
	m, err := registry.Load("testdata/manifest.yaml")
	if err != nil {
		t.Fatal(err)
	}
	call := func(tool string) Call {
		c := DefaultCall()
		// What a caller claims is ignored: the manifest decides.
		c.Request = tollgate.ToolRequest{Tool: tool, Effect: tollgate.EffectRead, ResourceType: "claimed", ManifestVersion: "9.9"}
		return c
	}
	var seen []tollgate.ToolRequest
	ev := fixed(tollgate.Decision{Type: tollgate.Deny}, &seen)
	Run(ev, []Scenario{{Call: call("api:write_file")}, {Call: call("api:missing")}}, WithManifest(m))
	want := []tollgate.ToolRequest{
		{Tool: "api:write_file", Effect: tollgate.EffectWrite, ResourceType: "file", ManifestVersion: "1.0.0"},
		{Tool: "api:missing", Effect: tollgate.EffectUnknown, ResourceType: "unknown"},
	}
	if !reflect.DeepEqual(seen, want) {
		t.Fatalf("evaluated\n %+v\nwant\n %+v", seen, want)
	}

	seen = nil
	Run(ev, []Scenario{{Call: call("api:write_file")}})
	if seen[0].Effect != tollgate.EffectRead || seen[0].ManifestVersion != "9.9" {
		t.Fatalf("without a manifest the scenario's values are used, got %+v", seen[0])
	}
}

func TestDurations(t *testing.T) {
	res := Run(fixed(tollgate.Decision{Type: tollgate.Deny}, nil),
		[]Scenario{{Expected: Expectation{Decision: tollgate.Deny}}, {Expected: Expectation{Decision: tollgate.Deny}}},
		WithClock(ticking(time.Millisecond)))
	// Readings: run start, (start, end) per scenario, run end.
	if res.Duration != 5*time.Millisecond || res.Scenarios[0].Duration != time.Millisecond {
		t.Fatalf("durations %v %v", res.Duration, res.Scenarios[0].Duration)
	}
}

// The shipped example passes 7/7, as it does with Tollgate.
func TestCompatExamplePasses(t *testing.T) {
	p, err := policy.Load("testdata/policy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s, err := LoadScenarios("testdata/test_scenarios.yaml")
	if err != nil {
		t.Fatal(err)
	}
	res := Run(p, s)
	if res.Total() != 7 || !res.AllPassed() {
		t.Fatalf("%d/%d passed:\n%s", res.Passed, res.Total(), res.Summary())
	}
	// With the manifest, the scenarios' own effects agree with it, except
	// the unknown tool, which stays denied.
	m, err := registry.Load("testdata/manifest.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if res := Run(p, s, WithManifest(m)); !res.AllPassed() {
		t.Fatalf("with manifest:\n%s", res.Summary())
	}
}
