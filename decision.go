package tollgate

import "strconv"

// DecisionType is the verdict of the policy stage.
type DecisionType string

// The three Tollgate verdicts (upper-case on the wire).
const (
	Allow DecisionType = "ALLOW"
	Ask   DecisionType = "ASK"
	Deny  DecisionType = "DENY"
)

// ParseDecisionType returns the DecisionType spelled exactly s.
func ParseDecisionType(s string) (DecisionType, bool) {
	switch d := DecisionType(s); d {
	case Allow, Ask, Deny:
		return d, true
	}
	return "", false
}

// Decision is the result of the policy stage (or the synthetic DENY a stage
// before or after it records when it refuses a call).
type Decision struct {
	Type          DecisionType
	Reason        string
	PolicyID      string // empty when no rule matched
	PolicyVersion string
	Metadata      Params
	// AskMode says how an ASK is resolved when the rule says so: AskBlocking
	// (the call waits for a decision) or AskDeferred (the call returns
	// APPROVAL_PENDING and is retried with the approval id). Empty means the
	// tool's or the Tower's default.
	AskMode AskMode
	// ApprovalsRequired is how many distinct people must approve an ASK
	// before the call runs (approvals_required, a key Tollgate 1.4.0
	// ignores); 0 means the tool's or one. The Tower takes the larger of
	// the rule's and the tool's, so neither file can weaken the other.
	ApprovalsRequired int
}

// MaxApprovalsRequired bounds approvals_required: every approval request
// stores one decision per approver, and no real review needs more people.
const MaxApprovalsRequired = 10

// ParseApprovalsRequired returns the approvals_required that s spells: a
// whole number in decimal, from 1 to MaxApprovalsRequired.
func ParseApprovalsRequired(s string) (int, bool) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > MaxApprovalsRequired || strconv.Itoa(n) != s {
		return 0, false
	}
	return n, true
}

// AskMode is how an ASK decision waits for a human.
type AskMode string

// The two ASK modes.
const (
	AskBlocking AskMode = "blocking"
	AskDeferred AskMode = "deferred"
)

// ParseAskMode returns the AskMode spelled exactly s.
func ParseAskMode(s string) (AskMode, bool) {
	switch m := AskMode(s); m {
	case AskBlocking, AskDeferred:
		return m, true
	}
	return "", false
}

// Outcome is how a call ended, as written to the audit log.
type Outcome string

// Tollgate's five outcomes, plus Authorized, which this implementation writes
// before a call executes so that a crash mid-call still leaves a trace, and
// Canceled, for a call whose caller left while it ran (Tollgate records
// nothing then).
const (
	OutcomeAuthorized     Outcome = "authorized"
	OutcomeExecuted       Outcome = "executed"
	OutcomeBlocked        Outcome = "blocked"
	OutcomeApprovalDenied Outcome = "approval_denied"
	OutcomeFailed         Outcome = "failed"
	OutcomeTimeout        Outcome = "timeout"
	OutcomeCanceled       Outcome = "canceled"
)
