package main

import (
	"context"
	"embed"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/reflection"

	"github.com/tollgate-go/tollgate/admin"
	"github.com/tollgate-go/tollgate/approvals"
	"github.com/tollgate-go/tollgate/audit"
	"github.com/tollgate-go/tollgate/breaker"
	ticketsv1 "github.com/tollgate-go/tollgate/examples/tickets/gen/tickets/v1"
	"github.com/tollgate-go/tollgate/examples/tickets/gen/tickets/v1/ticketsv1connect"
	"github.com/tollgate-go/tollgate/identity"
	"github.com/tollgate-go/tollgate/interceptor"
	"github.com/tollgate-go/tollgate/tower"
)

// config holds manifest.yaml and policy.yaml, so the example runs from any
// directory. Edit them and run again: they are embedded at build time.
//
//go:embed manifest.yaml policy.yaml
var config embed.FS

// ticketsAudience is the audience agent tokens must name: this service. A
// token minted for another service is refused here.
const ticketsAudience = "tickets"

// adminAudience is the audience admin tokens must name: the admin API. An
// agent's token for the tickets service is refused there, and an admin's
// token is refused by the tickets service.
const adminAudience = "tickets-admin"

// gateway is the server: the help desk behind one HTTP handler that serves
// grpc-go and connect-go, both gated by the same Tollgate tower, and the
// admin API behind another, for a listener of its own.
type gateway struct {
	tower   *tower.Tower
	desk    *desk
	breaker *breaker.Breakers
	audit   *audit.FileSink
	grpc    *grpc.Server
	health  *health.Server
	handler http.Handler
	// metrics is the gateway's own Prometheus registry (--metrics serves
	// it): Tollgate's metrics, Go's and the process's.
	metrics *prometheus.Registry
	// tracer, when set (--trace), traces every call: the RPC server spans
	// of otelgrpc and otelconnect, and the tower's span under them.
	tracer trace.TracerProvider

	// Deferred approvals wait in stores until an admin decides them;
	// grants let ASK calls through without asking; kill switches an admin
	// sets stop an agent, a tool, a session or everything at once
	// (tollgate kill set ...).
	stores    stores
	adminGRPC *grpc.Server
	admin     http.Handler
}

// newGateway runs newGatewayFiles on the embedded configuration, copied to
// dir, where tower.LoadFiles reads it, with stores in memory.
func newGateway(dir, auditPath string, agentKeys, adminKeys identity.KeySet, auditOpts ...audit.Option) (*gateway, error) {
	files, err := writeConfig(dir)
	if err != nil {
		return nil, err
	}
	st, err := memoryStores()
	if err != nil {
		return nil, err
	}
	return newGatewayFiles(files, st, auditPath, agentKeys, adminKeys, nil, auditOpts...)
}

// newGatewayFiles loads the configuration files, keeps approvals, grants
// and kill switches in st, verifies agent tokens with agentKeys and admin
// tokens with adminKeys, traces calls with tp unless it is nil, and
// writes the hash-chained audit log to auditPath (with auditOpts, such as
// audit.WithCheckpointKey).
func newGatewayFiles(files tower.Files, st stores, auditPath string, agentKeys, adminKeys identity.KeySet, tp trace.TracerProvider, auditOpts ...audit.Option) (*gateway, error) {
	cfg, err := tower.LoadFiles(files) // policy with its rate_limits: and network_policy:, manifest
	if err != nil {
		return nil, err
	}
	// Agents prove who they are with short-lived signed tokens
	// ("authorization: Bearer"); the delegation chain, if any, is in them.
	tokens, err := identity.NewJWTVerifier(agentKeys, identity.WithAudience(ticketsAudience))
	if err != nil {
		return nil, err
	}
	// Admins prove who they are with tokens for the admin API whose "meta"
	// claim carries "role": "admin".
	adminTokens, err := identity.NewJWTVerifier(adminKeys, identity.WithAudience(adminAudience))
	if err != nil {
		return nil, err
	}
	g := &gateway{desk: newDesk(), stores: st, tracer: tp}
	// Three failures in a row open a tool's circuit for 30 seconds.
	if g.breaker, err = breaker.New(breaker.Settings{FailureThreshold: 3, Cooldown: 30 * time.Second}); err != nil {
		return nil, err
	}
	m, err := g.newMetrics()
	if err != nil {
		return nil, err
	}
	if g.audit, err = audit.OpenFile(auditPath, auditOpts...); err != nil {
		return nil, err
	}
	t, err := tower.New(cfg,
		tower.WithVerifier(tokens),
		tower.WithBreaker(g.breaker),
		tower.WithApprover(approvals.Callback(g.approve)),
		// Rules with ask_mode: deferred (deleting a ticket) park the call
		// here for an admin instead of asking the approver.
		tower.WithApprovalStore(st.approvals, time.Hour),
		tower.WithGrants(st.grants),
		tower.WithKillSwitches(st.kills),
		tower.WithAuditSink(m.Sink(g.audit)),
		tower.WithObserver(m),
		tower.WithTracerProvider(tp),
	)
	if err == nil {
		err = g.adminRoutes(adminTokens)
	}
	if err == nil {
		err = g.routes(t)
	}
	if err != nil {
		return nil, errors.Join(err, g.audit.Close())
	}
	g.tower = t
	return g, nil
}

// approve plays the human who answers the policy's ASK decisions: closing
// a ticket is fine unless the customer is a VIP; nothing else is (deleting
// a ticket, in this policy).
func (g *gateway) approve(ctx context.Context, r approvals.Request) (bool, error) {
	if r.ToolRequest.Tool != ticketsv1.TicketService_CloseTicket_FullMethodName {
		return false, nil
	}
	id, _ := r.ToolRequest.Params.Get("ticket_id")
	s, _ := id.(string)
	t, err := g.desk.GetTicket(ctx, &ticketsv1.GetTicketRequest{TicketId: s})
	return err == nil && !t.GetVip(), nil
}

