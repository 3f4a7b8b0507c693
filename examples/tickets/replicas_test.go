package main

import (
	"context"
	"crypto/ed25519"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/grpc/codes"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/admin/adminv1"
	"github.com/tollgate-go/tollgate/admin/adminv1/adminv1connect"
	ticketsv1 "github.com/tollgate-go/tollgate/examples/tickets/gen/tickets/v1"
	"github.com/tollgate-go/tollgate/identity"
	"github.com/tollgate-go/tollgate/interceptor"
	"github.com/tollgate-go/tollgate/internal/redistest"
)

// replica is one tickets server with --redis: its tools and admin API
// listen on loopback until the test ends.
type replica struct {
	desk  ticketsv1.TicketServiceClient
	admin string // the admin API's address
}

// startReplica serves a gateway whose stores are in the Redis server at
// redisAddr, as run does with --serve and --redis, trusting keys for agent
// and admin tokens and calling as support-bot with key.
func startReplica(t *testing.T, redisAddr string, key ed25519.PrivateKey, keys identity.KeySet) replica {
	t.Helper()
	dir := t.TempDir()
	st, err := redisStores(t.Context(), redisAddr)
	if err != nil {
		t.Fatal(err)
	}
	files, err := writeConfig(dir)
	if err != nil {
		t.Fatal(err)
	}
	g, err := newGatewayFiles(files, st, filepath.Join(dir, "audit.jsonl"), keys, keys, nil)
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
	stopStores := st.start(ctx, func(err error) { t.Errorf("kill switch refresh: %v", err) })
	served := make(chan error, 1)
	go func() { served <- g.serve(ctx, ls[0], ls[1]) }()
	t.Cleanup(func() {
		stop()
		if err := <-served; err != nil {
			t.Errorf("serve: %v", err)
		}
		if err := stopStores(); err != nil {
			t.Errorf("stores: %v", err)
		}
	})
	bot, err := newSigner(key, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	desk, conn, err := newGRPCClient(ls[0].Addr().String(), bot.Token)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return replica{desk: desk, admin: ls[1].Addr().String()}
}

// fetch makes a call the policy allows without limit.
func (r replica) fetch(ctx context.Context) outcome {
	_, err := r.desk.FetchAttachment(ctx, &ticketsv1.FetchAttachmentRequest{TicketId: "T-1001", Url: fileStore + "T-1001/log.txt"})
	return outcomeOf(err)
}

// eventually polls r.fetch until it answers want, for at most 5 seconds:
// another replica's change reaches this one through Redis pub/sub.
func (r replica) eventually(t *testing.T, want codes.Code, reason tollgate.Reason) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		o := r.fetch(t.Context())
		if o.code == want && o.reason == string(reason) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("fetch: %v %q (%s), want %v %q within 5s", o.code, o.reason, o.message, want, reason)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Two replicas started with the same keys and --redis share kill switches
// and approvals: a switch set through A's admin API stops calls on B, and
// lifted through B's lets A's run again; a deletion deferred on A is
// approved through B's admin API, runs once on B, and is used up on A.
func TestReplicasShareRedis(t *testing.T) {
	srv := redistest.Start(t)
	key, keys, err := newAgentKey()
	if err != nil {
		t.Fatal(err)
	}
	a := startReplica(t, srv.Addr, key, keys)
	b := startReplica(t, srv.Addr, key, keys)
	alice, err := newAdminSigner(key, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	asAlice := connect.WithInterceptors(interceptor.NewConnectClientInterceptor(interceptor.WithTokenSource(alice.Token)))
	killsVia := func(r replica) adminv1connect.KillSwitchServiceClient {
		return adminv1connect.NewKillSwitchServiceClient(newH2CClient(), "http://"+r.admin, asAlice)
	}
	ctx := t.Context()

	if o := b.fetch(ctx); o.code != codes.OK {
		t.Fatalf("B before the switch: %v %q", o.code, o.reason)
	}
	set, err := killsVia(a).SetKillSwitch(ctx, connect.NewRequest(&adminv1.SetKillSwitchRequest{
		Scope: "agent:" + supportBot.ID, Reason: "INC-4411",
	}))
	if err != nil {
		t.Fatal(err)
	}
	b.eventually(t, codes.PermissionDenied, tollgate.ReasonKilled)
	if o := a.fetch(ctx); o.code != codes.PermissionDenied || o.reason != string(tollgate.ReasonKilled) {
		t.Fatalf("A with its own switch set: %v %q, want PermissionDenied KILLED", o.code, o.reason)
	}
	if _, err := killsVia(b).LiftKillSwitch(ctx, connect.NewRequest(&adminv1.LiftKillSwitchRequest{Id: set.Msg.GetKillSwitch().GetId()})); err != nil {
		t.Fatal(err)
	}
	a.eventually(t, codes.OK, "")

	del := func(ctx context.Context, r replica) outcome {
		_, err := r.desk.DeleteTicket(ctx, &ticketsv1.DeleteTicketRequest{TicketId: "T-1004"})
		return outcomeOf(err)
	}
	pending := del(ctx, a)
	if pending.code != codes.FailedPrecondition || pending.approvalID == "" {
		t.Fatalf("DeleteTicket on A: %v %q (approval %q), want FailedPrecondition with an approval id", pending.code, pending.reason, pending.approvalID)
	}
	resp, err := newAdminClient(newH2CClient(), b.admin, alice.Token).Approve(ctx, connect.NewRequest(&adminv1.ApproveRequest{Id: pending.approvalID, Note: "spam"}))
	if err != nil {
		t.Fatalf("approve A's request on B: %v", err)
	}
	if by := resp.Msg.GetApproval().GetDecidedBy(); !strings.Contains(by, "alice") {
		t.Errorf("decided by %q, want alice", by)
	}
	retry := interceptor.ContextWithApprovalID(ctx, pending.approvalID)
	if o := del(retry, b); o.code != codes.OK {
		t.Fatalf("DeleteTicket on B with the approval: %v %q (%s), want OK", o.code, o.reason, o.message)
	}
	if o := del(retry, a); o.code != codes.PermissionDenied || o.reason != string(tollgate.ReasonApprovalDenied) {
		t.Fatalf("DeleteTicket on A with the used approval: %v %q, want PermissionDenied APPROVAL_DENIED", o.code, o.reason)
	}
}

// A replica pointed at a Redis that does not answer fails at start with
// one clear line naming the address, instead of serving without its
// shared state.
func TestRedisUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	_, err = redisStores(t.Context(), addr)
	if err == nil || !strings.Contains(err.Error(), "redis at "+addr+" is unreachable") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("redisStores(%s) = %v, want one line saying it is unreachable", addr, err)
	}
	if err := run(t.Context(), options{redisAddr: addr}); err == nil || !strings.Contains(err.Error(), "--redis needs --serve") {
		t.Fatalf("run without --serve: %v, want --redis needs --serve", err)
	}
}
