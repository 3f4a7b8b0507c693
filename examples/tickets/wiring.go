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

	"connectrpc.com/connect"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/reflection"

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

// gateway is the server: the help desk behind one HTTP handler that serves
// grpc-go and connect-go, both gated by the same Tollgate tower.
type gateway struct {
	desk    *desk
	breaker *breaker.Breakers
	audit   *audit.FileSink
	grpc    *grpc.Server
	health  *health.Server
	handler http.Handler
}

// newGateway loads the configuration (copied to dir, where tower.LoadFiles
// reads it), verifies agent tokens with agentKeys and writes the
// hash-chained audit log to auditPath.
func newGateway(dir, auditPath string, agentKeys identity.KeySet) (*gateway, error) {
	files, err := writeConfig(dir)
	if err != nil {
		return nil, err
	}
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
	g := &gateway{desk: newDesk()}
	// Three failures in a row open a tool's circuit for 30 seconds.
	if g.breaker, err = breaker.New(breaker.Settings{FailureThreshold: 3, Cooldown: 30 * time.Second}); err != nil {
		return nil, err
	}
	if g.audit, err = audit.OpenFile(auditPath); err != nil {
		return nil, err
	}
	t, err := tower.New(cfg,
		tower.WithVerifier(tokens),
		tower.WithBreaker(g.breaker),
		tower.WithApprover(approvals.Callback(g.approve)),
		tower.WithAuditSink(g.audit),
	)
	if err != nil {
		return nil, errors.Join(err, g.audit.Close())
	}
	g.routes(t)
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
func (g *gateway) routes(t *tower.Tower) {
	// Health checks and reflection describe the server; they are not tools.
	notTools := interceptor.WithPassThrough(interceptor.MatchHealthAndReflection())

	g.grpc = grpc.NewServer(
		grpc.UnaryInterceptor(interceptor.UnaryServerInterceptor(t, notTools)),
		grpc.StreamInterceptor(interceptor.StreamServerInterceptor(t, notTools)),
	)
	ticketsv1.RegisterTicketServiceServer(g.grpc, grpcDesk{g.desk})
	g.health = health.NewServer()
	healthpb.RegisterHealthServer(g.grpc, g.health)
	reflection.Register(g.grpc)

	mux := http.NewServeMux()
	mux.Handle(ticketsv1connect.NewTicketServiceHandler(connectDesk{g.desk},
		connect.WithInterceptors(interceptor.NewConnectInterceptor(t, notTools))))

	g.handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isGRPC(r) {
			g.grpc.ServeHTTP(w, r)
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

// serve serves on l, HTTP/1.1 and HTTP/2 without TLS, until ctx ends; then
// it stops gracefully: health turns NOT_SERVING, the listener closes, and
// calls in flight get shutdownGrace to finish. It closes the audit log.
func (g *gateway) serve(ctx context.Context, l net.Listener) error {
	var protocols http.Protocols
	protocols.SetHTTP1(true)
	protocols.SetUnencryptedHTTP2(true)
	srv := &http.Server{Handler: g.handler, Protocols: &protocols, ReadHeaderTimeout: 10 * time.Second}

	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	var err error
	select {
	case err = <-served:
	case <-ctx.Done():
		g.health.Shutdown()
		stop, cancel := context.WithTimeout(context.Background(), shutdownGrace)
		err = srv.Shutdown(stop)
		cancel()
	}
	g.grpc.Stop()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
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
