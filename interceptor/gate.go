package interceptor

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"google.golang.org/protobuf/proto"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/tower"
)

// gate is what every server-side front door shares: the tower, the
// options, the request types of server-streaming methods and the decoded
// agent headers.
type gate struct {
	t      *tower.Tower
	o      serverOptions
	types  inputTypes
	agents agentCache
	// unwrapped warns once that a Connect handler is not wrapped with
	// ConnectHandler.
	unwrapped sync.Once
}

func newGate(t *tower.Tower, opts []Option) *gate {
	return &gate{t: t, o: newServerOptions(opts)}
}

// passes reports whether the call goes to its handler ungated.
func (g *gate) passes(ctx context.Context, meta CallMeta) bool {
	return g.o.passThrough != nil && g.o.passThrough.Match(ctx, meta)
}

// tool returns the manifest key and action of a method.
func (g *gate) tool(meta CallMeta) (tool, action string) {
	if g.o.mapper != nil {
		if tool, action, ok := g.o.mapper(meta.FullMethod); ok {
			return tool, action
		}
	}
	return meta.FullMethod, meta.Method
}

// run gates one tool call and, when the tower allows it, runs exec. It
// returns exec's result and error unchanged, or the refusal (then result and
// err are nil). exec's result is what the tower summarises in the audit
// record.
func (g *gate) run(ctx context.Context, c *caller, meta CallMeta, msg any, exec tower.ExecFunc) (result any, refusal *tollgate.Error, err error) {
	tool, action := g.tool(meta)
	if g.t == nil {
		return nil, g.noTower(ctx, tool), nil
	}
	m, ok := msg.(proto.Message)
	if !ok {
		return nil, g.refuse(ctx, c, meta, internalRefusal(fmt.Errorf("interceptor: request is %T, not a protobuf message", msg))), nil
	}
	p, perr := params(m)
	if perr != nil {
		return nil, g.refuse(ctx, c, meta, unrenderable(perr)), nil
	}
	var out struct {
		result any
		err    error
		ran    bool
	}
	_, terr := g.t.ExecuteCall(ctx, g.call(c, tool, action, p), func(ctx context.Context) (any, error) {
		out.result, out.err = exec(ctx)
		out.ran = true
		if out.err != nil && ctx.Err() != nil {
			// The handler failed because the caller left (its error is
			// often a status, not the context's error): tell the tower, so
			// the breaker does not count it against the tool.
			return out.result, callerGone{out.err, ctx.Err()}
		}
		return out.result, out.err
	})
	if out.ran {
		return out.result, nil, out.err
	}
	if errors.As(terr, &refusal) {
		return nil, refusal, nil
	}
	// The tower returns exec's error or a *tollgate.Error; anything else
	// is a broken contract, refused rather than trusted. The tower has
	// already recorded how the call ended.
	cause := fmt.Errorf("interceptor: tower returned %T: %w", terr, terr)
	g.o.log.ErrorContext(ctx, "tollgate: interceptor refused a call it could not gate", "tool", tool, "error", cause)
	return nil, &tollgate.Error{Reason: tollgate.ReasonInternal, Stage: tollgate.StageFrontDoor, Message: genericMessage, Tool: tool, Err: cause}, nil
}

func (g *gate) call(c *caller, tool, action string, p tollgate.Params) tower.Call {
	return tower.Call{
		Credentials:    c.creds,
		Intent:         c.intent,
		Request:        tollgate.ToolRequest{Tool: tool, Action: action, Params: p},
		ApprovalID:     c.approvalID,
		CredentialsErr: c.agentErr,
		Stream:         c.stream,
	}
}

// refuse is a refusal the front door makes on its own, before the tower
// can decide the call. It still goes through the tower (Tower.Refuse): the
// caller is verified and the refusal audited like every other exit.
// Internal errors are deployment or programming errors, so they are also
// logged.
func (g *gate) refuse(ctx context.Context, c *caller, meta CallMeta, e *tollgate.Error) *tollgate.Error {
	tool, action := g.tool(meta)
	if g.t == nil {
		return g.noTower(ctx, tool)
	}
	if e.Reason == tollgate.ReasonInternal {
		g.o.log.ErrorContext(ctx, "tollgate: interceptor refused a call it could not gate", "tool", tool, "error", e.Err)
	}
	return g.t.Refuse(ctx, g.call(c, tool, action, nil), e)
}

// noTower refuses every call of a front door built without a tower. There
// is no audit log to write to, so it is logged; the client sees only a
// generic INTERNAL.
func (g *gate) noTower(ctx context.Context, tool string) *tollgate.Error {
	cause := errors.New("interceptor: no tower; every call is refused")
	g.o.log.ErrorContext(ctx, "tollgate: interceptor refused a call it could not gate", "tool", tool, "error", cause)
	return &tollgate.Error{Reason: tollgate.ReasonInternal, Stage: tollgate.StageFrontDoor, Message: genericMessage, Tool: tool, Err: cause}
}

// internalRefusal is a call the front door cannot hand to the tower through
// no fault of the caller (a request type it cannot find): INTERNAL, with a
// generic message.
func internalRefusal(cause error) *tollgate.Error {
	return &tollgate.Error{Reason: tollgate.ReasonInternal, Stage: tollgate.StageFrontDoor, Message: genericMessage, Err: cause}
}

// unrenderable is a request that decoded but cannot be rendered as params
// (nested deeper than tollgate.MaxDepth, a well-known type protojson
// refuses): the caller's fault, so PARAMS_INVALID.
func unrenderable(cause error) *tollgate.Error {
	return badRequest(fmt.Sprintf("the request cannot be rendered as params (nested deeper than %d levels, or a value JSON cannot represent)", tollgate.MaxDepth), cause)
}

// badRequest is a request the front door refuses as the caller's fault:
// PARAMS_INVALID, saying why. The cause is not echoed; it may quote the
// request.
func badRequest(reason string, cause error) *tollgate.Error {
	return &tollgate.Error{
		Reason:     tollgate.ReasonParamsInvalid,
		Stage:      tollgate.StageFrontDoor,
		Message:    "Tool call denied: Parameter validation failed: " + reason,
		Violations: []tollgate.Violation{{Field: "params", Description: reason}},
		Err:        cause,
	}
}

// tooLarge is a message the transport would not read because of its size:
// the front door refuses the call as MESSAGE_TOO_LARGE instead of passing
// the transport's error on, so it is audited.
func tooLarge(cause error) *tollgate.Error {
	return &tollgate.Error{
		Reason:  tollgate.ReasonMessageTooLarge,
		Stage:   tollgate.StageFrontDoor,
		Message: "Tool call denied: the request message is larger than the server reads.",
		Err:     cause,
	}
}

// callerGone is a handler error seen while the call's context was done. It
// matches the context's error (errors.Is), which the tower treats as a
// cancellation. The client gets the handler's error itself.
type callerGone struct{ err, ctxErr error }

func (e callerGone) Error() string   { return e.err.Error() }
func (e callerGone) Unwrap() []error { return []error{e.err, e.ctxErr} }
