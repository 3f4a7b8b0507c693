package admin

import (
	"context"
	"net/http"

	"connectrpc.com/connect"
	"google.golang.org/grpc"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/admin/adminv1"
	"github.com/tollgate-go/tollgate/admin/adminv1/adminv1connect"
)

// handler is one admin method, called with the admitted admin.
type handler[Req, Resp any] func(ctx context.Context, caller tollgate.Agent, req Req) (Resp, error)

// grpcUnary admits the caller from gRPC metadata and runs h.
func grpcUnary[Req, Resp any](ctx context.Context, c *config, procedure string, req Req, h handler[Req, Resp]) (Resp, error) {
	var zero Resp
	caller, err := c.admit(ctx, procedure, grpcCredentials(ctx))
	if err != nil {
		return zero, grpcError(err)
	}
	resp, err := h(ctx, caller, req)
	if err != nil {
		return zero, grpcError(err)
	}
	return resp, nil
}

// connectUnary admits the caller from HTTP headers and runs h.
func connectUnary[Req, Resp any](ctx context.Context, c *config, procedure string, req *connect.Request[Req], h handler[*Req, *Resp]) (*connect.Response[Resp], error) {
	caller, err := c.admit(ctx, procedure, connectCredentials(ctx, req.Header()))
	if err != nil {
		return nil, connectError(err)
	}
	resp, err := h(ctx, caller, req.Msg)
	if err != nil {
		return nil, connectError(err)
	}
	return connect.NewResponse(resp), nil
}

// RegisterGRPC registers the service on a grpc-go server. Give the admin
// API a server (and listener) of its own: it must not run behind the
// tool traffic's Tollgate interceptors, which would gate admin calls as
// tool calls.
func (s *ApprovalService) RegisterGRPC(r grpc.ServiceRegistrar) {
	adminv1.RegisterApprovalServiceServer(r, grpcApprovals{s: s})
}

// ConnectHandler returns the path and handler that serve the service over
// Connect, gRPC and gRPC-Web (connect-go). Mount it on a mux of its own,
// not one that carries the tool traffic's interceptors.
func (s *ApprovalService) ConnectHandler(opts ...connect.HandlerOption) (string, http.Handler) {
	path, h := adminv1connect.NewApprovalServiceHandler(connectApprovals{s: s}, opts...)
	return path, withTLSState(h)
}

// RegisterGRPC registers the service on a grpc-go server of its own (see
// ApprovalService.RegisterGRPC).
func (s *GrantService) RegisterGRPC(r grpc.ServiceRegistrar) {
	adminv1.RegisterGrantServiceServer(r, grpcGrants{s: s})
}

// ConnectHandler returns the path and handler that serve the service with
// connect-go (see ApprovalService.ConnectHandler).
func (s *GrantService) ConnectHandler(opts ...connect.HandlerOption) (string, http.Handler) {
	path, h := adminv1connect.NewGrantServiceHandler(connectGrants{s: s}, opts...)
	return path, withTLSState(h)
}

type grpcApprovals struct {
	adminv1.UnimplementedApprovalServiceServer
	s *ApprovalService
}

func (g grpcApprovals) ListPending(ctx context.Context, req *adminv1.ListPendingRequest) (*adminv1.ListPendingResponse, error) {
	return grpcUnary(ctx, &g.s.cfg, adminv1.ApprovalService_ListPending_FullMethodName, req, g.s.listPending)
}

func (g grpcApprovals) GetApproval(ctx context.Context, req *adminv1.GetApprovalRequest) (*adminv1.GetApprovalResponse, error) {
	return grpcUnary(ctx, &g.s.cfg, adminv1.ApprovalService_GetApproval_FullMethodName, req, g.s.getApproval)
}

func (g grpcApprovals) Approve(ctx context.Context, req *adminv1.ApproveRequest) (*adminv1.ApproveResponse, error) {
	return grpcUnary(ctx, &g.s.cfg, adminv1.ApprovalService_Approve_FullMethodName, req, g.s.approve)
}

func (g grpcApprovals) Deny(ctx context.Context, req *adminv1.DenyRequest) (*adminv1.DenyResponse, error) {
	return grpcUnary(ctx, &g.s.cfg, adminv1.ApprovalService_Deny_FullMethodName, req, g.s.deny)
}

