package interceptor

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/tollgate-go/tollgate"
	testv1 "github.com/tollgate-go/tollgate/internal/testproto"
)

const (
	echoMethod   = "/tollgate.test.v1.ToolService/Echo"
	watchMethod  = "/tollgate.test.v1.ToolService/Watch"
	uploadMethod = "/tollgate.test.v1.ToolService/Upload"
	chatMethod   = "/tollgate.test.v1.ToolService/Chat"
)

// quiet drops the interceptor's own log lines in tests that provoke them.
var quiet = WithLogger(slog.New(slog.DiscardHandler))

// incoming returns a context as grpc-go gives a handler: the agent header
// (and any extra key/value pairs) in its incoming metadata.
func incoming(tb testing.TB, a tollgate.Agent, kv ...string) context.Context {
	tb.Helper()
	v, err := encodeAgent(a)
	if err != nil {
		tb.Fatal(err)
	}
	return metadata.NewIncomingContext(tb.Context(), metadata.Pairs(append([]string{HeaderAgent, v}, kv...)...))
}

func TestUnaryServerInterceptor(t *testing.T) {
	tw, rec := newTower(t)
	intercept := UnaryServerInterceptor(tw)
	info := &grpc.UnaryServerInfo{FullMethod: echoMethod}
	echoHandler := func(ctx context.Context, req any) (any, error) {
		return &testv1.EchoResponse{Message: echo(ctx, req.(*testv1.EchoRequest).GetMessage())}, nil
	}

	t.Run("allowed: the handler runs with the verified agent", func(t *testing.T) {
		resp, err := intercept(incoming(t, testAgent), &testv1.EchoRequest{Message: "hi"}, info, echoHandler)
		if err != nil || resp.(*testv1.EchoResponse).GetMessage() != "test-agent:hi" {
			t.Fatalf("got %v, %v", resp, err)
		}
	})
	t.Run("the handler's own error passes through unchanged", func(t *testing.T) {
		own := errors.New("tool's own error")
		_, err := intercept(incoming(t, testAgent), &testv1.FetchRequest{Url: "https://api.example/"}, &grpc.UnaryServerInfo{FullMethod: "/tollgate.test.v1.ToolService/Fetch"},
			func(context.Context, any) (any, error) { return nil, own })
		if err != own {
			t.Fatalf("err = %v, want the handler's error itself", err)
		}
	})
	t.Run("refused: the handler does not run", func(t *testing.T) {
		_, err := intercept(incoming(t, blockedAgent), &testv1.EchoRequest{}, info, func(context.Context, any) (any, error) {
			t.Fatal("handler ran")
			return nil, nil
		})
		if status.Code(err) != codes.PermissionDenied {
			t.Fatalf("err = %v, want PermissionDenied", err)
		}
	})
	t.Run("a request that is not a protobuf message is refused as Internal, audited and logged", func(t *testing.T) {
		var log bytes.Buffer
		_, err := UnaryServerInterceptor(tw, WithLogger(slog.New(slog.NewTextHandler(&log, nil))))(incoming(t, testAgent), struct{}{}, info, echoHandler)
		if st := status.Convert(err); st.Code() != codes.Internal || st.Message() != genericMessage {
			t.Fatalf("err = %v, want Internal %q", err, genericMessage)
		}
		if e := rec.last(t); e.Stage != tollgate.StageFrontDoor || e.ReasonCode != tollgate.ReasonInternal || e.Agent.ID != testAgent.ID {
			t.Errorf("audit record: stage %q reason %q agent %q", e.Stage, e.ReasonCode, e.Agent.ID)
		}
		if !strings.Contains(log.String(), "not a protobuf message") {
			t.Errorf("log = %q, want the cause", log.String())
		}
	})
	t.Run("canceled before the decision", func(t *testing.T) {
		ctx, cancel := context.WithCancel(incoming(t, testAgent))
		cancel()
		_, err := intercept(ctx, &testv1.EchoRequest{}, info, echoHandler)
		if e := inspect(t, err); e.code != codes.Canceled || e.info.GetReason() != string(tollgate.ReasonCanceled) {
			t.Fatalf("got %+v, want Canceled CANCELED", e)
		}
	})
	t.Run("deadline passed before the decision", func(t *testing.T) {
		ctx, cancel := context.WithDeadline(incoming(t, testAgent), testNow) // long past
		defer cancel()
		_, err := intercept(ctx, &testv1.EchoRequest{}, info, echoHandler)
		if e := inspect(t, err); e.code != codes.DeadlineExceeded || e.info.GetReason() != string(tollgate.ReasonCanceled) {
			t.Fatalf("got %+v, want DeadlineExceeded CANCELED", e)
		}
	})
	t.Run("a handler failing because the caller left does not trip the breaker", func(t *testing.T) {
		ctx, cancel := context.WithCancel(incoming(t, testAgent))
		_, err := intercept(ctx, &testv1.EchoRequest{}, info, func(context.Context, any) (any, error) {
			cancel()
			return nil, status.Error(codes.Canceled, "client went away")
		})
		if status.Code(err) != codes.Canceled {
			t.Fatalf("err = %v, want the handler's Canceled", err)
		}
		// The breaker opens after one failure; the next call must still run.
		if _, err := intercept(incoming(t, testAgent), &testv1.EchoRequest{}, info, echoHandler); err != nil {
			t.Fatalf("next call = %v: the cancellation counted as a tool failure", err)
		}
	})
}

