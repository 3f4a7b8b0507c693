package tower

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/approvals"
	"github.com/tollgate-go/tollgate/audit"
	"github.com/tollgate-go/tollgate/breaker"
	"github.com/tollgate-go/tollgate/identity"
)

// ExecuteCall gates call and, if it is allowed, runs exec with the verified
// agent in its context. It returns exec's result and error unchanged, or a
// *tollgate.Error when the call was refused or exec panicked. Every exit is
// audited.
func (t *Tower) ExecuteCall(ctx context.Context, call Call, exec ExecFunc) (any, error) {
	f := t.start(ctx, call)
	f.startSpan()
	if err := f.decideSafely(false); err != nil {
		f.finishBreaker(breaker.Ignored)
		f.emit(err, "")
		return nil, err
	}
	return f.run(exec)
}

// Verdict is what the pipeline would do with a call, without running it.
type Verdict struct {
	Decision tollgate.Decision
	Request  tollgate.ToolRequest // with trusted metadata from the manifest
	Agent    tollgate.Agent       // as verified
	GrantID  string               // a grant that would let an ASK call run
	// Err is the refusal, nil when the call would run (ALLOW, or ASK covered
	// by a grant) or would be put to the approver (ASK).
	Err *tollgate.Error
}

// Decide runs every decision stage — identity, limits, policy, network
// guard, schema, constraints, grants — without executing anything, writing
// audit records, using grants or asking approvers. The circuit breaker is
// not consulted. Rate limits are: Decide counts against them, so use it on a
// Tower of its own (as `tollgate check` does).
func (t *Tower) Decide(ctx context.Context, call Call) Verdict {
	f := t.start(ctx, call)
	err := f.decideSafely(true)
	return Verdict{Decision: f.decision, Request: f.req, Agent: f.agent, GrantID: f.grantID, Err: err}
}

func (t *Tower) start(ctx context.Context, call Call) *flight {
	return &flight{
		t:             t,
		cfg:           t.cfg.Load(),
		ctx:           ctx,
		call:          call,
		agent:         call.Credentials.Claimed,
		req:           call.Request,
		correlationID: t.newID(),
		timing:        t.newTiming(),
	}
}

// decideSafely runs decide, turning a cancelled context or a panic in any
// stage into a refusal rather than an unaudited crash.
func (f *flight) decideSafely(dryRun bool) *tollgate.Error {
	if ctxErr := f.ctx.Err(); ctxErr != nil {
		f.resolve()
		f.hashOnce()
		return f.canceled(ctxErr)
	}
	return f.safely(func() *tollgate.Error { return f.decide(dryRun) })
}

// safely runs stages, turning a panic in any of them into an INTERNAL
// refusal by the stage that was running.
func (f *flight) safely(stages func() *tollgate.Error) (err *tollgate.Error) {
	defer func() {
		if p := recover(); p != nil {
			f.t.log.Error("tollgate: panic in a pipeline stage", "tool", f.req.Tool, "correlation_id", f.correlationID, "panic", p, "stack", string(debug.Stack()))
			f.hashOnce()
			err = f.block(f.stage, tollgate.ReasonInternal, "Internal error in the pipeline.", internalMessage)
		}
	}()
	return stages()
}

// hashOnce computes the request hash if the pipeline stopped before
// resolve did.
func (f *flight) hashOnce() {
	if f.hash == "" {
		f.hash = approvals.RequestHash(f.agent, f.call.Intent, f.req)
	}
}

