package admin

import (
	"context"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/admin/adminv1"
)

func ttl(d time.Duration) *adminv1.CreateGrantRequest_Ttl {
	return &adminv1.CreateGrantRequest_Ttl{Ttl: durationpb.New(d)}
}

func TestGrantsCreateListRevoke(t *testing.T) {
	forEachTransport(t, func(t *testing.T, tr string) {
		e := newEnv(t)
		c := e.admin(tr)
		ctx := context.Background()
		created, err := c.CreateGrant(ctx, &adminv1.CreateGrantRequest{
			AgentId: "hr-bot", Tool: "api:*", Effect: "delete", Lifetime: ttl(time.Hour), MaxUses: 20, Reason: "offboarding week",
		})
		if err != nil {
			t.Fatal(err)
		}
		g := created.GetGrant()
		if g.GetId() == "" || g.GetGrantedBy() != alice.ID || g.GetAgentId() != "hr-bot" || g.GetTool() != "api:*" ||
			g.GetMaxUses() != 20 || !g.GetActive() || !g.GetExpiresAt().AsTime().Equal(start.Add(time.Hour)) {
			t.Fatalf("created %v", g)
		}
		// The grant works: a matching call consumes it.
		used, found, err := e.grants.Consume(ctx, hrBot, tollgate.ToolRequest{Tool: "api:delete_user", Effect: tollgate.EffectDelete}, e.clock())
		if err != nil || !found || used.ID != g.GetId() {
			t.Fatalf("consume: %v %v %v", used, found, err)
		}
		// "*" grants every agent.
		e.advance(time.Second) // list order is creation order
		anyone, err := c.CreateGrant(ctx, &adminv1.CreateGrantRequest{
			AgentId: "*", Tool: "mcp:read_file", Lifetime: &adminv1.CreateGrantRequest_ExpiresAt{ExpiresAt: timestamppb.New(start.Add(time.Minute))},
		})
		if err != nil || anyone.GetGrant().GetAgentId() != "" {
			t.Fatalf("grant for any agent: %v, %v", anyone, err)
		}

		list, err := c.ListGrants(ctx, &adminv1.ListGrantsRequest{})
		if err != nil || len(list.GetGrants()) != 2 || list.GetGrants()[0].GetUses() != 1 {
			t.Fatalf("list: %v, %v", list, err)
		}
		mine, err := c.ListGrants(ctx, &adminv1.ListGrantsRequest{AgentId: "hr-bot"})
		if err != nil || len(mine.GetGrants()) != 1 {
			t.Fatalf("list for hr-bot: %v, %v", mine, err)
		}

		revoked, err := c.RevokeGrant(ctx, &adminv1.RevokeGrantRequest{Id: g.GetId(), Reason: "done"})
		if err != nil || !revoked.GetGrant().GetRevoked() || revoked.GetGrant().GetActive() {
			t.Fatalf("revoke: %v, %v", revoked, err)
		}
		_, err = c.RevokeGrant(ctx, &adminv1.RevokeGrantRequest{Id: g.GetId()})
		wantCode(t, err, codes.FailedPrecondition)
		_, err = c.RevokeGrant(ctx, &adminv1.RevokeGrantRequest{Id: "no-such-grant"})
		wantCode(t, err, codes.NotFound)

		active, err := c.ListGrants(ctx, &adminv1.ListGrantsRequest{})
		if err != nil || len(active.GetGrants()) != 1 {
			t.Errorf("active grants after revoking one: %v, %v", active, err)
		}
		all, err := c.ListGrants(ctx, &adminv1.ListGrantsRequest{IncludeInactive: true})
		if err != nil || len(all.GetGrants()) != 2 {
			t.Errorf("all grants: %v, %v", all, err)
		}
		if _, found, _ := e.grants.Consume(ctx, hrBot, tollgate.ToolRequest{Tool: "api:delete_user", Effect: tollgate.EffectDelete}, e.clock()); found {
			t.Error("a revoked grant still lets calls through")
		}
	})
}

