package tower

import (
	"context"
	"testing"
	"time"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/approvals"
	"github.com/tollgate-go/tollgate/grants"
	"github.com/tollgate-go/tollgate/policy"
)

// TestGrantDoesNotCoverMultiApproverCalls: one admin can issue a grant, so
// a grant must not let through a call that needs two approvers; the call
// goes to the approver, told how many approvals it needs, and the grant is
// left unused.
func TestGrantDoesNotCoverMultiApproverCalls(t *testing.T) {
	store := grants.NewMemory()
	now := time.Unix(1_800_000_000, 0)
	g, err := store.Create(context.Background(), grants.Grant{AgentID: "agent-1", Tool: "mock:*", ExpiresAt: now.Add(time.Hour), CreatedAt: now, GrantedBy: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	var asked approvals.Request
	appr := approvals.ApproverFunc(func(_ context.Context, r approvals.Request) (approvals.Result, error) {
		asked = r
		return approvals.Result{Outcome: approvals.OutcomeDenied}, nil
	})
	twoPeople := policy.EvaluatorFunc(func(tollgate.Agent, tollgate.Intent, tollgate.ToolRequest) tollgate.Decision {
		return tollgate.Decision{Type: tollgate.Ask, Reason: "two people", PolicyID: "two", ApprovalsRequired: 2}
	})
	tw, _ := newTower(t, &Config{Policy: twoPeople}, WithGrants(store), WithApprover(appr), WithClock(func() time.Time { return now }))
	_, err = tw.Execute(context.Background(), agent, intent, req("mock:write"), ok)
	wantRefusal(t, err, tollgate.ReasonApprovalDenied)
	if asked.ApprovalsRequired != 2 {
		t.Errorf("approver asked with ApprovalsRequired %d, want 2", asked.ApprovalsRequired)
	}
	if got, _, _ := store.Get(context.Background(), g.ID); got.Uses != 0 {
		t.Errorf("the grant was used %d times", got.Uses)
	}
}
