package identity_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/audit"
	"github.com/tollgate-go/tollgate/identity"
	"github.com/tollgate-go/tollgate/interceptor"
	testv1 "github.com/tollgate-go/tollgate/internal/testproto"
	"github.com/tollgate-go/tollgate/internal/testproto/testv1connect"
	"github.com/tollgate-go/tollgate/tower"
)

// These tests run the identity verifiers behind the real front doors:
// grpc-go and connect-go servers on 127.0.0.1, their client interceptors
// attaching tokens from a Signer, and a tower auditing every call.

// executions counts handler runs: a refused call must not reach one.
type executions struct{ n atomic.Int32 }

func (e *executions) echo(ctx context.Context, msg string) string {
	e.n.Add(1)
	a, _ := identity.FromContext(ctx)
	return a.ID + ":" + msg
}

type grpcEcho struct {
	testv1.UnimplementedToolServiceServer
	ex *executions
}

func (s grpcEcho) Echo(ctx context.Context, r *testv1.EchoRequest) (*testv1.EchoResponse, error) {
	return &testv1.EchoResponse{Message: s.ex.echo(ctx, r.GetMessage())}, nil
}

type connectEcho struct {
	testv1connect.UnimplementedToolServiceHandler
	ex *executions
}

func (s connectEcho) Echo(ctx context.Context, r *connect.Request[testv1.EchoRequest]) (*connect.Response[testv1.EchoResponse], error) {
	return connect.NewResponse(&testv1.EchoResponse{Message: s.ex.echo(ctx, r.Msg.GetMessage())}), nil
}

// auditLog keeps audit events in memory.
type auditLog struct {
	mu     sync.Mutex
	events []audit.Event
}

func (l *auditLog) Emit(_ context.Context, e *audit.Event) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, *e)
	return nil
}

// since returns the events written after the first n.
func (l *auditLog) since(n int) []audit.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.events[n:])
}

func (l *auditLog) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.events)
}

// newIdentityTower gates testdata's manifest with testdata's policy, at t0,
// behind v.
func newIdentityTower(t *testing.T, v identity.Verifier, sink audit.Sink) *tower.Tower {
	t.Helper()
	cfg, err := tower.LoadFiles(tower.Files{Policy: "testdata/policy.yaml", Manifest: "testdata/manifest.yaml", Clock: fixedAt(t0)})
	if err != nil {
		t.Fatal(err)
	}
	tw, err := tower.New(cfg, tower.WithVerifier(v), tower.WithAuditSink(sink), tower.WithClock(fixedAt(t0)))
	if err != nil {
		t.Fatal(err)
	}
	return tw
}

// echoFunc calls Echo through one client stack with the client options.
type echoFunc func(ctx context.Context, msg string, opts ...interceptor.ClientOption) (string, error)

// rpcStack is a server and its client, each of one kind.
type rpcStack struct {
	name  string
	start func(t *testing.T, tw *tower.Tower, ex *executions) echoFunc
}

var rpcStacks = []rpcStack{
	{"grpc-go", startGRPCEcho},
	{"connect", func(t *testing.T, tw *tower.Tower, ex *executions) echoFunc {
		return startConnectEcho(t, tw, ex)
	}},
	{"connect-grpc", func(t *testing.T, tw *tower.Tower, ex *executions) echoFunc {
		return startConnectEcho(t, tw, ex, connect.WithGRPC())
	}},
}

func loopback(t *testing.T) net.Listener {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return lis
}

func startGRPCEcho(t *testing.T, tw *tower.Tower, ex *executions) echoFunc {
	lis := loopback(t)
	srv := grpc.NewServer(grpc.ChainUnaryInterceptor(interceptor.UnaryServerInterceptor(tw)))
	testv1.RegisterToolServiceServer(srv, grpcEcho{ex: ex})
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	return func(ctx context.Context, msg string, opts ...interceptor.ClientOption) (string, error) {
		cc, err := grpc.NewClient(lis.Addr().String(),
			grpc.WithTransportCredentials(insecure.NewCredentials()),
			grpc.WithChainUnaryInterceptor(interceptor.UnaryClientInterceptor(opts...)))
		if err != nil {
			return "", err
		}
		defer cc.Close()
		r, err := testv1.NewToolServiceClient(cc).Echo(ctx, &testv1.EchoRequest{Message: msg})
		return r.GetMessage(), err
	}
}

