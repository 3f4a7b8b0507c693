package admin

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/admin/adminv1"
	"github.com/tollgate-go/tollgate/identity"
	"github.com/tollgate-go/tollgate/policy"
	"github.com/tollgate-go/tollgate/registry"
	"github.com/tollgate-go/tollgate/tower"
)

const deferredManifest = `version: "1.0.0"
tools:
  "api:delete_user":
    effect: delete
    resource_type: user
    ask_mode: deferred
`

// deferredTower is a Tower that parks every call in e.store for a human.
func (e *env) deferredTower(runs *atomic.Int32) func(approvalID string) error {
	e.t.Helper()
	man, err := registry.Parse("manifest.yaml", []byte(deferredManifest))
	if err != nil {
		e.t.Fatal(err)
	}
	ask := policy.EvaluatorFunc(func(tollgate.Agent, tollgate.Intent, tollgate.ToolRequest) tollgate.Decision {
		return tollgate.Decision{Type: tollgate.Ask, Reason: "deletes need a human", PolicyID: "ask_deletes"}
	})
	tw, err := tower.New(&tower.Config{Policy: ask, Manifest: man},
		tower.WithApprovalStore(e.store, time.Hour), tower.WithClock(e.clock), tower.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		e.t.Fatal(err)
	}
	return func(approvalID string) error {
		_, err := tw.ExecuteCall(context.Background(), tower.Call{
			Credentials: identity.Credentials{Claimed: hrBot},
			Intent:      tollgate.Intent{Action: "offboard", Reason: "left the company"},
			Request:     tollgate.ToolRequest{Tool: "api:delete_user", Action: "delete", Params: tollgate.Params{{Key: "user", Value: "u-1"}}},
			ApprovalID:  approvalID,
		}, func(context.Context) (any, error) { runs.Add(1); return "deleted", nil })
		return err
	}
}

func pendingID(t *testing.T, err error) string {
	t.Helper()
	var te *tollgate.Error
	if !errors.As(err, &te) || te.Reason != tollgate.ReasonApprovalPending || te.ApprovalID == "" {
		t.Fatalf("first call: %v, want APPROVAL_PENDING with an approval id", err)
	}
	return te.ApprovalID
}

func TestApprovedRetryRunsOnce(t *testing.T) {
	forEachTransport(t, func(t *testing.T, tr string) {
		e := newEnv(t)
		var runs atomic.Int32
		call := e.deferredTower(&runs)
		id := pendingID(t, call(""))

		resp, err := e.admin(tr).Approve(context.Background(), &adminv1.ApproveRequest{Id: id, Note: "checked with HR"})
		if err != nil {
			t.Fatal(err)
		}
		a := resp.GetApproval()
		if a.GetOutcome() != adminv1.Outcome_OUTCOME_APPROVED || a.GetDecidedBy() != alice.ID || a.GetNote() != "checked with HR" ||
			!a.GetDecidedAt().AsTime().Equal(start) || resp.GetGrant() != nil {
			t.Errorf("approval = %v", a)
		}
		if err := call(id); err != nil {
			t.Fatalf("approved retry: %v", err)
		}
		if got := tollgate.ReasonOf(call(id)); got != tollgate.ReasonApprovalDenied {
			t.Errorf("second retry: %s, want APPROVAL_DENIED", got)
		}
		if runs.Load() != 1 {
			t.Errorf("runs = %d, want 1", runs.Load())
		}
		rec, err := e.store.Get(context.Background(), id)
		if err != nil || rec.DecidedBy != alice.ID || rec.UsedAt.IsZero() {
			t.Errorf("stored record: %+v, %v", rec, err)
		}
	})
}

func TestDenyRefusesRetry(t *testing.T) {
	forEachTransport(t, func(t *testing.T, tr string) {
		e := newEnv(t)
		var runs atomic.Int32
		call := e.deferredTower(&runs)
		id := pendingID(t, call(""))
		resp, err := e.admin(tr).Deny(context.Background(), &adminv1.DenyRequest{Id: id, Note: "not without a ticket"})
		if err != nil {
			t.Fatal(err)
		}
		if a := resp.GetApproval(); a.GetOutcome() != adminv1.Outcome_OUTCOME_DENIED || a.GetDecidedBy() != alice.ID || a.GetNote() != "not without a ticket" {
			t.Errorf("approval = %v", a)
		}
		if got := tollgate.ReasonOf(call(id)); got != tollgate.ReasonApprovalDenied {
			t.Errorf("retry after deny: %s, want APPROVAL_DENIED", got)
		}
		if runs.Load() != 0 {
			t.Error("a denied call ran")
		}
	})
}

func TestDecisionsAreFinal(t *testing.T) {
	forEachTransport(t, func(t *testing.T, tr string) {
		e := newEnv(t)
		c := e.admin(tr)
		ctx := context.Background()
		id := e.park("u-1")
		if _, err := c.Approve(ctx, &adminv1.ApproveRequest{Id: id}); err != nil {
			t.Fatal(err)
		}
		_, err := c.Deny(ctx, &adminv1.DenyRequest{Id: id, Note: "changed my mind"})
		wantCode(t, err, codes.FailedPrecondition)
		_, err = c.Approve(ctx, &adminv1.ApproveRequest{Id: id})
		wantCode(t, err, codes.FailedPrecondition)
		got, err := c.GetApproval(ctx, &adminv1.GetApprovalRequest{Id: id})
		if err != nil || got.GetApproval().GetOutcome() != adminv1.Outcome_OUTCOME_APPROVED || got.GetApproval().GetNote() != "" {
			t.Errorf("after re-deciding: %v, %v; want the first decision unchanged", got, err)
		}
	})
}

