package interceptor

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net/http"
	"strings"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/tower"
)

// NewConnectInterceptor returns the Connect front door: install it on a
// handler with connect.WithInterceptors. It gates unary calls and
// streaming handlers exactly as UnaryServerInterceptor and
// StreamServerInterceptor do (server streams at open, client and bidi
// streams message by message), over the Connect, gRPC and gRPC-Web
// protocols, and refuses with ConnectError. On a client it changes nothing;
// use NewConnectClientInterceptor there.
//
// Connect does not show interceptors the TLS connection; wrap the HTTP
// handler with TLSHandler when a verifier reads client certificates.
// connect-go reads requests of any size unless told otherwise: prefer
// ConnectHandlerOptions, which also sets a read limit, with ConnectHandler,
// which also audits the unary requests connect-go refuses before any
// interceptor runs.
func NewConnectInterceptor(t *tower.Tower, opts ...Option) connect.Interceptor {
	return &connectServer{g: newGate(t, opts)}
}

// DefaultReadMaxBytes is the largest request message, once decompressed, a
// handler built with ConnectHandlerOptions reads: 4 MiB, grpc-go's default
// (grpc.MaxRecvMsgSize). connect-go itself has no limit, so 260 KB of gzip
// can become 256 MiB in the server's memory.
const DefaultReadMaxBytes = 4 << 20

// ConnectHandlerOptions returns what a gated Connect handler needs: the
// front door (NewConnectInterceptor(t, opts...)), a read limit of
// DefaultReadMaxBytes per message, and a request gate that lets
// ConnectHandler audit the unary requests connect-go refuses before the
// interceptor runs. A later connect.WithReadMaxBytes changes the limit:
//
//	mux.Handle(ticketsv1connect.NewTicketServiceHandler(svc,
//		interceptor.ConnectHandlerOptions(gate, skip),
//		connect.WithReadMaxBytes(16<<20)))
//	srv := &http.Server{Handler: interceptor.ConnectHandler(mux)}
//
// A message over the limit is refused as MESSAGE_TOO_LARGE and audited: a
// streaming message by the interceptor, a unary request (which connect-go
// reads before any interceptor runs) by ConnectHandler. Without
// ConnectHandler, connect-go's refusal of a unary request is not audited,
// and the front door logs a warning once.
func ConnectHandlerOptions(t *tower.Tower, opts ...Option) connect.HandlerOption {
	g := newGate(t, opts)
	return connect.WithHandlerOptions(
		connect.WithReadMaxBytes(DefaultReadMaxBytes),
		connect.WithInterceptors(&connectServer{g: g}),
		connect.WithRequestGate(g.connectOpened),
	)
}

type connectServer struct{ g *gate }

func (s *connectServer) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		spec := req.Spec()
		if spec.IsClient {
			return next(ctx, req)
		}
		reachedConnect(ctx)
		meta := newCallMeta(spec.Procedure, Unary)
		if s.g.passes(ctx, meta) {
			return next(ctx, req)
		}
		c := s.g.connectCaller(ctx, req.Header())
		var resp connect.AnyResponse
		_, refusal, err := s.g.run(ctx, &c, meta, req.Any(), func(ctx context.Context) (any, error) {
			r, err := next(ctx, req)
			if resp = r; err != nil || r == nil {
				return nil, err
			}
			return r.Any(), nil // the message, for the audit summary
		})
		if refusal != nil {
			return nil, ConnectError(refusal)
		}
		return resp, err
	}
}

func (s *connectServer) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return next
}

func (s *connectServer) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return func(ctx context.Context, conn connect.StreamingHandlerConn) error {
		spec := conn.Spec()
		meta := newCallMeta(spec.Procedure, connectStreamType(spec.StreamType))
		if s.g.passes(ctx, meta) {
			return next(ctx, conn)
		}
		c := s.g.connectCaller(ctx, conn.RequestHeader())
		if meta.Type == ServerStream {
			return s.serveServerStream(ctx, &c, meta, spec.Schema, conn, next)
		}
		mg := newMessageGate(s.g, ctx, c, meta, connectError)
		err := next(mg.context(), &gatedConn{StreamingHandlerConn: conn, gate: mg})
		if refusal := mg.refused(); refusal != nil {
			return refusal
		}
		return err
	}
}

func (s *connectServer) serveServerStream(ctx context.Context, c *caller, meta CallMeta, schema any, conn connect.StreamingHandlerConn, next connect.StreamingHandlerFunc) error {
	typ, err := s.g.types.lookup(meta.FullMethod, schema)
	if err != nil {
		return ConnectError(s.g.refuse(ctx, c, meta, internalRefusal(err)))
	}
	req := typ.New().Interface()
	if err := conn.Receive(req); err != nil {
		if errors.Is(err, io.EOF) {
			// What Connect answers when it reads the request itself.
			return connect.NewError(connect.CodeUnimplemented, errors.New("unary request has zero messages"))
		}
		return s.g.connectReadFailed(ctx, c, meta, err)
	}
	_, refusal, err := s.g.run(ctx, c, meta, req, func(ctx context.Context) (any, error) {
		return nil, next(ctx, &openedConn{StreamingHandlerConn: conn, req: req})
	})
	if refusal != nil {
		return ConnectError(refusal)
	}
	return err
}

func connectError(e *tollgate.Error) error { return ConnectError(e) }