func startConnectEcho(t *testing.T, tw *tower.Tower, ex *executions, protocol ...connect.ClientOption) echoFunc {
	lis := loopback(t)
	mux := http.NewServeMux()
	mux.Handle(testv1connect.NewToolServiceHandler(connectEcho{ex: ex}, connect.WithInterceptors(interceptor.NewConnectInterceptor(tw))))
	serverProtocols := new(http.Protocols)
	serverProtocols.SetHTTP1(true)
	serverProtocols.SetUnencryptedHTTP2(true)
	srv := &http.Server{Handler: mux, Protocols: serverProtocols}
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(func() { _ = srv.Close() })
	clientProtocols := new(http.Protocols)
	clientProtocols.SetUnencryptedHTTP2(true)
	hc := &http.Client{Transport: &http.Transport{Protocols: clientProtocols}}
	t.Cleanup(hc.CloseIdleConnections)
	return func(ctx context.Context, msg string, opts ...interceptor.ClientOption) (string, error) {
		copts := append([]connect.ClientOption{connect.WithInterceptors(interceptor.NewConnectClientInterceptor(opts...))}, protocol...)
		c := testv1connect.NewToolServiceClient(hc, "http://"+lis.Addr().String(), copts...)
		r, err := c.Echo(ctx, connect.NewRequest(&testv1.EchoRequest{Message: msg}))
		if err != nil {
			return "", err
		}
		return r.Msg.GetMessage(), nil
	}
}

// errorInfo returns the status code and ErrorInfo a client saw.
func errorInfo(t *testing.T, err error) (codes.Code, *errdetails.ErrorInfo) {
	t.Helper()
	var details []any
	var code codes.Code
	if ce := new(connect.Error); errors.As(err, &ce) {
		code = codes.Code(ce.Code())
		for _, d := range ce.Details() {
			v, derr := d.Value()
			if derr != nil {
				t.Fatal(derr)
			}
			details = append(details, v)
		}
	} else {
		st, ok := status.FromError(err)
		if !ok {
			t.Fatalf("not an RPC error: %v", err)
		}
		code, details = st.Code(), st.Details()
	}
	for _, d := range details {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			return code, info
		}
	}
	return code, nil
}

// tokenSource always sends token.
func tokenSource(token string) interceptor.ClientOption {
	return interceptor.WithTokenSource(func(context.Context) (string, error) { return token, nil })
}

