package interceptor

import (
	"context"
	"errors"
	"fmt"

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
		return nil, g.internal(ctx, tool, errors.New("interceptor: no tower; every call is refused")), nil
	}
	p, perr := params(msg)
	if perr != nil {
		return nil, g.internal(ctx, tool, perr), nil
	}
	call := tower.Call{
		Credentials:    c.creds,
		Intent:         c.intent,
		Request:        tollgate.ToolRequest{Tool: tool, Action: action, Params: p},
		ApprovalID:     c.approvalID,
		CredentialsErr: c.agentErr,
		Stream:         c.stream,
	}
	var out struct {
		result any
		err    error
		ran    bool
	}
	_, terr := g.t.ExecuteCall(ctx, call, func(ctx context.Context) (any, error) {
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
	// is a broken contract, refused rather than trusted.
	return nil, g.internal(ctx, tool, fmt.Errorf("interceptor: tower returned %T: %w", terr, terr)), nil
}

// internal refuses a call the front door cannot hand to the tower. It is a
// deployment or programming error, so it is logged; the client sees only a
// generic INTERNAL.
func (g *gate) internal(ctx context.Context, tool string, cause error) *tollgate.Error {
	g.o.log.ErrorContext(ctx, "tollgate: interceptor refused a call it could not gate", "tool", tool, "error", cause)
	return &tollgate.Error{Reason: tollgate.ReasonInternal, Message: genericMessage, Tool: tool, Err: cause}
}

// callerGone is a handler error seen while the call's context was done. It
// matches the context's error (errors.Is), which the tower treats as a
// cancellation. The client gets the handler's error itself.
type callerGone struct{ err, ctxErr error }

func (e callerGone) Error() string   { return e.err.Error() }
func (e callerGone) Unwrap() []error { return []error{e.err, e.ctxErr} }
