package interceptor

import (
	"context"
	"net"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/test/bufconn"

	"github.com/tollgate-go/tollgate/breaker"
	testv1 "github.com/tollgate-go/tollgate/internal/testproto"
	"github.com/tollgate-go/tollgate/tower"
)

// benchTower is the test configuration (policy with rate limits and a
// network policy, manifest with schemas) with a breaker and the default
// audit sink, which discards: these benchmarks measure the front door and
// the pipeline, not a disk.
func benchTower(b *testing.B) *tower.Tower {
	b.Helper()
	cfg, err := tower.LoadFiles(tower.Files{Policy: "testdata/policy.yaml", Manifest: "testdata/manifest.yaml"})
	if err != nil {
		b.Fatal(err)
	}
	br, err := breaker.New(breaker.Settings{})
	if err != nil {
		b.Fatal(err)
	}
	tw, err := tower.New(cfg, tower.WithBreaker(br))
	if err != nil {
		b.Fatal(err)
	}
	return tw
}

// BenchmarkUnaryInterceptor is the in-process cost of gating one unary
// call: headers read, request rendered, pipeline run, handler called.
func BenchmarkUnaryInterceptor(b *testing.B) {
	intercept := UnaryServerInterceptor(benchTower(b))
	ctx := incoming(b, testAgent, HeaderIntentAction, "echo", HeaderIntentReason, "benchmark")
	req := &testv1.EchoRequest{Message: "hello"}
	resp := &testv1.EchoResponse{Message: "hello"}
	info := &grpc.UnaryServerInfo{FullMethod: echoMethod}
	handler := func(context.Context, any) (any, error) { return resp, nil }
	b.ReportAllocs()
	for b.Loop() {
		if _, err := intercept(ctx, req, info, handler); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkUnaryBare(b *testing.B)  { benchmarkTransports(b, false) }
func BenchmarkUnaryGated(b *testing.B) { benchmarkTransports(b, true) }

func benchmarkTransports(b *testing.B, gated bool) {
	b.Run("bufconn", func(b *testing.B) {
		lis := bufconn.Listen(1 << 20)
		benchmarkEcho(b, gated, lis, func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) })
	})
	b.Run("tcp", func(b *testing.B) {
		benchmarkEcho(b, gated, listen(b), nil)
	})
}

// benchmarkEcho measures sequential unary Echo calls from a grpc-go client;
// gated adds the server interceptors and the client's header interceptor.
func benchmarkEcho(b *testing.B, gated bool, lis net.Listener, dial func(context.Context, string) (net.Conn, error)) {
	var sopts []grpc.ServerOption
	dopts := []grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}
	if gated {
		tw := benchTower(b)
		sopts = append(sopts, grpc.UnaryInterceptor(UnaryServerInterceptor(tw)), grpc.StreamInterceptor(StreamServerInterceptor(tw)))
		dopts = append(dopts, grpc.WithUnaryInterceptor(UnaryClientInterceptor(WithAgent(testAgent), WithIntent(intent("echo", "benchmark")))))
	}
	target := lis.Addr().String()
	if dial != nil {
		target = "passthrough:///bufnet"
		dopts = append(dopts, grpc.WithContextDialer(dial))
	}
	srv := grpc.NewServer(sopts...)
	testv1.RegisterToolServiceServer(srv, grpcService{})
	go func() { _ = srv.Serve(lis) }()
	b.Cleanup(srv.Stop)
	cc, err := grpc.NewClient(target, dopts...)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = cc.Close() })
	client := testv1.NewToolServiceClient(cc)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	req := &testv1.EchoRequest{Message: "hello"}
	if _, err := client.Echo(ctx, req); err != nil { // connect before timing
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := client.Echo(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
}
