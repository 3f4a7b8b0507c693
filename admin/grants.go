package admin

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/admin/adminv1"
	"github.com/tollgate-go/tollgate/grants"
)

// anyAgent is how CreateGrantRequest.agent_id says "every agent": the
// field is required, so that a grant for everyone is never an accident.
const anyAgent = "*"

// GrantService serves tollgate.admin.v1.GrantService over a grants.Store:
// register it on a grpc-go server with RegisterGRPC, or mount
// ConnectHandler. It is safe for concurrent use.
type GrantService struct {
	store grants.Store
	cfg   config
}

// NewGrantService returns the grant service for store. WithVerifier is
// required.
func NewGrantService(store grants.Store, opts ...Option) (*GrantService, error) {
	if store == nil {
		return nil, errors.New("admin: NewGrantService needs a grants.Store")
	}
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	return &GrantService{store: store, cfg: cfg}, nil
}

func (s *GrantService) createGrant(ctx context.Context, caller tollgate.Agent, req *adminv1.CreateGrantRequest) (*adminv1.CreateGrantResponse, error) {
	now := s.cfg.now()
	g, err := grantFromRequest(req, now)
	if err != nil {
		return nil, err
	}
	g.GrantedBy = caller.ID
	a := adminAction{
		procedure:    adminv1.GrantService_CreateGrant_FullMethodName,
		resourceType: "grant",
		effect:       tollgate.EffectWrite,
		note:         g.Reason,
		params:       grantMetadata(g).Without("grant_id"),
	}
	g, err = s.store.Create(ctx, g)
	if err != nil {
		err = s.cfg.fromStore(ctx, "create grant", err)
		s.cfg.auditFailed(ctx, caller, a, err)
		return nil, err
	}
	a.grantID = g.ID
	a.metadata = grantMetadata(g)
	if err := s.cfg.auditDone(ctx, caller, a, "grant "+g.ID+" created"); err != nil {
		return nil, err
	}
	return &adminv1.CreateGrantResponse{Grant: grantMessage(g, now)}, nil
}

// grantFromRequest checks a request and turns it into the grant to store.
func grantFromRequest(req *adminv1.CreateGrantRequest, now time.Time) (grants.Grant, error) {
	g := grants.Grant{
		AgentID:      req.GetAgentId(),
		Effect:       tollgate.Effect(req.GetEffect()),
		Tool:         req.GetTool(),
		Action:       req.GetAction(),
		ResourceType: req.GetResourceType(),
		CreatedAt:    now,
		Reason:       req.GetReason(),
		MaxUses:      int(req.GetMaxUses()),
	}
	switch {
	case g.AgentID == "":
		return g, errorf(codes.InvalidArgument, "agent_id is required (%q grants every agent)", anyAgent)
	case g.Tool == "":
		return g, errorf(codes.InvalidArgument, `tool is required: a tool, a prefix ending in "*", or "*" for every tool`)
	}
	if g.AgentID == anyAgent {
		g.AgentID = ""
	}
	for _, f := range []struct{ name, value string }{
		{"agent_id", g.AgentID}, {"tool", g.Tool}, {"action", g.Action}, {"resource_type", g.ResourceType}, {"reason", g.Reason},
	} {
		if err := checkText(f.name, f.value); err != nil {
			return g, err
		}
	}
	switch lt := req.GetLifetime().(type) {
	case *adminv1.CreateGrantRequest_Ttl:
		if lt.Ttl.CheckValid() != nil || lt.Ttl.AsDuration() <= 0 {
			return g, errorf(codes.InvalidArgument, "ttl must be a positive duration")
		}
		g.ExpiresAt = now.Add(lt.Ttl.AsDuration())
	case *adminv1.CreateGrantRequest_ExpiresAt:
		if lt.ExpiresAt.CheckValid() != nil || !lt.ExpiresAt.AsTime().After(now) {
			return g, errorf(codes.InvalidArgument, "expires_at must be in the future")
		}
		g.ExpiresAt = lt.ExpiresAt.AsTime()
	default:
		return g, errorf(codes.InvalidArgument, "ttl or expires_at is required: a grant always ends")
	}
	if err := g.Validate(); err != nil {
		return g, errorf(codes.InvalidArgument, "%s", err.Error())
	}
	return g, nil
}