func TestUnknownAndExpired(t *testing.T) {
	forEachTransport(t, func(t *testing.T, tr string) {
		e := newEnv(t)
		c := e.admin(tr)
		ctx := context.Background()
		_, err := c.Approve(ctx, &adminv1.ApproveRequest{Id: "no-such-id"})
		wantCode(t, err, codes.NotFound)
		_, err = c.GetApproval(ctx, &adminv1.GetApprovalRequest{Id: "no-such-id"})
		wantCode(t, err, codes.NotFound)
		_, err = c.Deny(ctx, &adminv1.DenyRequest{})
		wantCode(t, err, codes.InvalidArgument)
		_, err = c.Approve(ctx, &adminv1.ApproveRequest{Id: strings.Repeat("x", maxIDLen+1)})
		wantCode(t, err, codes.InvalidArgument)
		_, err = c.Approve(ctx, &adminv1.ApproveRequest{Id: "x", Note: strings.Repeat("n", maxTextLen+1)})
		wantCode(t, err, codes.InvalidArgument)

		id := e.park("u-1")
		e.advance(2 * time.Hour)
		_, err = c.Approve(ctx, &adminv1.ApproveRequest{Id: id})
		wantCode(t, err, codes.FailedPrecondition)
		got, err := c.GetApproval(ctx, &adminv1.GetApprovalRequest{Id: id})
		if err != nil || !got.GetApproval().GetExpired() || got.GetApproval().GetOutcome() != adminv1.Outcome_OUTCOME_PENDING {
			t.Errorf("expired request: %v, %v", got, err)
		}
	})
}

func TestCallerChecks(t *testing.T) {
	forEachTransport(t, func(t *testing.T, tr string) {
		e := newEnv(t)
		ctx := context.Background()
		id := e.park("u-1")
		for name, tc := range map[string]struct {
			c    client
			want codes.Code
		}{
			"no credentials": {e.client(tr, nil), codes.Unauthenticated},
			"bad token":      {e.client(tr, func(context.Context) (string, error) { return "not-a-jwt", nil }), codes.Unauthenticated},
			"not an admin":   {e.client(tr, e.tokens(bob)), codes.PermissionDenied},
			// A tool token is not an admin token, whatever its claims say.
			"other audience": {e.client(tr, e.tokensFor(alice, "tickets")), codes.Unauthenticated},
		} {
			t.Run(name, func(t *testing.T) {
				calls := map[string]error{}
				_, calls["ListPending"] = tc.c.ListPending(ctx, &adminv1.ListPendingRequest{})
				_, calls["GetApproval"] = tc.c.GetApproval(ctx, &adminv1.GetApprovalRequest{Id: id})
				_, calls["Approve"] = tc.c.Approve(ctx, &adminv1.ApproveRequest{Id: id})
				_, calls["Deny"] = tc.c.Deny(ctx, &adminv1.DenyRequest{Id: id})
				_, calls["CreateGrant"] = tc.c.CreateGrant(ctx, &adminv1.CreateGrantRequest{AgentId: "a", Tool: "t", Lifetime: &adminv1.CreateGrantRequest_Ttl{Ttl: durationpb.New(time.Hour)}})
				_, calls["ListGrants"] = tc.c.ListGrants(ctx, &adminv1.ListGrantsRequest{})
				_, calls["RevokeGrant"] = tc.c.RevokeGrant(ctx, &adminv1.RevokeGrantRequest{Id: "g"})
				recv, err := tc.c.Watch(ctx, &adminv1.WatchRequest{})
				if err == nil {
					_, err = recv()
				}
				calls["Watch"] = err
				for method, err := range calls {
					if got := codeOf(err); got != tc.want {
						t.Errorf("%s: %v (%s), want %s", method, err, got, tc.want)
					}
				}
			})
		}
		if rec, _ := e.store.Get(ctx, id); !rec.Pending() {
			t.Errorf("a refused caller decided the request: %+v", rec)
		}
		if gs, _ := e.grants.List(ctx, grantsAll()); len(gs) != 0 {
			t.Errorf("a refused caller created grants: %v", gs)
		}
		// Bob's four attempts to change something are audited as blocked;
		// callers without credentials are not (there is nobody to name).
		var blocked []string
		for _, ev := range e.audit.all() {
			if ev.Outcome != tollgate.OutcomeBlocked || ev.Agent.ID != bob.ID || ev.ReasonCode != tollgate.ReasonPolicyDenied {
				t.Errorf("unexpected audit event: %+v", ev)
			}
			blocked = append(blocked, ev.ToolRequest.Action)
		}
		if strings.Join(blocked, ",") != "approve,deny,create_grant,revoke_grant" {
			t.Errorf("blocked attempts audited: %v", blocked)
		}
	})
}