// signerFor returns a single-use Signer for a with the test key, at t0
// unless opts say otherwise.
func signerFor(t *testing.T, key ed25519.PrivateKey, kid string, a tollgate.Agent, opts ...identity.SignerOption) *identity.Signer {
	t.Helper()
	opts = append([]identity.SignerOption{identity.WithAudience(testAudience), identity.WithIssuer(testIssuer), identity.WithClock(fixedAt(t0)), identity.WithSingleUse()}, opts...)
	s, err := identity.NewSigner(key, kid, a, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func signed(t *testing.T, s *identity.Signer) string {
	t.Helper()
	tok, err := s.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// integrationVerifier is what a migrating service runs: single-use agent
// tokens from a JWKS file, then legacy signatures.
func integrationVerifier(t *testing.T) identity.Verifier {
	t.Helper()
	keys, err := identity.NewJWKSFile(writeJWKS(t, jwk(agentKey)))
	if err != nil {
		t.Fatal(err)
	}
	tokens, err := identity.NewJWTVerifier(keys, identity.WithAudience(testAudience), identity.WithIssuer(testIssuer),
		identity.WithClock(fixedAt(t0)), identity.WithReplayCache(identity.NewMemoryReplayCache(identity.WithClock(fixedAt(t0)))))
	if err != nil {
		t.Fatal(err)
	}
	return identity.Chain(tokens, identity.NewLegacyHMAC(demoKey))
}

// TestIdentityRefusalsOverRPC sends every refused credential of the
// issue's list through each front door: each is Unauthenticated with
// ErrorInfo IDENTITY_INVALID, reaches no handler, and is audited once as
// blocked at the identity stage.
func TestIdentityRefusalsOverRPC(t *testing.T) {
	good := signerFor(t, agentKey, agentKID, workerAgent())
	tamper := func(tok string, f func(map[string]any)) string {
		parts := strings.Split(tok, ".")
		claims := decodeSegment(t, parts[1])
		f(claims)
		return parts[0] + "." + b64(mustJSON(t, claims)) + "." + parts[2]
	}
	pub := agentKey.Public().(ed25519.PublicKey)

	for _, st := range rpcStacks {
		t.Run(st.name, func(t *testing.T) {
			log := &auditLog{}
			ex := &executions{}
			call := st.start(t, newIdentityTower(t, integrationVerifier(t), log), ex)
			ctx := context.Background()

			// The genuine token passes, once.
			replayed := signed(t, good)
			got, err := call(ctx, "hi", tokenSource(replayed))
			if err != nil || got != "worker-agent:hi" {
				t.Fatalf("genuine token: %q, %v", got, err)
			}

			cases := []struct {
				name string
				opts []interceptor.ClientOption
			}{
				{"no credentials", nil},
				{"expired", []interceptor.ClientOption{tokenSource(signed(t, signerFor(t, agentKey, agentKID, workerAgent(), identity.WithClock(fixedAt(t0.Add(-time.Hour))))))}},
				{"not yet valid", []interceptor.ClientOption{tokenSource(signed(t, signerFor(t, agentKey, agentKID, workerAgent(), identity.WithClock(fixedAt(t0.Add(time.Hour))))))}},
				{"wrong audience", []interceptor.ClientOption{tokenSource(signed(t, signerFor(t, agentKey, agentKID, workerAgent(), identity.WithAudience("billing-service"))))}},
				{"wrong issuer", []interceptor.ClientOption{tokenSource(signed(t, signerFor(t, agentKey, agentKID, workerAgent(), identity.WithIssuer("https://evil.example"))))}},
				{"foreign key", []interceptor.ClientOption{tokenSource(signed(t, signerFor(t, foreignKey, agentKID, workerAgent())))}},
				{"unknown kid", []interceptor.ClientOption{tokenSource(signed(t, signerFor(t, foreignKey, kidOf(foreignKey), workerAgent())))}},
				{"alg none", []interceptor.ClientOption{tokenSource(signRaw(nil, `{"alg":"none","kid":"`+agentKID+`"}`, payload(`"jti":"none-1"`)))}},
				{"HS256 keyed with the public key", []interceptor.ClientOption{tokenSource(hs256Token(t, pub, payload(`"jti":"hs-1"`)))}},
				{"tampered payload", []interceptor.ClientOption{tokenSource(tamper(signed(t, good), func(c map[string]any) { c["sub"] = "admin-agent" }))}},
				{"tampered chain", []interceptor.ClientOption{tokenSource(tamper(signed(t, good), func(c map[string]any) { delete(c, "act") }))}},
				{"replayed jti", []interceptor.ClientOption{tokenSource(replayed)}},
				{"oversized", []interceptor.ClientOption{tokenSource(signRaw(agentKey, edHeader, payload(`"jti":"big","meta":{"pad":"`+strings.Repeat("x", identity.MaxTokenSize)+`"}`)))}},
				{"garbage", []interceptor.ClientOption{tokenSource("not-a-token")}},
				{"forged legacy signature", []interceptor.ClientOption{interceptor.WithAgent(identity.SignLegacy(workerAgent(), []byte("wrong key")))}},
				{"claimed agent without signature", []interceptor.ClientOption{interceptor.WithAgent(workerAgent())}},
			}
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					before, ran := log.len(), ex.n.Load()
					_, err := call(ctx, "hi", tc.opts...)
					code, info := errorInfo(t, err)
					if code != codes.Unauthenticated || info.GetReason() != string(tollgate.ReasonIdentityInvalid) || info.GetDomain() != interceptor.ErrorDomain {
						t.Fatalf("got %v %v (%v), want Unauthenticated with ErrorInfo IDENTITY_INVALID", code, info, err)
					}
					if ex.n.Load() != ran {
						t.Error("the handler ran")
					}
					events := log.since(before)
					if len(events) != 1 || events[0].Outcome != tollgate.OutcomeBlocked ||
						events[0].ReasonCode != tollgate.ReasonIdentityInvalid || events[0].Stage != tollgate.StageIdentity {
						t.Fatalf("audit = %+v, want one blocked IDENTITY_INVALID event", events)
					}
				})
			}
		})
	}
}

