package tower

import (
	"errors"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/approvals"
)

// askMode is the rule's ask_mode, else the tool's, else the Tower's.
func (f *flight) askMode() tollgate.AskMode {
	if m := f.decision.AskMode; m != "" {
		return m
	}
	if f.tool != nil && f.tool.AskMode != "" {
		return f.tool.AskMode
	}
	return f.t.askMode
}

// approvalsRequired is how many distinct people must approve the call: the
// larger of the rule's and the tool's approvals_required, so that neither
// the policy nor the manifest can lower what the other asks for.
func (f *flight) approvalsRequired() int {
	n := f.decision.ApprovalsRequired
	if f.tool != nil {
		n = max(n, f.tool.ApprovalsRequired)
	}
	return n
}

// deferApproval stores the call for a human and refuses it for now with
// the approval id the caller retries with.
func (f *flight) deferApproval() *tollgate.Error {
	if f.t.pending == nil {
		f.t.log.Error("tollgate: ask_mode deferred but the Tower has no approval store (WithApprovalStore)", "tool", f.req.Tool, "policy_id", f.decision.PolicyID)
		return f.refuse(tollgate.StageApproval, tollgate.ReasonInternal, internalMessage)
	}
	id, err := f.t.pending.Create(f.ctx, approvals.Request{
		Agent:       f.agent,
		Intent:      f.call.Intent,
		ToolRequest: f.req,
		RequestHash: f.hash,
		Reason:      f.decision.Reason,
		PolicyID:    f.decision.PolicyID,
		ExpiresAt:   f.t.now().Add(f.t.askTTL),

		ApprovalsRequired: f.approvalsRequired(),
	})
	if err != nil {
		e := f.refuse(tollgate.StageApproval, tollgate.ReasonInternal, internalMessage)
		e.Err = err
		return e
	}
	return f.pendingRefusal(id)
}

func (f *flight) pendingRefusal(id string) *tollgate.Error {
	f.approvalID = id
	e := f.refuse(tollgate.StageApproval, tollgate.ReasonApprovalPending, "Tool call deferred. Approval ID: "+id)
	e.ApprovalID = id
	return e
}

// redeem spends the approval the caller names. It succeeds once, and only
// for the very call that was approved.
func (f *flight) redeem(id string) *tollgate.Error {
	f.approvalID = id
	err := f.t.pending.Consume(f.ctx, id, approvals.BindingHash(f.agent, f.call.Intent, f.req), f.t.now())
	if err == nil {
		f.recordApprover(id)
		return nil
	}
	var why string
	switch {
	case errors.Is(err, approvals.ErrNotApproved):
		rec, getErr := f.t.pending.Get(f.ctx, id)
		if getErr == nil && rec.Pending() {
			return f.pendingRefusal(id) // not decided yet: keep waiting
		}
		why = "denied"
	case errors.Is(err, approvals.ErrExpired):
		why = "the approval has expired"
	case errors.Is(err, approvals.ErrMismatch):
		why = "the approval was given for a different call"
	case errors.Is(err, approvals.ErrUsed):
		why = "the approval was already used"
	case errors.Is(err, approvals.ErrNotFound):
		why = "no such approval"
	default:
		e := f.refuse(tollgate.StageApproval, tollgate.ReasonInternal, internalMessage)
		e.Err = err
		return e
	}
	e := f.refuse(tollgate.StageApproval, tollgate.ReasonApprovalDenied, "Approval failed: "+why)
	e.ApprovalID = id
	e.Err = err
	f.outcome = tollgate.OutcomeApprovalDenied
	return e
}

// recordApprover adds who approved, when and why to the decision the audit
// record carries; with more than one approver required, every approver.
func (f *flight) recordApprover(id string) {
	rec, err := f.t.pending.Get(f.ctx, id)
	if err != nil {
		return
	}
	md := make(tollgate.Params, 0, len(f.decision.Metadata)+4)
	md = append(md, f.decision.Metadata...)
	md.Set("approved_by", rec.DecidedBy)
	if approvers := rec.Approvers(); len(approvers) > 1 {
		list := make([]any, len(approvers))
		for i, a := range approvers {
			list[i] = a
		}
		md.Set("approvers", list)
	}
	md.Set("approved_at", rec.DecidedAt.UTC().Format("2006-01-02T15:04:05.000000Z07:00"))
	if rec.Note != "" {
		md.Set("approval_note", rec.Note)
	}
	f.decision.Metadata = md
}
