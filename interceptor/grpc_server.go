package interceptor

import (
	"context"
	"crypto/tls"
	"io"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/tower"
)

// UnaryServerInterceptor gates every unary call through t: the request is
// the tool call's params, the handler is its execution and runs with the
// verified agent in its context (identity.FromContext). A refusal is
// returned as Status(refusal); the handler's own result and error pass
// through unchanged.
func UnaryServerInterceptor(t *tower.Tower, opts ...Option) grpc.UnaryServerInterceptor {
	g := newGate(t, opts)
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		meta := newCallMeta(info.FullMethod, Unary)
		if g.passes(ctx, meta) {
			return handler(ctx, req)
		}
		c := g.grpcCaller(ctx)
		resp, refusal, err := g.run(ctx, &c, meta, req, func(ctx context.Context) (any, error) {
			return handler(ctx, req)
		})
		if refusal != nil {
			return nil, Status(refusal).Err()
		}
		return resp, err
	}
}

// StreamServerInterceptor gates every streaming call through t.
//
// A server-streaming call is one tool call: the interceptor reads the
// request before the handler starts (its type comes from the generated
// code's registered descriptor), gates it, and runs the handler as the
// execution, so the handler's error counts for the circuit breaker and the
// audit record says how the stream ended.
//
// Client-streaming and bidi calls are gated message by message: every
// received message is its own tool call and a refused message ends the
// stream with its status (see the package documentation). The handler's
// stream context carries the verified agent once a message was allowed.
func StreamServerInterceptor(t *tower.Tower, opts ...Option) grpc.StreamServerInterceptor {
	g := newGate(t, opts)
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		meta := newCallMeta(info.FullMethod, grpcStreamType(info))
		ctx := ss.Context()
		if g.passes(ctx, meta) {
			return handler(srv, ss)
		}
		c := g.grpcCaller(ctx)
		if meta.Type == ServerStream {
			return g.serveServerStream(ctx, &c, meta, srv, ss, handler)
		}
		mg := newMessageGate(g, ctx, c, meta, statusError)
		err := handler(srv, &gatedStream{ServerStream: ss, gate: mg})
		if refusal := mg.refused(); refusal != nil {
			return refusal
		}
		return err
	}
}

func (g *gate) serveServerStream(ctx context.Context, c *caller, meta CallMeta, srv any, ss grpc.ServerStream, handler grpc.StreamHandler) error {
	typ, err := g.types.lookup(meta.FullMethod, nil)
	if err != nil {
		return Status(g.refuse(ctx, c, meta, internalRefusal(err))).Err()
	}
	req := typ.New().Interface()
	if err := ss.RecvMsg(req); err != nil {
		return g.grpcReadFailed(ctx, c, meta, err)
	}
	_, refusal, err := g.run(ctx, c, meta, req, func(ctx context.Context) (any, error) {
		return nil, handler(srv, &openedStream{ServerStream: ss, ctx: ctx, req: req})
	})
	if refusal != nil {
		return Status(refusal).Err()
	}
	return err
}

func statusError(e *tollgate.Error) error { return Status(e).Err() }

// grpcReadFailed handles a receive the transport failed. A message over
// the server's size limit (grpc.MaxRecvMsgSize) is refused and audited
// (tooLarge); any other error (the caller left, a broken stream) is the
// transport's own and passes through: nothing was asked of the tower.
func (g *gate) grpcReadFailed(ctx context.Context, c *caller, meta CallMeta, err error) error {
	if status.Code(err) != codes.ResourceExhausted {
		return err
	}
	return Status(g.refuse(ctx, c, meta, tooLarge(err))).Err()
}

func grpcStreamType(info *grpc.StreamServerInfo) StreamType {
	switch {
	case info.IsClientStream && info.IsServerStream:
		return BidiStream
	case info.IsClientStream:
		return ClientStream
	}
	return ServerStream
}

// grpcCaller reads the caller from incoming metadata (whose keys gRPC
// lower-cases) and the peer's TLS state.
func (g *gate) grpcCaller(ctx context.Context) caller {
	md, _ := metadata.FromIncomingContext(ctx)
	var state *tls.ConnectionState
	if p, ok := peer.FromContext(ctx); ok {
		if info, ok := p.AuthInfo.(credentials.TLSInfo); ok {
			state = &info.State
		}
	}
	return g.readCaller(md, state)
}

// openedStream is a server-streaming call's stream as its handler sees it:
// the request the interceptor already read and gated is received first,
// and the context carries the verified agent.
type openedStream struct {
	grpc.ServerStream
	ctx  context.Context
	req  proto.Message
	read bool
}

func (s *openedStream) Context() context.Context { return s.ctx }

func (s *openedStream) RecvMsg(m any) error {
	if s.read {
		return s.ServerStream.RecvMsg(m)
	}
	s.read = true
	return deliver(m, s.req)
}

// gatedStream is a client-streaming or bidi call's stream: every message
// received goes through the gate before the handler sees it.
type gatedStream struct {
	grpc.ServerStream
	gate *messageGate
}

func (s *gatedStream) Context() context.Context { return s.gate.context() }

func (s *gatedStream) RecvMsg(m any) error {
	if err := s.gate.refused(); err != nil {
		return err
	}
	err := s.ServerStream.RecvMsg(m)
	switch {
	case err == io.EOF:
		if refusal := s.gate.ended(); refusal != nil {
			return refusal
		}
		return io.EOF
	case err != nil:
		return s.gate.g.grpcReadFailed(s.gate.base, &s.gate.c, s.gate.meta, err)
	}
	return s.gate.received(m)
}

func (s *gatedStream) SendMsg(m any) error {
	if err := s.gate.sending(); err != nil {
		return err
	}
	return s.ServerStream.SendMsg(m)
}
