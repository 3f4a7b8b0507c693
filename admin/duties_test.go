package admin

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/admin/adminv1"
	"github.com/tollgate-go/tollgate/approvals"
	"github.com/tollgate-go/tollgate/internal/redistest"
	"github.com/tollgate-go/tollgate/redisstore"
	"github.com/tollgate-go/tollgate/sqlitestore"
)

// Admins of these tests besides alice: carol is another admin; the agent
// hr-bot and its delegator orchestrator also hold the admin role, to show
// that the role does not let anyone approve their own call.
var (
	carol        = tollgate.Agent{ID: "carol@example.com", Metadata: tollgate.Params{{Key: RoleKey, Value: DefaultRole}}}
	botAdmin     = tollgate.Agent{ID: hrBot.ID, Metadata: tollgate.Params{{Key: RoleKey, Value: DefaultRole}}}
	orchestrator = tollgate.Agent{ID: hrBot.DelegatedBy[0], Metadata: tollgate.Params{{Key: RoleKey, Value: DefaultRole}}}
)

// forEachStoreAndTransport runs f on the memory, SQLite and Redis approval
// stores, each over gRPC and Connect.
func forEachStoreAndTransport(t *testing.T, f func(t *testing.T, e *env, transport string)) {
	stores := []struct {
		name string
		// open prepares the backend for one store test and returns how to
		// get an empty store for each transport's run.
		open func(t *testing.T) func(t *testing.T) approvals.Store
	}{
		{"memory", func(*testing.T) func(*testing.T) approvals.Store {
			return func(*testing.T) approvals.Store { return approvals.NewMemoryStore() }
		}},
		{"sqlite", func(*testing.T) func(*testing.T) approvals.Store {
			return func(t *testing.T) approvals.Store {
				db, err := sqlitestore.Open(filepath.Join(t.TempDir(), "approvals.db"))
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { db.Close() })
				return db.Approvals()
			}
		}},
		{"redis", func(t *testing.T) func(*testing.T) approvals.Store {
			srv := redistest.Start(t)
			return func(t *testing.T) approvals.Store {
				return redisstore.New(srv.Client(t), redisstore.WithPrefix("test:"+t.Name()+":")).Approvals()
			}
		}},
	}
	for _, s := range stores {
		t.Run(s.name, func(t *testing.T) {
			newStore := s.open(t)
			forEachTransport(t, func(t *testing.T, tr string) { f(t, newEnvWith(t, newStore(t)), tr) })
		})
	}
}

// parkNeeding stores a pending request for hr-bot that needs n approvers.
func (e *env) parkNeeding(n int) string {
	e.t.Helper()
	r := pendingRequest("u-1", e.clock().Add(time.Hour))
	r.ApprovalsRequired = n
	id, err := e.store.Create(context.Background(), r)
	if err != nil {
		e.t.Fatal(err)
	}
	return id
}

