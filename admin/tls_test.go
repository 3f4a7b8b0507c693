package admin

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"connectrpc.com/connect"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/admin/adminv1"
	"github.com/tollgate-go/tollgate/admin/adminv1/adminv1connect"
	"github.com/tollgate-go/tollgate/approvals"
	"github.com/tollgate-go/tollgate/identity"
)

// TestTLSStateReachesVerifier checks that certificate verifiers see the
// connection's TLS state on both stacks.
func TestTLSStateReachesVerifier(t *testing.T) {
	tlsOnly := identity.VerifierFunc(func(_ context.Context, c identity.Credentials) (tollgate.Agent, error) {
		if c.TLS == nil || !c.TLS.HandshakeComplete {
			return tollgate.Agent{}, identity.ErrNoCredentials
		}
		return alice, nil
	})
	svc, err := NewApprovalService(approvals.NewMemoryStore(), WithVerifier(tlsOnly), WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	mux := http.NewServeMux()
	mux.Handle(svc.ConnectHandler())
	hs := httptest.NewTLSServer(mux)
	defer hs.Close()
	cc := adminv1connect.NewApprovalServiceClient(hs.Client(), hs.URL)
	if _, err := cc.ListPending(ctx, connect.NewRequest(&adminv1.ListPendingRequest{})); err != nil {
		t.Errorf("connect over TLS: %v", err)
	}

	gs := grpc.NewServer(grpc.Creds(credentials.NewTLS(&tls.Config{Certificates: hs.TLS.Certificates})))
	svc.RegisterGRPC(gs)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = gs.Serve(l) }()
	defer gs.Stop()
	roots := x509.NewCertPool()
	roots.AddCert(hs.Certificate())
	conn, err := grpc.NewClient(l.Addr().String(), grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{RootCAs: roots, ServerName: "example.com"})))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := adminv1.NewApprovalServiceClient(conn).ListPending(ctx, &adminv1.ListPendingRequest{}); err != nil {
		t.Errorf("grpc over TLS: %v", err)
	}

	// Without TLS the same verifier finds nothing.
	plain := httptest.NewServer(mux)
	defer plain.Close()
	_, err = adminv1connect.NewApprovalServiceClient(http.DefaultClient, plain.URL).ListPending(ctx, connect.NewRequest(&adminv1.ListPendingRequest{}))
	if connect.CodeOf(err) != connect.CodeUnauthenticated {
		t.Errorf("plain HTTP: %v, want unauthenticated", err)
	}
}
