package approvals

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/tollgate-go/tollgate"
)

// Request is one call waiting for approval.
type Request struct {
	// ID identifies the request. A Store assigns one when it is empty.
	ID          string
	Agent       tollgate.Agent
	Intent      tollgate.Intent
	ToolRequest tollgate.ToolRequest
	// RequestHash is Tollgate's request_hash of the call (see RequestHash),
	// recorded for the audit trail.
	RequestHash string
	// Reason is why the policy asked (the ASK decision's reason).
	Reason   string
	PolicyID string
	// ExpiresAt is when the request, and any approval given for it, stops
	// counting.
	ExpiresAt time.Time
	// ApprovalsRequired is how many distinct people must approve the call
	// (the two-person rule when 2); 0 means one. One denial ends the
	// request whatever the count. At most tollgate.MaxApprovalsRequired.
	ApprovalsRequired int
}

// Required returns how many distinct approvals r needs: at least one.
func (r Request) Required() int { return max(1, r.ApprovalsRequired) }

// Involves reports whether id is the requesting agent or any member of its
// delegation chain: someone who must not approve the call (separation of
// duties).
func (r Request) Involves(id string) bool {
	return id == r.Agent.ID || slices.Contains(r.Agent.DelegatedBy, id)
}

// Outcome is an approval verdict. Its values are Tollgate's.
type Outcome string

// The four Tollgate approval outcomes.
const (
	OutcomeApproved Outcome = "approved"
	OutcomeDenied   Outcome = "denied"
	// OutcomeDeferred means nobody has decided yet; the caller may come back
	// with Result.ApprovalID.
	OutcomeDeferred Outcome = "deferred"
	// OutcomeTimeout means nobody decided in time. It is never an approval.
	OutcomeTimeout Outcome = "timeout"
)

// Result is an Approver's answer.
type Result struct {
	Outcome Outcome
	// ApprovalID identifies the stored approval request, when there is one.
	ApprovalID string
	// DecidedBy names who or what decided, for the audit trail.
	DecidedBy string
	Note      string
}

// Approver decides a Request. Implementations must honour ctx: when it ends
// before a decision, the answer is OutcomeTimeout. An error means no
// decision could be made; the caller refuses the call. Implementations must
// be safe for concurrent use.
type Approver interface {
	Approve(ctx context.Context, r Request) (Result, error)
}

// ApproverFunc adapts a function to an Approver.
type ApproverFunc func(ctx context.Context, r Request) (Result, error)

// Approve calls f.
func (f ApproverFunc) Approve(ctx context.Context, r Request) (Result, error) { return f(ctx, r) }

// DecidedBy values of the built-in approvers.
const (
	ByDenyAll          = "tollgate:deny-all"
	ByAutoApproveReads = "tollgate:auto-approve-reads"
	ByTimeout          = "tollgate:timeout"
)

// DenyAll returns the default Approver: it denies every request, so a
// pipeline without a configured approver fails closed.
func DenyAll() Approver {
	return ApproverFunc(func(_ context.Context, r Request) (Result, error) {
		return Result{Outcome: OutcomeDenied, ApprovalID: r.ID, DecidedBy: ByDenyAll}, nil
	})
}

// AutoApproveReads returns Tollgate's AutoApprover, for tests and examples:
// it approves a request iff its effect is read, and denies the rest. It is
// one approver, so it denies a request that needs more (ApprovalsRequired).
func AutoApproveReads() Approver {
	return ApproverFunc(func(_ context.Context, r Request) (Result, error) {
		out := OutcomeDenied
		if r.ToolRequest.Effect == tollgate.EffectRead && r.Required() == 1 {
			out = OutcomeApproved
		}
		return Result{Outcome: out, ApprovalID: r.ID, DecidedBy: ByAutoApproveReads}, nil
	})
}

// Callback returns an Approver that asks fn: true approves, false denies, an
// error is returned as is. When ctx ends before fn answers — or by the time
// it answers — the outcome is OutcomeTimeout, whatever fn said.
//
// fn runs on its own goroutine so that a deadline is honoured even if fn
// ignores ctx; such an fn keeps running until it returns, so fn should
// watch ctx. A panic in fn is returned as an error.
//
// fn is one approver: a request that needs more than one approval
// (Request.ApprovalsRequired) is denied without asking it, because a single
// yes must never stand in for several people. Use QueueApprover for those.
func Callback(fn func(ctx context.Context, r Request) (bool, error)) Approver {
	type answer struct {
		ok  bool
		err error
	}
	return ApproverFunc(func(ctx context.Context, r Request) (Result, error) {
		timeout := Result{Outcome: OutcomeTimeout, ApprovalID: r.ID, DecidedBy: ByTimeout}
		if ctx.Err() != nil {
			return timeout, nil
		}
		if n := r.Required(); n > 1 {
			return Result{Outcome: OutcomeDenied, ApprovalID: r.ID, Note: fmt.Sprintf("needs %d approvers; a callback is one", n)}, nil
		}
		done := make(chan answer, 1) // buffered: a late answer must not block fn's goroutine
		go func() {
			defer func() {
				if p := recover(); p != nil {
					done <- answer{err: fmt.Errorf("approvals: approval callback panicked: %v", p)}
				}
			}()
			ok, err := fn(ctx, r)
			done <- answer{ok, err}
		}()
		var a answer
		select {
		case <-ctx.Done():
			return timeout, nil
		case a = <-done:
		}
		switch {
		case ctx.Err() != nil: // answered, but too late to count
			return timeout, nil
		case a.err != nil:
			return Result{}, a.err
		case a.ok:
			return Result{Outcome: OutcomeApproved, ApprovalID: r.ID}, nil
		}
		return Result{Outcome: OutcomeDenied, ApprovalID: r.ID}, nil
	})
}
