package admin

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/admin/adminv1"
	"github.com/tollgate-go/tollgate/admin/adminv1/adminv1connect"
	"github.com/tollgate-go/tollgate/killswitch"
)

// KillSwitchService serves tollgate.admin.v1.KillSwitchService over a
// killswitch.Store: register it on a grpc-go server with RegisterGRPC, or
// mount ConnectHandler. The switch's SetBy is always the verified caller.
// It is safe for concurrent use.
type KillSwitchService struct {
	store killswitch.Store
	cfg   config
}

// NewKillSwitchService returns the kill switch service for store.
// WithVerifier is required. Give it the store the Towers check
// (tower.WithKillSwitches), so that a switch set here is in force on this
// replica when the call returns.
func NewKillSwitchService(store killswitch.Store, opts ...Option) (*KillSwitchService, error) {
	if store == nil {
		return nil, errors.New("admin: NewKillSwitchService needs a killswitch.Store")
	}
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	return &KillSwitchService{store: store, cfg: cfg}, nil
}

func (s *KillSwitchService) setKillSwitch(ctx context.Context, caller tollgate.Agent, req *adminv1.SetKillSwitchRequest) (*adminv1.SetKillSwitchResponse, error) {
	now := s.cfg.now()
	sw, err := switchFromRequest(req, now)
	if err != nil {
		return nil, err
	}
	sw.SetBy = caller.ID
	a := adminAction{
		procedure:    adminv1.KillSwitchService_SetKillSwitch_FullMethodName,
		resourceType: "kill_switch",
		effect:       tollgate.EffectWrite,
		note:         sw.Reason,
		params:       killSwitchMetadata(sw).Without("kill_switch_id"),
	}
	sw, err = s.store.Set(ctx, sw)
	if err != nil {
		err = s.cfg.fromStore(ctx, "set kill switch", err)
		s.cfg.auditFailed(ctx, caller, a, err)
		return nil, err
	}
	a.metadata = killSwitchMetadata(sw)
	if err := s.cfg.auditDone(ctx, caller, a, "kill switch "+sw.ID+" set on "+sw.Scope.String()); err != nil {
		return nil, err
	}
	return &adminv1.SetKillSwitchResponse{KillSwitch: killSwitchMessage(sw)}, nil
}

// switchFromRequest checks a request and turns it into the switch to set.
func switchFromRequest(req *adminv1.SetKillSwitchRequest, now time.Time) (killswitch.Switch, error) {
	scope, err := killswitch.ParseScope(req.GetScope())
	if err != nil {
		return killswitch.Switch{}, errorf(codes.InvalidArgument, "%s", err.Error())
	}
	sw := killswitch.Switch{Scope: scope, Reason: req.GetReason(), SetAt: now}
	if strings.TrimSpace(sw.Reason) == "" {
		return sw, errorf(codes.InvalidArgument, "reason is required: the audit trail and the refused agents' operators read it")
	}
	if err := checkText("reason", sw.Reason); err != nil {
		return sw, err
	}
	if ttl := req.GetTtl(); ttl != nil {
		if ttl.CheckValid() != nil || ttl.AsDuration() <= 0 {
			return sw, errorf(codes.InvalidArgument, "ttl must be a positive duration (leave it unset for a switch that stays until lifted)")
		}
		sw.ExpiresAt = now.Add(ttl.AsDuration())
	}
	if err := sw.Validate(); err != nil {
		return sw, errorf(codes.InvalidArgument, "%s", err.Error())
	}
	return sw, nil
}

func (s *KillSwitchService) listKillSwitches(ctx context.Context, _ tollgate.Agent, _ *adminv1.ListKillSwitchesRequest) (*adminv1.ListKillSwitchesResponse, error) {
	list, err := s.store.List(ctx, s.cfg.now())
	if err != nil {
		return nil, s.cfg.fromStore(ctx, "list kill switches", err)
	}
	resp := &adminv1.ListKillSwitchesResponse{KillSwitches: make([]*adminv1.KillSwitch, len(list))}
	for i, sw := range list {
		resp.KillSwitches[i] = killSwitchMessage(sw)
	}
	return resp, nil
}

func (s *KillSwitchService) liftKillSwitch(ctx context.Context, caller tollgate.Agent, req *adminv1.LiftKillSwitchRequest) (*adminv1.LiftKillSwitchResponse, error) {
	if err := checkID(req.GetId()); err != nil {
		return nil, err
	}
	if err := checkText("reason", req.GetReason()); err != nil {
		return nil, err
	}
	a := adminAction{
		procedure:    adminv1.KillSwitchService_LiftKillSwitch_FullMethodName,
		resourceType: "kill_switch",
		effect:       tollgate.EffectDelete,
		note:         req.GetReason(),
		params:       tollgate.Params{{Key: "kill_switch_id", Value: req.GetId()}, {Key: "reason", Value: req.GetReason()}},
	}
	sw, found, err := s.store.Lift(ctx, req.GetId())
	switch {
	case err != nil:
		err = s.cfg.fromStore(ctx, "lift kill switch", err)
	case !found:
		err = errorf(codes.NotFound, "no kill switch %q (never set, already lifted, or expired)", req.GetId())
	}
	if err != nil {
		s.cfg.auditFailed(ctx, caller, a, err)
		return nil, err
	}
	a.metadata = killSwitchMetadata(sw)
	if err := s.cfg.auditDone(ctx, caller, a, "kill switch "+sw.ID+" lifted from "+sw.Scope.String()); err != nil {
		return nil, err
	}
	return &adminv1.LiftKillSwitchResponse{KillSwitch: killSwitchMessage(sw)}, nil
}