func (s *GrantService) listGrants(ctx context.Context, _ tollgate.Agent, req *adminv1.ListGrantsRequest) (*adminv1.ListGrantsResponse, error) {
	now := s.cfg.now()
	list, err := s.store.List(ctx, grants.Filter{AgentID: req.GetAgentId(), IncludeInactive: req.GetIncludeInactive(), Now: now})
	if err != nil {
		return nil, s.cfg.fromStore(ctx, "list grants", err)
	}
	resp := &adminv1.ListGrantsResponse{Grants: make([]*adminv1.Grant, len(list))}
	for i, g := range list {
		resp.Grants[i] = grantMessage(g, now)
	}
	return resp, nil
}

func (s *GrantService) revokeGrant(ctx context.Context, caller tollgate.Agent, req *adminv1.RevokeGrantRequest) (*adminv1.RevokeGrantResponse, error) {
	if err := checkID(req.GetId()); err != nil {
		return nil, err
	}
	if err := checkText("reason", req.GetReason()); err != nil {
		return nil, err
	}
	a := adminAction{
		procedure:    adminv1.GrantService_RevokeGrant_FullMethodName,
		resourceType: "grant",
		effect:       tollgate.EffectDelete,
		note:         req.GetReason(),
		params:       tollgate.Params{{Key: "grant_id", Value: req.GetId()}, {Key: "reason", Value: req.GetReason()}},
		grantID:      req.GetId(),
	}
	g, err := s.revoke(ctx, req.GetId())
	if err != nil {
		s.cfg.auditFailed(ctx, caller, a, err)
		return nil, err
	}
	a.metadata = grantMetadata(g)
	if err := s.cfg.auditDone(ctx, caller, a, "grant "+g.ID+" revoked"); err != nil {
		return nil, err
	}
	return &adminv1.RevokeGrantResponse{Grant: grantMessage(g, s.cfg.now())}, nil
}

// revoke revokes grant id and returns it as it is now.
func (s *GrantService) revoke(ctx context.Context, id string) (grants.Grant, error) {
	if _, found, err := s.store.Get(ctx, id); err != nil || !found {
		if err == nil {
			return grants.Grant{}, errorf(codes.NotFound, "no grant %q", id)
		}
		return grants.Grant{}, s.cfg.fromStore(ctx, "get grant", err)
	}
	revoked, err := s.store.Revoke(ctx, id)
	if err != nil {
		return grants.Grant{}, s.cfg.fromStore(ctx, "revoke grant", err)
	}
	if !revoked {
		return grants.Grant{}, errorf(codes.FailedPrecondition, "grant %q was already revoked", id)
	}
	g, found, err := s.store.Get(ctx, id)
	switch {
	case err != nil:
		return grants.Grant{}, s.cfg.fromStore(ctx, "get grant", err)
	case !found: // cleaned up in between: it expired, so it is dead either way
		return grants.Grant{ID: id, Revoked: true}, nil
	}
	return g, nil
}

// grantMetadata lists a grant's fields for the audit record.
func grantMetadata(g grants.Grant) tollgate.Params {
	return tollgate.Params{
		{Key: "grant_id", Value: g.ID},
		{Key: "agent_id", Value: g.AgentID},
		{Key: "tool", Value: g.Tool},
		{Key: "action", Value: g.Action},
		{Key: "effect", Value: string(g.Effect)},
		{Key: "resource_type", Value: g.ResourceType},
		{Key: "expires_at", Value: g.ExpiresAt.UTC().Format(time.RFC3339)},
		{Key: "max_uses", Value: json.Number(strconv.Itoa(g.MaxUses))},
		{Key: "granted_by", Value: g.GrantedBy},
		{Key: "reason", Value: g.Reason},
	}
}
