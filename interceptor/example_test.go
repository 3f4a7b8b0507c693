package interceptor_test

import (
	"context"
	"fmt"
	"log"
	"net"
	"net/http"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/interceptor"
	testv1 "github.com/tollgate-go/tollgate/internal/testproto"
	"github.com/tollgate-go/tollgate/internal/testproto/testv1connect"
	"github.com/tollgate-go/tollgate/tower"
)

// newTower loads the policy and manifest the examples share.
func newTower() *tower.Tower {
	cfg, err := tower.LoadFiles(tower.Files{Policy: "testdata/policy.yaml", Manifest: "testdata/manifest.yaml"})
	if err != nil {
		log.Fatal(err)
	}
	t, err := tower.New(cfg)
	if err != nil {
		log.Fatal(err)
	}
	return t
}

type echoServer struct {
	testv1.UnimplementedToolServiceServer
}

func (echoServer) Echo(_ context.Context, r *testv1.EchoRequest) (*testv1.EchoResponse, error) {
	return &testv1.EchoResponse{Message: r.GetMessage()}, nil
}

// Gate a grpc-go server (both interceptors and the stats handler that
// audits requests grpc-go refuses unread), and call it as an agent.
func ExampleServerOptions() {
	gate := newTower()
	srv := grpc.NewServer(interceptor.ServerOptions(gate, interceptor.WithPassThrough(interceptor.MatchHealthAndReflection()))...)
	testv1.RegisterToolServiceServer(srv, echoServer{})
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	go srv.Serve(lis)
	defer srv.Stop()

	call := func(agent tollgate.Agent) {
		cc, err := grpc.NewClient(lis.Addr().String(),
			grpc.WithTransportCredentials(insecure.NewCredentials()),
			grpc.WithChainUnaryInterceptor(interceptor.UnaryClientInterceptor(
				interceptor.WithAgent(agent),
				interceptor.WithIntent(tollgate.Intent{Action: "echo", Reason: "example"}),
			)),
		)
		if err != nil {
			log.Fatal(err)
		}
		defer cc.Close()
		resp, err := testv1.NewToolServiceClient(cc).Echo(context.Background(), &testv1.EchoRequest{Message: "hello"})
		if err != nil {
			st := status.Convert(err)
			fmt.Println(agent.ID, "→", st.Code(), st.Message())
			return
		}
		fmt.Println(agent.ID, "→", resp.GetMessage())
	}
	call(tollgate.Agent{ID: "helper", Version: "1", Owner: "docs"})
	call(tollgate.Agent{ID: "blocked-agent", Version: "1", Owner: "docs"})
	// Output:
	// helper → hello
	// blocked-agent → PermissionDenied Tool call denied: Agent is blocked
}

type connectEcho struct {
	testv1connect.UnimplementedToolServiceHandler
}

func (connectEcho) Echo(_ context.Context, r *connect.Request[testv1.EchoRequest]) (*connect.Response[testv1.EchoResponse], error) {
	return connect.NewResponse(&testv1.EchoResponse{Message: r.Msg.GetMessage()}), nil
}

// Gate a Connect handler; the same front door serves the Connect, gRPC and
// gRPC-Web protocols. ConnectHandler lets it audit the unary requests
// connect-go refuses before any interceptor runs.
func ExampleConnectHandlerOptions() {
	mux := http.NewServeMux()
	mux.Handle(testv1connect.NewToolServiceHandler(connectEcho{}, interceptor.ConnectHandlerOptions(newTower())))
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{Handler: interceptor.ConnectHandler(mux), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(lis)
	defer srv.Close()

	client := testv1connect.NewToolServiceClient(http.DefaultClient, "http://"+lis.Addr().String(),
		connect.WithInterceptors(interceptor.NewConnectClientInterceptor(
			interceptor.WithAgent(tollgate.Agent{ID: "helper", Version: "1", Owner: "docs"}))))
	_, err = client.Echo(context.Background(), connect.NewRequest(&testv1.EchoRequest{Message: "a message far longer than the sixty-four characters the schema allows"}))
	fmt.Println(connect.CodeOf(err))
	// Output:
	// invalid_argument
}

// Status is the error contract; it is exported so other front doors answer
// refusals the same way.
func ExampleStatus() {
	st := interceptor.Status(&tollgate.Error{
		Reason:     tollgate.ReasonRateLimited,
		Stage:      tollgate.StageRateLimit,
		Message:    "Rate limited: too many calls (retry after 2.0s)",
		Tool:       "api:search",
		RetryAfter: 2 * time.Second,
	})
	fmt.Println(st.Code(), st.Message())
	for _, d := range st.Details() {
		fmt.Printf("%T\n", d)
	}
	// Output:
	// ResourceExhausted Rate limited: too many calls (retry after 2.0s)
	// *errdetails.ErrorInfo
	// *errdetails.RetryInfo
}