// killSwitchMetadata lists a switch's fields for the audit record.
func killSwitchMetadata(sw killswitch.Switch) tollgate.Params {
	expires := "never"
	if !sw.ExpiresAt.IsZero() {
		expires = sw.ExpiresAt.UTC().Format(time.RFC3339)
	}
	return tollgate.Params{
		{Key: "kill_switch_id", Value: sw.ID},
		{Key: "scope", Value: sw.Scope.String()},
		{Key: "expires_at", Value: expires},
		{Key: "set_by", Value: sw.SetBy},
		{Key: "reason", Value: sw.Reason},
	}
}

func killSwitchMessage(sw killswitch.Switch) *adminv1.KillSwitch {
	return &adminv1.KillSwitch{
		Id:        text(sw.ID),
		Scope:     text(sw.Scope.String()),
		Reason:    text(sw.Reason),
		SetBy:     text(sw.SetBy),
		SetAt:     timestamp(sw.SetAt),
		ExpiresAt: timestamp(sw.ExpiresAt),
	}
}

// RegisterGRPC registers the service on a grpc-go server of its own (see
// ApprovalService.RegisterGRPC).
func (s *KillSwitchService) RegisterGRPC(r grpc.ServiceRegistrar) {
	adminv1.RegisterKillSwitchServiceServer(r, grpcKillSwitches{s: s})
}

// ConnectHandler returns the path and handler that serve the service with
// connect-go (see ApprovalService.ConnectHandler).
func (s *KillSwitchService) ConnectHandler(opts ...connect.HandlerOption) (string, http.Handler) {
	path, h := adminv1connect.NewKillSwitchServiceHandler(connectKillSwitches{s: s}, opts...)
	return path, withTLSState(h)
}

type grpcKillSwitches struct {
	adminv1.UnimplementedKillSwitchServiceServer
	s *KillSwitchService
}

func (g grpcKillSwitches) SetKillSwitch(ctx context.Context, req *adminv1.SetKillSwitchRequest) (*adminv1.SetKillSwitchResponse, error) {
	return grpcUnary(ctx, &g.s.cfg, adminv1.KillSwitchService_SetKillSwitch_FullMethodName, req, g.s.setKillSwitch)
}

func (g grpcKillSwitches) ListKillSwitches(ctx context.Context, req *adminv1.ListKillSwitchesRequest) (*adminv1.ListKillSwitchesResponse, error) {
	return grpcUnary(ctx, &g.s.cfg, adminv1.KillSwitchService_ListKillSwitches_FullMethodName, req, g.s.listKillSwitches)
}

func (g grpcKillSwitches) LiftKillSwitch(ctx context.Context, req *adminv1.LiftKillSwitchRequest) (*adminv1.LiftKillSwitchResponse, error) {
	return grpcUnary(ctx, &g.s.cfg, adminv1.KillSwitchService_LiftKillSwitch_FullMethodName, req, g.s.liftKillSwitch)
}

type connectKillSwitches struct{ s *KillSwitchService }

func (c connectKillSwitches) SetKillSwitch(ctx context.Context, req *connect.Request[adminv1.SetKillSwitchRequest]) (*connect.Response[adminv1.SetKillSwitchResponse], error) {
	return connectUnary(ctx, &c.s.cfg, adminv1.KillSwitchService_SetKillSwitch_FullMethodName, req, c.s.setKillSwitch)
}

func (c connectKillSwitches) ListKillSwitches(ctx context.Context, req *connect.Request[adminv1.ListKillSwitchesRequest]) (*connect.Response[adminv1.ListKillSwitchesResponse], error) {
	return connectUnary(ctx, &c.s.cfg, adminv1.KillSwitchService_ListKillSwitches_FullMethodName, req, c.s.listKillSwitches)
}

func (c connectKillSwitches) LiftKillSwitch(ctx context.Context, req *connect.Request[adminv1.LiftKillSwitchRequest]) (*connect.Response[adminv1.LiftKillSwitchResponse], error) {
	return connectUnary(ctx, &c.s.cfg, adminv1.KillSwitchService_LiftKillSwitch_FullMethodName, req, c.s.liftKillSwitch)
}
