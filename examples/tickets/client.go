package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"net/http"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/admin"
	"github.com/tollgate-go/tollgate/admin/adminv1/adminv1connect"
	ticketsv1 "github.com/tollgate-go/tollgate/examples/tickets/gen/tickets/v1"
	"github.com/tollgate-go/tollgate/examples/tickets/gen/tickets/v1/ticketsv1connect"
	"github.com/tollgate-go/tollgate/identity"
	"github.com/tollgate-go/tollgate/interceptor"
)

// supportBot is the agent the demo calls as.
var supportBot = tollgate.Agent{ID: "support-bot", Version: "1.0", Owner: "help-desk"}

// alice is the human who decides deferred approvals. Her token's "meta"
// claim gives her the admin role the admin API requires.
var alice = tollgate.Agent{ID: "alice@example.com", Metadata: tollgate.Params{{Key: admin.RoleKey, Value: admin.DefaultRole}}}

// tokenSource mints the tokens a client sends (identity.Signer.Token).
type tokenSource = func(context.Context) (string, error)

// newAgentKey returns a fresh signing key (an agent's, or the admins')
// and the key set that verifies it. A real agent keeps its key (tollgate
// keygen writes one) and the server reads the public half from a JWKS file
// or URL.
func newAgentKey() (ed25519.PrivateKey, identity.KeySet, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	keys, err := identity.NewKeySet(identity.Key{ID: identity.KeyID(pub), Public: pub})
	return priv, keys, err
}

// newSigner returns support-bot's signer: tokens for this service, valid
// for ttl and minted again before they expire.
func newSigner(key ed25519.PrivateKey, ttl time.Duration) (*identity.Signer, error) {
	kid := identity.KeyID(key.Public().(ed25519.PublicKey))
	return identity.NewSigner(key, kid, supportBot, identity.WithAudience(ticketsAudience), identity.WithTTL(ttl))
}

// newAdminSigner returns alice's signer: tokens for the admin API.
func newAdminSigner(key ed25519.PrivateKey, ttl time.Duration) (*identity.Signer, error) {
	kid := identity.KeyID(key.Public().(ed25519.PublicKey))
	return identity.NewSigner(key, kid, alice, identity.WithAudience(adminAudience), identity.WithTTL(ttl))
}

// newAdminClient returns a connect-go client of the admin API's
// ApprovalService at addr, sending tokens from tokens. It needs no
// Tollgate headers but the token: an admin call is not a tool call.
func newAdminClient(hc *http.Client, addr string, tokens tokenSource) adminv1connect.ApprovalServiceClient {
	return adminv1connect.NewApprovalServiceClient(hc, "http://"+addr,
		connect.WithInterceptors(interceptor.NewConnectClientInterceptor(interceptor.WithTokenSource(tokens))))
}

// triage is why support-bot calls: every call declares it.
var triage = tollgate.Intent{Action: "triage", Reason: "work the support queue"}

// newGRPCClient returns a grpc-go client for addr. Its interceptors send a
// token from tokens ("authorization: Bearer") and the intent (x-tollgate-*
// metadata) with every call. Close the connection when done.
func newGRPCClient(addr string, tokens tokenSource) (ticketsv1.TicketServiceClient, *grpc.ClientConn, error) {
	creds := []interceptor.ClientOption{interceptor.WithTokenSource(tokens), interceptor.WithIntent(triage)}
	conn, err := grpc.NewClient(addr,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithUnaryInterceptor(interceptor.UnaryClientInterceptor(creds...)),
		grpc.WithStreamInterceptor(interceptor.StreamClientInterceptor(creds...)),
	)
	if err != nil {
		return nil, nil, err
	}
	return ticketsv1.NewTicketServiceClient(conn), conn, nil
}

// newConnectClient returns a connect-go client for addr speaking the
// Connect protocol, sending the same headers as the grpc-go client.
func newConnectClient(hc *http.Client, addr string, tokens tokenSource) ticketsv1connect.TicketServiceClient {
	return ticketsv1connect.NewTicketServiceClient(hc, "http://"+addr,
		connect.WithInterceptors(interceptor.NewConnectClientInterceptor(
			interceptor.WithTokenSource(tokens), interceptor.WithIntent(triage))))
}

// newH2CClient returns an HTTP client that speaks HTTP/2 without TLS, as
// the server does; Connect's bidirectional streams need HTTP/2.
func newH2CClient() *http.Client {
	var p http.Protocols
	p.SetUnencryptedHTTP2(true)
	return &http.Client{Transport: &http.Transport{Protocols: &p}}
}

// unaryClient is what the demo's helpers need of a client: the connect-go
// client has these methods, grpcUnary gives them to the grpc-go client.
type unaryClient interface {
	GetTicket(context.Context, *ticketsv1.GetTicketRequest) (*ticketsv1.Ticket, error)
	CloseTicket(context.Context, *ticketsv1.CloseTicketRequest) (*ticketsv1.Ticket, error)
	DeleteTicket(context.Context, *ticketsv1.DeleteTicketRequest) (*ticketsv1.DeleteTicketResponse, error)
}

// grpcUnary drops grpc-go's call options from the unary methods.
type grpcUnary struct{ c ticketsv1.TicketServiceClient }

func (u grpcUnary) GetTicket(ctx context.Context, r *ticketsv1.GetTicketRequest) (*ticketsv1.Ticket, error) {
	return u.c.GetTicket(ctx, r)
}

func (u grpcUnary) CloseTicket(ctx context.Context, r *ticketsv1.CloseTicketRequest) (*ticketsv1.Ticket, error) {
	return u.c.CloseTicket(ctx, r)
}

func (u grpcUnary) DeleteTicket(ctx context.Context, r *ticketsv1.DeleteTicketRequest) (*ticketsv1.DeleteTicketResponse, error) {
	return u.c.DeleteTicket(ctx, r)
}

// outcome is what a client learns from a call: the status code and, for a
// refusal, Tollgate's error details.
type outcome struct {
	code       codes.Code
	message    string
	reason     string        // ErrorInfo.Reason, Tollgate's reason code
	approvalID string        // ErrorInfo metadata approvalId, for APPROVAL_PENDING
	retryAfter time.Duration // RetryInfo, for RATE_LIMITED and CIRCUIT_OPEN
	violations []*errdetails.BadRequest_FieldViolation
}

// outcomeOf reads a call's error from either stack: connect-go returns a
// *connect.Error, grpc-go a status. Both carry the same details.
func outcomeOf(err error) outcome {
	if err == nil {
		return outcome{code: codes.OK}
	}
	var o outcome
	var ce *connect.Error
	if errors.As(err, &ce) {
		o.code, o.message = codes.Code(ce.Code()), ce.Message()
		for _, d := range ce.Details() {
			if m, err := d.Value(); err == nil {
				o.add(m)
			}
		}
		return o
	}
	st := status.Convert(err)
	o.code, o.message = st.Code(), st.Message()
	for _, d := range st.Details() {
		if m, ok := d.(proto.Message); ok {
			o.add(m)
		}
	}
	return o
}

func (o *outcome) add(detail proto.Message) {
	switch d := detail.(type) {
	case *errdetails.ErrorInfo:
		o.reason = d.GetReason()
		o.approvalID = d.GetMetadata()["approvalId"]
	case *errdetails.RetryInfo:
		o.retryAfter = d.GetRetryDelay().AsDuration()
	case *errdetails.BadRequest:
		o.violations = append(o.violations, d.GetFieldViolations()...)
	}
}
