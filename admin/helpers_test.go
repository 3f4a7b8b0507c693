package admin

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/admin/adminv1"
	"github.com/tollgate-go/tollgate/admin/adminv1/adminv1connect"
	"github.com/tollgate-go/tollgate/approvals"
	"github.com/tollgate-go/tollgate/audit"
	"github.com/tollgate-go/tollgate/grants"
	"github.com/tollgate-go/tollgate/identity"
	"github.com/tollgate-go/tollgate/interceptor"
	"github.com/tollgate-go/tollgate/killswitch"
)

const adminAudience = "tollgate-admin"

var (
	alice = tollgate.Agent{ID: "alice@example.com", Metadata: tollgate.Params{{Key: RoleKey, Value: DefaultRole}}}
	bob   = tollgate.Agent{ID: "bob@example.com", Metadata: tollgate.Params{{Key: RoleKey, Value: "viewer"}}}
	// hrBot is the agent whose calls wait for approval.
	hrBot = tollgate.Agent{ID: "hr-bot", Version: "1.0", Owner: "hr", DelegatedBy: []string{"orchestrator"}}
)

// start is the fixed time the tests' clock starts at.
var start = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

// recorder is an audit.Sink that keeps copies of the events.
type recorder struct {
	mu     sync.Mutex
	events []audit.Event
	fail   atomic.Bool
}

func (r *recorder) Emit(_ context.Context, e *audit.Event) error {
	if r.fail.Load() {
		return errors.New("disk full")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, *e)
	return nil
}

func (r *recorder) all() []audit.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]audit.Event(nil), r.events...)
}

// env is an admin API over memory stores, with tokens for alice (admin)
// and bob (not), served on 127.0.0.1 over grpc-go and connect-go.
type env struct {
	t         *testing.T
	store     approvals.Store
	grants    *grants.Memory
	audit     *recorder
	logs      *bytes.Buffer
	now       atomic.Int64 // unix nanoseconds
	ticks     chan time.Time
	approvals *ApprovalService
	grantSvc  *GrantService
	kills     *killswitch.Memory
	killSvc   *KillSwitchService
	key       ed25519.PrivateKey
	grpcAddr  string
	httpURL   string
}

func newEnv(t *testing.T, opts ...Option) *env {
	t.Helper()
	return newEnvWith(t, approvals.NewMemoryStore(), opts...)
}

// newEnvWith is newEnv over the given approvals store.
func newEnvWith(t *testing.T, store approvals.Store, opts ...Option) *env {
	t.Helper()
	e := &env{t: t, store: store, grants: grants.NewMemory(), audit: &recorder{}, logs: &bytes.Buffer{}, ticks: make(chan time.Time)}
	e.now.Store(start.UnixNano())
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	e.key = priv
	keys, err := identity.NewKeySet(identity.Key{ID: identity.KeyID(pub), Public: pub})
	if err != nil {
		t.Fatal(err)
	}
	// Tokens are minted and verified on the test clock, so that tests can
	// let them expire without waiting.
	verifier, err := identity.NewJWTVerifier(keys, identity.WithAudience(adminAudience), identity.WithClock(e.clock))
	if err != nil {
		t.Fatal(err)
	}
	base := []Option{
		WithVerifier(verifier),
		WithAuditSink(e.audit),
		WithClock(e.clock),
		WithLogger(slog.New(slog.NewTextHandler(&syncWriter{w: e.logs}, nil))),
		WithWatchTicks(func() (<-chan time.Time, func()) { return e.ticks, func() {} }),
		WithGrantStore(e.grants),
	}
	opts = append(base, opts...)
	if e.approvals, err = NewApprovalService(e.store, opts...); err != nil {
		t.Fatal(err)
	}
	if e.grantSvc, err = NewGrantService(e.grants, opts...); err != nil {
		t.Fatal(err)
	}
	if e.kills, err = killswitch.NewMemory(killswitch.WithClock(e.clock)); err != nil {
		t.Fatal(err)
	}
	if e.killSvc, err = NewKillSwitchService(e.kills, opts...); err != nil {
		t.Fatal(err)
	}

	srv := grpc.NewServer()
	e.approvals.RegisterGRPC(srv)
	e.grantSvc.RegisterGRPC(srv)
	e.killSvc.RegisterGRPC(srv)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(srv.Stop)
	e.grpcAddr = l.Addr().String()

	mux := http.NewServeMux()
	mux.Handle(e.approvals.ConnectHandler())
	mux.Handle(e.grantSvc.ConnectHandler())
	mux.Handle(e.killSvc.ConnectHandler())
	hs := httptest.NewServer(mux)
	t.Cleanup(hs.Close)
	e.httpURL = hs.URL
	return e
}

type syncWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

func (e *env) clock() time.Time { return time.Unix(0, e.now.Load()).UTC() }

func (e *env) advance(d time.Duration) { e.now.Add(int64(d)) }

// tokens returns a token source for agent, signed by the admin key for the
// admin audience.
func (e *env) tokens(agent tollgate.Agent) func(context.Context) (string, error) {
	e.t.Helper()
	return e.tokensFor(agent, adminAudience)
}

func (e *env) tokensFor(agent tollgate.Agent, audience string) func(context.Context) (string, error) {
	e.t.Helper()
	s, err := identity.NewSigner(e.key, identity.KeyID(e.key.Public().(ed25519.PublicKey)), agent, identity.WithAudience(audience), identity.WithClock(e.clock))
	if err != nil {
		e.t.Fatal(err)
	}
	return s.Token
}

// park stores a pending request for hr-bot, as a deferred Tower would.
func (e *env) park(user string) string {
	e.t.Helper()
	id, err := e.store.Create(context.Background(), pendingRequest(user, e.clock().Add(time.Hour)))
	if err != nil {
		e.t.Fatal(err)
	}
	return id
}

func pendingRequest(user string, expires time.Time) approvals.Request {
	req := tollgate.ToolRequest{
		Tool: "api:delete_user", Action: "delete", ResourceType: "user", Effect: tollgate.EffectDelete,
		Params: tollgate.Params{{Key: "user", Value: user}, {Key: "api_token", Value: "hunter2"}},
	}
	intent := tollgate.Intent{Action: "offboard", Reason: "left the company"}
	return approvals.Request{
		Agent: hrBot, Intent: intent, ToolRequest: req,
		RequestHash: approvals.RequestHash(hrBot, intent, req),
		Reason:      "deletes need a human", PolicyID: "ask_deletes", ExpiresAt: expires,
	}
}

// client is what the tests need of either stack's client.
type client interface {
	ListPending(context.Context, *adminv1.ListPendingRequest) (*adminv1.ListPendingResponse, error)
	GetApproval(context.Context, *adminv1.GetApprovalRequest) (*adminv1.GetApprovalResponse, error)
	Approve(context.Context, *adminv1.ApproveRequest) (*adminv1.ApproveResponse, error)
	Deny(context.Context, *adminv1.DenyRequest) (*adminv1.DenyResponse, error)
	Watch(context.Context, *adminv1.WatchRequest) (func() (*adminv1.WatchResponse, error), error)
	CreateGrant(context.Context, *adminv1.CreateGrantRequest) (*adminv1.CreateGrantResponse, error)
	ListGrants(context.Context, *adminv1.ListGrantsRequest) (*adminv1.ListGrantsResponse, error)
	RevokeGrant(context.Context, *adminv1.RevokeGrantRequest) (*adminv1.RevokeGrantResponse, error)
}

// transports names the two stacks every API test runs on.
var transports = []string{"grpc", "connect"}

// client returns a client of the named stack calling as agent; a nil
// token source sends no credentials.
func (e *env) client(transport string, tokens func(context.Context) (string, error)) client {
	e.t.Helper()
	var opts []interceptor.ClientOption
	if tokens != nil {
		opts = append(opts, interceptor.WithTokenSource(tokens))
	}
	if transport == "connect" {
		ic := connect.WithInterceptors(interceptor.NewConnectClientInterceptor(opts...))
		return connectClient{
			a: adminv1connect.NewApprovalServiceClient(http.DefaultClient, e.httpURL, ic),
			g: adminv1connect.NewGrantServiceClient(http.DefaultClient, e.httpURL, ic),
		}
	}
	conn, err := grpc.NewClient(e.grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithUnaryInterceptor(interceptor.UnaryClientInterceptor(opts...)),
		grpc.WithStreamInterceptor(interceptor.StreamClientInterceptor(opts...)))
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { conn.Close() })
	return grpcClient{a: adminv1.NewApprovalServiceClient(conn), g: adminv1.NewGrantServiceClient(conn)}
}

func grantsAll() grants.Filter { return grants.Filter{IncludeInactive: true} }

func (e *env) admin(transport string) client { return e.client(transport, e.tokens(alice)) }

type grpcClient struct {
	a adminv1.ApprovalServiceClient
	g adminv1.GrantServiceClient
}

