package admin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/admin/adminv1"
	"github.com/tollgate-go/tollgate/approvals"
	"github.com/tollgate-go/tollgate/grants"
)

// Limits on what a request may carry; they keep audit records and stores
// bounded.
const (
	maxIDLen   = 256
	maxTextLen = 4096
)

// ApprovalService serves tollgate.admin.v1.ApprovalService over a Store:
// register it on a grpc-go server with RegisterGRPC, or mount
// ConnectHandler. It is safe for concurrent use.
type ApprovalService struct {
	store approvals.Store
	cfg   config
}

// NewApprovalService returns the approval service for store. WithVerifier
// is required.
func NewApprovalService(store approvals.Store, opts ...Option) (*ApprovalService, error) {
	if store == nil {
		return nil, errors.New("admin: NewApprovalService needs an approvals.Store")
	}
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	return &ApprovalService{store: store, cfg: cfg}, nil
}

func (s *ApprovalService) listPending(ctx context.Context, _ tollgate.Agent, req *adminv1.ListPendingRequest) (*adminv1.ListPendingResponse, error) {
	recs, err := s.store.List(ctx, true)
	if err != nil {
		return nil, s.cfg.fromStore(ctx, "list", err)
	}
	now := s.cfg.now()
	resp := &adminv1.ListPendingResponse{Approvals: make([]*adminv1.Approval, 0, len(recs))}
	for _, rec := range recs {
		if req.GetIncludeExpired() || now.Before(rec.Request.ExpiresAt) {
			resp.Approvals = append(resp.Approvals, approvalMessage(rec, now, s.cfg.redactor))
		}
	}
	return resp, nil
}

func (s *ApprovalService) getApproval(ctx context.Context, _ tollgate.Agent, req *adminv1.GetApprovalRequest) (*adminv1.GetApprovalResponse, error) {
	if err := checkID(req.GetId()); err != nil {
		return nil, err
	}
	rec, err := s.store.Get(ctx, req.GetId())
	if err != nil {
		return nil, s.cfg.fromStore(ctx, "get", err)
	}
	return &adminv1.GetApprovalResponse{Approval: approvalMessage(rec, s.cfg.now(), s.cfg.redactor)}, nil
}

func (s *ApprovalService) approve(ctx context.Context, caller tollgate.Agent, req *adminv1.ApproveRequest) (*adminv1.ApproveResponse, error) {
	if err := checkDecision(req.GetId(), req.GetNote()); err != nil {
		return nil, err
	}
	spec := req.GetGrant()
	a := adminAction{
		procedure:    adminv1.ApprovalService_Approve_FullMethodName,
		resourceType: "approval",
		effect:       tollgate.EffectWrite,
		note:         req.GetNote(),
		params:       tollgate.Params{{Key: "approval_id", Value: req.GetId()}, {Key: "note", Value: req.GetNote()}},
		approvalID:   req.GetId(),
	}
	var ttl time.Duration
	if spec != nil {
		if err := s.checkGrantOnApprove(spec); err != nil {
			return nil, err
		}
		ttl = spec.GetTtl().AsDuration()
		a.params.Set("grant_ttl", ttl.String())
		a.params.Set("grant_max_uses", json.Number(strconv.Itoa(int(spec.GetMaxUses()))))
	}
	var check func(approvals.Record) error
	if spec != nil {
		check = grantNeedsOneApprover
	}
	rec, err := s.decide(ctx, caller, &a, approvals.OutcomeApproved, check)
	if err != nil {
		return nil, err
	}
	resp := &adminv1.ApproveResponse{Approval: approvalMessage(rec, s.cfg.now(), s.cfg.redactor)}
	summary := "approved"
	if rec.Pending() {
		have := len(rec.Approvers())
		summary = fmt.Sprintf("approval %d of %d recorded; the request stays pending until %d more admin(s) approve", have, rec.Request.Required(), rec.Request.Required()-have)
	}
	if spec != nil {
		g, err := s.cfg.grants.Create(ctx, grantFor(rec, ttl, int(spec.GetMaxUses())))
		if err != nil {
			// The approval stands (decisions are final); say so, audited.
			_, msg := split(s.cfg.fromStore(ctx, "create grant", err))
			summary = "approved, but the grant was not created: " + msg
			if auditErr := s.cfg.auditDone(ctx, caller, a, summary); auditErr != nil {
				return nil, auditErr
			}
			return nil, errorf(codes.Internal, "%s", summary)
		}
		a.grantID = g.ID
		a.metadata = append(a.metadata,
			tollgate.Field{Key: "grant_id", Value: g.ID},
			tollgate.Field{Key: "grant_expires_at", Value: g.ExpiresAt.UTC().Format(time.RFC3339)},
			tollgate.Field{Key: "grant_max_uses", Value: json.Number(strconv.Itoa(g.MaxUses))})
		resp.Grant = grantMessage(g, s.cfg.now())
		summary = "approved; grant " + g.ID + " created"
	}
	if err := s.cfg.auditDone(ctx, caller, a, summary); err != nil {
		return nil, err
	}
	return resp, nil
}

