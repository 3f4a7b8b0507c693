package tollgate

import (
	"errors"
	"time"
)

// Reason is a stable, machine-readable code for why a call was refused. The
// values never change; new ones may be added. The front doors map each Reason
// to exactly one gRPC status code.
type Reason string

// Reason codes.
const (
	ReasonIdentityInvalid    Reason = "IDENTITY_INVALID"
	ReasonCircuitOpen        Reason = "CIRCUIT_OPEN"
	ReasonRateLimited        Reason = "RATE_LIMITED"
	ReasonPolicyDenied       Reason = "POLICY_DENIED"
	ReasonNetworkBlocked     Reason = "NETWORK_BLOCKED"
	ReasonParamsInvalid      Reason = "PARAMS_INVALID"
	ReasonConstraintViolated Reason = "CONSTRAINT_VIOLATED"
	ReasonApprovalDenied     Reason = "APPROVAL_DENIED"
	ReasonApprovalPending    Reason = "APPROVAL_PENDING"
	ReasonToolFailed         Reason = "TOOL_FAILED"
	ReasonInternal           Reason = "INTERNAL"
	// ReasonCanceled means the caller's context ended before the call could
	// be decided or run. Err holds context.Canceled or DeadlineExceeded.
	ReasonCanceled Reason = "CANCELED"
	// ReasonMessageTooLarge means a request message was larger than the
	// server reads; the front door refused it before it was decoded, so the
	// call has no params.
	ReasonMessageTooLarge Reason = "MESSAGE_TOO_LARGE"
	// ReasonKilled means a kill switch an operator set covers the call:
	// everything, the agent (or one that delegated to it), its session,
	// or the tool. The message names the switch and its reason.
	ReasonKilled Reason = "KILLED"
)

// Stage names the pipeline stage that produced an Error.
type Stage string

// Stages, in the order a call meets them.
const (
	// StageFrontDoor is a refusal a front door made before the pipeline
	// could decide the call: a request it cannot render as params, a
	// request type it cannot find, a message too large to read. The tower
	// still verifies the caller and records it (tower.Tower.Refuse).
	StageFrontDoor Stage = "frontdoor"
	// StageKillSwitch refuses calls a kill switch covers. A global switch
	// is checked before the caller's credentials are verified, every
	// other switch right after.
	StageKillSwitch  Stage = "killswitch"
	StageIdentity    Stage = "identity"
	StageBreaker     Stage = "breaker"
	StageRateLimit   Stage = "ratelimit"
	StagePolicy      Stage = "policy"
	StageNetwork     Stage = "netguard"
	StageSchema      Stage = "schema"
	StageConstraints Stage = "constraints"
	StageApproval    Stage = "approval"
	StageExecute     Stage = "execute"
	StageAudit       Stage = "audit"
)

// Violation is one bad parameter: Field is its path (e.g. "params.path" or
// "url"), Description says what is wrong.
type Violation struct {
	Field       string
	Description string
}

// Error is the one error type the pipeline returns for a refused call. Its
// Message is safe to show to the caller; Err (the internal cause, if any) is
// not and is never sent to clients.
type Error struct {
	Reason  Reason
	Stage   Stage
	Message string

	Tool          string
	PolicyID      string
	CorrelationID string
	ApprovalID    string        // set for APPROVAL_PENDING
	RetryAfter    time.Duration // set for RATE_LIMITED and CIRCUIT_OPEN
	Violations    []Violation   // set for PARAMS_INVALID and CONSTRAINT_VIOLATED

	Err error
}

func (e *Error) Error() string { return e.Message }

// Unwrap returns the internal cause.
func (e *Error) Unwrap() error { return e.Err }

// ReasonOf returns the Reason of the first *Error in err's chain, or "" when
// err is nil or not a Tollgate refusal (for example a tool's own error).
func ReasonOf(err error) Reason {
	var e *Error
	if errors.As(err, &e) {
		return e.Reason
	}
	return ""
}
