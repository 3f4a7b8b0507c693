package interceptor

import (
	"context"

	"google.golang.org/grpc"
	"google.golang.org/grpc/stats"
	"google.golang.org/grpc/status"

	"github.com/tollgate-go/tollgate/tower"
)

// ServerOptions returns everything a gated grpc-go server needs:
// UnaryServerInterceptor, StreamServerInterceptor and StatsHandler, all
// with t and opts. The interceptors are chained (grpc.ChainUnaryInterceptor),
// so they run after the interceptors of options that come before them:
//
//	srv := grpc.NewServer(append([]grpc.ServerOption{
//		grpc.ChainUnaryInterceptor(recovery.UnaryServerInterceptor()),
//	}, interceptor.ServerOptions(gate, skip)...)...)
func ServerOptions(t *tower.Tower, opts ...Option) []grpc.ServerOption {
	return []grpc.ServerOption{
		grpc.ChainUnaryInterceptor(UnaryServerInterceptor(t, opts...)),
		grpc.ChainStreamInterceptor(StreamServerInterceptor(t, opts...)),
		grpc.StatsHandler(StatsHandler(t, opts...)),
	}
}

// StatsHandler returns a grpc-go stats.Handler (install it with
// grpc.StatsHandler, or take ServerOptions) that audits the unary calls
// grpc-go refuses before any interceptor runs: grpc-go reads and decodes a
// unary request before calling the interceptors, so a request over
// grpc.MaxRecvMsgSize, or one that does not decompress or decode, is
// answered by grpc-go and never reaches UnaryServerInterceptor. Such a call
// is refused by the front door on its own, audited through
// tower.Tower.Refuse with the caller's verified agent: MESSAGE_TOO_LARGE for
// ResourceExhausted, PARAMS_INVALID for a request grpc-go could not read
// (Internal, Unimplemented, InvalidArgument). A call that ended otherwise
// before its request was read (the caller left or timed out) was not
// refused, and is not audited; neither are methods WithPassThrough lets
// through. The caller gets grpc-go's own status.
//
// A call whose request was read is the interceptor's to gate and audit;
// the handler leaves it alone, so nothing is audited twice. Stream
// messages are read inside StreamServerInterceptor, which audits their
// failed reads itself. grpc-go reports nothing to stats handlers for
// methods the server does not have: they are answered Unimplemented and
// not audited.
func StatsHandler(t *tower.Tower, opts ...Option) stats.Handler {
	return &statsHandler{g: newGate(t, opts)}
}

type statsHandler struct{ g *gate }

// unaryRead follows one RPC: whether it is unary and whether its request
// was read. grpc-go reports a unary call's events in order, from the
// goroutine that serves it, so the fields need no lock.
type unaryRead struct {
	method      string
	unary, read bool
}

type unaryReadKey struct{}

func (h *statsHandler) TagRPC(ctx context.Context, info *stats.RPCTagInfo) context.Context {
	return context.WithValue(ctx, unaryReadKey{}, &unaryRead{method: info.FullMethodName})
}

func (h *statsHandler) HandleRPC(ctx context.Context, s stats.RPCStats) {
	r, ok := ctx.Value(unaryReadKey{}).(*unaryRead)
	if !ok || s.IsClient() {
		return
	}
	switch s := s.(type) {
	case *stats.Begin:
		r.unary = !s.IsClientStream && !s.IsServerStream
	case *stats.InPayload:
		r.read = true
	case *stats.End:
		if s.Error == nil || !r.unary || r.read {
			return
		}
		st := status.Convert(s.Error)
		h.g.refuseUnread(ctx, newCallMeta(r.method, Unary), st.Code(), st.Message(), func() caller { return h.g.grpcCaller(ctx) })
	}
}

func (h *statsHandler) TagConn(ctx context.Context, _ *stats.ConnTagInfo) context.Context { return ctx }

func (h *statsHandler) HandleConn(context.Context, stats.ConnStats) {}