func (s *ApprovalService) deny(ctx context.Context, caller tollgate.Agent, req *adminv1.DenyRequest) (*adminv1.DenyResponse, error) {
	if err := checkDecision(req.GetId(), req.GetNote()); err != nil {
		return nil, err
	}
	a := adminAction{
		procedure:    adminv1.ApprovalService_Deny_FullMethodName,
		resourceType: "approval",
		effect:       tollgate.EffectWrite,
		note:         req.GetNote(),
		params:       tollgate.Params{{Key: "approval_id", Value: req.GetId()}, {Key: "note", Value: req.GetNote()}},
		approvalID:   req.GetId(),
	}
	rec, err := s.decide(ctx, caller, &a, approvals.OutcomeDenied, nil)
	if err != nil {
		return nil, err
	}
	if err := s.cfg.auditDone(ctx, caller, a, "denied"); err != nil {
		return nil, err
	}
	return &adminv1.DenyResponse{Approval: approvalMessage(rec, s.cfg.now(), s.cfg.redactor)}, nil
}

// decide records the caller's verdict and returns the record as it then
// stands: settled, or still pending with the caller's approval counted.
// The decider is always the verified caller; the store refuses an approval
// by the requesting agent or its delegators (separation of duties) and a
// second one by the same admin. check, when set, may refuse the request
// before anything is recorded. A refusal is audited here.
func (s *ApprovalService) decide(ctx context.Context, caller tollgate.Agent, a *adminAction, out approvals.Outcome, check func(approvals.Record) error) (approvals.Record, error) {
	rec, err := s.store.Get(ctx, a.approvalID)
	if err == nil {
		a.requestHash = rec.Request.RequestHash
		if check != nil {
			err = check(rec)
		}
	}
	if err == nil {
		err = s.store.Decide(ctx, a.approvalID, approvals.Decision{Outcome: out, By: caller.ID, Note: a.note, At: s.cfg.now()})
	}
	if err == nil {
		rec, err = s.store.Get(ctx, a.approvalID)
	}
	if errors.Is(err, approvals.ErrSelfApproval) {
		s.cfg.log.WarnContext(ctx, "tollgate admin: refused an approval of the approver's own call", "approval_id", a.approvalID, "agent_id", caller.ID, "error", err)
		s.cfg.auditSelfApproval(ctx, caller, *a)
		return approvals.Record{}, errorf(codes.PermissionDenied, "%s made or delegated this call and cannot approve it; another admin must", caller.ID)
	}
	if err != nil {
		err = s.cfg.fromStore(ctx, "decide", err)
		s.cfg.auditFailed(ctx, caller, *a, err)
		return approvals.Record{}, err
	}
	a.metadata = tollgate.Params{
		{Key: "approval_id", Value: rec.Request.ID},
		{Key: "outcome", Value: string(rec.Outcome)},
		{Key: "decided_by", Value: rec.DecidedBy},
		{Key: "note", Value: rec.Note},
		{Key: "agent_id", Value: rec.Request.Agent.ID},
		{Key: "tool", Value: rec.Request.ToolRequest.Tool},
	}
	if n := rec.Request.Required(); n > 1 {
		approvers := rec.Approvers()
		list := make([]any, len(approvers))
		for i, by := range approvers {
			list[i] = by
		}
		a.metadata = append(a.metadata,
			tollgate.Field{Key: "approvals_required", Value: json.Number(strconv.Itoa(n))},
			tollgate.Field{Key: "approvers", Value: list})
	}
	return rec, nil
}

// grantNeedsOneApprover refuses a grant with an approval that one admin
// cannot give alone: a grant lets later calls skip approval, so it must not
// let one admin stand in for the several a request needs.
func grantNeedsOneApprover(rec approvals.Record) error {
	if n := rec.Request.Required(); n > 1 {
		return errorf(codes.FailedPrecondition, "this request needs %d approvers, so no grant can be issued with an approval; approve without a grant", n)
	}
	return nil
}

func (s *ApprovalService) checkGrantOnApprove(spec *adminv1.GrantOnApprove) error {
	if s.cfg.grants == nil {
		return errorf(codes.FailedPrecondition, "this server issues no grants with approvals; approve without a grant")
	}
	if err := spec.GetTtl().CheckValid(); err != nil || spec.GetTtl().AsDuration() <= 0 {
		return errorf(codes.InvalidArgument, "grant.ttl must be a positive duration")
	}
	if spec.GetMaxUses() < 0 {
		return errorf(codes.InvalidArgument, "grant.max_uses is %d; use 0 for unlimited or a positive limit", spec.GetMaxUses())
	}
	return nil
}

// grantFor is the grant that lets the approved kind of call run without
// asking: same agent, tool, action, effect and resource type.
func grantFor(rec approvals.Record, ttl time.Duration, maxUses int) grants.Grant {
	tr := rec.Request.ToolRequest
	return grants.Grant{
		AgentID:      rec.Request.Agent.ID,
		Effect:       tr.Effect,
		Tool:         tr.Tool,
		Action:       tr.Action,
		ResourceType: tr.ResourceType,
		CreatedAt:    rec.DecidedAt,
		ExpiresAt:    rec.DecidedAt.Add(ttl),
		GrantedBy:    rec.DecidedBy,
		Reason:       grantReason(rec),
		MaxUses:      maxUses,
	}
}

func grantReason(rec approvals.Record) string {
	if rec.Note != "" {
		return rec.Note
	}
	return "issued with approval " + rec.Request.ID
}

func checkID(id string) error {
	switch {
	case id == "":
		return errorf(codes.InvalidArgument, "id is required")
	case len(id) > maxIDLen:
		return errorf(codes.InvalidArgument, "id is longer than %d bytes", maxIDLen)
	}
	return nil
}

func checkDecision(id, note string) error {
	if err := checkID(id); err != nil {
		return err
	}
	return checkText("note", note)
}

func checkText(field, s string) error {
	if len(s) > maxTextLen {
		return errorf(codes.InvalidArgument, "%s is longer than %d bytes", field, maxTextLen)
	}
	return nil
}
