package admin

import (
	"context"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/admin/adminv1"
	"github.com/tollgate-go/tollgate/approvals"
)

func TestAuditRecordsDecisions(t *testing.T) {
	e := newEnv(t)
	c := e.admin("grpc")
	ctx := context.Background()
	id := e.park("u-1")
	if _, err := c.Approve(ctx, &adminv1.ApproveRequest{Id: id, Note: "ok"}); err != nil {
		t.Fatal(err)
	}
	_, err := c.Deny(ctx, &adminv1.DenyRequest{Id: id, Note: "too late"})
	wantCode(t, err, codes.FailedPrecondition)

	ev := e.audit.all()
	if len(ev) != 2 {
		t.Fatalf("%d events, want 2: %+v", len(ev), ev)
	}
	rec, _ := e.store.Get(ctx, id)
	ok := ev[0]
	if ok.Agent.ID != alice.ID || ok.ToolRequest.Tool != "/tollgate.admin.v1.ApprovalService/Approve" ||
		ok.ToolRequest.Action != "approve" || ok.ToolRequest.ResourceType != "approval" || ok.ToolRequest.Effect != tollgate.EffectWrite ||
		ok.Intent.Action != "approve" || ok.Intent.Reason != "ok" || ok.Outcome != tollgate.OutcomeExecuted ||
		ok.Decision.Type != tollgate.Allow || ok.ApprovalID != id || ok.RequestHash != rec.Request.RequestHash ||
		ok.ResultSummary != "approved" || !ok.Timestamp.Equal(start) || ok.CorrelationID == "" {
		t.Errorf("approve event: %+v", ok)
	}
	for key, want := range map[string]string{"approval_id": id, "outcome": "approved", "decided_by": alice.ID, "note": "ok", "agent_id": "hr-bot", "tool": "api:delete_user"} {
		if v, _ := ok.Decision.Metadata.Get(key); v != want {
			t.Errorf("decision metadata %s = %v, want %q", key, v, want)
		}
	}
	refused := ev[1]
	if refused.ToolRequest.Action != "deny" || refused.Outcome != tollgate.OutcomeFailed || refused.ApprovalID != id ||
		!strings.Contains(refused.ResultSummary, "already decided") {
		t.Errorf("refused deny event: %+v", refused)
	}
}

func TestAuditRecordsGrantChanges(t *testing.T) {
	e := newEnv(t)
	c := e.admin("connect")
	ctx := context.Background()
	g, err := c.CreateGrant(ctx, &adminv1.CreateGrantRequest{AgentId: "hr-bot", Tool: "api:*", Lifetime: ttl(time.Hour), Reason: "migration"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.RevokeGrant(ctx, &adminv1.RevokeGrantRequest{Id: g.GetGrant().GetId(), Reason: "migration done"}); err != nil {
		t.Fatal(err)
	}
	ev := e.audit.all()
	if len(ev) != 2 {
		t.Fatalf("%d events, want 2", len(ev))
	}
	id := g.GetGrant().GetId()
	if ev[0].ToolRequest.Action != "create_grant" || ev[0].GrantID != id || ev[0].Intent.Reason != "migration" || ev[0].Outcome != tollgate.OutcomeExecuted {
		t.Errorf("create event: %+v", ev[0])
	}
	if v, _ := ev[0].ToolRequest.Params.Get("tool"); v != "api:*" {
		t.Errorf("create params: %v", ev[0].ToolRequest.Params)
	}
	if _, has := ev[0].ToolRequest.Params.Get("grant_id"); has {
		t.Errorf("create params carry a grant id before the grant exists: %v", ev[0].ToolRequest.Params)
	}
	if v, _ := ev[0].Decision.Metadata.Get("granted_by"); v != alice.ID {
		t.Errorf("create metadata: %v", ev[0].Decision.Metadata)
	}
	if ev[1].ToolRequest.Action != "revoke_grant" || ev[1].ToolRequest.Effect != tollgate.EffectDelete || ev[1].GrantID != id || ev[1].Intent.Reason != "migration done" {
		t.Errorf("revoke event: %+v", ev[1])
	}
}

func TestAuditFailureAfterChange(t *testing.T) {
	e := newEnv(t)
	e.audit.fail.Store(true)
	id := e.park("u-1")
	_, err := e.admin("grpc").Approve(context.Background(), &adminv1.ApproveRequest{Id: id})
	wantCode(t, err, codes.Internal)
	if !strings.Contains(err.Error(), "audit record could not be written") {
		t.Errorf("message %q does not say the audit failed", err)
	}
	// The decision stands: it cannot be taken back.
	if rec, _ := e.store.Get(context.Background(), id); rec.Outcome != approvals.OutcomeApproved {
		t.Errorf("outcome %s", rec.Outcome)
	}
	if !strings.Contains(e.logs.String(), "audit failed after a change was made") {
		t.Errorf("not logged: %s", e.logs.String())
	}
}

func TestVerbOf(t *testing.T) {
	for proc, want := range map[string]string{
		adminv1.ApprovalService_Approve_FullMethodName:     "approve",
		adminv1.GrantService_CreateGrant_FullMethodName:    "create_grant",
		adminv1.GrantService_RevokeGrant_FullMethodName:    "revoke_grant",
		adminv1.ApprovalService_ListPending_FullMethodName: "list_pending",
		"NoSlash": "no_slash",
	} {
		if got := verbOf(proc); got != want {
			t.Errorf("verbOf(%q) = %q, want %q", proc, got, want)
		}
	}
}
