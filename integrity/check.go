package integrity

import (
	"context"
	"errors"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/identity"
)

// ViolationError carries the invalid Result behind a refusal by Check.
type ViolationError struct{ Result Result }

func (e *ViolationError) Error() string { return "integrity: " + e.Result.Message }

// errNoAgent is Check's and Record's cause when ctx carries no verified
// agent: they only run inside a gated call, so this is a wiring mistake
// and is refused rather than guessed around.
var errNoAgent = errors.New("integrity: no verified agent in the context (call from inside tower.Execute's exec)")

// Record snapshots turnID's context for the agent tower.Execute verified
// (identity.FromContext), so a tool handler can take the snapshot without
// trusting an agent id the caller wrote.
func (m *Monitor) Record(ctx context.Context, turnID string, c tollgate.Params) error {
	a, ok := identity.FromContext(ctx)
	if !ok {
		return errNoAgent
	}
	return m.Snapshot(a.ID, turnID, c)
}

// Check verifies turnID's context for the agent tower.Execute verified and
// returns nil when it is valid. Otherwise it returns a *tollgate.Error
// (POLICY_DENIED at stage execute, message "Context integrity check
// failed.", the *ViolationError as its cause) that a tool handler returns
// as is: the front doors map it to PermissionDenied and the tower records
// the call's outcome as failed.
func (m *Monitor) Check(ctx context.Context, turnID string, c tollgate.Params) error {
	a, ok := identity.FromContext(ctx)
	if !ok {
		return refusal(errNoAgent)
	}
	if r := m.Verify(a.ID, turnID, c); !r.Valid {
		return refusal(&ViolationError{Result: r})
	}
	return nil
}

func refusal(cause error) *tollgate.Error {
	return &tollgate.Error{
		Reason:  tollgate.ReasonPolicyDenied,
		Stage:   tollgate.StageExecute,
		Message: "Context integrity check failed.",
		Err:     cause,
	}
}
