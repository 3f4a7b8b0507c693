package interceptor

import (
	"context"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// UnaryClientInterceptor attaches the agent's credentials and intent to
// every outgoing unary call (see the Header constants). Headers it sets
// replace any the caller put in the outgoing metadata under the same name.
func UnaryClientInterceptor(opts ...ClientOption) grpc.UnaryClientInterceptor {
	o := newClientOptions(opts)
	return func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, callOpts ...grpc.CallOption) error {
		ctx, err := o.outgoing(ctx)
		if err != nil {
			return err
		}
		return invoker(ctx, method, req, reply, cc, callOpts...)
	}
}

// StreamClientInterceptor attaches the agent's credentials and intent to
// every outgoing stream, as UnaryClientInterceptor does.
func StreamClientInterceptor(opts ...ClientOption) grpc.StreamClientInterceptor {
	o := newClientOptions(opts)
	return func(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, callOpts ...grpc.CallOption) (grpc.ClientStream, error) {
		ctx, err := o.outgoing(ctx)
		if err != nil {
			return nil, err
		}
		return streamer(ctx, desc, cc, method, callOpts...)
	}
}

// outgoing returns ctx with the headers set in its outgoing metadata. A
// call that cannot get its credentials fails as Unauthenticated without
// being sent.
func (o *clientOptions) outgoing(ctx context.Context) (context.Context, error) {
	hs, err := o.headers(ctx)
	if err != nil {
		return nil, status.Error(codes.Unauthenticated, err.Error())
	}
	if len(hs) == 0 {
		return ctx, nil
	}
	md, _ := metadata.FromOutgoingContext(ctx)
	md = md.Copy()
	for _, h := range hs {
		md.Set(h.key, h.value)
	}
	return metadata.NewOutgoingContext(ctx, md), nil
}