// run records the authorization, runs the tool and records how it ended.
func (f *flight) run(exec ExecFunc) (any, error) {
	if err := f.ctx.Err(); err != nil {
		e := f.canceled(err)
		f.finishBreaker(breaker.Ignored)
		f.emit(e, "")
		return nil, e
	}
	f.outcome = tollgate.OutcomeAuthorized
	f.enter(tollgate.StageAudit)
	if err := f.write(nil, ""); err != nil {
		// Nothing may run unrecorded.
		f.auditFailed(err, "tollgate: audit write failed; refusing the call")
		e := f.refuse(tollgate.StageAudit, tollgate.ReasonInternal, internalMessage)
		e.Err = err
		f.finishBreaker(breaker.Ignored)
		f.observe(e)
		return nil, e
	}

	f.enter(tollgate.StageExecute)
	result, err, panicked := f.invoke(exec)
	switch {
	case panicked != nil:
		f.finishBreaker(breaker.Failure)
		f.outcome = tollgate.OutcomeFailed
		f.emit(nil, "panic: Execution failed")
		return nil, panicked
	case err != nil && isCancellation(err) && f.ctx.Err() != nil:
		// The caller left while the tool ran (a cancelled stream): not the
		// tool's failure, and the summary says so in plain words.
		f.finishBreaker(breaker.Ignored)
		f.outcome = tollgate.OutcomeCanceled
		f.emit(nil, "Call canceled: "+f.ctx.Err().Error())
		return nil, err
	case err != nil:
		f.finishBreaker(breaker.Failure)
		f.outcome = tollgate.OutcomeFailed
		f.emit(nil, fmt.Sprintf("%s: Execution failed", typeName(err)))
		return nil, err
	}
	f.finishBreaker(breaker.Success)
	f.outcome = tollgate.OutcomeExecuted
	f.emit(nil, f.t.summary(result))
	return result, nil
}

// invoke calls exec, recovering a panic into a TOOL_FAILED error.
func (f *flight) invoke(exec ExecFunc) (result any, err error, panicked *tollgate.Error) {
	defer func() {
		if p := recover(); p != nil {
			f.t.log.Error("tollgate: tool panicked", "tool", f.req.Tool, "correlation_id", f.correlationID, "panic", p, "stack", string(debug.Stack()))
			panicked = &tollgate.Error{
				Reason:        tollgate.ReasonToolFailed,
				Stage:         tollgate.StageExecute,
				Message:       "Tool call failed.",
				Tool:          f.req.Tool,
				PolicyID:      f.decision.PolicyID,
				CorrelationID: f.correlationID,
				Err:           fmt.Errorf("panic: %v", p),
			}
		}
	}()
	result, err = exec(identity.NewContext(f.ctx, f.agent))
	return result, err, nil
}

func (f *flight) finishBreaker(o breaker.Outcome) {
	if f.breakerDone != nil {
		f.breakerDone(o)
		f.breakerDone = nil
	}
}

// emit writes the audit record for the call's end. A failure never goes
// unnoticed: it is logged, counted (Tower.AuditFailures) and, for a
// refusal, joined to the refusal's internal cause so the front door's log
// carries it too. The caller's result or refusal stands: the refusal is
// already the safe outcome, and replacing it with INTERNAL would hide an
// approval id or retry delay the caller needs.
func (f *flight) emit(refusal *tollgate.Error, summary string) {
	f.enter(tollgate.StageAudit)
	err := f.write(refusal, summary)
	defer f.observe(refusal)
	if err == nil {
		return
	}
	f.auditFailed(err, "tollgate: audit write failed")
	if refusal != nil {
		refusal.Err = errors.Join(refusal.Err, fmt.Errorf("audit write failed: %w", err))
	}
}

// auditFailed counts and logs a failed audit write.
func (f *flight) auditFailed(err error, msg string) {
	f.t.auditFailures.Add(1)
	f.t.log.Error(msg, "tool", f.req.Tool, "correlation_id", f.correlationID, "outcome", f.outcome, "error", err)
}

// write records the call as it stands. The event lives in the flight, so
// a call's records cost no allocation: a Sink does not keep it past Emit.
func (f *flight) write(refusal *tollgate.Error, summary string) error {
	e := &f.event
	*e = audit.Event{
		SchemaVersion:   audit.SchemaVersion,
		Timestamp:       f.t.now(),
		CorrelationID:   f.correlationID,
		RequestHash:     f.hash,
		Agent:           f.agent,
		Intent:          f.call.Intent,
		ToolRequest:     f.req,
		Decision:        f.decision,
		Outcome:         f.outcome,
		ApprovalID:      f.approvalID,
		GrantID:         f.grantID,
		ResultSummary:   summary,
		PolicyVersion:   f.decision.PolicyVersion,
		ManifestVersion: f.req.ManifestVersion,
		TraceID:         f.span.traceID,
		SpanID:          f.span.spanID,
	}
	if refusal != nil {
		e.Stage, e.ReasonCode = refusal.Stage, refusal.Reason
	}
	if f.shadow.set {
		e.Shadow = &f.shadow.rec
	}
	return f.t.sink.Emit(f.ctx, e)
}

func isCancellation(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}
