package main

import (
	"context"
	"net"
	"path/filepath"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/tollgate-go/tollgate/admin/adminv1"
	"github.com/tollgate-go/tollgate/admin/adminv1/adminv1connect"
	ticketsv1 "github.com/tollgate-go/tollgate/examples/tickets/gen/tickets/v1"
	"github.com/tollgate-go/tollgate/interceptor"
)

// An admin stops support-bot through the admin API: its next call is
// refused PERMISSION_DENIED with reason KILLED, and runs again once the
// switch is lifted.
func TestKillSwitchStopsSupportBot(t *testing.T) {
	dir := t.TempDir()
	key, keys, err := newAgentKey()
	if err != nil {
		t.Fatal(err)
	}
	g, err := newGateway(dir, filepath.Join(dir, "audit.jsonl"), keys, keys)
	if err != nil {
		t.Fatal(err)
	}
	var ls [2]net.Listener
	for i := range ls {
		if ls[i], err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
	}
	ctx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- g.serve(ctx, ls[0], ls[1]) }()
	defer func() {
		stop()
		if err := <-served; err != nil {
			t.Errorf("serve: %v", err)
		}
	}()

	bot, err := newSigner(key, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	desk, conn, err := newGRPCClient(ls[0].Addr().String(), bot.Token)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	get := func() error {
		_, err := desk.GetTicket(context.Background(), &ticketsv1.GetTicketRequest{TicketId: "T-1001"})
		return err
	}
	if err := get(); err != nil {
		t.Fatalf("before the switch: %v", err)
	}

	aliceTokens, err := newAdminSigner(key, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	kills := adminv1connect.NewKillSwitchServiceClient(newH2CClient(), "http://"+ls[1].Addr().String(),
		connect.WithInterceptors(interceptor.NewConnectClientInterceptor(interceptor.WithTokenSource(aliceTokens.Token))))
	set, err := kills.SetKillSwitch(context.Background(), connect.NewRequest(&adminv1.SetKillSwitchRequest{
		Scope: "agent:" + supportBot.ID, Reason: "closing tickets it should not",
	}))
	if err != nil {
		t.Fatal(err)
	}

	err = get()
	st := status.Convert(err)
	var reason string
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			reason = info.GetReason()
		}
	}
	if st.Code() != codes.PermissionDenied || reason != "KILLED" {
		t.Fatalf("killed call: %v (reason %q), want PermissionDenied KILLED", err, reason)
	}

	if _, err := kills.LiftKillSwitch(context.Background(), connect.NewRequest(&adminv1.LiftKillSwitchRequest{Id: set.Msg.GetKillSwitch().GetId()})); err != nil {
		t.Fatal(err)
	}
	if err := get(); err != nil {
		t.Fatalf("after the lift: %v", err)
	}
}