func TestCreateGrantRefusesBadRequests(t *testing.T) {
	e := newEnv(t)
	c := e.admin("grpc")
	for name, req := range map[string]*adminv1.CreateGrantRequest{
		"no agent":         {Tool: "t", Lifetime: ttl(time.Hour)},
		"no tool":          {AgentId: "a", Lifetime: ttl(time.Hour)},
		"no lifetime":      {AgentId: "a", Tool: "t"},
		"zero ttl":         {AgentId: "a", Tool: "t", Lifetime: ttl(0)},
		"negative ttl":     {AgentId: "a", Tool: "t", Lifetime: ttl(-time.Minute)},
		"past expiry":      {AgentId: "a", Tool: "t", Lifetime: &adminv1.CreateGrantRequest_ExpiresAt{ExpiresAt: timestamppb.New(start)}},
		"unknown effect":   {AgentId: "a", Tool: "t", Effect: "READ", Lifetime: ttl(time.Hour)},
		"negative max":     {AgentId: "a", Tool: "t", MaxUses: -1, Lifetime: ttl(time.Hour)},
		"long reason":      {AgentId: "a", Tool: "t", Lifetime: ttl(time.Hour), Reason: string(make([]byte, maxTextLen+1))},
		"invalid duration": {AgentId: "a", Tool: "t", Lifetime: &adminv1.CreateGrantRequest_Ttl{Ttl: &durationpb.Duration{Seconds: 1, Nanos: -1}}},
	} {
		_, err := c.CreateGrant(context.Background(), req)
		if codeOf(err) != codes.InvalidArgument {
			t.Errorf("%s: %v, want InvalidArgument", name, err)
		}
	}
	if gs, _ := e.grants.List(context.Background(), grantsAll()); len(gs) != 0 {
		t.Errorf("refused requests stored grants: %v", gs)
	}
}

func TestApproveWithGrant(t *testing.T) {
	e := newEnv(t)
	c := e.admin("connect")
	ctx := context.Background()
	id := e.park("u-1")
	e.advance(time.Minute)
	resp, err := c.Approve(ctx, &adminv1.ApproveRequest{Id: id, Note: "offboarding week", Grant: &adminv1.GrantOnApprove{Ttl: durationpb.New(time.Hour), MaxUses: 20}})
	if err != nil {
		t.Fatal(err)
	}
	g := resp.GetGrant()
	decided := start.Add(time.Minute)
	if g.GetAgentId() != "hr-bot" || g.GetTool() != "api:delete_user" || g.GetAction() != "delete" || g.GetEffect() != "delete" ||
		g.GetResourceType() != "user" || g.GetMaxUses() != 20 || g.GetGrantedBy() != alice.ID || g.GetReason() != "offboarding week" ||
		!g.GetExpiresAt().AsTime().Equal(decided.Add(time.Hour)) {
		t.Errorf("grant = %v", g)
	}
	if resp.GetApproval().GetOutcome() != adminv1.Outcome_OUTCOME_APPROVED {
		t.Errorf("approval = %v", resp.GetApproval())
	}
	ev := e.audit.all()
	if len(ev) != 1 || ev[0].GrantID != g.GetId() || ev[0].ApprovalID != id {
		t.Fatalf("audit: %+v", ev)
	}
	if v, _ := ev[0].Decision.Metadata.Get("grant_id"); v != g.GetId() {
		t.Errorf("decision metadata %v lacks the grant", ev[0].Decision.Metadata)
	}

	// A bad grant, or a server without a grant store, refuses before
	// deciding anything.
	other := e.park("u-2")
	_, err = c.Approve(ctx, &adminv1.ApproveRequest{Id: other, Grant: &adminv1.GrantOnApprove{}})
	wantCode(t, err, codes.InvalidArgument)
	_, err = c.Approve(ctx, &adminv1.ApproveRequest{Id: other, Grant: &adminv1.GrantOnApprove{Ttl: durationpb.New(time.Hour), MaxUses: -1}})
	wantCode(t, err, codes.InvalidArgument)
	noGrants := newEnv(t, WithGrantStore(nil))
	third := noGrants.park("u-3")
	_, err = noGrants.admin("grpc").Approve(ctx, &adminv1.ApproveRequest{Id: third, Grant: &adminv1.GrantOnApprove{Ttl: durationpb.New(time.Hour)}})
	wantCode(t, err, codes.FailedPrecondition)
	for _, s := range []struct {
		e  *env
		id string
	}{{e, other}, {noGrants, third}} {
		if rec, _ := s.e.store.Get(ctx, s.id); !rec.Pending() {
			t.Errorf("a refused approve-with-grant decided %s", s.id)
		}
	}
}
