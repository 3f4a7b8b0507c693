package policytest

import "github.com/tollgate-go/tollgate"

// Call is one tool call: who (Agent), why (Intent) and what (Request). It is
// the scenario shape without its expectation, which is also what
// `tollgate check --call` reads.
type Call struct {
	Agent   tollgate.Agent
	Intent  tollgate.Intent
	Request tollgate.ToolRequest
}

// Scenario is one test case: a call and the decision the policy must make.
type Scenario struct {
	// Name is the scenario's name: "" when the file gives none (reports then
	// say "Unnamed scenario", as Tollgate does).
	Name string
	Call
	Expected Expectation
	// File and Line locate the scenario in its file (Line is 0 for
	// scenarios built in code).
	File string
	Line int
}

// Expectation is what a scenario asserts about the decision.
type Expectation struct {
	Decision tollgate.DecisionType // required
	// ReasonContains, when not empty, must be a substring of the reason.
	ReasonContains string
	// PolicyID, when not empty, must equal the deciding rule's id.
	PolicyID string
}

// Tollgate's defaults for what a scenario leaves out.
const (
	DefaultAgentID      = "test-agent"
	DefaultAgentVersion = "1.0"
	DefaultAgentOwner   = "test-owner"
	DefaultIntentAction = "test_action"
	DefaultIntentReason = "test reason"
	// DefaultUnknown is the default tool, action and resource type.
	DefaultUnknown = "unknown"
	// UnnamedScenario is the name reports show for a scenario without one.
	UnnamedScenario = "Unnamed scenario"
)

// DefaultCall is the call a scenario describes when it gives no agent,
// intent or tool_request: Tollgate's defaults, effect unknown and no
// manifest version.
func DefaultCall() Call {
	return Call{
		Agent:  tollgate.Agent{ID: DefaultAgentID, Version: DefaultAgentVersion, Owner: DefaultAgentOwner},
		Intent: tollgate.Intent{Action: DefaultIntentAction, Reason: DefaultIntentReason},
		Request: tollgate.ToolRequest{
			Tool:         DefaultUnknown,
			Action:       DefaultUnknown,
			ResourceType: DefaultUnknown,
			Effect:       tollgate.EffectUnknown,
		},
	}
}

// displayName is the name reports use.
func (s *Scenario) displayName() string {
	if s.Name == "" {
		return UnnamedScenario
	}
	return s.Name
}
