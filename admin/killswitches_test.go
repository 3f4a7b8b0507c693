package admin

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/admin/adminv1"
	"github.com/tollgate-go/tollgate/admin/adminv1/adminv1connect"
	"github.com/tollgate-go/tollgate/interceptor"
)

// killClient is what the tests need of either stack's KillSwitchService
// client.
type killClient interface {
	SetKillSwitch(context.Context, *adminv1.SetKillSwitchRequest) (*adminv1.SetKillSwitchResponse, error)
	ListKillSwitches(context.Context, *adminv1.ListKillSwitchesRequest) (*adminv1.ListKillSwitchesResponse, error)
	LiftKillSwitch(context.Context, *adminv1.LiftKillSwitchRequest) (*adminv1.LiftKillSwitchResponse, error)
}

func (e *env) killClient(transport string, tokens func(context.Context) (string, error)) killClient {
	e.t.Helper()
	opts := []interceptor.ClientOption{interceptor.WithTokenSource(tokens)}
	if transport == "connect" {
		return connectKills{adminv1connect.NewKillSwitchServiceClient(http.DefaultClient, e.httpURL,
			connect.WithInterceptors(interceptor.NewConnectClientInterceptor(opts...)))}
	}
	conn, err := grpc.NewClient(e.grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithUnaryInterceptor(interceptor.UnaryClientInterceptor(opts...)))
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { conn.Close() })
	return grpcKills{adminv1.NewKillSwitchServiceClient(conn)}
}

type grpcKills struct {
	c adminv1.KillSwitchServiceClient
}

func (c grpcKills) SetKillSwitch(ctx context.Context, r *adminv1.SetKillSwitchRequest) (*adminv1.SetKillSwitchResponse, error) {
	return c.c.SetKillSwitch(ctx, r)
}
func (c grpcKills) ListKillSwitches(ctx context.Context, r *adminv1.ListKillSwitchesRequest) (*adminv1.ListKillSwitchesResponse, error) {
	return c.c.ListKillSwitches(ctx, r)
}
func (c grpcKills) LiftKillSwitch(ctx context.Context, r *adminv1.LiftKillSwitchRequest) (*adminv1.LiftKillSwitchResponse, error) {
	return c.c.LiftKillSwitch(ctx, r)
}

type connectKills struct {
	c adminv1connect.KillSwitchServiceClient
}

func (c connectKills) SetKillSwitch(ctx context.Context, r *adminv1.SetKillSwitchRequest) (*adminv1.SetKillSwitchResponse, error) {
	return unwrap(c.c.SetKillSwitch(ctx, connect.NewRequest(r)))
}
func (c connectKills) ListKillSwitches(ctx context.Context, r *adminv1.ListKillSwitchesRequest) (*adminv1.ListKillSwitchesResponse, error) {
	return unwrap(c.c.ListKillSwitches(ctx, connect.NewRequest(r)))
}
func (c connectKills) LiftKillSwitch(ctx context.Context, r *adminv1.LiftKillSwitchRequest) (*adminv1.LiftKillSwitchResponse, error) {
	return unwrap(c.c.LiftKillSwitch(ctx, connect.NewRequest(r)))
}

