package tower

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/approvals"
	"github.com/tollgate-go/tollgate/audit"
	"github.com/tollgate-go/tollgate/breaker"
	"github.com/tollgate-go/tollgate/grants"
	"github.com/tollgate-go/tollgate/registry"
)

// flight is one call on its way through the pipeline.
type flight struct {
	t    *Tower
	cfg  *Config
	ctx  context.Context
	call Call

	agent         tollgate.Agent
	req           tollgate.ToolRequest // with trusted metadata from the manifest
	tool          *registry.Tool       // nil when the manifest does not know it
	hash          string
	correlationID string

	stage      tollgate.Stage // the stage running, for panic reports
	decision   tollgate.Decision
	outcome    tollgate.Outcome
	grantID    string
	approvalID string
	// breakerDone reports the call's outcome to the circuit breaker; set once
	// the breaker let the call in, and called exactly once.
	breakerDone func(breaker.Outcome)

	event  audit.Event  // the record being written (see write)
	timing timing       // stage clock, with an observer
	span   callSpan     // the call's span, with a tracer
	shadow shadowResult // the shadow candidate's disagreeing decision
}

// decide runs every stage that can refuse the call, in Tollgate's order.
// It returns nil when the call may run. dryRun skips the circuit breaker,
// grant uses, approval ids and approvers (see Tower.Decide).
func (f *flight) decide(dryRun bool) *tollgate.Error {
	if err := f.identify(); err != nil {
		return err
	}
	if !dryRun {
		f.enter(tollgate.StageBreaker)
		if err := f.checkBreaker(); err != nil {
			return err
		}
	}
	f.enter(tollgate.StageRateLimit)
	if err := f.checkRateLimit(); err != nil {
		return err
	}

	f.enter(tollgate.StagePolicy)
	f.decision = f.cfg.Policy.Evaluate(f.agent, f.call.Intent, f.req)
	if !dryRun {
		f.evaluateShadow()
	}
	if f.decision.Type != tollgate.Deny {
		// Applied to ASK as well, before grants and approvers, so neither
		// can let a malformed or SSRF-bound call through.
		f.enter(tollgate.StageNetwork)
		if err := f.checkNetwork(); err != nil {
			return err
		}
		f.enter(tollgate.StageSchema)
		if err := f.checkParams(); err != nil {
			return err
		}
	}

	switch f.decision.Type {
	case tollgate.Allow:
		return nil
	case tollgate.Ask:
		f.enter(tollgate.StageApproval)
		return f.resolveAsk(dryRun)
	}
	return f.refuse(tollgate.StagePolicy, tollgate.ReasonPolicyDenied, "Tool call denied: "+f.decision.Reason)
}

// identify puts the manifest's trust on the request, verifies the caller
// and checks the kill switches: global ones first, whatever the
// credentials, the others against the verified agent. The request hash is
// computed either way, so that even an identity refusal is recorded with
// it.
func (f *flight) identify() *tollgate.Error {
	f.resolve()
	kills, err := f.checkGlobalKill()
	if err == nil {
		f.enter(tollgate.StageIdentity)
		err = f.verify()
	}
	f.hash = approvals.RequestHash(f.agent, f.call.Intent, f.req)
	if err == nil {
		err = f.checkKill(kills)
	}
	return err
}

func (f *flight) verify() *tollgate.Error {
	f.agent = f.call.Credentials.Claimed
	var agent tollgate.Agent
	err := f.call.CredentialsErr
	switch {
	case f.t.verifier != nil:
		agent, err = f.verifyCredentials()
	case err == nil:
		return nil
	}
	if err != nil {
		const reason = "Agent identity verification failed."
		e := f.block(tollgate.StageIdentity, tollgate.ReasonIdentityInvalid, reason, "Tool call denied: "+reason)
		e.Err = err
		return e
	}
	f.agent = agent
	return nil
}

// resolve replaces whatever trust the caller claimed with the manifest's.
// It runs first, so that even a refusal by the identity stage is recorded
// with the tool's real effect.
func (f *flight) resolve() { f.tool = trust(f.cfg.Manifest, &f.req) }

func (f *flight) checkBreaker() *tollgate.Error {
	if f.t.breaker == nil {
		return nil
	}
	done, err := f.t.breaker.Allow(f.ctx, f.req.Tool)
	if err != nil {
		var e *tollgate.Error
		if open := (*breaker.OpenError)(nil); errors.As(err, &open) {
			e = f.block(tollgate.StageBreaker, tollgate.ReasonCircuitOpen, open.Reason, "Tool call denied: "+open.Reason)
			e.RetryAfter = open.RetryAfter
		} else {
			e = f.block(tollgate.StageBreaker, tollgate.ReasonInternal, "Circuit breaker failed.", internalMessage)
		}
		e.Err = err
		return e
	}
	f.breakerDone = done
	return nil
}

func (f *flight) checkRateLimit() *tollgate.Error {
	if f.cfg.Limiter == nil {
		return nil
	}
	res, err := f.cfg.Limiter.Allow(f.ctx, f.agent, f.req)
	if err != nil {
		e := f.block(tollgate.StageRateLimit, tollgate.ReasonInternal, "Rate limiter failed.", internalMessage)
		e.Err = err
		return e
	}
	if res.Allowed {
		return nil
	}
	reason := res.Reason
	if reason == "" {
		reason = "Rate limit exceeded."
	}
	e := f.block(tollgate.StageRateLimit, tollgate.ReasonRateLimited, reason,
		fmt.Sprintf("Rate limited: %s (retry after %.1fs)", reason, res.RetryAfter.Seconds()))
	e.RetryAfter = res.RetryAfter
	return e
}