func TestInterceptorWithoutTower(t *testing.T) {
	_, err := UnaryServerInterceptor(nil, quiet)(incoming(t, testAgent), &testv1.EchoRequest{}, &grpc.UnaryServerInfo{FullMethod: echoMethod},
		func(context.Context, any) (any, error) { t.Fatal("handler ran"); return nil, nil })
	if status.Code(err) != codes.Internal {
		t.Fatalf("err = %v, want Internal", err)
	}
	err = StreamServerInterceptor(nil, quiet)(nil, &fakeStream{ctx: incoming(t, testAgent)}, &grpc.StreamServerInfo{FullMethod: chatMethod, IsClientStream: true, IsServerStream: true},
		func(_ any, s grpc.ServerStream) error { return s.SendMsg(&testv1.ChatMessage{}) })
	if status.Code(err) != codes.Internal {
		t.Fatalf("stream err = %v, want Internal", err)
	}
}

// fakeStream is a grpc.ServerStream fed from a list of messages.
type fakeStream struct {
	grpc.ServerStream
	ctx  context.Context
	in   []proto.Message
	sent []proto.Message
	recv int // RecvMsg calls that reached the transport
}

func (s *fakeStream) Context() context.Context { return s.ctx }

func (s *fakeStream) RecvMsg(m any) error {
	s.recv++
	if len(s.in) == 0 {
		return io.EOF
	}
	proto.Merge(m.(proto.Message), s.in[0])
	s.in = s.in[1:]
	return nil
}

func (s *fakeStream) SendMsg(m any) error {
	s.sent = append(s.sent, m.(proto.Message))
	return nil
}

var bidiInfo = &grpc.StreamServerInfo{FullMethod: chatMethod, IsClientStream: true, IsServerStream: true}