func (c grpcClient) ListPending(ctx context.Context, r *adminv1.ListPendingRequest) (*adminv1.ListPendingResponse, error) {
	return c.a.ListPending(ctx, r)
}
func (c grpcClient) GetApproval(ctx context.Context, r *adminv1.GetApprovalRequest) (*adminv1.GetApprovalResponse, error) {
	return c.a.GetApproval(ctx, r)
}
func (c grpcClient) Approve(ctx context.Context, r *adminv1.ApproveRequest) (*adminv1.ApproveResponse, error) {
	return c.a.Approve(ctx, r)
}
func (c grpcClient) Deny(ctx context.Context, r *adminv1.DenyRequest) (*adminv1.DenyResponse, error) {
	return c.a.Deny(ctx, r)
}
func (c grpcClient) Watch(ctx context.Context, r *adminv1.WatchRequest) (func() (*adminv1.WatchResponse, error), error) {
	s, err := c.a.Watch(ctx, r)
	if err != nil {
		return nil, err
	}
	return s.Recv, nil
}
func (c grpcClient) CreateGrant(ctx context.Context, r *adminv1.CreateGrantRequest) (*adminv1.CreateGrantResponse, error) {
	return c.g.CreateGrant(ctx, r)
}
func (c grpcClient) ListGrants(ctx context.Context, r *adminv1.ListGrantsRequest) (*adminv1.ListGrantsResponse, error) {
	return c.g.ListGrants(ctx, r)
}
func (c grpcClient) RevokeGrant(ctx context.Context, r *adminv1.RevokeGrantRequest) (*adminv1.RevokeGrantResponse, error) {
	return c.g.RevokeGrant(ctx, r)
}

type connectClient struct {
	a adminv1connect.ApprovalServiceClient
	g adminv1connect.GrantServiceClient
}

// unwrap turns a connect-go call into the plain shape.
func unwrap[T any](resp *connect.Response[T], err error) (*T, error) {
	if err != nil {
		return nil, err
	}
	return resp.Msg, nil
}

func (c connectClient) ListPending(ctx context.Context, r *adminv1.ListPendingRequest) (*adminv1.ListPendingResponse, error) {
	return unwrap(c.a.ListPending(ctx, connect.NewRequest(r)))
}
func (c connectClient) GetApproval(ctx context.Context, r *adminv1.GetApprovalRequest) (*adminv1.GetApprovalResponse, error) {
	return unwrap(c.a.GetApproval(ctx, connect.NewRequest(r)))
}
func (c connectClient) Approve(ctx context.Context, r *adminv1.ApproveRequest) (*adminv1.ApproveResponse, error) {
	return unwrap(c.a.Approve(ctx, connect.NewRequest(r)))
}
func (c connectClient) Deny(ctx context.Context, r *adminv1.DenyRequest) (*adminv1.DenyResponse, error) {
	return unwrap(c.a.Deny(ctx, connect.NewRequest(r)))
}
func (c connectClient) Watch(ctx context.Context, r *adminv1.WatchRequest) (func() (*adminv1.WatchResponse, error), error) {
	s, err := c.a.Watch(ctx, connect.NewRequest(r))
	if err != nil {
		return nil, err
	}
	return func() (*adminv1.WatchResponse, error) {
		if s.Receive() {
			return s.Msg(), nil
		}
		return nil, s.Err()
	}, nil
}
func (c connectClient) CreateGrant(ctx context.Context, r *adminv1.CreateGrantRequest) (*adminv1.CreateGrantResponse, error) {
	return unwrap(c.g.CreateGrant(ctx, connect.NewRequest(r)))
}
func (c connectClient) ListGrants(ctx context.Context, r *adminv1.ListGrantsRequest) (*adminv1.ListGrantsResponse, error) {
	return unwrap(c.g.ListGrants(ctx, connect.NewRequest(r)))
}
func (c connectClient) RevokeGrant(ctx context.Context, r *adminv1.RevokeGrantRequest) (*adminv1.RevokeGrantResponse, error) {
	return unwrap(c.g.RevokeGrant(ctx, connect.NewRequest(r)))
}

// codeOf reads the status code from either stack's error.
func codeOf(err error) codes.Code {
	var ce *connect.Error
	if errors.As(err, &ce) {
		return codes.Code(ce.Code())
	}
	return status.Code(err)
}

func wantCode(t *testing.T, err error, want codes.Code) {
	t.Helper()
	if got := codeOf(err); got != want {
		t.Fatalf("err = %v (%s), want %s", err, got, want)
	}
}

func forEachTransport(t *testing.T, f func(t *testing.T, transport string)) {
	for _, tr := range transports {
		t.Run(tr, func(t *testing.T) { f(t, tr) })
	}
}