func (f *flight) checkNetwork() *tollgate.Error {
	if f.cfg.Guard == nil {
		return nil
	}
	v := f.cfg.Guard.Check(f.req.Params)
	if len(v) == 0 {
		return nil
	}
	reason := "Network policy violation: " + joinViolations(v)
	e := f.block(tollgate.StageNetwork, tollgate.ReasonNetworkBlocked, reason, "Constraint violation: "+reason)
	e.Violations = v
	return e
}

func (f *flight) checkParams() *tollgate.Error {
	if f.tool == nil {
		return nil
	}
	if v := f.tool.ValidateParams(f.req.Params); len(v) > 0 {
		reason := "Parameter validation failed: " + joinViolations(v)
		e := f.block(tollgate.StageSchema, tollgate.ReasonParamsInvalid, reason, "Tool call denied: "+reason)
		e.Violations = v
		return e
	}
	if v := f.tool.CheckConstraints(f.req.Params); len(v) > 0 {
		// Tollgate prefixed this twice ("Constraint violation: Constraint
		// violation: ..."); once is enough.
		reason := "Constraint violation: " + joinViolations(v)
		e := f.block(tollgate.StageConstraints, tollgate.ReasonConstraintViolated, reason, reason)
		e.Violations = v
		return e
	}
	return nil
}

// resolveAsk lets an ASK call run when a grant covers it or the approver
// approves it.
func (f *flight) resolveAsk(dryRun bool) *tollgate.Error {
	if id := f.approvalToRedeem(dryRun); id != "" {
		return f.redeem(id)
	}
	// A grant is one admin's standing permission, so it never stands in for
	// the several people a call that needs more approvers must have.
	if f.t.grants != nil && f.approvalsRequired() <= 1 {
		if dryRun {
			f.grantID = f.peekGrant()
			return nil
		}
		g, ok, err := f.t.grants.Consume(f.ctx, f.agent, f.req, f.t.now())
		if err != nil {
			e := f.refuse(tollgate.StageApproval, tollgate.ReasonInternal, internalMessage)
			e.Err = err
			return e
		}
		if ok {
			f.grantID = g.ID
			return nil
		}
	}
	if dryRun {
		return nil
	}
	if f.askMode() == tollgate.AskDeferred {
		return f.deferApproval()
	}
	res, err := f.t.approver.Approve(f.ctx, approvals.Request{
		Agent:       f.agent,
		Intent:      f.call.Intent,
		ToolRequest: f.req,
		RequestHash: f.hash,
		Reason:      f.decision.Reason,
		PolicyID:    f.decision.PolicyID,

		ApprovalsRequired: f.approvalsRequired(),
	})
	if err != nil {
		if ctxErr := f.ctx.Err(); ctxErr != nil {
			return f.canceled(ctxErr)
		}
		e := f.refuse(tollgate.StageApproval, tollgate.ReasonInternal, internalMessage)
		e.Err = err
		return e
	}
	f.approvalID = res.ApprovalID
	switch res.Outcome {
	case approvals.OutcomeApproved:
		return nil
	case approvals.OutcomeDeferred:
		e := f.refuse(tollgate.StageApproval, tollgate.ReasonApprovalPending, "Tool call deferred. Approval ID: "+res.ApprovalID)
		e.ApprovalID = res.ApprovalID
		return e
	case approvals.OutcomeTimeout:
		e := f.refuse(tollgate.StageApproval, tollgate.ReasonApprovalDenied, "Approval failed: timeout")
		f.outcome = tollgate.OutcomeTimeout
		return e
	}
	e := f.refuse(tollgate.StageApproval, tollgate.ReasonApprovalDenied, "Approval failed: denied")
	f.outcome = tollgate.OutcomeApprovalDenied
	return e
}

// peekGrant returns the id of a grant that would let this ASK call run,
// without using it (dry runs).
func (f *flight) peekGrant() string {
	list, err := f.t.grants.List(f.ctx, grants.Filter{Now: f.t.now()})
	if err != nil {
		return ""
	}
	for _, g := range list {
		if g.Matches(f.agent, f.req) {
			return g.ID
		}
	}
	return ""
}

// block refuses the call with a synthetic DENY decision, as Tollgate records
// refusals by stages other than the policy.
// The refusal keeps the id of the rule that had allowed the call, if any,
// so clients can tell which rule the stage overrode.
func (f *flight) block(stage tollgate.Stage, reason tollgate.Reason, decisionReason, message string) *tollgate.Error {
	ruleID := f.decision.PolicyID
	f.decision = tollgate.Decision{Type: tollgate.Deny, Reason: decisionReason}
	e := f.refuse(stage, reason, message)
	e.PolicyID = ruleID
	return e
}

// refuse refuses the call keeping the decision made so far.
func (f *flight) refuse(stage tollgate.Stage, reason tollgate.Reason, message string) *tollgate.Error {
	f.outcome = tollgate.OutcomeBlocked
	return &tollgate.Error{
		Reason:        reason,
		Stage:         stage,
		Message:       message,
		Tool:          f.req.Tool,
		PolicyID:      f.decision.PolicyID,
		CorrelationID: f.correlationID,
	}
}

func (f *flight) canceled(err error) *tollgate.Error {
	e := f.block(tollgate.StageExecute, tollgate.ReasonCanceled, "Call canceled: "+err.Error(), "Call canceled: "+err.Error())
	e.Err = err
	return e
}

const internalMessage = "Internal error."

func joinViolations(v []tollgate.Violation) string {
	parts := make([]string, len(v))
	for i := range v {
		parts[i] = v[i].Description
	}
	return strings.Join(parts, "; ")
}