// routes builds the handler: grpc-go takes gRPC requests (so grpcurl gets
// reflection and health), connect-go takes everything else (Connect and
// gRPC-Web). Tollgate's interceptors sit on both.
func (g *gateway) routes(t *tower.Tower) error {
	// Health checks and reflection describe the server; they are not tools.
	notTools := interceptor.WithPassThrough(interceptor.MatchHealthAndReflection())
	grpcTracing, connectTracing, err := rpcTracing(g.tracer)
	if err != nil {
		return err
	}

	// Both interceptors, and the stats handler that audits requests grpc-go
	// refuses before the interceptors run; the tracing comes first, so the
	// gate's span is inside the RPC's.
	g.grpc = grpc.NewServer(append(grpcTracing, interceptor.ServerOptions(t, notTools)...)...)
	ticketsv1.RegisterTicketServiceServer(g.grpc, grpcDesk{g.desk})
	g.health = health.NewServer()
	healthpb.RegisterHealthServer(g.grpc, g.health)
	reflection.Register(g.grpc)

	mux := http.NewServeMux()
	mux.Handle(ticketsv1connect.NewTicketServiceHandler(connectDesk{g.desk},
		append(connectTracing, interceptor.ConnectHandlerOptions(t, notTools))...)) // with a 4 MiB read limit
	// ConnectHandler audits the unary requests connect-go refuses before
	// the interceptor runs.
	g.handler = grpcOrConnect(g.grpc, interceptor.ConnectHandler(mux))
	return nil
}

// adminRoutes builds the admin API's handler: approvals, grants and kill
// switches over grpc-go and connect-go, authenticated by verifier, with
// the admin role required, and every decision written to the same audit
// log as the tool calls. It has no Tollgate interceptors: admin calls are not tool calls.
func (g *gateway) adminRoutes(verifier identity.Verifier) error {
	opts := []admin.Option{admin.WithVerifier(verifier), admin.WithAuditSink(g.audit), admin.WithGrantStore(g.stores.grants)}
	approvalsAPI, err := admin.NewApprovalService(g.stores.approvals, opts...)
	if err != nil {
		return err
	}
	grantsAPI, err := admin.NewGrantService(g.stores.grants, opts...)
	if err != nil {
		return err
	}
	killsAPI, err := admin.NewKillSwitchService(g.stores.kills, opts...)
	if err != nil {
		return err
	}
	g.adminGRPC = grpc.NewServer()
	approvalsAPI.RegisterGRPC(g.adminGRPC)
	grantsAPI.RegisterGRPC(g.adminGRPC)
	killsAPI.RegisterGRPC(g.adminGRPC)
	mux := http.NewServeMux()
	mux.Handle(approvalsAPI.ConnectHandler())
	mux.Handle(grantsAPI.ConnectHandler())
	mux.Handle(killsAPI.ConnectHandler())
	g.admin = grpcOrConnect(g.adminGRPC, mux)
	return nil
}

// grpcOrConnect hands gRPC requests to s and everything else to mux.
func grpcOrConnect(s *grpc.Server, mux http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isGRPC(r) {
			s.ServeHTTP(w, r)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// isGRPC reports whether r is a gRPC request (not gRPC-Web, which only
// connect-go serves).
func isGRPC(r *http.Request) bool {
	ct := r.Header.Get("Content-Type")
	return r.ProtoMajor == 2 && (ct == "application/grpc" ||
		strings.HasPrefix(ct, "application/grpc+") || strings.HasPrefix(ct, "application/grpc;"))
}

// shutdownGrace is how long calls in flight get to finish on shutdown.
const shutdownGrace = 5 * time.Second

// serve serves the tools on l and the admin API on adminL, HTTP/1.1 and
// HTTP/2 without TLS, until ctx ends; then it stops gracefully: health
// turns NOT_SERVING, the listeners close, and calls in flight get
// shutdownGrace to finish. It closes the audit log.
func (g *gateway) serve(ctx context.Context, l, adminL net.Listener) error {
	var protocols http.Protocols
	protocols.SetHTTP1(true)
	protocols.SetUnencryptedHTTP2(true)
	servers := []*http.Server{
		{Handler: g.handler, Protocols: &protocols, ReadHeaderTimeout: 10 * time.Second},
		{Handler: g.admin, Protocols: &protocols, ReadHeaderTimeout: 10 * time.Second},
	}
	served := make(chan error, len(servers))
	for i, l := range []net.Listener{l, adminL} {
		go func() { served <- servers[i].Serve(l) }()
	}
	var err error
	select {
	case err = <-served: // one failed: stop the other too
	case <-ctx.Done():
		g.health.Shutdown()
	}
	stop, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	for _, srv := range servers {
		err = errors.Join(err, srv.Shutdown(stop))
	}
	cancel()
	g.grpc.Stop()
	g.adminGRPC.Stop()
	return errors.Join(err, g.audit.Close())
}

// writeConfig copies the embedded configuration to dir.
func writeConfig(dir string) (tower.Files, error) {
	files := tower.Files{Policy: filepath.Join(dir, "policy.yaml"), Manifest: filepath.Join(dir, "manifest.yaml")}
	for _, path := range []string{files.Policy, files.Manifest} {
		b, err := config.ReadFile(filepath.Base(path))
		if err == nil {
			err = os.WriteFile(path, b, 0o600)
		}
		if err != nil {
			return tower.Files{}, err
		}
	}
	return files, nil
}
