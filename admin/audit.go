package admin

import (
	"context"
	"strings"

	"google.golang.org/grpc/codes"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/admin/adminv1"
	"github.com/tollgate-go/tollgate/audit"
)

// An admin action is audited as a tool call the admin made:
//
//	agent          the verified admin
//	intent         action: the verb (approve, deny, create_grant,
//	               revoke_grant); reason: the note or reason given
//	tool_request   tool: the full method ("/tollgate.admin.v1.ApprovalService/Approve");
//	               action: the verb; resource_type: approval or grant;
//	               effect: write (delete for a revocation);
//	               params: what was asked (ids, grant fields, note)
//	decision       ALLOW "admin role" for an admin, DENY for anyone else;
//	               metadata: what was decided (approval_id, outcome,
//	               decided_by, note, and the decided call's agent_id and
//	               tool; approvals_required and approvers when the call
//	               needs several; or the grant's fields)
//	outcome        executed when the change was made (an approval short
//	               of the number required included: it was recorded),
//	               failed when the store refused it (already decided,
//	               expired, already approved by this admin, not found),
//	               blocked when the caller is not an admin, or approves a
//	               call they made or delegated (DENY "nobody may approve a
//	               call they made or delegated")
//	approval_id, grant_id, request_hash
//	               the approval and grant concerned; request_hash is the
//	               decided call's, so the decision and the call it allowed
//	               share it in the log
//	result_summary what happened, or why it did not
//
// Kill switches are audited the same way: set_kill_switch (effect write)
// and lift_kill_switch (effect delete), resource_type kill_switch, with
// the switch's id, scope, expiry, setter and reason in the metadata.
//
// Reads (ListPending, GetApproval, Watch, ListGrants, ListKillSwitches)
// are not audited.

// adminAction is one audited change.
type adminAction struct {
	procedure    string // full method name; its verb is verbOf(procedure)
	resourceType string
	effect       tollgate.Effect
	note         string
	params       tollgate.Params // what was asked
	metadata     tollgate.Params // what was decided, for Decision.Metadata
	approvalID   string
	grantID      string
	requestHash  string
}

// mutates reports whether procedure changes something (and is audited).
func mutates(procedure string) bool {
	switch procedure {
	case adminv1.ApprovalService_Approve_FullMethodName, adminv1.ApprovalService_Deny_FullMethodName,
		adminv1.GrantService_CreateGrant_FullMethodName, adminv1.GrantService_RevokeGrant_FullMethodName,
		adminv1.KillSwitchService_SetKillSwitch_FullMethodName, adminv1.KillSwitchService_LiftKillSwitch_FullMethodName:
		return true
	}
	return false
}

// auditDone records a change that was made. When the record cannot be
// written the change stands (it cannot be undone), and the caller is told
// so with Internal, so that a missing audit record never goes unnoticed.
func (c *config) auditDone(ctx context.Context, caller tollgate.Agent, a adminAction, summary string) error {
	e := c.event(caller, a, tollgate.OutcomeExecuted, summary)
	if err := c.sink.Emit(ctx, e); err != nil {
		c.log.ErrorContext(ctx, "tollgate admin: audit failed after a change was made", "procedure", a.procedure, "agent_id", caller.ID, "summary", summary, "error", err)
		return errorf(codes.Internal, "the change was made, but its audit record could not be written; see the server log")
	}
	return nil
}

// auditFailed records a change the store refused. The refusal is what the
// caller gets either way; an audit failure is only logged.
func (c *config) auditFailed(ctx context.Context, caller tollgate.Agent, a adminAction, err error) {
	_, msg := split(err)
	c.emit(ctx, c.event(caller, a, tollgate.OutcomeFailed, msg))
}

// auditRefused records a verified caller that is not an admin trying to
// change something.
func (c *config) auditRefused(ctx context.Context, caller tollgate.Agent, procedure string) {
	a := adminAction{procedure: procedure}
	e := c.event(caller, a, tollgate.OutcomeBlocked, "refused: not an admin")
	e.Decision = tollgate.Decision{Type: tollgate.Deny, Reason: "the admin API needs the admin role"}
	e.Stage, e.ReasonCode = tollgate.StagePolicy, tollgate.ReasonPolicyDenied
	c.emit(ctx, e)
}

// auditSelfApproval records an admin trying to approve a call they made
// or delegated: refused, whatever their role, for separation of duties.
func (c *config) auditSelfApproval(ctx context.Context, caller tollgate.Agent, a adminAction) {
	e := c.event(caller, a, tollgate.OutcomeBlocked, "refused: the approver made or delegated the call")
	e.Decision = tollgate.Decision{Type: tollgate.Deny, Reason: "nobody may approve a call they made or delegated"}
	e.Stage, e.ReasonCode = tollgate.StagePolicy, tollgate.ReasonPolicyDenied
	c.emit(ctx, e)
}

func (c *config) emit(ctx context.Context, e *audit.Event) {
	if err := c.sink.Emit(ctx, e); err != nil {
		c.log.ErrorContext(ctx, "tollgate admin: audit failed", "procedure", e.ToolRequest.Tool, "agent_id", e.Agent.ID, "outcome", e.Outcome, "error", err)
	}
}

func (c *config) event(caller tollgate.Agent, a adminAction, outcome tollgate.Outcome, summary string) *audit.Event {
	verb := verbOf(a.procedure)
	return &audit.Event{
		Timestamp:     c.now(),
		CorrelationID: c.newID(),
		RequestHash:   a.requestHash,
		Agent:         caller,
		Intent:        tollgate.Intent{Action: verb, Reason: a.note},
		ToolRequest: tollgate.ToolRequest{
			Tool:         a.procedure,
			Action:       verb,
			ResourceType: a.resourceType,
			Effect:       a.effect,
			Params:       a.params,
		},
		Decision:      tollgate.Decision{Type: tollgate.Allow, Reason: "admin role", Metadata: a.metadata},
		Outcome:       outcome,
		ApprovalID:    a.approvalID,
		GrantID:       a.grantID,
		ResultSummary: summary,
	}
}

// verbOf is the audited action of a procedure: its method name in
// snake_case ("/…/CreateGrant" → "create_grant").
func verbOf(procedure string) string {
	method := procedure[strings.LastIndexByte(procedure, '/')+1:]
	var b strings.Builder
	for i, r := range method {
		if r >= 'A' && r <= 'Z' {
			if i > 0 {
				b.WriteByte('_')
			}
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}
