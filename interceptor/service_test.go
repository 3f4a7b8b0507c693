package interceptor

import (
	"context"
	"errors"
	"io"
	"net/http"
	"testing"

	"connectrpc.com/connect"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	testv1 "github.com/tollgate-go/tollgate/internal/testproto"
	"github.com/tollgate-go/tollgate/internal/testproto/testv1connect"
	"github.com/tollgate-go/tollgate/tower"
)

// The test service, the same for both stacks. Echo answers
// "<verified agent>:<message>", so tests see the identity in the handler's
// context; "fail" makes it return its own error, "panic" panic.

const toolFailure = "tool failed"

func echo(ctx context.Context, msg string) string {
	if msg == "panic" {
		panic("boom: secret internals")
	}
	return agentID(ctx) + ":" + msg
}

type grpcService struct {
	testv1.UnimplementedToolServiceServer
}

func (grpcService) Echo(ctx context.Context, r *testv1.EchoRequest) (*testv1.EchoResponse, error) {
	if r.GetMessage() == "fail" {
		return nil, status.Error(codes.Aborted, toolFailure)
	}
	return &testv1.EchoResponse{Message: echo(ctx, r.GetMessage())}, nil
}

func (grpcService) Fetch(_ context.Context, r *testv1.FetchRequest) (*testv1.FetchResponse, error) {
	return &testv1.FetchResponse{Status: 200, Body: r.GetUrl()}, nil
}

func (grpcService) Watch(r *testv1.WatchRequest, s grpc.ServerStreamingServer[testv1.WatchEvent]) error {
	for i := range r.GetCount() {
		if err := s.Send(&testv1.WatchEvent{Topic: agentID(s.Context()) + "/" + r.GetTopic(), Seq: i + 1}); err != nil {
			return err
		}
	}
	return nil
}

func (grpcService) Upload(s grpc.ClientStreamingServer[testv1.UploadChunk, testv1.UploadSummary]) error {
	var sum testv1.UploadSummary
	for {
		c, err := s.Recv()
		if errors.Is(err, io.EOF) {
			return s.SendAndClose(&sum)
		}
		if err != nil {
			return err
		}
		sum.Chunks++
		sum.Bytes += int64(len(c.GetData()))
	}
}

func (grpcService) Chat(s grpc.BidiStreamingServer[testv1.ChatMessage, testv1.ChatMessage]) error {
	for {
		m, err := s.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := s.Send(&testv1.ChatMessage{Text: "re " + m.GetText() + " by " + agentID(s.Context())}); err != nil {
			return err
		}
	}
}

type connectService struct{}

func (connectService) Echo(ctx context.Context, r *connect.Request[testv1.EchoRequest]) (*connect.Response[testv1.EchoResponse], error) {
	if r.Msg.GetMessage() == "fail" {
		return nil, connect.NewError(connect.CodeAborted, errors.New(toolFailure))
	}
	return connect.NewResponse(&testv1.EchoResponse{Message: echo(ctx, r.Msg.GetMessage())}), nil
}

func (connectService) Fetch(_ context.Context, r *connect.Request[testv1.FetchRequest]) (*connect.Response[testv1.FetchResponse], error) {
	return connect.NewResponse(&testv1.FetchResponse{Status: 200, Body: r.Msg.GetUrl()}), nil
}

func (connectService) Watch(ctx context.Context, r *connect.Request[testv1.WatchRequest], s *connect.ServerStream[testv1.WatchEvent]) error {
	for i := range r.Msg.GetCount() {
		if err := s.Send(&testv1.WatchEvent{Topic: agentID(ctx) + "/" + r.Msg.GetTopic(), Seq: i + 1}); err != nil {
			return err
		}
	}
	return nil
}

func (connectService) Upload(_ context.Context, s *connect.ClientStream[testv1.UploadChunk]) (*connect.Response[testv1.UploadSummary], error) {
	var sum testv1.UploadSummary
	for s.Receive() {
		sum.Chunks++
		sum.Bytes += int64(len(s.Msg().GetData()))
	}
	if err := s.Err(); err != nil {
		return nil, err
	}
	return connect.NewResponse(&sum), nil
}

func (connectService) Chat(ctx context.Context, s *connect.BidiStream[testv1.ChatMessage, testv1.ChatMessage]) error {
	for {
		m, err := s.Receive()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := s.Send(&testv1.ChatMessage{Text: "re " + m.GetText() + " by " + agentID(ctx)}); err != nil {
			return err
		}
	}
}

// startGRPC serves the test service (and the standard health service) on
// loopback TCP behind the gRPC front door (ServerOptions).
func startGRPC(tb testing.TB, tw *tower.Tower, opts ...Option) string {
	tb.Helper()
	lis := listen(tb)
	s := grpc.NewServer(ServerOptions(tw, opts...)...)
	testv1.RegisterToolServiceServer(s, grpcService{})
	healthpb.RegisterHealthServer(s, health.NewServer())
	go func() { _ = s.Serve(lis) }()
	tb.Cleanup(s.Stop)
	return lis.Addr().String()
}

