package main

import (
	"io"

	"connectrpc.com/connect"
	"connectrpc.com/otelconnect"
	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
)

// propagator reads the caller's trace from W3C traceparent and baggage
// headers (gRPC metadata or HTTP headers).
var propagator = propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})

// newStdoutTracing returns a tracer provider that writes every span to w
// as JSON (--trace): a real deployment would export with OTLP instead.
// Shut it down to flush the last spans.
func newStdoutTracing(w io.Writer) (*sdktrace.TracerProvider, error) {
	exp, err := stdouttrace.New(stdouttrace.WithWriter(w))
	if err != nil {
		return nil, err
	}
	return sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp)), nil
}

// rpcTracing returns the ecosystem's own RPC instrumentation for both
// servers, which start the server span from the incoming headers: the
// tower's span for each call (tower.WithTracerProvider) is its child, and
// the tool handler's spans are the tower span's. Nothing without tp.
func rpcTracing(tp trace.TracerProvider) ([]grpc.ServerOption, []connect.HandlerOption, error) {
	if tp == nil {
		return nil, nil, nil
	}
	grpcOpts := []grpc.ServerOption{grpc.StatsHandler(otelgrpc.NewServerHandler(
		otelgrpc.WithTracerProvider(tp), otelgrpc.WithPropagators(propagator)))}
	// WithTrustRemote: the caller's span becomes the parent, as with
	// otelgrpc (by default otelconnect only links it).
	ic, err := otelconnect.NewInterceptor(otelconnect.WithTracerProvider(tp), otelconnect.WithPropagator(propagator),
		otelconnect.WithTrustRemote(), otelconnect.WithoutMetrics())
	if err != nil {
		return nil, nil, err
	}
	return grpcOpts, []connect.HandlerOption{connect.WithInterceptors(ic)}, nil
}
