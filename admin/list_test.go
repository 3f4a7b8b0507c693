package admin

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/admin/adminv1"
	"github.com/tollgate-go/tollgate/approvals"
	"github.com/tollgate-go/tollgate/identity"
)

func denyBy(who string, at time.Time) approvals.Decision {
	return approvals.Decision{Outcome: approvals.OutcomeDenied, By: who, At: at}
}

func TestListPending(t *testing.T) {
	forEachTransport(t, func(t *testing.T, tr string) {
		e := newEnv(t)
		ctx := context.Background()
		first := e.park("u-1")
		decided := e.park("u-2")
		if err := e.store.Decide(ctx, decided, denyBy("carol", e.clock())); err != nil {
			t.Fatal(err)
		}
		expiring, err := e.store.Create(ctx, pendingRequest("u-3", start.Add(time.Minute)))
		if err != nil {
			t.Fatal(err)
		}
		e.advance(2 * time.Minute)
		c := e.admin(tr)
		list, err := c.ListPending(ctx, &adminv1.ListPendingRequest{})
		if err != nil || len(list.GetApprovals()) != 1 || list.GetApprovals()[0].GetId() != first {
			t.Fatalf("pending: %v, %v; want only %s", list, err, first)
		}
		a := list.GetApprovals()[0]
		if a.GetAgent().GetAgentId() != "hr-bot" || strings.Join(a.GetAgent().GetDelegatedBy(), ",") != "orchestrator" ||
			a.GetIntent().GetAction() != "offboard" || a.GetReason() != "deletes need a human" || a.GetPolicyId() != "ask_deletes" ||
			a.GetRequestHash() == "" || a.GetOutcome() != adminv1.Outcome_OUTCOME_PENDING || a.GetExpired() || a.GetCreatedAt() == nil ||
			a.GetDecidedAt() != nil || a.GetUsedAt() != nil {
			t.Errorf("approval = %v", a)
		}
		// Params in the caller's order, the secret masked.
		if got := a.GetToolRequest().GetParamsJson(); got != `{"user":"u-1","api_token":"[REDACTED]"}` {
			t.Errorf("params_json = %s", got)
		}
		all, err := c.ListPending(ctx, &adminv1.ListPendingRequest{IncludeExpired: true})
		if err != nil || len(all.GetApprovals()) != 2 || all.GetApprovals()[1].GetId() != expiring || !all.GetApprovals()[1].GetExpired() {
			t.Errorf("with expired: %v, %v", all, err)
		}
	})
}

func TestApprovalMessageSanitises(t *testing.T) {
	req := pendingRequest("u-1", start.Add(time.Hour))
	req.ID = "id-1"
	req.Intent.Reason = "bad \xff byte"
	req.Agent.Metadata = tollgate.Params{{Key: identity.LegacySignatureKey, Value: "abc"}, {Key: "session_id", Value: "s"}, {Key: "team", Value: "hr"}}
	a := approvalMessage(approvals.Record{Request: req, Outcome: approvals.OutcomeDeferred}, start, nil)
	if a.GetIntent().GetReason() != "bad \uFFFD byte" {
		t.Errorf("reason = %q, want invalid UTF-8 replaced", a.GetIntent().GetReason())
	}
	if got := a.GetAgent().GetMetadataJson(); got != `{"session_id":"[REDACTED]","team":"hr"}` {
		t.Errorf("agent metadata = %s", got)
	}
	if got := a.GetIntent().GetMetadataJson(); got != "{}" {
		t.Errorf("empty metadata = %s", got)
	}
	if a.GetOutcome() != adminv1.Outcome_OUTCOME_PENDING || a.GetExpired() {
		t.Errorf("outcome %v expired %v", a.GetOutcome(), a.GetExpired())
	}
	if outcomeMessage(approvals.OutcomeTimeout) != adminv1.Outcome_OUTCOME_UNSPECIFIED {
		t.Error("an outcome a store never records must not look like a decision")
	}
}