// TestPolicySeesOnlyVerifiedFacts: the policy allows reads only through an
// orchestrator chain or for direct prod support agents, and only the
// token's claims count, never the agent header.
func TestPolicySeesOnlyVerifiedFacts(t *testing.T) {
	direct := tollgate.Agent{ID: "worker-agent", Version: "2.1.0", Owner: "ops-team"}
	support := direct
	support.Metadata = tollgate.Params{{Key: "environment", Value: "prod"}, {Key: "role", Value: "support"}}
	viaRogue := workerAgent()
	viaRogue.DelegatedBy = []string{"rogue"}

	for _, st := range rpcStacks {
		t.Run(st.name, func(t *testing.T) {
			log := &auditLog{}
			ex := &executions{}
			call := st.start(t, newIdentityTower(t, integrationVerifier(t), log), ex)
			ctx := context.Background()
			for _, tc := range []struct {
				name    string
				token   tollgate.Agent
				claimed *tollgate.Agent // sent as the agent header besides the token
				allowed bool
			}{
				{"chain through orchestrator", workerAgent(), nil, true},
				{"direct prod support agent", support, nil, true},
				{"direct agent", direct, nil, false},
				{"direct agent claiming an orchestrator chain", direct, &tollgate.Agent{ID: "worker-agent", Version: "2.1.0", Owner: "ops-team", DelegatedBy: []string{"orchestrator"}}, false},
				{"direct agent claiming prod support", direct, &support, false},
				{"rogue chain claiming orchestrator", viaRogue, ptr(workerAgent()), false},
				{"intruder claiming to be a worker", tollgate.Agent{ID: "intruder"}, ptr(workerAgent()), false},
			} {
				t.Run(tc.name, func(t *testing.T) {
					opts := []interceptor.ClientOption{tokenSource(signed(t, signerFor(t, agentKey, agentKID, tc.token)))}
					if tc.claimed != nil {
						opts = append(opts, interceptor.WithAgent(*tc.claimed))
					}
					before := log.len()
					got, err := call(ctx, "hi", opts...)
					if tc.allowed {
						if err != nil || got != tc.token.ID+":hi" {
							t.Fatalf("%q, %v; want allowed", got, err)
						}
					} else if code, info := errorInfo(t, err); code != codes.PermissionDenied || info.GetReason() != string(tollgate.ReasonPolicyDenied) {
						t.Fatalf("%v %v (%v), want PermissionDenied POLICY_DENIED", code, info, err)
					}
					events := log.since(before)
					if len(events) == 0 {
						t.Fatal("not audited")
					}
					for _, e := range events {
						if e.Agent.ID != tc.token.ID || !slices.Equal(e.Agent.DelegatedBy, tc.token.DelegatedBy) {
							t.Errorf("audited agent %+v, want the token's %+v", e.Agent, tc.token)
						}
					}
				})
			}
		})
	}
}

// TestLegacySignatureNeverAudited writes a real audit log: neither a valid
// nor a forged legacy signature may appear in it, since anyone reading the
// log could replay a valid one (Tollgate 1.4.0 logged it).
func TestLegacySignatureNeverAudited(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	sink, err := audit.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ex := &executions{}
	call := startGRPCEcho(t, newIdentityTower(t, integrationVerifier(t), sink), ex)
	legacy := identity.SignLegacy(workerAgent(), demoKey)
	forged := identity.SignLegacy(workerAgent(), []byte("guess"))
	ctx := context.Background()
	if got, err := call(ctx, "hi", interceptor.WithAgent(legacy)); err != nil || got != "worker-agent:hi" {
		t.Fatalf("legacy agent: %q, %v", got, err)
	}
	if _, err := call(ctx, "hi", interceptor.WithAgent(forged)); err == nil {
		t.Fatal("forged legacy signature accepted")
	}
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(data, []byte("\n")); n < 3 { // authorized, executed, blocked
		t.Fatalf("audit log has %d lines, want at least 3:\n%s", n, data)
	}
	for _, sig := range []tollgate.Agent{legacy, forged} {
		v, _ := sig.Metadata.Get(identity.LegacySignatureKey)
		if bytes.Contains(data, []byte(v.(string))) {
			t.Errorf("audit log contains the signature %s", v)
		}
	}
	if bytes.Contains(data, []byte(identity.LegacySignatureKey)) {
		t.Errorf("audit log mentions %s:\n%s", identity.LegacySignatureKey, data)
	}
	if !bytes.Contains(data, []byte(`"environment": "prod"`)) {
		t.Errorf("audit log lost the rest of the metadata:\n%s", data)
	}
}

func ptr[T any](v T) *T { return &v }
