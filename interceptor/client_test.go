package interceptor

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"connectrpc.com/connect"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/tollgate-go/tollgate"
	testv1 "github.com/tollgate-go/tollgate/internal/testproto"
)

func tokenOf(tok string) func(context.Context) (string, error) {
	return func(context.Context) (string, error) { return tok, nil }
}

func TestUnaryClientInterceptorHeaders(t *testing.T) {
	intercept := UnaryClientInterceptor(WithAgent(testAgent), WithIntent(intent("read", "default reason")), WithTokenSource(tokenOf("tok")))
	var sent metadata.MD
	invoker := func(ctx context.Context, _ string, _, _ any, _ *grpc.ClientConn, _ ...grpc.CallOption) error {
		sent, _ = metadata.FromOutgoingContext(ctx)
		return nil
	}
	// A header the caller set is replaced, not doubled.
	ctx := metadata.AppendToOutgoingContext(t.Context(), HeaderAgent, "stale", "x-other", "kept")
	ctx = ContextWithIntent(ctx, intent("close", "ticket is stale"))
	ctx = ContextWithApprovalID(ctx, "apr-7")
	if err := intercept(ctx, echoMethod, nil, nil, nil, invoker); err != nil {
		t.Fatal(err)
	}
	wantAgent, _ := encodeAgent(testAgent)
	for key, want := range map[string]string{
		HeaderAgent:         wantAgent,
		HeaderIntentAction:  "close",
		HeaderIntentReason:  "ticket is stale",
		HeaderApprovalID:    "apr-7",
		HeaderAuthorization: "Bearer tok",
		"x-other":           "kept",
	} {
		if got := sent.Get(key); len(got) != 1 || got[0] != want {
			t.Errorf("%s = %q, want [%q]", key, got, want)
		}
	}
	// Without a per-call intent the default applies.
	if err := intercept(t.Context(), echoMethod, nil, nil, nil, invoker); err != nil {
		t.Fatal(err)
	}
	if got := sent.Get(HeaderIntentAction); len(got) != 1 || got[0] != "read" {
		t.Errorf("default intent action = %q, want [read]", got)
	}
	if got := sent.Get(HeaderApprovalID); len(got) != 0 {
		t.Errorf("approval id leaked into another call: %q", got)
	}
}

func TestClientInterceptorsFailBeforeSending(t *testing.T) {
	failing := func(context.Context) (string, error) { return "", errors.New("token expired") }
	unsendable := tollgate.Agent{ID: "a", Metadata: tollgate.Params{{Key: "f", Value: func() {}}}}
	for name, opt := range map[string]ClientOption{"token source": WithTokenSource(failing), "agent": WithAgent(unsendable)} {
		t.Run(name, func(t *testing.T) {
			err := UnaryClientInterceptor(opt)(t.Context(), echoMethod, nil, nil, nil,
				func(context.Context, string, any, any, *grpc.ClientConn, ...grpc.CallOption) error {
					t.Fatal("the call was sent")
					return nil
				})
			if status.Code(err) != codes.Unauthenticated {
				t.Errorf("unary: %v, want Unauthenticated", err)
			}
			_, err = StreamClientInterceptor(opt)(t.Context(), &grpc.StreamDesc{}, nil, chatMethod,
				func(context.Context, *grpc.StreamDesc, *grpc.ClientConn, string, ...grpc.CallOption) (grpc.ClientStream, error) {
					t.Fatal("the stream was opened")
					return nil, nil
				})
			if status.Code(err) != codes.Unauthenticated {
				t.Errorf("stream: %v, want Unauthenticated", err)
			}
			// Connect: nothing reaches the server.
			srvHit := false
			hc := &http.Client{Transport: roundTripFunc(func(*http.Request) (*http.Response, error) {
				srvHit = true
				return nil, errors.New("unreachable")
			})}
			c := newConnectToolClientOver(hc, opt)
			if _, err := c.Echo(t.Context(), "hi"); connect.CodeOf(err) != connect.CodeUnauthenticated {
				t.Errorf("connect unary: %v, want Unauthenticated", err)
			}
			if _, err := c.Chat(t.Context(), "hi"); connect.CodeOf(err) != connect.CodeUnauthenticated {
				t.Errorf("connect stream: %v, want Unauthenticated", err)
			}
			if srvHit {
				t.Error("a request without credentials was sent")
			}
		})
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func newConnectToolClientOver(hc *http.Client, copts ...ClientOption) toolClient {
	return connectToolClient{connectStub(hc, "http://127.0.0.1:1", copts)}
}

// TestConnectClientInterceptorOnAHandler: installed on a handler by
// mistake, the client interceptor refuses everything instead of gating
// nothing.
func TestConnectClientInterceptorOnAHandler(t *testing.T) {
	i := NewConnectClientInterceptor(WithAgent(testAgent))
	_, err := i.WrapUnary(func(context.Context, connect.AnyRequest) (connect.AnyResponse, error) {
		t.Fatal("handler ran")
		return nil, nil
	})(t.Context(), connect.NewRequest(&testv1.EchoRequest{}))
	if connect.CodeOf(err) != connect.CodeInternal {
		t.Errorf("unary: %v, want Internal", err)
	}
	err = i.WrapStreamingHandler(func(context.Context, connect.StreamingHandlerConn) error {
		t.Fatal("handler ran")
		return nil
	})(t.Context(), nil)
	if connect.CodeOf(err) != connect.CodeInternal {
		t.Errorf("stream: %v, want Internal", err)
	}
}