// startConnect serves the test service with connect-go on loopback TCP
// (HTTP/1.1 and h2c) behind the Connect front door (ConnectHandlerOptions,
// ConnectHandler).
func startConnect(tb testing.TB, tw *tower.Tower, opts ...Option) string {
	tb.Helper()
	lis := listen(tb)
	mux := http.NewServeMux()
	mux.Handle(testv1connect.NewToolServiceHandler(connectService{}, ConnectHandlerOptions(tw, opts...)))
	srv := &http.Server{Handler: ConnectHandler(mux), Protocols: serverProtocols()}
	go func() { _ = srv.Serve(lis) }()
	tb.Cleanup(func() { _ = srv.Close() })
	return "http://" + lis.Addr().String()
}

// toolClient calls the test service the same way over every stack.
type toolClient interface {
	Echo(ctx context.Context, msg string) (string, error)
	Fetch(ctx context.Context, url string) (string, error)
	// Watch returns the topics of the events received before the error.
	Watch(ctx context.Context, topic string, count int32) ([]string, error)
	Upload(ctx context.Context, names ...string) (int32, error)
	// Chat sends each text and waits for its reply; it returns the replies
	// received before the error.
	Chat(ctx context.Context, texts ...string) ([]string, error)
}

// variant is one client stack against a server: each client against its
// own stack, and Connect's gRPC protocol against grpc-go.
type variant struct {
	name string
	dial func(tb testing.TB, tw *tower.Tower, sopts []Option, copts []ClientOption) toolClient
}

func connectVariant(name string, protocol ...connect.ClientOption) variant {
	return variant{name, func(tb testing.TB, tw *tower.Tower, sopts []Option, copts []ClientOption) toolClient {
		return newConnectToolClient(tb, startConnect(tb, tw, sopts...), copts, protocol...)
	}}
}

func newConnectToolClient(tb testing.TB, url string, copts []ClientOption, protocol ...connect.ClientOption) toolClient {
	hc := &http.Client{Transport: &http.Transport{Protocols: clientProtocols()}}
	tb.Cleanup(hc.CloseIdleConnections)
	return connectToolClient{connectStub(hc, url, copts, protocol...)}
}

// connectStub is a generated Connect client with the client interceptor.
func connectStub(hc connect.HTTPClient, url string, copts []ClientOption, protocol ...connect.ClientOption) testv1connect.ToolServiceClient {
	opts := append([]connect.ClientOption{connect.WithInterceptors(NewConnectClientInterceptor(copts...), rawHeaderInterceptor{})}, protocol...)
	return testv1connect.NewToolServiceClient(hc, url, opts...)
}

var variants = []variant{
	{"grpc-go", func(tb testing.TB, tw *tower.Tower, sopts []Option, copts []ClientOption) toolClient {
		return grpcToolClient{dialGRPC(tb, startGRPC(tb, tw, sopts...), copts...)}
	}},
	connectVariant("connect"),
	connectVariant("connect-grpc", connect.WithGRPC()),
	connectVariant("connect-grpcweb", connect.WithGRPCWeb()),
	{"connect-grpc-to-grpc-go", func(tb testing.TB, tw *tower.Tower, sopts []Option, copts []ClientOption) toolClient {
		return newConnectToolClient(tb, "http://"+startGRPC(tb, tw, sopts...), copts, connect.WithGRPC())
	}},
}

func dialGRPC(tb testing.TB, addr string, copts ...ClientOption) testv1.ToolServiceClient {
	tb.Helper()
	cc, err := grpc.NewClient(addr,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithChainUnaryInterceptor(UnaryClientInterceptor(copts...)),
		grpc.WithChainStreamInterceptor(StreamClientInterceptor(copts...)),
	)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = cc.Close() })
	return testv1.NewToolServiceClient(cc)
}

// grpcConn dials addr without client interceptors.
func grpcConn(tb testing.TB, addr string) *grpc.ClientConn {
	tb.Helper()
	cc, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = cc.Close() })
	return cc
}

// rawHeaderKey lets a test send a header as given (a malformed agent).
type rawHeaderKey struct{}

func withRawHeader(ctx context.Context, key, value string) context.Context {
	ctx = metadata.AppendToOutgoingContext(ctx, key, value)
	return context.WithValue(ctx, rawHeaderKey{}, [2]string{key, value})
}

type rawHeaderInterceptor struct{}

func (rawHeaderInterceptor) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		if kv, ok := ctx.Value(rawHeaderKey{}).([2]string); ok {
			req.Header().Set(kv[0], kv[1])
		}
		return next(ctx, req)
	}
}