// connectReadFailed handles a receive the transport failed. A message over
// the handler's read limit (connect.WithReadMaxBytes) is refused and
// audited (tooLarge); any other error (the caller left, a broken stream) is
// the transport's own and passes through: nothing was asked of the tower.
func (g *gate) connectReadFailed(ctx context.Context, c *caller, meta CallMeta, err error) error {
	if connect.CodeOf(err) != connect.CodeResourceExhausted {
		return err
	}
	return ConnectError(g.refuse(ctx, c, meta, tooLarge(err)))
}

func connectStreamType(t connect.StreamType) StreamType {
	switch t {
	case connect.StreamTypeClient:
		return ClientStream
	case connect.StreamTypeServer:
		return ServerStream
	case connect.StreamTypeBidi:
		return BidiStream
	}
	return Unary
}

// connectCaller reads the caller from HTTP headers, lower-casing their
// names as gRPC metadata has them, and the TLS state TLSHandler stored.
func (g *gate) connectCaller(ctx context.Context, h http.Header) caller {
	lower := make(map[string][]string, len(h))
	for k, v := range h {
		lower[strings.ToLower(k)] = v
	}
	state, _ := ctx.Value(tlsKey{}).(*tls.ConnectionState)
	return g.readCaller(lower, state)
}

type tlsKey struct{}

// TLSHandler makes each request's TLS state (r.TLS) visible to
// NewConnectInterceptor, which Connect does not give interceptors. Wrap the
// Connect handler or the mux with it when a verifier reads client
// certificates; without it Credentials.TLS is nil and such a verifier
// refuses every call. ConnectHandler does this too.
func TLSHandler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS != nil {
			r = r.WithContext(context.WithValue(r.Context(), tlsKey{}, r.TLS))
		}
		next.ServeHTTP(w, r)
	})
}

// openedConn is a server stream's conn as its handler sees it: the request
// the interceptor already read and gated is received first.
type openedConn struct {
	connect.StreamingHandlerConn
	req  proto.Message
	read bool
}

func (c *openedConn) Receive(m any) error {
	if c.read {
		return c.StreamingHandlerConn.Receive(m)
	}
	c.read = true
	return deliver(m, c.req)
}

// gatedConn is a client or bidi stream's conn: every message received goes
// through the gate before the handler sees it.
type gatedConn struct {
	connect.StreamingHandlerConn
	gate *messageGate
}

func (c *gatedConn) Receive(m any) error {
	if err := c.gate.refused(); err != nil {
		return err
	}
	err := c.StreamingHandlerConn.Receive(m)
	switch {
	case errors.Is(err, io.EOF):
		if refusal := c.gate.ended(); refusal != nil {
			return refusal
		}
		return err
	case err != nil:
		return c.gate.g.connectReadFailed(c.gate.base, &c.gate.c, c.gate.meta, err)
	}
	return c.gate.received(m)
}

func (c *gatedConn) Send(m any) error {
	if err := c.gate.sending(); err != nil {
		return err
	}
	return c.StreamingHandlerConn.Send(m)
}

// NewConnectClientInterceptor returns the Connect client side: it attaches
// the agent's credentials and intent to every outgoing call, as
// UnaryClientInterceptor does. Installed on a handler by mistake it would
// gate nothing, so there it refuses every call.
func NewConnectClientInterceptor(opts ...ClientOption) connect.Interceptor {
	return &connectClient{o: newClientOptions(opts)}
}

type connectClient struct{ o clientOptions }

// notAHandler is what a client interceptor answers on a handler.
func notAHandler() error { return connect.NewError(connect.CodeInternal, errors.New(genericMessage)) }

func (c *connectClient) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		if !req.Spec().IsClient {
			return nil, notAHandler()
		}
		hs, err := c.o.headers(ctx)
		if err != nil {
			return nil, connect.NewError(connect.CodeUnauthenticated, err)
		}
		for _, h := range hs {
			req.Header().Set(h.key, h.value)
		}
		return next(ctx, req)
	}
}

func (c *connectClient) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return func(ctx context.Context, spec connect.Spec) connect.StreamingClientConn {
		hs, err := c.o.headers(ctx)
		if err != nil {
			return &failedClientConn{spec: spec, err: connect.NewError(connect.CodeUnauthenticated, err)}
		}
		conn := next(ctx, spec)
		for _, h := range hs {
			conn.RequestHeader().Set(h.key, h.value)
		}
		return conn
	}
}

func (c *connectClient) WrapStreamingHandler(connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return func(context.Context, connect.StreamingHandlerConn) error { return notAHandler() }
}

// failedClientConn is an outgoing stream that could not get its
// credentials: it never reaches the network, and every operation fails
// with err.
type failedClientConn struct {
	spec connect.Spec
	err  error
}

func (c *failedClientConn) Spec() connect.Spec           { return c.spec }
func (c *failedClientConn) Peer() connect.Peer           { return connect.Peer{} }
func (c *failedClientConn) Send(any) error               { return c.err }
func (c *failedClientConn) RequestHeader() http.Header   { return http.Header{} }
func (c *failedClientConn) CloseRequest() error          { return c.err }
func (c *failedClientConn) Receive(any) error            { return c.err }
func (c *failedClientConn) ResponseHeader() http.Header  { return http.Header{} }
func (c *failedClientConn) ResponseTrailer() http.Header { return http.Header{} }
func (c *failedClientConn) CloseResponse() error         { return nil }