func (e *env) record(id string) approvals.Record {
	e.t.Helper()
	rec, err := e.store.Get(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return rec
}

// decisionsOf renders the decisions an Approval message carries.
func decisionsOf(a *adminv1.Approval) []string {
	var out []string
	for _, d := range a.GetDecisions() {
		out = append(out, d.GetOutcome().String()+":"+d.GetBy())
	}
	return out
}

// TestSelfApprovalRefused: the requesting agent and its delegator hold the
// admin role, yet neither may approve the call; the refusal is
// PermissionDenied and audited as blocked. Denying one's own call is
// allowed.
func TestSelfApprovalRefused(t *testing.T) {
	forEachStoreAndTransport(t, func(t *testing.T, e *env, tr string) {
		ctx := context.Background()
		id := e.parkNeeding(0)
		for _, who := range []tollgate.Agent{botAdmin, orchestrator} {
			_, err := e.client(tr, e.tokens(who)).Approve(ctx, &adminv1.ApproveRequest{Id: id, Note: "looks fine to me"})
			wantCode(t, err, codes.PermissionDenied)
		}
		if rec := e.record(id); !rec.Pending() || len(rec.Decisions) != 0 {
			t.Fatalf("a refused self-approval changed the record: %+v", rec)
		}
		var blocked []string
		for _, ev := range e.audit.all() {
			if ev.Outcome == tollgate.OutcomeBlocked && ev.ApprovalID == id && ev.Decision.Type == tollgate.Deny &&
				ev.Decision.Reason == "nobody may approve a call they made or delegated" {
				blocked = append(blocked, ev.Agent.ID)
			}
		}
		if !slices.Equal(blocked, []string{botAdmin.ID, orchestrator.ID}) {
			t.Errorf("audited self-approval refusals by %v, want both", blocked)
		}

		resp, err := e.client(tr, e.tokens(botAdmin)).Deny(ctx, &adminv1.DenyRequest{Id: id, Note: "I take it back"})
		if err != nil || resp.GetApproval().GetOutcome() != adminv1.Outcome_OUTCOME_DENIED {
			t.Fatalf("the agent denying its own call: %v, %v; want denied", resp, err)
		}
	})
}

// TestTwoPersonRule: a request needing two approvers stays pending after
// the first, shows its progress, does not count the same admin twice and
// is approved by the second; a grant cannot ride on such an approval.
func TestTwoPersonRule(t *testing.T) {
	forEachStoreAndTransport(t, func(t *testing.T, e *env, tr string) {
		ctx := context.Background()
		id := e.parkNeeding(2)
		c := e.admin(tr)

		_, err := c.Approve(ctx, &adminv1.ApproveRequest{Id: id, Grant: &adminv1.GrantOnApprove{Ttl: durationpb.New(time.Hour)}})
		wantCode(t, err, codes.FailedPrecondition)
		if rec := e.record(id); len(rec.Decisions) != 0 {
			t.Fatalf("a refused approval with a grant was recorded: %+v", rec.Decisions)
		}

		resp, err := c.Approve(ctx, &adminv1.ApproveRequest{Id: id, Note: "first look"})
		if err != nil {
			t.Fatal(err)
		}
		a := resp.GetApproval()
		if a.GetOutcome() != adminv1.Outcome_OUTCOME_PENDING || a.GetApprovalsRequired() != 2 || a.GetDecidedBy() != "" ||
			!slices.Equal(decisionsOf(a), []string{"OUTCOME_APPROVED:" + alice.ID}) || a.GetDecisions()[0].GetNote() != "first look" {
			t.Fatalf("after one of two approvals: %v", a)
		}

		_, err = c.Approve(ctx, &adminv1.ApproveRequest{Id: id})
		wantCode(t, err, codes.FailedPrecondition)

		resp, err = e.client(tr, e.tokens(carol)).Approve(ctx, &adminv1.ApproveRequest{Id: id, Note: "second look"})
		if err != nil {
			t.Fatal(err)
		}
		a = resp.GetApproval()
		if a.GetOutcome() != adminv1.Outcome_OUTCOME_APPROVED || a.GetDecidedBy() != carol.ID ||
			!slices.Equal(decisionsOf(a), []string{"OUTCOME_APPROVED:" + alice.ID, "OUTCOME_APPROVED:" + carol.ID}) {
			t.Fatalf("after two approvals: %v", a)
		}
		got, err := c.GetApproval(ctx, &adminv1.GetApprovalRequest{Id: id})
		if err != nil || len(got.GetApproval().GetDecisions()) != 2 {
			t.Fatalf("GetApproval: %v, %v; want both decisions", got, err)
		}

		var summaries []string
		for _, ev := range e.audit.all() {
			if ev.ApprovalID == id && ev.Outcome == tollgate.OutcomeExecuted {
				summaries = append(summaries, ev.ResultSummary)
				if approvers, _ := ev.Decision.Metadata.Get("approvers"); approvers == nil {
					t.Errorf("audited approval without its approvers: %v", ev.Decision.Metadata)
				}
			}
		}
		want := []string{"approval 1 of 2 recorded; the request stays pending until 1 more admin(s) approve", "approved"}
		if !slices.Equal(summaries, want) {
			t.Errorf("audited summaries %q, want %q", summaries, want)
		}
	})
}

// TestDenyAfterPartialApproval: one deny ends a request whatever approvals
// it gathered.
func TestDenyAfterPartialApproval(t *testing.T) {
	forEachStoreAndTransport(t, func(t *testing.T, e *env, tr string) {
		ctx := context.Background()
		id := e.parkNeeding(3)
		if _, err := e.admin(tr).Approve(ctx, &adminv1.ApproveRequest{Id: id}); err != nil {
			t.Fatal(err)
		}
		resp, err := e.client(tr, e.tokens(carol)).Deny(ctx, &adminv1.DenyRequest{Id: id, Note: "no"})
		if err != nil {
			t.Fatal(err)
		}
		if a := resp.GetApproval(); a.GetOutcome() != adminv1.Outcome_OUTCOME_DENIED || a.GetDecidedBy() != carol.ID ||
			!slices.Equal(decisionsOf(a), []string{"OUTCOME_APPROVED:" + alice.ID, "OUTCOME_DENIED:" + carol.ID}) {
			t.Fatalf("after a deny: %v", a)
		}
	})
}