func (rawHeaderInterceptor) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return func(ctx context.Context, spec connect.Spec) connect.StreamingClientConn {
		conn := next(ctx, spec)
		if kv, ok := ctx.Value(rawHeaderKey{}).([2]string); ok {
			conn.RequestHeader().Set(kv[0], kv[1])
		}
		return conn
	}
}

func (rawHeaderInterceptor) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return next
}

type grpcToolClient struct{ c testv1.ToolServiceClient }

func (g grpcToolClient) Echo(ctx context.Context, msg string) (string, error) {
	r, err := g.c.Echo(ctx, &testv1.EchoRequest{Message: msg})
	return r.GetMessage(), err
}

func (g grpcToolClient) Fetch(ctx context.Context, url string) (string, error) {
	r, err := g.c.Fetch(ctx, &testv1.FetchRequest{Url: url})
	return r.GetBody(), err
}

func (g grpcToolClient) Watch(ctx context.Context, topic string, count int32) ([]string, error) {
	s, err := g.c.Watch(ctx, &testv1.WatchRequest{Topic: topic, Count: count})
	if err != nil {
		return nil, err
	}
	var got []string
	for {
		e, err := s.Recv()
		if errors.Is(err, io.EOF) {
			return got, nil
		}
		if err != nil {
			return got, err
		}
		got = append(got, e.GetTopic())
	}
}

func (g grpcToolClient) Upload(ctx context.Context, names ...string) (int32, error) {
	s, err := g.c.Upload(ctx)
	if err != nil {
		return 0, err
	}
	for _, n := range names {
		if err := s.Send(&testv1.UploadChunk{Name: n, Data: []byte(n)}); err != nil {
			break // the server ended the stream; CloseAndRecv has its status
		}
	}
	sum, err := s.CloseAndRecv()
	return sum.GetChunks(), err
}

func (g grpcToolClient) Chat(ctx context.Context, texts ...string) ([]string, error) {
	s, err := g.c.Chat(ctx)
	if err != nil {
		return nil, err
	}
	var got []string
	for _, t := range texts {
		if err := s.Send(&testv1.ChatMessage{Text: t}); err != nil && !errors.Is(err, io.EOF) {
			return got, err
		}
		m, err := s.Recv()
		if err != nil {
			return got, err
		}
		got = append(got, m.GetText())
	}
	if err := s.CloseSend(); err != nil {
		return got, err
	}
	if _, err := s.Recv(); !errors.Is(err, io.EOF) {
		return got, err
	}
	return got, nil
}

type connectToolClient struct {
	c testv1connect.ToolServiceClient
}

func (c connectToolClient) Echo(ctx context.Context, msg string) (string, error) {
	r, err := c.c.Echo(ctx, connect.NewRequest(&testv1.EchoRequest{Message: msg}))
	if err != nil {
		return "", err
	}
	return r.Msg.GetMessage(), nil
}

func (c connectToolClient) Fetch(ctx context.Context, url string) (string, error) {
	r, err := c.c.Fetch(ctx, connect.NewRequest(&testv1.FetchRequest{Url: url}))
	if err != nil {
		return "", err
	}
	return r.Msg.GetBody(), nil
}

func (c connectToolClient) Watch(ctx context.Context, topic string, count int32) ([]string, error) {
	s, err := c.c.Watch(ctx, connect.NewRequest(&testv1.WatchRequest{Topic: topic, Count: count}))
	if err != nil {
		return nil, err
	}
	defer s.Close()
	var got []string
	for s.Receive() {
		got = append(got, s.Msg().GetTopic())
	}
	return got, s.Err()
}

func (c connectToolClient) Upload(ctx context.Context, names ...string) (int32, error) {
	s := c.c.Upload(ctx)
	for _, n := range names {
		if err := s.Send(&testv1.UploadChunk{Name: n, Data: []byte(n)}); err != nil {
			break // the server ended the stream; CloseAndReceive has its status
		}
	}
	r, err := s.CloseAndReceive()
	if err != nil {
		return 0, err
	}
	return r.Msg.GetChunks(), nil
}

func (c connectToolClient) Chat(ctx context.Context, texts ...string) ([]string, error) {
	s := c.c.Chat(ctx)
	defer s.CloseResponse()
	var got []string
	for _, t := range texts {
		if err := s.Send(&testv1.ChatMessage{Text: t}); err != nil && !errors.Is(err, io.EOF) {
			return got, err
		}
		m, err := s.Receive()
		if err != nil {
			return got, err
		}
		got = append(got, m.GetText())
	}
	if err := s.CloseRequest(); err != nil {
		return got, err
	}
	if _, err := s.Receive(); !errors.Is(err, io.EOF) {
		return got, err
	}
	return got, nil
}