func TestStreamServerInterceptorPerMessage(t *testing.T) {
	tw, rec := newTower(t)
	intercept := StreamServerInterceptor(tw)

	t.Run("a refusal ends the stream even when the handler swallows it", func(t *testing.T) {
		s := &fakeStream{ctx: incoming(t, testAgent), in: []proto.Message{
			&testv1.ChatMessage{Text: "fine"}, &testv1.ChatMessage{Text: "bad!"}, &testv1.ChatMessage{Text: "later"},
		}}
		var delivered []string
		var agentAfterFirst string
		err := intercept(nil, s, bidiInfo, func(_ any, ss grpc.ServerStream) error {
			for range 4 {
				var m testv1.ChatMessage
				if err := ss.RecvMsg(&m); err != nil {
					if m.GetText() != "" {
						t.Errorf("refused message left in the handler's buffer: %q", m.GetText())
					}
					continue // a careless handler: ignores the error and reads on
				}
				delivered = append(delivered, m.GetText())
				agentAfterFirst = agentID(ss.Context())
			}
			if err := ss.SendMsg(&testv1.ChatMessage{}); err == nil {
				t.Error("send after a refusal succeeded")
			}
			return nil
		})
		if e := inspect(t, err); e.code != codes.InvalidArgument || e.info.GetReason() != string(tollgate.ReasonConstraintViolated) {
			t.Fatalf("got %+v, want InvalidArgument CONSTRAINT_VIOLATED", e)
		}
		if len(delivered) != 1 || delivered[0] != "fine" {
			t.Errorf("delivered %q, want [fine]", delivered)
		}
		if agentAfterFirst != "test-agent" {
			t.Errorf("stream context agent = %q, want test-agent", agentAfterFirst)
		}
		if s.recv != 2 {
			t.Errorf("the transport was read %d times, want 2 (nothing after the refusal)", s.recv)
		}
		if len(s.sent) != 0 {
			t.Errorf("sent %d messages after the refusal", len(s.sent))
		}
	})

	t.Run("a send before any message is gated as the stream's open", func(t *testing.T) {
		before := rec.count()
		s := &fakeStream{ctx: incoming(t, blockedAgent)}
		err := intercept(nil, s, bidiInfo, func(_ any, ss grpc.ServerStream) error {
			if agentID(ss.Context()) != "<none>" {
				t.Error("agent in the context before any call was allowed")
			}
			return ss.SendMsg(&testv1.ChatMessage{Text: "greeting"})
		})
		if status.Code(err) != codes.PermissionDenied || len(s.sent) != 0 {
			t.Fatalf("err = %v, sent %d; want PermissionDenied and nothing sent", err, len(s.sent))
		}
		if rec.count() != before+1 {
			t.Errorf("audit records = %d, want one more", rec.count()-before)
		}
	})
}

func TestStreamServerInterceptorServerStream(t *testing.T) {
	tw, _ := newTower(t)
	intercept := StreamServerInterceptor(tw, quiet)
	info := &grpc.StreamServerInfo{FullMethod: watchMethod, IsServerStream: true}

	t.Run("the request is gated before the handler starts", func(t *testing.T) {
		s := &fakeStream{ctx: incoming(t, testAgent), in: []proto.Message{&testv1.WatchRequest{Topic: "alerts", Count: 2}}}
		err := intercept(nil, s, info, func(_ any, ss grpc.ServerStream) error {
			var req testv1.WatchRequest
			if err := ss.RecvMsg(&req); err != nil {
				return err
			}
			if req.GetTopic() != "alerts" || req.GetCount() != 2 || agentID(ss.Context()) != "test-agent" {
				t.Errorf("handler got %v as %s", &req, agentID(ss.Context()))
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
	t.Run("the handler's error is the stream's", func(t *testing.T) {
		own := status.Error(codes.DataLoss, "lost")
		s := &fakeStream{ctx: incoming(t, testAgent), in: []proto.Message{&testv1.WatchRequest{Topic: "tickets"}}}
		if err := intercept(nil, s, info, func(any, grpc.ServerStream) error { return own }); err != own {
			t.Fatalf("err = %v, want the handler's", err)
		}
	})
	t.Run("a method whose request type is not registered is refused", func(t *testing.T) {
		s := &fakeStream{ctx: incoming(t, testAgent)}
		err := intercept(nil, s, &grpc.StreamServerInfo{FullMethod: "/no.such.Service/Watch", IsServerStream: true},
			func(any, grpc.ServerStream) error { t.Fatal("handler ran"); return nil })
		if status.Code(err) != codes.Internal {
			t.Fatalf("err = %v, want Internal", err)
		}
	})
	t.Run("a transport error while reading the request is returned as is", func(t *testing.T) {
		s := &fakeStream{ctx: incoming(t, testAgent)} // EOF: the client sent nothing
		if err := intercept(nil, s, info, func(any, grpc.ServerStream) error { t.Fatal("handler ran"); return nil }); err != io.EOF {
			t.Fatalf("err = %v, want io.EOF", err)
		}
	})
}