func (g grpcApprovals) Watch(req *adminv1.WatchRequest, stream grpc.ServerStreamingServer[adminv1.WatchResponse]) error {
	ctx := stream.Context()
	creds := grpcCredentials(ctx)
	caller, err := g.s.cfg.admit(ctx, adminv1.ApprovalService_Watch_FullMethodName, creds)
	if err != nil {
		return grpcError(err)
	}
	return grpcError(g.s.watch(ctx, caller, req, stream.Send, g.s.cfg.readmit(adminv1.ApprovalService_Watch_FullMethodName, caller, creds)))
}

type connectApprovals struct{ s *ApprovalService }

func (c connectApprovals) ListPending(ctx context.Context, req *connect.Request[adminv1.ListPendingRequest]) (*connect.Response[adminv1.ListPendingResponse], error) {
	return connectUnary(ctx, &c.s.cfg, adminv1.ApprovalService_ListPending_FullMethodName, req, c.s.listPending)
}

func (c connectApprovals) GetApproval(ctx context.Context, req *connect.Request[adminv1.GetApprovalRequest]) (*connect.Response[adminv1.GetApprovalResponse], error) {
	return connectUnary(ctx, &c.s.cfg, adminv1.ApprovalService_GetApproval_FullMethodName, req, c.s.getApproval)
}

func (c connectApprovals) Approve(ctx context.Context, req *connect.Request[adminv1.ApproveRequest]) (*connect.Response[adminv1.ApproveResponse], error) {
	return connectUnary(ctx, &c.s.cfg, adminv1.ApprovalService_Approve_FullMethodName, req, c.s.approve)
}

func (c connectApprovals) Deny(ctx context.Context, req *connect.Request[adminv1.DenyRequest]) (*connect.Response[adminv1.DenyResponse], error) {
	return connectUnary(ctx, &c.s.cfg, adminv1.ApprovalService_Deny_FullMethodName, req, c.s.deny)
}

func (c connectApprovals) Watch(ctx context.Context, req *connect.Request[adminv1.WatchRequest], stream *connect.ServerStream[adminv1.WatchResponse]) error {
	creds := connectCredentials(ctx, req.Header())
	caller, err := c.s.cfg.admit(ctx, adminv1.ApprovalService_Watch_FullMethodName, creds)
	if err != nil {
		return connectError(err)
	}
	return connectError(c.s.watch(ctx, caller, req.Msg, stream.Send, c.s.cfg.readmit(adminv1.ApprovalService_Watch_FullMethodName, caller, creds)))
}

type grpcGrants struct {
	adminv1.UnimplementedGrantServiceServer
	s *GrantService
}

func (g grpcGrants) CreateGrant(ctx context.Context, req *adminv1.CreateGrantRequest) (*adminv1.CreateGrantResponse, error) {
	return grpcUnary(ctx, &g.s.cfg, adminv1.GrantService_CreateGrant_FullMethodName, req, g.s.createGrant)
}

func (g grpcGrants) ListGrants(ctx context.Context, req *adminv1.ListGrantsRequest) (*adminv1.ListGrantsResponse, error) {
	return grpcUnary(ctx, &g.s.cfg, adminv1.GrantService_ListGrants_FullMethodName, req, g.s.listGrants)
}

func (g grpcGrants) RevokeGrant(ctx context.Context, req *adminv1.RevokeGrantRequest) (*adminv1.RevokeGrantResponse, error) {
	return grpcUnary(ctx, &g.s.cfg, adminv1.GrantService_RevokeGrant_FullMethodName, req, g.s.revokeGrant)
}

type connectGrants struct{ s *GrantService }

func (c connectGrants) CreateGrant(ctx context.Context, req *connect.Request[adminv1.CreateGrantRequest]) (*connect.Response[adminv1.CreateGrantResponse], error) {
	return connectUnary(ctx, &c.s.cfg, adminv1.GrantService_CreateGrant_FullMethodName, req, c.s.createGrant)
}

func (c connectGrants) ListGrants(ctx context.Context, req *connect.Request[adminv1.ListGrantsRequest]) (*connect.Response[adminv1.ListGrantsResponse], error) {
	return connectUnary(ctx, &c.s.cfg, adminv1.GrantService_ListGrants_FullMethodName, req, c.s.listGrants)
}

func (c connectGrants) RevokeGrant(ctx context.Context, req *connect.Request[adminv1.RevokeGrantRequest]) (*connect.Response[adminv1.RevokeGrantResponse], error) {
	return connectUnary(ctx, &c.s.cfg, adminv1.GrantService_RevokeGrant_FullMethodName, req, c.s.revokeGrant)
}