func TestKillSwitchesSetListLift(t *testing.T) {
	forEachTransport(t, func(t *testing.T, tr string) {
		e := newEnv(t)
		c := e.killClient(tr, e.tokens(alice))
		ctx := context.Background()
		set, err := c.SetKillSwitch(ctx, &adminv1.SetKillSwitchRequest{Scope: "agent:support-bot", Reason: "leaking tickets", Ttl: durationpb.New(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		ks := set.GetKillSwitch()
		if ks.GetId() == "" || ks.GetScope() != "agent:support-bot" || ks.GetSetBy() != alice.ID || ks.GetReason() != "leaking tickets" ||
			!ks.GetSetAt().AsTime().Equal(start) || !ks.GetExpiresAt().AsTime().Equal(start.Add(time.Hour)) {
			t.Fatalf("set %v", ks)
		}
		// In force in the store the Towers read, as soon as the call returned.
		m, _ := e.kills.Matcher()
		if sw, ok := m.Match(tollgate.Agent{ID: "support-bot"}, "t", e.clock()); !ok || sw.ID != ks.GetId() {
			t.Fatalf("switch not in force: %v %v", sw, ok)
		}
		e.advance(time.Second)
		forever, err := c.SetKillSwitch(ctx, &adminv1.SetKillSwitchRequest{Scope: "global", Reason: "all stop"})
		if err != nil || forever.GetKillSwitch().GetExpiresAt() != nil {
			t.Fatalf("switch without ttl: %v, %v", forever, err)
		}
		list, err := c.ListKillSwitches(ctx, &adminv1.ListKillSwitchesRequest{})
		if err != nil || len(list.GetKillSwitches()) != 2 || list.GetKillSwitches()[0].GetId() != ks.GetId() {
			t.Fatalf("list: %v, %v", list, err)
		}

		lifted, err := c.LiftKillSwitch(ctx, &adminv1.LiftKillSwitchRequest{Id: ks.GetId(), Reason: "fixed"})
		if err != nil || lifted.GetKillSwitch().GetId() != ks.GetId() {
			t.Fatalf("lift: %v, %v", lifted, err)
		}
		_, err = c.LiftKillSwitch(ctx, &adminv1.LiftKillSwitchRequest{Id: ks.GetId()})
		wantCode(t, err, codes.NotFound)

		// The switch without a ttl stays; an expired one is not listed.
		e.advance(2 * time.Hour)
		if list, err := c.ListKillSwitches(ctx, &adminv1.ListKillSwitchesRequest{}); err != nil || len(list.GetKillSwitches()) != 1 {
			t.Errorf("list after the lift: %v, %v", list, err)
		}

		var verbs []string
		for _, ev := range e.audit.all() {
			verbs = append(verbs, string(ev.Outcome)+":"+ev.ToolRequest.Action)
		}
		if got := strings.Join(verbs, " "); got != "executed:set_kill_switch executed:set_kill_switch executed:lift_kill_switch failed:lift_kill_switch" {
			t.Errorf("audit = %s", got)
		}
		first := e.audit.all()[0]
		if first.Agent.ID != alice.ID || first.ToolRequest.ResourceType != "kill_switch" || first.Intent.Reason != "leaking tickets" {
			t.Errorf("audit record = %+v", first)
		}
		if scope, _ := first.Decision.Metadata.Get("scope"); scope != "agent:support-bot" {
			t.Errorf("audit metadata = %v", first.Decision.Metadata)
		}
	})
}

func TestKillSwitchesRefuse(t *testing.T) {
	forEachTransport(t, func(t *testing.T, tr string) {
		e := newEnv(t)
		c := e.killClient(tr, e.tokens(alice))
		ctx := context.Background()
		for _, req := range []*adminv1.SetKillSwitchRequest{
			{Scope: "", Reason: "r"},
			{Scope: "agent", Reason: "r"},
			{Scope: "tool:a*b", Reason: "r"},
			{Scope: "global", Reason: " "},
			{Scope: "global", Reason: "r", Ttl: durationpb.New(-time.Minute)},
		} {
			_, err := c.SetKillSwitch(ctx, req)
			wantCode(t, err, codes.InvalidArgument)
		}
		_, err := c.LiftKillSwitch(ctx, &adminv1.LiftKillSwitchRequest{})
		wantCode(t, err, codes.InvalidArgument)
		if list, _ := e.kills.List(ctx, e.clock()); len(list) != 0 {
			t.Errorf("refused requests set switches: %v", list)
		}

		// Not an admin: refused and audited, nothing set.
		_, err = e.killClient(tr, e.tokens(bob)).SetKillSwitch(ctx, &adminv1.SetKillSwitchRequest{Scope: "global", Reason: "r"})
		wantCode(t, err, codes.PermissionDenied)
		evs := e.audit.all()
		if len(evs) != 1 || evs[0].Outcome != tollgate.OutcomeBlocked || evs[0].Agent.ID != bob.ID ||
			evs[0].ToolRequest.Tool != adminv1.KillSwitchService_SetKillSwitch_FullMethodName {
			t.Errorf("audit = %+v", evs)
		}
		// No credentials.
		_, err = e.killClient(tr, func(context.Context) (string, error) { return "", nil }).ListKillSwitches(ctx, &adminv1.ListKillSwitchesRequest{})
		wantCode(t, err, codes.Unauthenticated)
	})
}
