package policytest

import (
	"fmt"
	"strings"
	"time"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/policy"
	"github.com/tollgate-go/tollgate/registry"
)

// DecisionError is the actual decision of a scenario whose evaluation
// panicked (Tollgate's "ERROR" for an exception).
const DecisionError tollgate.DecisionType = "ERROR"

// RunOption configures Run.
type RunOption func(*runner)

// WithManifest resolves each scenario's tool through m before evaluating, as
// the gateway does in production: effect, resource_type and manifest_version
// come from the manifest and whatever the scenario wrote for them is ignored;
// a tool m does not list gets effect unknown (so DENY), resource type
// "unknown" and no manifest version. Without a manifest the scenario's own
// values are used, as in Tollgate.
func WithManifest(m *registry.Manifest) RunOption { return func(r *runner) { r.manifest = m } }

// WithClock sets the clock durations are measured with (tests).
func WithClock(now func() time.Time) RunOption { return func(r *runner) { r.now = now } }

type runner struct {
	ev       policy.Evaluator
	manifest *registry.Manifest
	now      func() time.Time
}

// Result is the outcome of a run.
type Result struct {
	Scenarios []ScenarioResult
	Passed    int
	Failed    int
	Duration  time.Duration
}

// Total is the number of scenarios run.
func (r *Result) Total() int { return len(r.Scenarios) }

// AllPassed reports whether no scenario failed (true for an empty run).
func (r *Result) AllPassed() bool { return r.Failed == 0 }

// ScenarioResult is the outcome of one scenario.
type ScenarioResult struct {
	Index int    // position in the scenario list, 0-based
	Name  string // as reports show it: "Unnamed scenario" when the file gives none
	File  string
	Line  int
	// Passed is true when Errors is empty.
	Passed   bool
	Expected Expectation
	// Actual is the decision the policy made; Actual.Type is DecisionError
	// (and Actual.Reason the panic) when the evaluator panicked.
	Actual tollgate.Decision
	// Request is the request as evaluated: with a manifest, its effect,
	// resource type and manifest version are the manifest's.
	Request tollgate.ToolRequest
	// Errors say what differed, in Tollgate's words:
	// "Decision: expected 'ALLOW', got 'ASK'".
	Errors   []string
	Duration time.Duration
}

// Run evaluates every scenario with ev and compares the decision with the
// scenario's expectation, as Tollgate's PolicyTestRunner does: only the
// policy is exercised (no rate limits, network guard, schemas or grants),
// the decision must equal the expected one, the reason must contain
// reason_contains and the policy id must equal policy_id when those are
// given. A panic in ev fails that scenario with "Exception: ..." and the run
// goes on.
func Run(ev policy.Evaluator, scenarios []Scenario, opts ...RunOption) *Result {
	r := &runner{ev: ev, now: time.Now}
	for _, o := range opts {
		o(r)
	}
	res := &Result{Scenarios: make([]ScenarioResult, len(scenarios))}
	start := r.now()
	for i := range scenarios {
		sr := &res.Scenarios[i]
		r.runOne(sr, &scenarios[i], i)
		if sr.Passed {
			res.Passed++
		} else {
			res.Failed++
		}
	}
	res.Duration = r.now().Sub(start)
	return res
}

func (r *runner) runOne(sr *ScenarioResult, s *Scenario, i int) {
	start := r.now()
	*sr = ScenarioResult{
		Index:    i,
		Name:     s.displayName(),
		File:     s.File,
		Line:     s.Line,
		Expected: s.Expected,
		Request:  r.resolve(s.Request),
	}
	sr.Actual = r.evaluate(s, sr.Request)
	sr.Errors = check(s.Expected, sr.Actual)
	sr.Passed = len(sr.Errors) == 0
	sr.Duration = r.now().Sub(start)
}

// resolve applies the manifest, when there is one, as the tower does.
func (r *runner) resolve(req tollgate.ToolRequest) tollgate.ToolRequest {
	if r.manifest == nil {
		return req
	}
	req.Effect, req.ResourceType, req.ManifestVersion = tollgate.EffectUnknown, DefaultUnknown, ""
	if tool, ok := r.manifest.Resolve(req.Tool); ok {
		req.Effect, req.ResourceType, req.ManifestVersion = tool.Effect, tool.ResourceType, r.manifest.Version()
	}
	return req
}

// evaluate runs the policy, turning a panic into an ERROR decision.
func (r *runner) evaluate(s *Scenario, req tollgate.ToolRequest) (d tollgate.Decision) {
	defer func() {
		if p := recover(); p != nil {
			d = tollgate.Decision{Type: DecisionError, Reason: fmt.Sprint(p)}
		}
	}()
	return r.ev.Evaluate(s.Agent, s.Intent, req)
}

// check compares a decision with the expectation, in Tollgate's words.
func check(want Expectation, got tollgate.Decision) []string {
	if got.Type == DecisionError {
		return []string{"Exception: " + got.Reason}
	}
	var errs []string
	if got.Type != want.Decision {
		errs = append(errs, fmt.Sprintf("Decision: expected '%s', got '%s'", want.Decision, got.Type))
	}
	if want.ReasonContains != "" && !strings.Contains(got.Reason, want.ReasonContains) {
		errs = append(errs, fmt.Sprintf("Reason: expected to contain '%s', got '%s'", want.ReasonContains, got.Reason))
	}
	if want.PolicyID != "" && got.PolicyID != want.PolicyID {
		errs = append(errs, fmt.Sprintf("Policy ID: expected '%s', got '%s'", want.PolicyID, pyStr(got.PolicyID)))
	}
	return errs
}

// pyStr prints an absent id as Python prints None.
func pyStr(s string) string {
	if s == "" {
		return "None"
	}
	return s
}
